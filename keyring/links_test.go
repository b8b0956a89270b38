//go:build linux

package keyring_test

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// Links reads a list longer than its one-call scratch (a page, 1024
// serials) in a second call, and checks the type of a keyring whose
// description does not fit its stack buffer.
func TestLinksLongListAndName(t *testing.T) {
	const n = 1100
	keytest.NeedRoom(t, n+2) // the keys and two keyrings
	s := keytest.Session(t)
	r := must(s.AddKeyring("links-" + strings.Repeat("n", 200)))(t)
	var want []keyring.Key
	for i := range n {
		want = append(want, must(r.Add("user", fmt.Sprintf("l%04d", i), []byte("x")))(t))
	}
	got := must(r.Links())(t)
	byID := func(a, b keyring.Key) int { return int(a.ID()) - int(b.ID()) }
	slices.SortFunc(got, byID)
	slices.SortFunc(want, byID)
	if !slices.Equal(got, want) {
		t.Errorf("Links returned %d keys, not the %d linked", len(got), len(want))
	}
	check(t, r.Clear())
}

// A key of another type is refused with ENOTDIR, its type named, and its
// payload never read; so is one whose description is longer than the
// stack buffer.
func TestLinksRefusesOtherTypes(t *testing.T) {
	s := keytest.Session(t)
	for _, desc := range []string{"short", strings.Repeat("d", 300)} {
		k := must(s.Add("user", desc, []byte("abcd")))(t)
		_, err := k.ID().Keyring().Links()
		wantErr(t, err, syscall.ENOTDIR)
		if !strings.Contains(err.Error(), `"user"`) {
			t.Errorf("the error does not name the type: %v", err)
		}
	}
}
