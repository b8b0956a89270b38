//go:build linux

package keyctl

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// From include/uapi/linux/watch_queue.h.
const (
	oNotificationPipe    = unix.O_EXCL // O_NOTIFICATION_PIPE
	iocWatchQueueSetSize = 0x5760      // _IO('W', 0x60)
)

// NotificationPipe opens a watch-queue pipe (pipe2 with O_NOTIFICATION_PIPE)
// sized for n notifications. The read end is the queue that WatchKey takes.
// Where the kernel has no watch queues pipe2 says ENOPKG; NotificationPipe
// reports that as EOPNOTSUPP, like every other feature compiled out.
func NotificationPipe(n int) (rd, wr int, errno syscall.Errno) {
	var p [2]int
	if err := unix.Pipe2(p[:], oNotificationPipe|unix.O_CLOEXEC); err != nil {
		if err == unix.ENOPKG {
			return -1, -1, unix.EOPNOTSUPP
		}
		return -1, -1, err.(syscall.Errno)
	}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(p[0]), iocWatchQueueSetSize, uintptr(n)); e != 0 {
		unix.Close(p[0])
		unix.Close(p[1])
		return -1, -1, e
	}
	return p[0], p[1], 0
}

// ReadFD is read(2).
func ReadFD(fd int, buf []byte) (int, syscall.Errno) {
	n, err := unix.Read(fd, buf)
	if err != nil {
		return n, err.(syscall.Errno)
	}
	return n, 0
}

// CloseFD is close(2).
func CloseFD(fd int) syscall.Errno {
	if err := unix.Close(fd); err != nil {
		return err.(syscall.Errno)
	}
	return 0
}

// Gettid is gettid(2).
func Gettid() int { return unix.Gettid() }
