package main

// Device-mapper through its ioctls (linux/dm-ioctl.h, drivers/md/dm-ioctl.c),
// with golang.org/x/sys/unix's DmIoctl and DmTargetSpec: what cryptsetup
// asks libdevmapper to do, and no more. Every ioctl goes through
// /dev/mapper/control and needs CAP_SYS_ADMIN in the initial user namespace
// (dm-ioctl.c's ctl_ioctl checks capable(CAP_SYS_ADMIN)).
//
// A buffer is one struct dm_ioctl followed by its data. DM_TABLE_LOAD's data
// is one struct dm_target_spec per target, each followed by its parameter
// string; the kernel builds the targets there and then, in the calling
// thread: dm-crypt's constructor parses a key reference
// ":<size>:<type>:<description>" and looks the key up with
// request_key(type, description, NULL), from that thread's keyrings and
// with no upcall.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

const dmControl = "/dev/mapper/control"

// dmError is a device-mapper ioctl's failure: which call, on which device,
// and the errno (to match with errors.Is).
type dmError struct {
	Op, Name string
	Err      error
}

func (e *dmError) Error() string { return e.Op + " " + e.Name + ": " + e.Err.Error() }
func (e *dmError) Unwrap() error { return e.Err }

// dmBuf is a dm_ioctl buffer of n bytes in all, 8-byte aligned as the
// kernel's structures need.
type dmBuf struct{ b []byte }

func newDMBuf(name string, flags uint32, data int) (*dmBuf, error) {
	if name == "" || len(name) >= unix.DM_NAME_LEN || bytes.IndexByte([]byte(name), '/') >= 0 {
		return nil, fmt.Errorf("device-mapper name %q: 1 to %d bytes, no '/'", name, unix.DM_NAME_LEN-1)
	}
	n := (unix.SizeofDmIoctl + data + 7) &^ 7
	words := make([]uint64, n/8)
	d := &dmBuf{unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)}
	h := d.header()
	// The oldest interface version that has what is used here: the
	// kernel refuses a minor version newer than its own.
	h.Version = [3]uint32{4, 0, 0}
	h.Data_size = uint32(n)
	h.Data_start = unix.SizeofDmIoctl
	h.Flags = flags
	copy(h.Name[:], name)
	return d, nil
}

func (d *dmBuf) header() *unix.DmIoctl { return (*unix.DmIoctl)(unsafe.Pointer(&d.b[0])) }

func (d *dmBuf) ioctl(op string, req uint) error {
	f, err := os.OpenFile(dmControl, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: the kernel has no device-mapper (CONFIG_BLK_DEV_DM)", err)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), uintptr(req), uintptr(unsafe.Pointer(&d.b[0])))
	if errno != 0 {
		return &dmError{Op: op, Name: dmName(d.header()), Err: errno}
	}
	return nil
}

func dmName(h *unix.DmIoctl) string {
	n, _, _ := bytes.Cut(h.Name[:], []byte{0})
	return string(n)
}

// dmSetup creates the mapped device name with the one-target table t and
// activates it, as `dmsetup create` does, and returns its minor number:
// the device is /dev/dm-<minor>. The table is loaded from the calling
// thread, so dm-crypt finds a key reference's key in that thread's
// keyrings. On failure nothing is left: the new device is removed.
func dmSetup(name string, t dmTarget) (minor uint32, err error) {
	d, err := newDMBuf(name, 0, 0)
	if err != nil {
		return 0, err
	}
	if err := d.ioctl("DM_DEV_CREATE", unix.DM_DEV_CREATE); err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, dmRemove(name))
		}
	}()
	if err := dmLoad(name, t); err != nil {
		return 0, err
	}
	// DM_DEV_SUSPEND without DM_SUSPEND_FLAG resumes: the loaded table
	// becomes the live one.
	r, err := newDMBuf(name, 0, 0)
	if err != nil {
		return 0, err
	}
	if err := r.ioctl("DM_DEV_SUSPEND (resume)", unix.DM_DEV_SUSPEND); err != nil {
		return 0, err
	}
	return unix.Minor(r.header().Dev), nil
}

