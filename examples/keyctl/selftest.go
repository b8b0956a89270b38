//go:build linux

package main

import (
	"os"
	"strconv"
	"syscall"

	"github.com/kernkeys/kernkeys/keyring"
)

// cmdTest is keyutils' "keyctl --test": checks of the kernel's limits on
// add_key's type, description and payload, run against the thread keyring.
func cmdTest(args []string) {
	args = args[1:]
	if len(args) == 0 {
		testUsage()
	}
	switch args[0] {
	case "limits":
		testLimits(args)
	case "limits2":
		testLimits2(args)
	}
	usageErr("Unknown test command")
}

func testUsage() {
	out.Flush()
	os.Stderr.WriteString("Format:\n" +
		"  keyctl --test limits \n" +
		"  keyctl --test limits2 \n" +
		keySpecHelp)
	os.Exit(2)
}

// tester counts failures as keyutils' tests do: a message on stderr after
// a newline on stdout, and an abort after more than 20.
type tester struct{ fails int }

func (t *tester) failf(msg string, err error) {
	out.WriteByte('\n')
	out.Flush()
	if err != nil {
		msg += ": " + strerror(errnoOf(err))
	}
	os.Stderr.WriteString(msg + "\n")
	t.fails++
}

// check ends the test after too many failures.
func (t *tester) check() {
	if t.fails > 20 {
		out.Flush()
		os.Stderr.WriteString("Aborting with too many failures\n")
		os.Exit(1)
	}
}

func (t *tester) done() {
	out.WriteByte('\n')
	if t.fails != 0 {
		exit(1)
	}
	exit(0)
}

// unlink removes a key the test made from the thread keyring.
func (t *tester) unlink(k keyring.Key) {
	if err := keyring.Thread().Unlink(k); err != nil {
		t.failf("Unlink failed", err)
	}
}

// testLimits adds keys whose type, then description, is 0 to 8191 bytes
// long: types of 1 to 31 bytes are unknown (ENODEV), other lengths and
// descriptions of 0 or 4096 bytes and more are invalid.
func testLimits(args []string) {
	if len(args) != 1 {
		testUsage()
	}
	var t tester
	buf := make([]byte, 8192)
	for i := range buf {
		if i%32 == 0 {
			if i != 0 {
				out.WriteByte('\n')
			}
			out.WriteString("TEST SIZE " + strconv.Itoa(i))
		}
		s := string(buf[:i])
		n := strconv.Itoa(i)
		out.WriteByte('.')
		_, err := keyring.Thread().Add(s, "wibble", []byte("a"))
		want := syscall.ENODEV
		if i == 0 || i >= 32 {
			want = syscall.EINVAL
		}
		switch {
		case err == nil:
			t.failf(n+" type unexpectedly succeeded", nil)
		case errnoOf(err) != want:
			t.failf(n+" type failed", err)
		}
		out.WriteByte('_')
		k, err := keyring.Thread().Add("user", s, []byte("a"))
		switch {
		case err != nil && (i == 0 || i >= 4096) && errnoOf(err) != syscall.EINVAL:
			t.failf(n+" desc failed", err)
		case err != nil && i > 0 && i < 4096:
			t.failf(n+" desc wrong error", err)
		case err == nil:
			if i == 0 || i >= 4096 {
				t.failf(n+" desc unexpectedly succeeded", nil)
			}
			t.unlink(k)
		}
		buf[i] = 'a'
		t.check()
	}
	t.done()
}

// testLimits2 adds user keys with payloads of 0 to 1030 KiB - 1 bytes:
// only 1 to 32767 bytes are valid; a full quota (EDQUOT) is tolerated.
func testLimits2(args []string) {
	if len(args) != 1 {
		testUsage()
	}
	var t tester
	buf := make([]byte, 1030*1024)
	for i := range buf {
		buf[i] = 'a'
	}
	for i := range buf {
		if i%2048 == 0 {
			if i != 0 {
				out.WriteByte('\n')
			}
			out.WriteString("TEST SIZE " + pad(strconv.Itoa(i), 7) + " ")
		}
		if i%(2048/32) == 0 {
			out.WriteByte('.')
		}
		n := strconv.Itoa(i)
		k, err := keyring.Thread().Add("user", "a", buf[:i])
		switch {
		case err != nil && (i == 0 || i > 32767):
			if errnoOf(err) != syscall.EINVAL {
				t.failf(n+" desc failed", err)
			}
		case err != nil && errnoOf(err) == syscall.EDQUOT: // keys made fast
		case err != nil:
			t.failf(n+" desc wrong error", err)
		default:
			if i == 0 || i > 32767 {
				t.failf(n+" desc unexpectedly succeeded", nil)
			}
			t.unlink(k)
		}
		t.check()
	}
	t.done()
}
