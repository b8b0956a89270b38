// Package encrypted builds payloads for, and reads and writes the blobs of,
// the Linux kernel's "encrypted" key type, in pure Go and without system
// calls.
//
// # The kernel concept
//
// An encrypted key (CONFIG_ENCRYPTED_KEYS, security/keys/encrypted-keys/)
// holds 20 to 4096 bytes of key data that the kernel generates or loads.
// Userspace never sees that data in the clear: reading the key
// (KEYCTL_READ, "keyctl pipe") returns a blob, the data encrypted with
// AES-256-CBC and authenticated with HMAC-SHA256 under keys derived from a
// master key. The master key is a "user" key ([User]) or, with
// CONFIG_TRUSTED_KEYS, a "trusted" key ([Trusted]), named by a descriptor
// such as "user:kmk" ([Master], [ParseMaster]). The kernel looks the master
// key up only when it loads or reads a key, never at "new" or "update".
// Formats ([Format]) fix the size and the consumer: [Default], [Enc32]
// (NVDIMM and CXL security) and [Ecryptfs] (eCryptfs).
//
// The key's payload grammar has three commands, built here by
// [NewPayload] (and [NewPayloadWithData]), [LoadPayload] and
// [UpdatePayload]; the blob is [Blob], parsed by [ParseBlob] and written by
// [Blob.MarshalText] exactly as the kernel writes it, and stored with
// [Blob.WriteFile] (atomic, mode 0600) and [ReadFile]. The payloads go to
// add_key(2) with the type "encrypted", or to KEYCTL_UPDATE; the keyring
// package makes those calls.
//
// # Importing key material
//
// The kernel accepts caller-chosen key data at "new" only with
// CONFIG_USER_DECRYPTED_DATA (the module parameter
// encrypted_keys.user_decrypted_data), which many kernels leave off;
// without it [NewPayloadWithData] fails with EINVAL. The import path that
// always works is [Seal]: it encrypts the data under a user master key
// exactly as the kernel would, and the kernel then accepts the blob with
// "load". [Open] is the inverse, and [Rewrap] moves a blob to another
// master key, as the kernel's "update" does. The kernel's "update" cannot
// change the master's type (user to trusted), so data imported under a
// user master cannot be moved to a trusted master inside the kernel:
// importing chosen data under a trusted master needs
// CONFIG_USER_DECRYPTED_DATA.
//
// # Secrets
//
// Plaintext and master keys are []byte owned by the caller, never strings,
// which cannot be wiped. Functions here do not keep them, wipe the derived
// keys and intermediate buffers they make, and return secrets (from
// [Open], [NewPayloadWithData] and [EcryptfsAuthTok]) in buffers that the
// caller should clear with [Wipe] once done. No error message and no
// String method contains key material or payload bytes.
//
// # Errors
//
// Everything the kernel would reject with EINVAL is rejected here first,
// with an [*Error] naming the operation and the field, that matches
// [ErrInvalid] under errors.Is. A failed HMAC check also matches
// [ErrBadHMAC]. Conditions that depend on the running kernel (a master key
// that is absent, ENOKEY, or revoked, EKEYREVOKED; a trusted master
// without CONFIG_TRUSTED_KEYS, EOPNOTSUPP; CONFIG_USER_DECRYPTED_DATA)
// cannot be checked here.
package encrypted
