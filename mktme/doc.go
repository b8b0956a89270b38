// Package mktme builds, parses and validates payloads for the "mktme" key
// type that Intel proposed for Multi-Key Total Memory Encryption, and
// creates such keys where a kernel has the type.
//
// # Status: never merged
//
// The "mktme" key type and its encrypt_mprotect() system call were
// proposed in a series of RFCs and never merged into mainline Linux:
//
//   - RFC v1, "[RFC 00/12] Multi-Key Total Memory Encryption API (MKTME)",
//     2018-09: options userkey=, tweak=, entropy=, algorithm=aes_xts_128.
//   - RFC v2, "[RFC v2 00/13]", 2018-12: options type=user|cpu|clear|no-encrypt,
//     algorithm=aes-xts-128, key=, tweak=.
//   - "[PATCH, RFC 00/62] Intel MKTME enabling", 2019-05, and "[PATCHv2
//     00/59]", 2019-07: the v2 grammar without type=clear, and in PATCHv2
//     without type=user.
//
// Intel then moved to TDX. A mainline kernel answers add_key("mktme", ...)
// with ENODEV, which [New] and [Probe] report as an error matching
// keyring.ErrNotSupported whose message says that the type was never
// merged. The kernel configuration options of the series
// (CONFIG_X86_INTEL_MKTME, CONFIG_MKTME_KEYS) never existed in mainline
// either. The package is useful to validate payloads written for the RFC
// kernels, and to create keys on a kernel built with the patches.
//
// # The kernel concept
//
// An MKTME key stands for one hardware KeyID of the memory controller,
// programmed through the PCONFIG instruction with an AES-XTS-128 key and
// tweak that the caller supplies ([UserSupplied]) or the CPU generates
// ([CPU]), or set to clear or to no encryption. A platform has only 3 to
// 63 KeyIDs; when none is free, [New] fails with [ErrPoolExhausted]. Memory
// was to be encrypted with a key through encrypt_mprotect() (see below).
//
// # Creating keys, options and payload grammars
//
// [New](dest, desc, [Options]) creates a key, as New does in the other
// key-type packages, and returns a keyring.Key. Options holds the payload
// in one of two grammars, each its own type, because their options,
// sizes and rules differ: [V2] is the RFC v2 grammar, built by
// [V2.MarshalText] and parsed by [Parse]; [V1] is the RFC v1 grammar,
// built by [V1.MarshalText] and parsed by [ParseV1]. Both implement
// [Payload]. The zero Options is a CPU-generated key in the RFC v2 grammar
// (type=cpu), for which the hardware picks key and tweak. Both share the rules of the
// RFC code: 1 to 1024 bytes, options separated by single spaces or tabs
// (runs allowed, a newline is not a separator), case-sensitive
// name=value options with non-empty values, no option twice. The
// per-version rules are documented on [V2], [V1], [Parse] and [ParseV1].
// Where the RFC v2 code is laxer than its documentation (hex values longer
// than 32 digits, options after type=clear), Parse follows the
// documentation: what Parse accepts, the RFC kernel accepts.
//
// # Capability, forbidden operations, lifetime
//
// Creating a key needs CAP_SYS_RESOURCE or CAP_SYS_ADMIN in the initial
// user namespace; [New] checks the calling thread's capabilities
// ([HasCapability]) before any system call and reports their absence as
// an error matching keyring.ErrPermission.
//
// MKTME keys refuse update, set_timeout, invalidate and unlink: the
// package functions [Update], [SetTimeout], [Invalidate] and [Unlink]
// refuse them with [ErrForbidden] without a system call, with the errno
// the RFC v1 kernel answers. (RFC v2 relaxed some of these rules; the
// package keeps the stricter v1 ones for every version.) The keyring.Key
// methods of those names would ask the kernel instead. Retire a key with
// its Revoke method; then it may be unlinked. Like every keyring.Key, an
// MKTME key is a value, not a file descriptor: nothing to Close, no
// finalizer.
//
// # Threads
//
// Keys are added to the keyring given to [New]; the special keyrings
// (thread, process, session) are those of the calling OS thread, so add
// MKTME keys to a resolved keyring or from a locked thread, as with the
// keyring package (keyring.InNewSession). Capabilities are read for the
// calling thread.
//
// # encrypt_mprotect is unavailable
//
// The RFCs' second half, the system call
//
//	int encrypt_mprotect(void *addr, size_t len, int prot, key_serial_t serial);
//
// behaved like mprotect(2) and also mapped the range's anonymous memory to
// the KeyID of an MKTME key (EINVAL for unaligned ranges or non-anonymous
// memory, EACCES without KEY_NEED_VIEW on the key, ENOKEY for an invalid
// serial). It is not in mainline Linux and has no system call number: the
// postings used x86_64 numbers of their own (335, then 428 and 436), and
// mainline later gave 428 and 436 to open_tree and close_range. This
// package therefore offers no way to call it, and calling any of those
// numbers would not encrypt anything.
//
// # Secrets
//
// Key material is []byte owned by the caller, never a string. Payloads from
// MarshalText and AppendText hold it in hex: clear them with keyring.Wipe;
// [V2.Wipe], [V1.Wipe] and [Options.Wipe] clear options in place. String,
// GoString, Format and error messages never contain key material or
// payload bytes.
//
// # Errors
//
// Every error is a *keyring.Error. Invalid options and payloads are
// refused before any system call: the error matches keyring.ErrInvalid,
// has Refused set, its Op is "mktme." and the function ("mktme.Parse",
// "mktme.New", "mktme.MarshalText", ...), and its Field names the part at
// fault in the grammar's words: "payload" (its size, a NUL, no option at
// all), "option" (a token that is not a known option), or an option name:
// "type" and "key" (RFC v2), "userkey" and "entropy" (RFC v1),
// "algorithm" and "tweak" (both). Kernel answers unwrap to the errno; a
// missing capability matches keyring.ErrPermission (EACCES, Refused when
// checked before the call); a kernel without the type matches
// keyring.ErrNotSupported; pool exhaustion matches [ErrPoolExhausted];
// operations MKTME forbids match [ErrForbidden] (Refused, with the errno
// of the RFC v1 kernel). The two sentinels are attached as the error's
// Err.
package mktme
