// Package trusted builds and parses payloads for, reads the blobs of, and
// creates keys of the Linux kernel's "trusted" key type.
//
// # The kernel concept
//
// A trusted key (CONFIG_TRUSTED_KEYS, security/keys/trusted-keys/) holds
// 32 to 128 bytes of key data that a trust source generates and seals: a
// TPM 1.2 or 2.0, OP-TEE's trusted-keys TA, NXP's CAAM or NXP's DCP.
// Userspace never sees the data in the clear: reading the key
// (KEYCTL_READ, "keyctl pipe") returns the sealed blob in hex ([ReadBlob]
// decodes it), which only the same trust source can unseal, and only
// under the conditions it was sealed with (a password, a TPM policy, PCR
// values). Trusted keys are the hardware-rooted master keys of encrypted
// keys: an "encrypted" key whose master is "trusted:NAME" survives a
// reboot as two blobs on disk, loaded back in order.
//
// The payload grammar (datablob_parse() in trusted_core.c) has three
// commands, built here by [NewPayload], [LoadPayload] and [UpdatePayload]
// and parsed by [ParsePayload]:
//
//	new <keylen> [options]       add_key: keylen 32..128, random data, sealed
//	load <hex blob> [options]    add_key: the blob unsealed
//	update [options]             KEYCTL_UPDATE: the same data resealed
//
// [New], [Load] and [Update] make those calls, and [ReadBlob] reads the
// blob back.
//
// # Backends and their options
//
// Only the TPM backends parse options (getoptions() in trusted_tpm1.c,
// shared by both TPM versions); tee, caam and dcp ignore everything after
// the key length or blob, silently. [Options] documents each option, and
// [Payload.Validate] applies the kernel's rules per [Backend]; the rules
// that matter most:
//
//   - TPM 2.0 needs keyhandle= (the parent key's handle, such as the
//     storage key that swtpm_setup --create-spk persists at 0x81000001) to
//     seal, at new and at update; a blob carries it for load.
//   - keyauth= is 40 hex digits; blobauth= is 40 hex digits, or on TPM 2.0
//     also a password of at most 20 characters.
//   - hash= is sha1 only on TPM 1.2; on TPM 2.0 sha1, sha256 (the
//     default), sha384, sha512 or sm3 (the code's "sm3", not the
//     documentation's "sm3-256"). It must come before policydigest=,
//     whose length must be that hash's digest size.
//   - policydigest= and policyhandle= are TPM 2.0 only; pcrinfo= is parsed
//     by both and used only by TPM 1.2.
//   - Every option at most once; unknown options are refused; all options
//     are parsed for every command, though each command uses only some.
//   - migratable=0 makes a key the kernel refuses to update (EPERM); tee,
//     caam and dcp keys are never migratable.
//
// Where the kernel silently drops or truncates part of a value (an odd
// hex digit, the high bits of a 64-bit handle, characters after the first
// of migratable=, options given to tee, caam or dcp), this package
// refuses the input instead, saying why: [ParsePayload] lists the cases.
//
// # Which backend the kernel uses
//
// The kernel does not publish its choice. What it exposes, read in the
// sources (trusted_core.c, Linux 6.1 to 6.18):
//
//   - trusted.source= (and trusted.rng=) are module parameters of mode 0:
//     they never appear under /sys/module/trusted/parameters, whether the
//     code is built in or a module, and a built-in trusted.ko with no
//     readable parameter has no /sys/module/trusted at all.
//   - When the type is missing, add_key answers ENODEV, both for a kernel
//     without CONFIG_TRUSTED_KEYS and for one whose trust sources all
//     failed to initialise (init_trusted() then loads without registering
//     the type, so that encrypted keys still work).
//   - init_trusted() walks the sources compiled in, in the order tpm, tee,
//     caam, dcp, skips those that trusted.source= does not name (a prefix
//     match: "tpm2" selects tpm), and keeps the first whose init succeeds:
//     tpm's when a TPM chip is registered, tee's whenever the tee bus
//     exists (the type is then registered when the trusted-keys TA's
//     device, optee-ta-f04a0fe7-1f5d-4b9b-abf7-619b85b4ce8c, probes),
//     caam's and dcp's when their device is present.
//   - For a TPM, tpm_is_tpm2() decides the grammar, and sysfs shows the
//     same: /sys/class/tpm/tpmN/tpm_version_major (Linux 5.6) is 1 or 2;
//     before 5.6, only a TPM 2.0 has /sys/class/tpmrm/tpmrmN (Linux 4.12).
//
// [KernelBackend] therefore probes for the type with add_key (ENODEV is
// keyring.ErrNotSupported naming CONFIG_TRUSTED_KEYS), then replays the
// kernel's choice: trusted.source= from /proc/cmdline, and the first
// source, in the kernel's order, whose device sysfs shows.
//
// # Blobs
//
// TPM 2.0 blobs made by Linux 5.13 and later are DER TPMKey structures
// (OID 2.23.133.10.1.5), parsed by [ParseBlob] into a [TPMKey] and written
// back byte for byte by [TPMKey.MarshalBinary]; [TPMKey.PublicArea]
// decodes what the options set in the sealed object (hash=, migratable=,
// policydigest=). The kernel writes BOOLEAN TRUE as 0x01, which DER forbids
// and encoding/asn1 refuses, so the parser is this package's own. Against
// the kernel's documentation (trusted-encrypted.rst): pubkey holds the
// TPM2B_PUBLIC and privkey the TPM2B_PRIVATE, both with their size
// prefixes. TPM 1.2 blobs (TPM_STORED_DATA), pre-5.13 TPM 2.0 blobs
// (TPM2B_PRIVATE then TPM2B_PUBLIC, which need keyhandle= to load) and the
// blobs of tee, caam and dcp are opaque here.
//
// # What the kernel source taught
//
//   - In the trusted_tpm1.c read from torvalds/linux, trusted_tpm_unseal()
//     runs pcrlock= even when unsealing failed and returns the PCR
//     extension's result, so that with pcrlock= a refused blob would "load"
//     as a key without data; Debian's 6.1.192 returns the unsealing error
//     first (measured in the project's VM). [Load] unseals once without
//     pcrlock= before it asks for pcrlock=, which is right on both.
//   - A TPM 2.0 blob's parent wins over keyhandle= at load.
//   - add_key on a description that dest already links turns "new" or
//     "load" into an update of that key, which fails (EINVAL, or EPERM for a
//     non-migratable key); [New] and [Load] say so.
//   - A TPM error is EPERM ("TPM error (N)" in the kernel log): a tampered
//     blob is refused with EPERM, which [Load] reports as [ErrUnseal].
//
// Measured in the project's VM (Debian's Linux 6.1.192, swtpm; the blobs
// are in testdata/): a default key's blob is 236 bytes (30 81 e9 ...), its
// TPM2B_PUBLIC 48 bytes, because the TPM fills in the 32-byte unique field
// of the template the kernel sends; hash=sha512, and hash=sha384 with a
// policy, fail with E2BIG, because the kernel compares the whole
// TPM2_Create answer (creation data and ticket included) with its 512-byte
// MAX_BLOB_SIZE; hash=sm3 fails with EPERM on a TPM without SM3.
//
// # Threads, lifetime, secrets
//
// Keys are added to the keyring given; the special keyrings (thread,
// process, session) are those of the calling OS thread, so use a resolved
// keyring or a locked thread (keyring.InNewSession). The kernel
// functions probe the backend on a thread of their own. Keys are values,
// not file descriptors: nothing to Close.
//
// KeyAuth and BlobAuth are secrets owned by the caller: payloads that
// hold them should be cleared with [Wipe] ([New], [Load] and [Update] wipe
// theirs), and [Options.Wipe] clears parsed options. String methods and
// error messages never contain them, nor payload or blob bytes.
//
// # Errors
//
// Input refused here is an [*Error] naming the field, matching
// [ErrInvalid] (which is keyring.ErrInvalid). Kernel answers are
// *keyring.Error values that unwrap to the errno: keyring.ErrNotSupported
// for a kernel without trusted keys, with CONFIG_TRUSTED_KEYS in the
// message; [ErrUnseal] with keyring.ErrPermission for a blob the trust
// source refuses.
package trusted
