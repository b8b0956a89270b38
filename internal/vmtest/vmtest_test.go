//go:build linux

package vmtest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/internal/vmtest"
	"github.com/kernkeys/kernkeys/trusted"
)

// TestNfitTest: the VM kernel has nfit_test, whose bus nfit_test.0 has
// DIMMs with a security state: four on Linux 6.1.192. nfit.c describes
// five (NUM_DCR), but the fifth is hot-added at probe through a _FIT
// notification whose evaluation fails there ("nfit_test.0: failed to
// evaluate _FIT" in the kernel log).
func TestNfitTest(t *testing.T) {
	dimms := vmtest.NeedNfitTest(t)
	if len(dimms) < 4 {
		t.Errorf("nfit_test.0 has %d DIMMs (%v), want 4 or more", len(dimms), dimms)
	}
	for _, d := range dimms {
		b, err := os.ReadFile(filepath.Join(d, "security"))
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(d), err)
			continue
		}
		switch s := strings.TrimSpace(string(b)); s {
		case "disabled", "unlocked", "locked", "overwrite":
		default:
			t.Errorf("%s: security %q, want a state", filepath.Base(d), s)
		}
	}
}

// TestReloadNfitTest: the stack unloads and loads again, and its DIMMs
// come back.
func TestReloadNfitTest(t *testing.T) {
	before := vmtest.NeedNfitTest(t)
	vmtest.ReloadNfitTest(t)
	if after := vmtest.NeedNfitTest(t); len(after) != len(before) {
		t.Errorf("after reloading: %d DIMMs, before %d", len(after), len(before))
	}
}

func TestDeviceMapper(t *testing.T) {
	if v := vmtest.NeedDeviceMapper(t); v[0] != 4 {
		t.Errorf("device-mapper ioctl version %v, want 4.x.y", v)
	}
}

func TestLoop(t *testing.T) {
	n := vmtest.NeedLoop(t)
	if n < 0 {
		t.Fatalf("LOOP_CTL_GET_FREE = %d", n)
	}
	// devtmpfs made its node.
	if _, err := os.Stat("/dev/loop" + strconv.Itoa(n)); err != nil {
		t.Error(err)
	}
}

// TestGuest: the guest has the host name and the writable ndctl key
// directory the package documents.
func TestGuest(t *testing.T) {
	if !vmtest.InVM() {
		t.Skip("the VM's guest only (go run ./vm)")
	}
	if h, err := os.Hostname(); err != nil || h != vmtest.Hostname {
		t.Errorf("host name %q (%v), want %q", h, err, vmtest.Hostname)
	}
	f := filepath.Join(vmtest.NdctlKeys, "kernkeys-vmtest")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Errorf("ndctl's key directory is not writable: %v", err)
	}
	os.Remove(f)
}

// TestTwoBoots: a file written in the first boot and a trusted key's blob,
// sealed by the TPM in the first boot, are there and unseal in the second.
func TestTwoBoots(t *testing.T) {
	boot, dir := vmtest.Boot(t)
	s := keytest.Session(t)
	blobFile := filepath.Join(dir, "kmk.blob")
	opts := trusted.Options{KeyHandle: 0x81000001}
	switch boot {
	case 1:
		k, err := trusted.New(s, "kernkeys-vmtest-kmk", opts)
		if err != nil {
			t.Fatal(err)
		}
		blob, err := trusted.ReadBlob(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(blobFile, blob, 0o600); err != nil {
			t.Fatal(err)
		}
	case 2:
		blob, err := os.ReadFile(blobFile)
		if err != nil {
			t.Fatal(err)
		}
		k, err := trusted.Load(s, "kernkeys-vmtest-kmk", blob, opts)
		if err != nil {
			t.Fatalf("the second boot's TPM does not unseal the first's blob: %v", err)
		}
		again, err := trusted.ReadBlob(k)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, blob) {
			t.Errorf("the loaded key's blob differs from the stored one")
		}
	}
}
