package keyring

// The kernel's limits on what add_key(2), request_key(2) and keyctl(2)
// take from userspace. Keyring checks them before any system call and
// refuses input over them with an error matching ErrInvalid
// (Error.Refused); packages built on keyring use these constants instead
// of their own copies. Limits of one key type (a user key's 32767 bytes,
// big_key's) belong to the package of that type (keytypes).
const (
	// MaxDescription is the longest key description or keyring name, in
	// bytes: strndup_user(_description, KEY_MAX_DESC_SIZE) in
	// security/keys/keyctl.c, where KEY_MAX_DESC_SIZE (4096) counts the
	// terminating NUL. The same limit applies to request_key's callout
	// information and to the info strings of the pkey operations.
	MaxDescription = 4095
	// MaxPayload is the largest payload of add_key and of instantiating a
	// key, in bytes: add_key and keyctl_instantiate_key_common in
	// security/keys/keyctl.c refuse a plen over 1024 * 1024 - 1.
	MaxPayload = 1<<20 - 1
	// MaxTypeName is the longest key type name, in bytes: the char
	// type[32] buffer of key_get_type_from_user in security/keys/keyctl.c,
	// which holds the terminating NUL.
	MaxTypeName = 31
)
