// Package keytypes builds validated add_key requests for the simple key
// types a Go program meets: user, logon, big_key, asymmetric and keyring.
// Each builder checks the type's rules as the kernel states them
// (security/keys/user_defined.c, big_key.c, keyring.c,
// crypto/asymmetric_keys/) and returns a [Spec]; nothing here makes a
// system call until [Spec.Add] hands the spec to the keyring package.
//
// Errors match keyring.ErrInvalid and say which rule was broken; they never
// contain payload bytes. Payloads are the caller's []byte: a Spec holds the
// caller's slice, not a copy, so wipe it (keyring.Wipe) once added.
//
// Kernel options: CONFIG_KEYS for user, logon and keyring keys;
// CONFIG_BIG_KEYS for big_key; CONFIG_ASYMMETRIC_KEY_TYPE with
// CONFIG_X509_CERTIFICATE_PARSER (certificates) or
// CONFIG_PKCS8_PRIVATE_KEY_PARSER (private keys) for asymmetric. Where the
// kernel lacks a type, Spec.Add fails with keyring.ErrNotSupported naming it.
package keytypes
