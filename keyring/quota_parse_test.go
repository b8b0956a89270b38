package keyring

import "testing"

// parseKeyUsers reads the kernel's format (proc_key_users_show) and
// refuses lines it does not know rather than misreading them.
func TestParseKeyUsers(t *testing.T) {
	const data = "    0:    92 91/91 86/1000000 1654/25000000\n" +
		" 1000:     5 4/4 4/200 113/20000\n" +
		"65534:     1 1/1 1/200 9/20000\n"
	for _, c := range []struct {
		data      string
		uid       uint32
		want      Quota
		found, ok bool
	}{
		{data, 0, Quota{UID: 0, Keys: 86, MaxKeys: 1000000, Bytes: 1654, MaxBytes: 25000000}, true, true},
		{data, 1000, Quota{UID: 1000, Keys: 4, MaxKeys: 200, Bytes: 113, MaxBytes: 20000}, true, true},
		{data, 100, Quota{UID: 100}, false, true},
		{"", 0, Quota{}, false, true},
		{" 1000:     5 4/4 4/200\n", 1000, Quota{UID: 1000}, false, false},
		{" 1000:     5 4/4 4-200 113/20000\n", 1000, Quota{UID: 1000, MaxBytes: 20000, Bytes: 113}, true, false},
	} {
		q, found, ok := parseKeyUsers([]byte(c.data), c.uid)
		if ok != c.ok || found != c.found || (ok && q != c.want) {
			t.Errorf("parseKeyUsers(%q, %d) = %v, %v, %v; want %v, %v, %v", c.data, c.uid, q, found, ok, c.want, c.found, c.ok)
		}
	}
}
