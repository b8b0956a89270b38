//go:build !linux

package keytest

import "testing"

// lockQuota: this GOOS has no keys to share a quota of.
func lockQuota(testing.TB) {}
