// Command cgojoin links cgo and tries keyring.JoinProcessSession, which must
// refuse with ErrNotSupported instead of crashing. Built by threads_test.go.
package main

// int cgo_linked(void) { return 1; }
import "C"

import (
	"errors"
	"fmt"
	"os"

	"github.com/kernkeys/kernkeys/keyring"
)

func main() {
	_ = C.cgo_linked()
	_, err := keyring.JoinProcessSession()
	if !errors.Is(err, keyring.ErrNotSupported) {
		fmt.Println("unexpected:", err)
		os.Exit(1)
	}
	fmt.Println(err)
}
