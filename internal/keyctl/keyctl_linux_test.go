package keyctl

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The uapi numbers in types.go are written out so that every GOOS builds;
// they must agree with x/sys.
func TestUAPIConstants(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"KEYCTL_PKEY_ENCRYPT", PkeyEncrypt, unix.KEYCTL_PKEY_ENCRYPT},
		{"KEYCTL_PKEY_DECRYPT", PkeyDecrypt, unix.KEYCTL_PKEY_DECRYPT},
		{"KEYCTL_PKEY_SIGN", PkeySign, unix.KEYCTL_PKEY_SIGN},
		{"KEYCTL_PKEY_VERIFY", PkeyVerify, unix.KEYCTL_PKEY_VERIFY},
		{"KEYCTL_MOVE_EXCL", MoveExcl, unix.KEYCTL_MOVE_EXCL},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, x/sys says %d", c.name, c.got, c.want)
		}
	}
}
