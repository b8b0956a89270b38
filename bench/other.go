//go:build !linux || !cgo

// Command bench compares kernkeys with C and other Go packages on the
// Linux key retention service; it needs Linux and cgo. See README.md.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench: needs Linux and cgo (CGO_ENABLED=1, a C compiler and libkeyutils-dev)")
	os.Exit(2)
}