// dmLoad loads t as the inactive table of the device name (DM_TABLE_LOAD).
func dmLoad(name string, t dmTarget) error {
	if len(t.Type) >= unix.DM_MAX_TYPE_NAME {
		return fmt.Errorf("target type %q is too long", t.Type)
	}
	params := len(t.Params) + 1 // NUL-terminated
	// DM_SECURE_DATA_FLAG, as cryptsetup sets it: the kernel wipes its
	// copy of the parameters, and ours, once it has read them. A key
	// reference is no secret, but a table may hold a hex key.
	d, err := newDMBuf(name, unix.DM_SECURE_DATA_FLAG, unix.SizeofDmTargetSpec+params)
	if err != nil {
		return err
	}
	h := d.header()
	h.Target_count = 1
	spec := (*unix.DmTargetSpec)(unsafe.Pointer(&d.b[h.Data_start]))
	spec.Sector_start = t.Start
	spec.Length = t.Length
	copy(spec.Target_type[:], t.Type)
	copy(d.b[h.Data_start+unix.SizeofDmTargetSpec:], t.Params)
	return d.ioctl("DM_TABLE_LOAD", unix.DM_TABLE_LOAD)
}

// dmRemove removes the device name (DM_DEV_REMOVE); it fails with EBUSY
// while the device is open.
func dmRemove(name string) error {
	d, err := newDMBuf(name, 0, 0)
	if err != nil {
		return err
	}
	return d.ioctl("DM_DEV_REMOVE", unix.DM_DEV_REMOVE)
}

// dmTable reads the live table of the device name as the kernel prints it
// (DM_TABLE_STATUS with DM_STATUS_TABLE_FLAG, `dmsetup table`), and the
// device's minor number: for dm-crypt with a key reference, the table
// shows the reference and never the key.
func dmTable(name string) (minor uint32, ts []dmTarget, err error) {
	for size := 4096; ; size *= 4 {
		d, err := newDMBuf(name, unix.DM_STATUS_TABLE_FLAG, size)
		if err != nil {
			return 0, nil, err
		}
		if err := d.ioctl("DM_TABLE_STATUS", unix.DM_TABLE_STATUS); err != nil {
			return 0, nil, err
		}
		h := d.header()
		if h.Flags&unix.DM_BUFFER_FULL_FLAG != 0 {
			continue
		}
		ts, err := parseTargets(d.b[h.Data_start:h.Data_size], int(h.Target_count))
		return unix.Minor(h.Dev), ts, err
	}
}

// parseTargets reads n dm_target_spec records and their strings from the
// result area of DM_TABLE_STATUS, where each record's Next is its
// successor's offset from the start of the area.
func parseTargets(area []byte, n int) ([]dmTarget, error) {
	var ts []dmTarget
	off := 0
	for i := 0; i < n; i++ {
		if off < 0 || off+unix.SizeofDmTargetSpec > len(area) {
			return nil, fmt.Errorf("DM_TABLE_STATUS: target %d lies outside the result", i)
		}
		spec := (*unix.DmTargetSpec)(unsafe.Pointer(&area[off]))
		typ, _, _ := bytes.Cut(spec.Target_type[:], []byte{0})
		params, _, ok := bytes.Cut(area[off+unix.SizeofDmTargetSpec:], []byte{0})
		if !ok {
			return nil, fmt.Errorf("DM_TABLE_STATUS: target %d's parameters are not terminated", i)
		}
		ts = append(ts, dmTarget{Start: spec.Sector_start, Length: spec.Length, Type: string(typ), Params: string(params)})
		off = int(spec.Next)
	}
	return ts, nil
}

// deviceSectors returns the size of the block device path in 512-byte
// sectors.
func deviceSectors(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	return uint64(n) / 512, nil
}
