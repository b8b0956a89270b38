package secretstore_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/secretstore"
)

// A program keeps a token for its user in the persistent keyring, falling
// back to @u on a kernel without persistent keyrings, and reads it back
// from another run. (Not run by go test: it would touch the user's
// keyrings; the tests run the same calls in a user namespace.)
func Example() {
	o := secretstore.Options{Prefix: "example-app", Expiry: 8 * time.Hour}
	store, err := secretstore.Open(o)
	if errors.Is(err, keyring.ErrNotSupported) {
		o.Scope = secretstore.User
		store, err = secretstore.Open(o)
	}
	if err != nil {
		log.Fatal(err)
	}

	token := []byte("token from the login flow")
	err = store.Set("api-token", token)
	keyring.Wipe(token) // the kernel has its copy
	if err != nil {
		log.Fatal(err)
	}

	b, err := store.Get("api-token") // later, from any process of the user
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		fmt.Println("no token: log in again")
	case err != nil:
		log.Fatal(err)
	default:
		defer b.Close() // wipes it
		fmt.Println("token of", b.Len(), "bytes, in locked memory")
	}
}
