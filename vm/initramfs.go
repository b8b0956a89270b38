//go:build linux

package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"syscall"
)

// initramfs writes to path a gzip'ed cpio archive (the kernel's "newc"
// format, Documentation/driver-api/early-userspace/buffer-format.rst)
// holding init as /init, the mount points /init needs and a /dev/console
// node. Writing the archive by hand needs neither root (for the device
// node) nor the kernel tree's usr/gen_init_cpio.
func initramfs(path string, init []byte) error {
	var cpio bytes.Buffer
	ino := 0
	add := func(name string, mode uint32, rdev [2]int, data []byte) {
		ino++
		fmt.Fprintf(&cpio, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
			ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name)+1, 0)
		cpio.WriteString(name)
		cpio.WriteByte(0)
		pad(&cpio)
		cpio.Write(data)
		pad(&cpio)
	}
	for _, d := range []string{"dev", "proc", "newroot", "hostroot"} {
		add(d, syscall.S_IFDIR|0o755, [2]int{}, nil)
	}
	add("dev/console", syscall.S_IFCHR|0o600, [2]int{5, 1}, nil)
	add("init", syscall.S_IFREG|0o755, [2]int{}, init)
	add("TRAILER!!!", 0, [2]int{}, nil)

	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write(cpio.Bytes()); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, gz.Bytes(), 0o644)
}

// pad aligns b to 4 bytes, as newc wants after each header+name and data.
func pad(b *bytes.Buffer) {
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
}
