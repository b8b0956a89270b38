//go:build linux

package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/keyring"
)

// FuzzKeySpec checks the key-spec parser without the kernel: it never
// panics, what it accepts formats back to the same spec, and it agrees
// with keyring.ParseID wherever that accepts the input (keyutils 1.6.3
// has no @r).
func FuzzKeySpec(f *testing.F) {
	for _, s := range []string{"@t", "@p", "@s", "@u", "@us", "@g", "@a", "@r", "@",
		"%user:name", "%:ring", "%:", "%user", "%", "%a:b:c", "12", "0x1f", "017", "-3",
		"4294967295", "99999999999999999999", " 5", "+7", "0x", "0b1", "1_0", "08", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, msg := parseKeySpec(s)
		if msg != "" {
			if spec != (keySpec{}) {
				t.Errorf("parseKeySpec(%q) = %+v with error %q", s, spec, msg)
			}
		} else {
			var again string
			switch {
			case spec.byName:
				again = "%" + spec.typ + ":" + spec.desc
			default:
				again = strconv.Itoa(int(spec.id))
				for name, id := range specialKeys {
					if id == spec.id && strings.HasPrefix(s, "@") {
						again = name
					}
				}
			}
			if spec2, msg2 := parseKeySpec(again); msg2 != "" || spec2 != spec {
				t.Errorf("parseKeySpec(%q) = %+v, but its form %q parses as %+v %q", s, spec, again, spec2, msg2)
			}
		}
		if id, err := keyring.ParseID(s); err == nil && s != "@r" {
			if msg != "" || spec.byName || spec.id != id {
				t.Errorf("keyring.ParseID(%q) = %v, parseKeySpec = %+v %q", s, id, spec, msg)
			}
		}
	})
}

// FuzzNumbers checks the strtoul(3) that masks, uids and timeouts go
// through: it never panics, the unparsed rest is a suffix of the input,
// and a whole number in the syntax C and Go share has the value Go gives
// it, as permission masks in keyring.ParsePerm's syntax do.
func FuzzNumbers(f *testing.F) {
	for _, s := range []string{"0x3f3f0000", "077000000", "1061093376", "0xffffffff",
		"0x3fz", "-1", " +10", "0x", "019", "99999999999999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, base := range []int{0, 10} {
			v, rest := strtoul(s, base)
			if !strings.HasSuffix(s, rest) {
				t.Fatalf("strtoul(%q, %d) rest %q is not a suffix", s, base, rest)
			}
			if rest != "" || strings.ContainsAny(s, "_oObB") {
				continue
			}
			if w, err := strconv.ParseUint(s, base, 64); err == nil && w != v {
				t.Errorf("strtoul(%q, %d) = %d, strconv says %d", s, base, v, w)
			}
		}
		if p, err := keyring.ParsePerm(s); err == nil && len(s) != 24 {
			if v, rest := strtoul(s, 0); rest != "" || keyring.Perm(uint32(v)) != p {
				t.Errorf("ParsePerm(%q) = %#x, strtoul = %#x %q", s, uint32(p), v, rest)
			}
		}
		if d, ok := parseTimeout(s); ok {
			if d < 0 || d%time.Second != 0 || d/time.Second >= 1<<32 {
				t.Errorf("parseTimeout(%q) = %v: not whole seconds in an unsigned int", s, d)
			}
			if n, err := strconv.ParseUint(s, 10, 32); err == nil && d != time.Duration(n)*time.Second {
				t.Errorf("parseTimeout(%q) = %v, want %ds", s, d, n)
			}
		}
	})
}
