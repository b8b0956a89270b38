//go:build linux && cgo

package main

import (
	"errors"
	"regexp"
	"testing"

	"github.com/kernkeys/kernkeys/keyring"
)

// TestQuick runs every contender of every operation for one short round,
// which checks each answer, and the report on what it measured. It needs
// root: the 1000-key keyring is over an ordinary user's quota.
func TestQuick(t *testing.T) {
	res, err := runInSession(regexp.MustCompile(""), 1, 8, nil)
	if errors.Is(err, keyring.ErrQuota) {
		t.Skipf("%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 {
		t.Fatal("no operation measured")
	}
	for _, x := range res {
		if x.ns[cRaw] == nil || x.ns[cKernkeys] == nil {
			t.Errorf("%s: C raw or kernkeys missing", x.op.name)
		}
		for c := range nContenders {
			if x.ns[c] != nil && len(x.ns[c]) != 1 {
				t.Errorf("%s, %v: %d rounds recorded, want 1", x.op.name, c, len(x.ns[c]))
			}
			if x.ns[c] != nil && c.isGo() && x.allocs[c] < 0 {
				t.Errorf("%s, %v: allocations not counted", x.op.name, c)
			}
		}
		if x.op.target == hot && x.allocs[cKernkeys] != 0 {
			t.Errorf("%s: kernkeys makes %g allocs/op, want 0", x.op.name, x.allocs[cKernkeys])
		}
	}
	rows(res) // the table's arithmetic runs on one round too
}
