package sessioninit

import "github.com/kernkeys/kernkeys/keyring"

// what the constructor does, for errors.
const what = "join a new session keyring for every thread"

// Session returns the session keyring that the package's constructor made
// every thread of the process join, by its serial.
//
// Errors: the constructor's, as a *keyring.Error with Op
// "join_session_keyring" and the errno (keyring.ErrQuota: the user's key
// quota was full; keyring.ErrPermission); keyring.ErrNotSupported when the
// program was built without cgo or not for Linux, where no constructor
// ran and every thread kept the session the process inherited.
func Session() (keyring.Keyring, error) { return joined() }
