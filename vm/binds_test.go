//go:build linux

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/kernkeys/kernkeys/vm/internal/plan"
)

func TestGuestBinds(t *testing.T) {
	// Under /tmp whatever TMPDIR says: the case of issue 12.
	tmp, err := os.MkdirTemp("/tmp", "vmbinds-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	repo := filepath.Join(tmp, "clone")
	pkg := filepath.Join(repo, "keyring")
	real := filepath.Join(tmp, "real")
	link := filepath.Join(tmp, "link")
	for _, d := range []string{pkg, real} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	got, err := guestBinds([]string{
		pkg, repo, // a directory under another: one bind
		link,               // a symlink in /tmp: its path and its target
		"/tmp",             // a covered directory itself: the guest's own
		"/usr", "relative", // visible as they are; not a path
		filepath.Join(tmp, "no"), // missing on the host
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []plan.Bind{{Path: repo, Source: repo}, {Path: link, Source: real}, {Path: real, Source: real}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("guestBinds = %v, want %v", got, want)
	}
	if _, err := guestBinds([]string{"/proc/self"}); err == nil {
		t.Errorf("guestBinds(/proc/self): no error")
	}
}
