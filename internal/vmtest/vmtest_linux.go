package vmtest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/kernkeys/kernkeys/internal/kmod"
)

// InVM reports whether the test runs in the VM runner's guest.
func InVM() bool { return os.Getenv(EnvBoot) != "" }

// Need decides what a test does when err says the kernel (or the
// environment) lacks feature: nothing if err is nil; in the VM, whose
// kernel has every feature this package names and tests run as root,
// fail the test; elsewhere skip it, naming the feature (or root, for a
// permission error) and the error.
func Need(t testing.TB, feature string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if InVM() {
		t.Fatalf("the VM kernel should have %s: %v", feature, err)
	}
	if errors.Is(err, os.ErrPermission) {
		t.Skipf("needs root for %s: %v", feature, err)
	}
	t.Skipf("needs %s (on the VM kernel: go run ./vm): %v", feature, err)
}

// NfitTestDevice is nfit_test's first platform device, whose bus has the
// DIMMs with (emulated) security.
const NfitTestDevice = "/sys/bus/platform/devices/nfit_test.0"

const nfitFeature = "nfit_test's emulated NVDIMMs (tools/testing/nvdimm modules)"

// NeedNfitTest checks that nfit_test is loaded and returns the sysfs
// directories of the DIMMs of bus nfit_test.0 (.../ndbusN/nmemM; the base
// name is the DIMM's name for ndctl), sorted, once libnvdimm has probed
// them all.
func NeedNfitTest(t testing.TB) []string {
	t.Helper()
	buses, err := filepath.Glob(filepath.Join(NfitTestDevice, "ndbus*"))
	if err == nil && len(buses) != 1 {
		_, err = os.Stat(NfitTestDevice)
		if err == nil {
			err = errors.New(NfitTestDevice + " has no nvdimm bus")
		}
	}
	Need(t, nfitFeature, err)
	// Reading wait_probe waits for libnvdimm's asynchronous probing of
	// the bus's devices (drivers/nvdimm/core.c).
	if _, err := os.ReadFile(filepath.Join(buses[0], "wait_probe")); err != nil {
		t.Fatalf("waiting for the nvdimm bus to settle: %v", err)
	}
	dimms, err := filepath.Glob(filepath.Join(buses[0], "nmem*"))
	if err != nil || len(dimms) == 0 {
		t.Fatalf("%s has no DIMMs (nmem devices): %v", buses[0], err)
	}
	return dimms
}

// ReloadNfitTest unloads the nfit_test stack and loads it again: fresh
// DIMMs, their security state (passphrases, a freeze) forgotten. It
// disables the buses' regions (and so their namespaces) first. It fails
// the test if a module is still in use (a namespace's block device open,
// say) or does not load; outside the VM it skips.
func ReloadNfitTest(t testing.TB) {
	t.Helper()
	mods := os.Getenv(EnvModules)
	if mods == "" {
		Need(t, nfitFeature, errors.New("no "+EnvModules+" in the environment"))
	}
	// An enabled region pins its bus's provider, nfit_test
	// (drivers/nvdimm/bus.c, to_bus_provider): unbind them first, which
	// also tears down their namespaces.
	regions, _ := filepath.Glob("/sys/bus/platform/devices/nfit_test.*/ndbus*/region*")
	for _, r := range regions {
		unbind := filepath.Join(r, "driver", "unbind")
		if _, err := os.Stat(unbind); err != nil {
			continue // not bound to a driver
		}
		if err := os.WriteFile(unbind, []byte(filepath.Base(r)), 0); err != nil {
			t.Fatalf("disabling %s: %v", filepath.Base(r), err)
		}
	}
	files := filepath.SplitList(mods)
	if err := kmod.Unload(files...); err != nil {
		t.Fatalf("unloading nfit_test: %v", err)
	}
	if err := kmod.Load(files...); err != nil {
		t.Fatalf("loading nfit_test again: %v (the kernel log says why)", err)
	}
	NeedNfitTest(t)
}

// NeedDeviceMapper checks that device-mapper answers on
// /dev/mapper/control (DM_VERSION) and returns its ioctl interface's
// version (4.x.y).
func NeedDeviceMapper(t testing.TB) [3]uint32 {
	t.Helper()
	v, err := dmVersion()
	Need(t, "device-mapper (CONFIG_BLK_DEV_DM, /dev/mapper/control)", err)
	return v
}

func dmVersion() ([3]uint32, error) {
	f, err := os.OpenFile("/dev/mapper/control", os.O_RDWR, 0)
	if err != nil {
		return [3]uint32{}, err
	}
	defer f.Close()
	io := unix.DmIoctl{
		Version:   [3]uint32{unix.DM_VERSION_MAJOR, 0, 0},
		Data_size: unix.SizeofDmIoctl,
	}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.DM_VERSION, uintptr(unsafe.Pointer(&io)))
	if e != 0 {
		return [3]uint32{}, &os.PathError{Op: "ioctl DM_VERSION", Path: f.Name(), Err: e}
	}
	return io.Version, nil
}

// NeedLoop checks that /dev/loop-control hands out a free loop device
// (LOOP_CTL_GET_FREE, which makes one if none is free) and returns its
// number: /dev/loopN.
func NeedLoop(t testing.TB) int {
	t.Helper()
	n, err := loopGetFree()
	Need(t, "loop devices (CONFIG_BLK_DEV_LOOP, /dev/loop-control)", err)
	return n
}

func loopGetFree() (int, error) {
	f, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.LOOP_CTL_GET_FREE, 0)
	if e != 0 {
		return 0, &os.PathError{Op: "ioctl LOOP_CTL_GET_FREE", Path: f.Name(), Err: e}
	}
	return int(n), nil
}
