package keyring

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"iter"
	"os"
	"syscall"
	"time"

	"github.com/kernkeys/kernkeys/internal/keyctl"
)

// WatchQueue is a notification pipe that receives key change notifications
// (Linux 5.8, CONFIG_WATCH_QUEUE and CONFIG_KEY_NOTIFICATIONS). It wraps a
// file descriptor: Close it.
//
// The queue is read through the Go runtime's network poller, as an
// [os.File] for a pipe is: a blocked Read parks its goroutine, not an OS
// thread, ReadContext and Notifications give up when their context is done,
// and Close wakes a blocked reader, which then fails with [os.ErrClosed].
// (The kernel wakes a watch queue's readers with EPOLLIN for every
// notification it posts, and a non-blocking read of an empty one says
// EAGAIN, as for any pipe; writes to it fail with EXDEV.)
// Reads take whole notifications, never part of one (the kernel queues each
// as a pipe buffer of its own and refuses with ENOBUFS a read too small for
// the next). One goroutine reads at a time; Close, Watch, Unwatch and the
// filters may be called from any goroutine meanwhile.
type WatchQueue struct {
	f   *os.File // the read end, non-blocking; nil where WatchQueueFromFD got a negative fd
	fd  int      // f's descriptor, for Fd
	wr  int      // the write end; -1 for a queue adopted by WatchQueueFromFD
	buf []byte   // the one reader's read buffer, readSize bytes
	// pending is what a Notifications range read but did not yield before
	// its caller stopped: the next read returns it.
	pending []Notification
}

// readSize is the buffer a read offers the kernel: room for at least 32 of
// the largest notification (WATCH_INFO_LENGTH, 127 bytes).
const readSize = 4096

// NewWatchQueue opens a watch queue with room for size notifications
// (1..512 per page of pipe buffer; the kernel caps it). Its descriptors are
// non-blocking and close-on-exec.
//
// Errors: ErrNotSupported (no CONFIG_WATCH_QUEUE), ErrInvalid.
func NewWatchQueue(size int) (*WatchQueue, error) {
	if size <= 0 || size > 16384 {
		return nil, invalid("watch_queue", 0, "size", "size out of range")
	}
	rd, wr, e := keyctl.NotificationPipe(size)
	if e != 0 {
		return nil, fail("watch_queue", 0, e)
	}
	return &WatchQueue{f: os.NewFile(uintptr(rd), "watch_queue"), fd: rd, wr: wr, buf: make([]byte, readSize)}, nil
}

// WatchQueueFromFD adopts fd, the read end of a watch queue that another
// process opened and passed down (as keyutils' `keyctl watch_session` does
// in $KEYCTL_WATCH_FD), so that Key.Watch and Key.Unwatch can add watches
// to it and Read can consume it. The queue owns fd: Close closes it, and so
// does the garbage collector once the queue is unreachable, as for
// [os.NewFile]. To read it through the poller, WatchQueueFromFD sets
// O_NONBLOCK on fd's open file description, which the processes sharing
// it see too (keyutils' consumer sets it as well). Nothing else is checked
// here; where a descriptor is no watch queue, Watch and Unwatch fail with
// ErrInvalid, as the kernel answers.
func WatchQueueFromFD(fd int) *WatchQueue {
	q := &WatchQueue{fd: fd, wr: -1, buf: make([]byte, readSize)}
	if fd >= 0 {
		keyctl.SetNonblock(fd) // where it fails (EBADF), so does every use of fd
		q.f = os.NewFile(uintptr(fd), "watch_queue")
	}
	return q
}

// Fd returns the queue's descriptor, the one WatchQueueFromFD adopts: valid
// until Close. It is non-blocking; NewWatchQueue's descriptors are
// close-on-exec, so to hand the queue to a child process, duplicate it onto
// the child's descriptor (as os/exec's ExtraFiles or syscall.ProcAttr's
// Files do).
func (q *WatchQueue) Fd() int { return q.fd }

// Close closes the queue; watches on it end, and a Read blocked on it
// returns an error matching [os.ErrClosed].
func (q *WatchQueue) Close() error {
	var err error
	if q.f != nil {
		err = fileError("close", q.f.Close())
	}
	if q.wr >= 0 {
		if e := keyctl.CloseFD(q.wr); e != 0 && err == nil {
			err = fail("close", 0, e)
		}
		q.wr = -1
	}
	return err
}

// control runs fn on the queue's descriptor, which stays open meanwhile
// even if Close is called: where the queue is closed, fn is not run and
// control returns the error.
func (q *WatchQueue) control(op string, id ID, fn func(fd int) syscall.Errno) error {
	var e syscall.Errno
	if q.f == nil {
		e = fn(q.fd) // the kernel's answer for a bad descriptor
	} else {
		rc, err := q.f.SyscallConn()
		if err == nil {
			err = rc.Control(func(fd uintptr) { e = fn(int(fd)) })
		}
		if err != nil { // the poller's "use of closed file"
			return closedError(op)
		}
	}
	if e != 0 {
		return fail(op, id, e)
	}
	return nil
}

