// Command sessionmoved opens a Session store, moves every thread to a new
// session with keyring.JoinProcessSession, which needs a build without
// cgo, and prints the error of a Set, which must be refused. Built by
// store_linux_test.go with CGO_ENABLED=0.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/secretstore"
)

func main() {
	s, err := secretstore.Open(secretstore.Options{Prefix: "kktest", Scope: secretstore.Session})
	if err != nil {
		fmt.Println("Open:", err)
		os.Exit(1)
	}
	if _, err := keyring.JoinProcessSession(); err != nil {
		fmt.Println("JoinProcessSession:", err)
		os.Exit(1)
	}
	err = s.Set("a", []byte("x"))
	fmt.Println(err)
	if !errors.Is(err, keyring.ErrPermission) {
		os.Exit(1)
	}
}
