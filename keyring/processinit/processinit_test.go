//go:build linux

package processinit_test

import (
	"os"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/keyring/processinit"
)

// The constructor ran before this binary's main, where no test's lock
// on an ordinary user's key quota could cover it: another package's test
// binary may have held the quota full just then.
func TestMain(m *testing.M) {
	_, err := processinit.Process()
	keytest.RestartUnderQuota(err)
	os.Exit(m.Run())
}

// This test binary imports the package: built with cgo (go test with a C
// compiler, and every go test -race) the constructor made @p before the
// runtime started, and a key added there on one thread is found from 64
// others; built without, Process says there was no constructor. (The
// keyring/sessioninit tests run a program that imports both packages.)
func TestEveryThreadSharesProcessKeyring(t *testing.T) {
	keytest.Session(t)
	p, err := processinit.Process()
	if !cgo {
		keytest.WantNoConstructor(t, err)
		return
	}
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	d, err := p.Describe()
	if err != nil || d.Type != "keyring" || d.Description != "_pid" {
		t.Fatalf("the process keyring is %v (%v)", d, err)
	}
	k, err := keyring.Process().Add("user", "processinit-test", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Unlink(k); err != nil {
			t.Error(err)
		}
		keytest.WaitGone(t, k)
	}()
	keytest.OnThreads(t, 64, func(tid int) {
		if id, err := keyring.Process().Resolve(); err != nil || id != p.ID() {
			t.Errorf("thread %d: @p is %v (%v), want %v", tid, id, err, p.ID())
		}
		if found, err := keyring.Process().Search("user", "processinit-test"); err != nil || found != k {
			t.Errorf("thread %d: Search in @p = %v, %v; want %v", tid, found, err, k)
		}
	})
}
