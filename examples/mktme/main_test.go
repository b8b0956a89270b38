//go:build linux

package main

import (
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/mktme"
)

// kernelHasMKTME asks the kernel, through mktme.Probe (tested in the
// mktme package), whether it has the "mktme" key type.
func kernelHasMKTME(t *testing.T) bool {
	t.Helper()
	err := mktme.Probe()
	if err != nil && !errors.Is(err, keyring.ErrNotSupported) {
		t.Fatalf("mktme.Probe: %v", err)
	}
	return err == nil
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	t.Fatalf("running the command: %v", err)
	return -1
}

// The command in both grammars: it exits 0 with the answers this kernel
// and this user get, never prints key material, and rejects bad usage with
// exit status 2.
func TestCommand(t *testing.T) {
	bin := keytest.Build(t, ".")
	has := kernelHasMKTME(t)
	capable, err := mktme.HasCapability()
	if err != nil {
		t.Fatal(err)
	}
	longHex := regexp.MustCompile(`[0-9a-fA-F]{16}`)
	for _, grammar := range []string{"v2", "v1"} {
		out, err := exec.Command(bin, "--grammar", grammar).CombinedOutput()
		text := string(out)
		if code := exitCode(t, err); code != 0 {
			t.Errorf("--grammar %s: exit %d\n%s", grammar, code, text)
		}
		for _, want := range []string{"user key: payload ", "cpu key: payload ", "encrypt_mprotect: not in mainline Linux"} {
			if !strings.Contains(text, want) {
				t.Errorf("--grammar %s: the output lacks %q\n%s", grammar, want, text)
			}
		}
		var answer string
		switch {
		case !has:
			// The probe needs no capability; the keys do.
			want := 3
			answer = "not supported: "
			if !capable {
				want, answer = 1, "permission denied: "
			}
			if n := strings.Count(text, "never merged into mainline Linux"); n != want || !strings.Contains(text, "kernel: ") {
				t.Errorf("--grammar %s: %d lines say the type was never merged, want %d\n%s", grammar, n, want, text)
			}
		case !capable:
			answer = "permission denied: "
		default:
			answer = "created"
		}
		if !capable && !strings.Contains(text, "before the system call") {
			t.Errorf("--grammar %s: without the capability the output should say it was checked first\n%s", grammar, text)
		}
		for _, key := range []string{"user key: ", "cpu key: "} {
			if !strings.Contains(text, key+answer) && !strings.Contains(text, key+"no free KeyID") {
				t.Errorf("--grammar %s: want %q%q\n%s", grammar, key, answer, text)
			}
		}
		if m := longHex.FindString(text); m != "" {
			t.Errorf("--grammar %s: the output has a long hex string %q: key material?\n%s", grammar, m, text)
		}
	}

	out, err := exec.Command(bin, "--help").CombinedOutput()
	if code := exitCode(t, err); code != 0 || !strings.Contains(string(out), "usage: mktme [--grammar v2|v1]") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"--grammar", "v3"}, {"--bogus"}, {"extra"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if code := exitCode(t, err); code != 2 || !strings.Contains(string(out), "usage:") {
			t.Errorf("%q: exit %d, want 2 with the usage\n%s", args, code, out)
		}
	}
}
