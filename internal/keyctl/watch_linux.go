//go:build linux

package keyctl

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// From include/uapi/linux/watch_queue.h.
const (
	oNotificationPipe      = unix.O_EXCL // O_NOTIFICATION_PIPE
	iocWatchQueueSetSize   = 0x5760      // _IO('W', 0x60)
	iocWatchQueueSetFilter = 0x5761      // _IO('W', 0x61)
)

// SetWatchFilter sets the watch queue rd's filter
// (IOC_WATCH_QUEUE_SET_FILTER): only notifications matching one of filters
// are queued. No filters removes the filter. At most 16.
func SetWatchFilter(rd int, filters []WatchTypeFilter) syscall.Errno {
	var arg unsafe.Pointer
	if len(filters) > 0 {
		// struct watch_notification_filter: nr_filters, __reserved, filters[].
		type header struct{ nr, reserved uint32 }
		buf := make([]byte, int(unsafe.Sizeof(header{}))+len(filters)*int(unsafe.Sizeof(WatchTypeFilter{})))
		*(*header)(unsafe.Pointer(&buf[0])) = header{nr: uint32(len(filters))}
		copy(unsafe.Slice((*WatchTypeFilter)(unsafe.Pointer(&buf[unsafe.Sizeof(header{})])), len(filters)), filters)
		arg = unsafe.Pointer(&buf[0])
	}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(rd), iocWatchQueueSetFilter, uintptr(arg))
	return e
}

// NotificationPipe opens a watch-queue pipe (pipe2 with O_NOTIFICATION_PIPE)
// sized for n notifications, non-blocking and close-on-exec. The read end is
// the queue that WatchKey takes. Where the kernel has no watch queues pipe2
// says ENOPKG; NotificationPipe reports that as EOPNOTSUPP, like every other
// feature compiled out.
func NotificationPipe(n int) (rd, wr int, errno syscall.Errno) {
	var p [2]int
	if err := unix.Pipe2(p[:], oNotificationPipe|unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
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

// SetNonblock sets O_NONBLOCK on fd's open file description (fcntl(2)
// F_SETFL), which every descriptor sharing it sees.
func SetNonblock(fd int) syscall.Errno {
	if err := unix.SetNonblock(fd, true); err != nil {
		return err.(syscall.Errno)
	}
	return 0
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
