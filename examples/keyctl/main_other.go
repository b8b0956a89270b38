//go:build !linux

// Command keyctl is a drop-in for keyutils' keyctl(1); the kernel key
// retention service exists only on Linux.
package main

import "os"

func main() {
	os.Stderr.WriteString("keyctl: the Linux key retention service is not supported on this system\n")
	os.Exit(1)
}
