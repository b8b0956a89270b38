// Package keytypes creates keys of the simple key types a Go program
// meets, user, logon, big_key, asymmetric and keyring, after checking each
// type's rules as the kernel states them (security/keys/user_defined.c,
// big_key.c, keyring.c, crypto/asymmetric_keys/).
//
// [New] creates a key: New(dest, desc, Options{Type: TypeLogon, Payload:
// p}) checks desc and the options, then calls add_key(2) through
// keyring.Keyring.Add. [Options.Validate] applies the same checks without
// any system call. The limits every type shares are keyring's
// (keyring.MaxDescription, keyring.MaxPayload); the per-type ones are
// here ([MaxUserPayload], [MaxBigKeyPayload]).
//
// # Kernel options
//
// CONFIG_KEYS for user, logon and keyring keys; CONFIG_BIG_KEYS for
// big_key; CONFIG_ASYMMETRIC_KEY_TYPE with CONFIG_X509_CERTIFICATE_PARSER
// (certificates) or CONFIG_PKCS8_PRIVATE_KEY_PARSER (private keys) for
// asymmetric. Where the kernel lacks a type, New fails with an error
// matching keyring.ErrNotSupported that names it.
//
// # Lifetime and threads
//
// New returns a keyring.Key: a value, not a file descriptor, with nothing
// to close; the key lives while a keyring links it, until it is revoked,
// invalidated or times out. Creating a key in a special keyring
// (keyring.Thread, keyring.Process, keyring.Session) uses the calling OS
// thread's keyring: do it on a locked thread or in a resolved keyring, as
// the keyring package documents.
//
// # Secrets
//
// Payloads are the caller's []byte: Options holds the caller's slice, not
// a copy, so wipe it (keyring.Wipe) once the key is created. Options print
// without their payload under every fmt verb.
//
// # Errors
//
// Every error is a *keyring.Error. Input that breaks a type's rule is
// refused before any system call: the error matches keyring.ErrInvalid,
// has Refused set, names the argument in Field ("desc", "Options.Type",
// "Options.Payload") and says which rule in Reason, never with payload
// bytes. The kernel's own answers are keyring.Keyring.Add's.
package keytypes
