// Package kmod loads and unloads kernel modules from .ko files with the
// module system calls (finit_module(2), delete_module(2)), for the VM
// runner's guest, which has no kmod, and for tests that reload a module
// stack. It resolves no dependencies: the caller gives the files in load
// order. Both calls need CAP_SYS_MODULE in the initial user namespace.
package kmod

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Load loads each module file in order with finit_module(2) and no
// parameters. It stops at the first that fails, naming the file; the
// kernel logs why in detail (unknown symbols, a version mismatch).
func Load(files ...string) error {
	for _, f := range files {
		if err := load(f); err != nil {
			return err
		}
	}
	return nil
}

func load(file string) error {
	fd, err := unix.Open(file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: file, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.FinitModule(fd, "", 0); err != nil {
		return &os.PathError{Op: "finit_module", Path: file, Err: err}
	}
	return nil
}

// Unload removes the modules of files (given in load order) in reverse
// order with delete_module(2), without waiting for users to go: a module
// still in use fails with EBUSY (or EWOULDBLOCK) and stops the unload
// there. A module not loaded is skipped.
func Unload(files ...string) error {
	for i := len(files) - 1; i >= 0; i-- {
		name := Name(files[i])
		err := unix.DeleteModule(name, unix.O_NONBLOCK)
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("delete_module %s: %w", name, err)
		}
	}
	return nil
}

// Name is the module name of a .ko file: its base name without .ko, with
// dashes as underscores, as the kernel names it.
func Name(file string) string {
	return strings.ReplaceAll(strings.TrimSuffix(filepath.Base(file), ".ko"), "-", "_")
}
