package keytypes_test

import (
	"errors"
	"fmt"

	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/keytypes"
)

// Validate checks a key's description and options without a system call;
// New makes the same checks before add_key. Errors and String leave the
// payload out.
func ExampleOptions_Validate() {
	o := keytypes.Options{Type: keytypes.TypeLogon, Payload: []byte("volume key")}
	fmt.Println(o)
	fmt.Println(o.Validate("svc:volume"))

	err := o.Validate("volume")
	var ke *keyring.Error
	fmt.Println(errors.Is(err, keyring.ErrInvalid), errors.As(err, &ke) && ke.Refused, ke.Field)
	// Output:
	// logon <10-byte payload>
	// <nil>
	// true true desc
}
