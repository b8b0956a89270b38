package keyring

import (
	"encoding/binary"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/keyctl"
)

// WatchQueue is a notification pipe that receives key change notifications
// (Linux 5.8, CONFIG_WATCH_QUEUE and CONFIG_KEY_NOTIFICATIONS). It wraps a
// file descriptor: Close it.
type WatchQueue struct {
	rd, wr int // wr is -1 for a queue adopted by WatchQueueFromFD
	buf    []byte
}

// NewWatchQueue opens a watch queue with room for size notifications
// (1..512 per page of pipe buffer; the kernel caps it). Its descriptors are
// close-on-exec.
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
	return &WatchQueue{rd: rd, wr: wr, buf: make([]byte, 4096)}, nil
}

// WatchQueueFromFD adopts fd, the read end of a watch queue that another
// process opened and passed down (as keyutils' `keyctl watch_session` does
// in $KEYCTL_WATCH_FD), so that Key.Watch and Key.Unwatch can add watches
// to it and Read can consume it. The queue owns fd: Close closes it. Nothing
// is checked here; where a descriptor is no watch queue, Watch and Unwatch
// fail with ErrInvalid, as the kernel answers.
func WatchQueueFromFD(fd int) *WatchQueue {
	return &WatchQueue{rd: fd, wr: -1, buf: make([]byte, 4096)}
}

// Fd returns the queue's descriptor, the one WatchQueueFromFD adopts: valid
// until Close. NewWatchQueue's descriptors are close-on-exec, so to hand the
// queue to a child process, duplicate it onto the child's descriptor (as
// os/exec's ExtraFiles or syscall.ProcAttr's Files do).
func (q *WatchQueue) Fd() int { return q.rd }

// Close closes the queue; watches on it end.
func (q *WatchQueue) Close() error {
	e1 := keyctl.CloseFD(q.rd)
	var e2 syscall.Errno
	if q.wr >= 0 {
		e2 = keyctl.CloseFD(q.wr)
	}
	if e1 != 0 {
		return fail("close", 0, e1)
	}
	if e2 != 0 {
		return fail("close", 0, e2)
	}
	return nil
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
	if e := keyctl.SetWatchFilter(q.rd, filters); e != 0 {
		return fail("watch_queue_set_filter", 0, e)
	}
	return nil
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
	if e := keyctl.WatchKey(int32(k.id), q.rd, watchID); e != 0 {
		return fail("watch_key", k.id, e)
	}
	return nil
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

// Read blocks until notifications arrive and returns them.
func (q *WatchQueue) Read() ([]Notification, error) {
	n, e := keyctl.ReadFD(q.rd, q.buf)
	if e != 0 {
		return nil, fail("read", 0, e)
	}
	return ParseNotifications(q.buf[:n])
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
