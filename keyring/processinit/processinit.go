package processinit

import "github.com/kernkeys/kernkeys/keyring"

// what the constructor does, for errors.
const what = "make the process keyring that every thread shares"

// Process returns the process keyring (@p) that the package's constructor
// made before the Go runtime started, which every thread of the process
// therefore shares, by its serial.
//
// Errors: the constructor's, as a *keyring.Error with Op "get_keyring_id"
// and the errno (keyring.ErrQuota: the user's key quota was full);
// keyring.ErrNotSupported when the program was built without cgo or not
// for Linux, where no constructor ran: then each thread that creates @p
// gets its own.
func Process() (keyring.Keyring, error) { return made() }