// fileError turns an error from q's os.File into the package's error: the
// errno the system call gave, or for a queue closed (os.ErrClosed, with
// EBADF) or drained with no writer left (io.EOF, with EPIPE), an error that
// matches those too.
func fileError(op string, err error) error {
	var errno syscall.Errno
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrClosed):
		return closedError(op)
	case err == io.EOF:
		return &Error{Op: op, Errno: syscall.EPIPE, Reason: "the watch queue has no writer left", Err: io.EOF}
	case errors.As(err, &errno):
		return fail(op, 0, errno)
	}
	return &Error{Op: op, Errno: syscall.EIO, Err: err}
}

// SetFilter makes q deliver only key notifications of the given types
// (IOC_WATCH_QUEUE_SET_FILTER, as keyutils' `keyctl watch -f` does); the
// kernel drops the others before they take room in the queue. Meta
// notifications (WatchRemoved, WatchLoss) always pass, so with no types
// only they are delivered, as with keyutils' `keyctl watch` given an empty
// -f. ClearFilter delivers everything again.
//
// Errors: ErrInvalid (a type that is not a key notification).
func (q *WatchQueue) SetFilter(types ...NotificationType) error {
	var key uint32
	for _, t := range types {
		if t > KeySetattr {
			return invalid("watch_queue_set_filter", 0, "types", "not a key notification type")
		}
		key |= 1 << t
	}
	meta := uint32(1<<(WatchRemoved&0x7f) | 1<<(WatchLoss&0x7f))
	return q.setFilter([]keyctl.WatchTypeFilter{
		{Type: watchTypeKeyNotify, SubtypeFilter: [8]uint32{key}},
		{Type: watchTypeMeta, SubtypeFilter: [8]uint32{meta}},
	})
}

// ClearFilter removes q's filter: every notification is delivered.
func (q *WatchQueue) ClearFilter() error { return q.setFilter(nil) }

func (q *WatchQueue) setFilter(filters []keyctl.WatchTypeFilter) error {
	return q.control("watch_queue_set_filter", 0, func(fd int) syscall.Errno {
		return keyctl.SetWatchFilter(fd, filters)
	})
}

// Watch delivers notifications about k (and, for a keyring, about its links)
// to q, tagged with watchID (KEYCTL_WATCH_KEY, keyctl_watch_key(3)).
//
// Errors: ErrNotSupported (no CONFIG_KEY_NOTIFICATIONS, whatever the
// arguments), EBUSY (already watched through q), ErrPermission (no VIEW),
// ErrInvalid (the kernel's, for the zero Key or an unknown negative ID,
// which it looks up before the queue).
func (k Key) Watch(q *WatchQueue, watchID uint8) error {
	return k.watch(q, int(watchID))
}

// Unwatch removes k's watch from q.
func (k Key) Unwatch(q *WatchQueue) error {
	return k.watch(q, -1)
}

func (k Key) watch(q *WatchQueue, watchID int) error {
	return q.control("watch_key", k.id, func(fd int) syscall.Errno {
		return keyctl.WatchKey(int32(k.id), fd, watchID)
	})
}

// Watch types (enum watch_notification_type).
const (
	watchTypeMeta      = 0 // WATCH_TYPE_META: removals, losses
	watchTypeKeyNotify = 1 // WATCH_TYPE_KEY_NOTIFY
)

// NotificationType is what happened to a watched key (enum
// key_notification_subtype).
type NotificationType uint8

// The notification types.
const (
	KeyInstantiated NotificationType = iota
	KeyUpdated
	KeyLinked
	KeyUnlinked
	KeyCleared
	KeyRevoked
	KeyInvalidated
	KeySetattr
	// WatchRemoved and WatchLoss are meta notifications: a watched key
	// went away, or the queue overflowed.
	WatchRemoved NotificationType = 0x80
	WatchLoss    NotificationType = 0x81
)

// Notification is one record read from a WatchQueue.
type Notification struct {
	Type    NotificationType
	WatchID uint8
	// Key is the key that changed or, for WatchRemoved, the key whose watch
	// ended (zero when the kernel names none).
	Key Key
	// Aux is the other key of KeyLinked and KeyUnlinked.
	Aux Key
}

// Read blocks until notifications arrive and returns them. It is
// ReadContext without a context: only Close ends the wait.
func (q *WatchQueue) Read() ([]Notification, error) {
	return q.ReadContext(context.Background())
}

