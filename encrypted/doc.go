// Package encrypted makes and manages keys of the Linux kernel's
// "encrypted" key type, and reads, writes, seals and opens their blobs.
//
// # The kernel concept
//
// An encrypted key holds 20 to 4096 bytes of key data that the kernel
// generates or loads. Userspace never sees that data in the clear: reading
// the key (KEYCTL_READ, "keyctl pipe") returns a blob, the data encrypted
// with AES-256-CBC and authenticated with HMAC-SHA256 under keys derived
// from a master key. The master key is a "user" key ([UserMaster]) or a
// "trusted" key ([TrustedMaster]), named by a descriptor such as
// "user:kmk" ([Master], [ParseMaster]). Formats ([Format]) fix the size
// and the consumer: [Default], [Enc32] (NVDIMM and CXL security) and
// [Ecryptfs] (eCryptfs).
//
// # What the package does
//
// Kernel operations, which make system calls through package keyring:
// [New] has the kernel generate a key ("new"), [Load] adds a key from a
// stored blob ("load"), [ReadBlob] reads a key's blob back, [Update] moves
// a key to another master of the same type ("update"), [Import] makes a
// key from existing key material and [Migrate] moves a stored blob to
// another master, user to trusted included.
//
// Userspace work, without system calls: the payloads of the three
// commands ([NewPayload], [NewPayloadWithData], [LoadPayload],
// [UpdatePayload]) for callers who make the add_key(2) or KEYCTL_UPDATE
// call themselves; the blob, [Blob], parsed by [ParseBlob] and written by
// [Blob.MarshalText] exactly as the kernel writes it, and stored with
// [Blob.WriteFile] (atomic, mode 0600) and [ReadFile]; [Seal], which
// encrypts caller-chosen data into the blob the kernel would make, [Open],
// its inverse, and [Rewrap], which moves a blob to another master key as
// the kernel's "update" does, all given the master keys' bytes.
//
// # Kernel options
//
// CONFIG_ENCRYPTED_KEYS for the key type (without it add_key fails with
// keyring.ErrNotSupported); CONFIG_TRUSTED_KEYS and a TPM or TEE for
// trusted masters. The kernel accepts caller-chosen data at "new"
// ([NewPayloadWithData]) only with CONFIG_USER_DECRYPTED_DATA (the module
// parameter encrypted_keys.user_decrypted_data). [Import] does not need it
// for a user master: it seals the data under a temporary user master,
// loads it and updates the key to the target master. The kernel's
// "update" cannot change the master's type, so importing under a trusted
// master, and migrating from a user to a trusted master, need
// CONFIG_USER_DECRYPTED_DATA (keyring.ErrNotSupported without it). A
// kernel before Linux 5.19 has no such option and ignores the data of
// "new", making a random key; Import detects such a kernel with a probe
// and returns keyring.ErrNotSupported too, before the data is sent.
//
// # Lifetime
//
// An encrypted key is an ordinary key: it lives as long as its links,
// timeout, revocation and invalidation let it (see package keyring), and
// its data dies with it. The blob is what survives: store it ([ReadBlob],
// [Blob.WriteFile]) and [Load] it again, under the same master key, after
// a reboot. The kernel looks the master key up only when it loads or
// reads a key, never at "new" or "update": a master that is missing then
// shows at the next read.
//
// # Threads
//
// The kernel looks a master key up with request_key(2) from the calling
// thread's keyrings (thread, process, session). Where a program's threads
// have different session keyrings, call [Load], [ReadBlob], [Import] and
// [Migrate] on one locked OS thread (runtime.LockOSThread, or
// keyring.OnThread) whose keyrings reach the master. The userspace
// functions have no thread affinity, and everything here is safe for
// concurrent use.
//
// # Secrets
//
// Plaintext and master keys are []byte owned by the caller, never strings,
// which cannot be wiped. Functions here do not keep them, wipe the derived
// keys and intermediate buffers they make, and return secrets (from
// [Open], [NewPayloadWithData] and [EcryptfsAuthTok]) in buffers that the
// caller should clear with keyring.Wipe once done. No error message and no
// String method contains key material or payload bytes.
//
// # Errors
//
// Every error is a *keyring.Error. Input the kernel would reject with
// EINVAL is refused here first, before any system call: the error has
// Refused set, Op names the function ("encrypted.Seal"), Field the part at
// fault ("master", "master key", "format", "datalen", "description",
// "iv", "hex", "ciphertext", "hmac", "blob", "payload", "Options.Length"),
// and it matches keyring.ErrInvalid. A blob that does not verify under its
// master key also matches [ErrBadHMAC], whether [Open] or [Rewrap] finds
// it or the kernel refuses it at [Load]. The kernel's own answers keep its
// errno and sentinels: keyring.ErrNotFound for a master key that is not
// reachable, keyring.ErrRevoked for a revoked one,
// keyring.ErrNotSupported for a missing kernel option, with a Reason where
// this package knows more than the errno says.
package encrypted
