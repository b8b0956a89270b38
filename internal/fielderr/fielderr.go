// Package fielderr is the one error type for input that a payload package
// (encrypted, mktme, trusted) rejects before the kernel sees it. Each of
// those packages exports it under its own name (type Error =
// fielderr.Error), so errors.As works with either name.
package fielderr

// Error describes input a package rejected. Its message names the package,
// the operation and the offending field and never contains key material,
// plaintext or payload bytes.
type Error struct {
	// Pkg is the package that rejected the input: "encrypted", "mktme",
	// "trusted".
	Pkg string
	// Op is the function that rejected the input, such as "ParseBlob".
	Op string
	// Field is the part of the input at fault; each package documents its
	// fields.
	Field string
	// Msg says what is wrong.
	Msg string
	// Err is the sentinel the error matches: keyring.ErrInvalid, or a
	// package's narrower error that wraps it (encrypted.ErrBadHMAC).
	Err error
}

func (e *Error) Error() string {
	return e.Pkg + ": " + e.Op + ": " + e.Field + ": " + e.Msg
}

// Unwrap returns e.Err, so that errors.Is matches it.
func (e *Error) Unwrap() error { return e.Err }
