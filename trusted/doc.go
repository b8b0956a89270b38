// Package trusted creates, loads and reads keys of the Linux kernel's
// "trusted" key type, and builds and parses their payloads and blobs.
//
// A trusted key holds 32 to 128 bytes of key data that a trust source (a
// TPM 1.2 or 2.0, OP-TEE's trusted-keys TA, NXP's CAAM or DCP) generates
// and seals. Userspace never sees the data in the clear: reading the key
// returns the sealed [Blob], which only the same trust source can unseal,
// and only under the conditions it was sealed with (a password, a TPM
// policy, PCR values). Trusted keys are the hardware-rooted masters of
// encrypted keys: an "encrypted" key whose master is "trusted:NAME"
// survives a reboot as two blobs on disk, loaded back in order.
//
// [New] makes a key ("new", add_key(2)), [Load] makes one from a blob
// ("load"), [Update] reseals one with other options ("update",
// KEYCTL_UPDATE) and [ReadBlob] reads the blob (KEYCTL_READ). They check
// [Options] against the rules of the kernel's backend ([KernelBackend])
// before any system call. [NewPayload], [LoadPayload], [UpdatePayload] and
// [ParsePayload] build and parse the payloads without system calls, for a
// [Backend] given; [ParseBlob] decodes a TPM 2.0 blob into a [TPMKey].
//
// # Kernel options
//
// CONFIG_TRUSTED_KEYS and a trust source the kernel found at boot:
// CONFIG_TRUSTED_KEYS_TPM with a TPM, CONFIG_TRUSTED_KEYS_TEE with OP-TEE's
// trusted-keys TA, CONFIG_TRUSTED_KEYS_CAAM or CONFIG_TRUSTED_KEYS_DCP.
// Without them the kernel has no "trusted" key type and every kernel
// function answers keyring.ErrNotSupported naming CONFIG_TRUSTED_KEYS.
// TPM 2.0 blobs are TPMKey structures from Linux 5.13 on ([ParseBlob]);
// earlier kernels write raw blobs ([ParseRawBlob]), which name no parent:
// loading one needs [Options.KeyHandle], on any kernel.
//
// # Lifetime and threads
//
// Keys are values, not file descriptors: nothing to Close. A key lives as
// long as its links, timeout, revocation and invalidation let it; its
// blob, stored anywhere, makes it again on the same machine. Keys are
// added to the keyring given; the special keyrings (thread, process,
// session) are those of the calling OS thread, so pass a resolved keyring
// or call from a locked thread (keyring.InNewSession). [KernelBackend],
// which New, Load and Update call, probes on a thread of its own.
//
// KeyAuth and BlobAuth are secrets owned by the caller: clear payloads
// that hold them with keyring.Wipe ([New], [Load] and [Update] clear
// theirs), and options with [Options.Wipe]. String methods and error
// messages never contain them, nor payload or blob bytes.
//
// # Errors
//
// Every error is a *keyring.Error. Input refused before any system call
// has Refused set, Op "trusted.<Func>" and Field naming the part at fault
// in the payload's words ("keylen", "blob", "command", an option name such
// as "keyhandle", or an ASN.1 field of a TPMKey such as "parent"), and
// matches keyring.ErrInvalid. Kernel answers keep their errno and say what
// it means for trusted keys: keyring.ErrNotSupported for a kernel without
// them, [ErrUnseal] (with keyring.ErrPermission) for a blob the trust
// source refuses to unseal, keyring.ErrPermission and keyring.ErrInvalid
// as each function documents.
//
// Notes on the kernel sources and VM measurements behind this package are
// in docs/trusted.md.
package trusted
