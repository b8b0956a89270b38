//go:build linux

package requestkey_test

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/requestkey"
)

// request-key's arguments as the kernel writes them
// (call_sbin_request_key: "%d" each), and what ParseArgs makes of them.
func TestParseArgs(t *testing.T) {
	args := func(s string) []string { return strings.Fields(s) }
	for _, tc := range []struct {
		args string
		want requestkey.Request
	}{
		{"create 123 0 0 0 0 456", requestkey.Request{
			Key: keyring.ID(123).Key(), SessionKeyring: keyring.ID(456).Keyring(),
		}},
		{"create 2147483647 1000 100 11 22 33", requestkey.Request{
			Key: keyring.ID(2147483647).Key(), UID: 1000, GID: 100,
			ThreadKeyring: keyring.ID(11).Keyring(), ProcessKeyring: keyring.ID(22).Keyring(), SessionKeyring: keyring.ID(33).Keyring(),
		}},
		// IDs over 2^31-1 come out of "%d" negative.
		{"create 5 -2 -1 0 0 7", requestkey.Request{
			Key: keyring.ID(5).Key(), UID: 4294967294, GID: 4294967295, SessionKeyring: keyring.ID(7).Keyring(),
		}},
		{"create 5 4294967294 65534 0 0 7", requestkey.Request{
			Key: keyring.ID(5).Key(), UID: 4294967294, GID: 65534, SessionKeyring: keyring.ID(7).Keyring(),
		}},
	} {
		got, err := requestkey.ParseArgs(args(tc.args))
		if err != nil {
			t.Errorf("ParseArgs(%s): %v", tc.args, err)
			continue
		}
		if diff := cmp.Diff(tc.want, *got, cmp.Comparer(func(a, b keyring.Key) bool { return a == b })); diff != "" {
			t.Errorf("ParseArgs(%s) (-want +got):\n%s", tc.args, diff)
		}
	}

	for _, tc := range []struct{ args, field string }{
		{"", "args"},
		{"create 1 0 0 0 0", "args"},
		{"create 1 0 0 0 0 1 extra", "args"},
		{"negate 1 0 0 0 0 1", "args[0]"},
		{"create 0 0 0 0 0 1", "args[1]"},  // no key
		{"create -3 0 0 0 0 1", "args[1]"}, // special IDs are not serials
		{"create 0x10 0 0 0 0 1", "args[1]"},
		{"create 2147483648 0 0 0 0 1", "args[1]"},
		{"create 1 x 0 0 0 1", "args[2]"},
		{"create 1 4294967296 0 0 0 1", "args[2]"},
		{"create 1 0 -2147483649 0 0 1", "args[3]"},
		{"create 1 0 0 -1 0 1", "args[4]"},
		{"create 1 0 0 0 @p 1", "args[5]"},
		{"create 1 0 0 0 0 +1x", "args[6]"},
	} {
		_, err := requestkey.ParseArgs(args(tc.args))
		var e *keyring.Error
		if !errors.As(err, &e) || !errors.Is(err, keyring.ErrInvalid) || !e.Refused || e.Field != tc.field {
			t.Errorf("ParseArgs(%s) = %#v, want a refusal of %s", tc.args, err, tc.field)
		}
	}
}

// Without an upcall there is no authority to assume: Serve fails before
// calling the handler, and does not touch the key.
func TestServeWithoutUpcall(t *testing.T) {
	s := keytest.Session(t)
	k, err := s.Add("user", "not-under-construction", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	h := func(context.Context, *requestkey.Request) ([]byte, error) {
		t.Error("the handler was called")
		return nil, nil
	}
	err = requestkey.Serve(context.Background(), []string{"create", k.ID().String(), "0", "0", "0", "0", "1"}, h)
	if !errors.Is(err, keyring.ErrNotFound) || !errors.Is(err, syscall.ENOKEY) {
		t.Errorf("Serve on a key not under construction: %v, want ErrNotFound", err)
	}
	if p, err := k.Read(); err != nil || string(p) != "x" {
		t.Errorf("the key reads %q, %v after Serve", p, err)
	}
	err = requestkey.Serve(context.Background(), []string{"create"}, h)
	if !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("Serve with one argument: %v, want ErrInvalid", err)
	}
}

func TestRejectionError(t *testing.T) {
	r := &requestkey.Rejection{Reason: syscall.EACCES, Timeout: 30 * time.Second}
	if got, want := r.Error(), "requestkey: rejected for 30s: permission denied"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