// ReadContext blocks until notifications arrive, ctx is done or q is
// closed, and returns the notifications. A context's deadline is the read
// deadline.
//
// Errors: ctx's error (context.Canceled or context.DeadlineExceeded, with
// ECANCELED or ETIMEDOUT); os.ErrClosed (EBADF) once q is closed; io.EOF
// (EPIPE) for an adopted queue whose every writer has closed the pipe.
func (q *WatchQueue) ReadContext(ctx context.Context) ([]Notification, error) {
	if ns := q.pending; ns != nil {
		q.pending = nil
		return ns, nil
	}
	n, err := q.read(ctx, q.buf)
	if err != nil {
		return nil, err
	}
	return ParseNotifications(q.buf[:n])
}

// read is one read(2) of q through the poller, abandoned when ctx is done:
// ctx's end sets a read deadline in the past, which wakes the read.
func (q *WatchQueue) read(ctx context.Context, buf []byte) (int, error) {
	if q.f == nil {
		return 0, fail("read", 0, syscall.EBADF)
	}
	if err := ctx.Err(); err != nil {
		return 0, contextError(err)
	}
	if ctx.Done() != nil {
		woken := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			q.f.SetReadDeadline(time.Unix(1, 0))
			close(woken)
		})
		defer func() {
			if !stop() { // the deadline is set, or being set: clear it after
				<-woken
				q.f.SetReadDeadline(time.Time{})
			}
		}()
	}
	n, err := q.f.Read(buf)
	if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
		return 0, contextError(ctx.Err())
	}
	return n, fileError("read", err)
}

func closedError(op string) error {
	return &Error{Op: op, Errno: syscall.EBADF, Reason: "the watch queue is closed", Err: os.ErrClosed}
}

// contextError is the package's error for a read that ctx ended.
func contextError(err error) error {
	errno := syscall.ECANCELED
	if errors.Is(err, context.DeadlineExceeded) {
		errno = syscall.ETIMEDOUT
	}
	return &Error{Op: "read", Errno: errno, Err: err}
}

// Notifications returns an iterator over the notifications q receives, in
// the kernel's order, reading as ReadContext does whenever it has yielded
// all it read. It ends when the caller stops ranging, or after yielding the
// error that ended the reading (ctx's, os.ErrClosed, io.EOF) with a zero
// Notification. Notifications already read are yielded even once ctx is
// done; those read but not yet yielded when the caller stops are kept for
// the next Read or range, so none is lost between them.
//
// An iterator rather than a channel: no goroutine is left behind when the
// caller stops, errors arrive in order with the notifications, and while
// the caller is busy notifications wait in the kernel's queue, whose
// overflow the kernel reports (WatchLoss), not in an unbounded buffer.
func (q *WatchQueue) Notifications(ctx context.Context) iter.Seq2[Notification, error] {
	return func(yield func(Notification, error) bool) {
		for {
			ns, err := q.ReadContext(ctx)
			if err != nil {
				yield(Notification{}, err)
				return
			}
			for i, n := range ns {
				if !yield(n, nil) {
					if i+1 < len(ns) {
						q.pending = ns[i+1:]
					}
					return
				}
			}
		}
	}
}

// ParseNotifications decodes watch-queue records (struct watch_notification,
// struct key_notification and struct watch_notification_removal, native
// endian). Records of other watch types are skipped.
func ParseNotifications(b []byte) ([]Notification, error) {
	var out []Notification
	for len(b) > 0 {
		if len(b) < 8 {
			return out, invalid("read", 0, "b", "truncated notification")
		}
		hdr := binary.NativeEndian.Uint32(b)
		info := binary.NativeEndian.Uint32(b[4:])
		size := int(info & 0x7f) // WATCH_INFO_LENGTH, in bytes
		if size < 8 || size > len(b) {
			return out, invalid("read", 0, "b", "bad notification length")
		}
		rec := b[:size]
		b = b[size:]
		typ, sub := hdr&0xffffff, uint8(hdr>>24)
		n := Notification{WatchID: uint8(info >> 8)}
		switch {
		case typ == watchTypeMeta:
			n.Type = NotificationType(0x80 | sub)
			if n.Type == WatchRemoved && size >= 16 {
				// The removal's u64 id: for a key watch, the serial.
				n.Key = ID(int32(binary.NativeEndian.Uint64(rec[8:]))).Key()
			}
		case typ == watchTypeKeyNotify && size >= 16 && sub < 0x80: // 0x80 up: the meta types
			n.Type = NotificationType(sub)
			n.Key = ID(int32(binary.NativeEndian.Uint32(rec[8:]))).Key()
			n.Aux = ID(int32(binary.NativeEndian.Uint32(rec[12:]))).Key()
		default:
			continue
		}
		out = append(out, n)
	}
	return out, nil
}
