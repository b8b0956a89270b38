//go:build !linux

// Command nvdimm-keys manages NVDIMM security passphrases in the kernel key
// retention service, which exists only on Linux.
package main

import "os"

func main() {
	os.Stderr.WriteString("nvdimm-keys: the Linux key retention service is not supported on this system\n")
	os.Exit(1)
}
