//go:build linux

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/internal/keytest"
)

// The tests run the command in a child process in a new user namespace,
// whose user and persistent keyrings are its own and die with it; the
// session scope uses the fresh session the child inherits.

const password = "s3cret-Pa55" // what must never show in the command's errors

// helper runs the built command with args and input, and returns its
// standard output; it fails the test on exit status other than want.
func helper(t *testing.T, want int, input string, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Getenv("KERNKEYS_TEST_BIN"), args...)
	cmd.Stdin = strings.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != want {
		t.Fatalf("credential-helper %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, stderr.String())
	}
	if strings.Contains(stderr.String(), password) {
		t.Errorf("credential-helper %s printed the password on standard error", strings.Join(args, " "))
	}
	return stdout.String()
}

// inChild builds the command and re-runs the test in a user namespace.
func inChild(t *testing.T) bool {
	t.Helper()
	if keytest.IsChild(t) {
		return true
	}
	bin := keytest.Build(t, ".")
	keytest.Session(t)
	keytest.RunChild(t, keytest.ChildOptions{UserNS: true, Env: []string{"KERNKEYS_TEST_BIN=" + bin}})
	return false
}

// git's protocol in every scope: store, get (with the right username, with
// another, without), list, erase, and the attributes of one request that
// are not stored.
func TestProtocol(t *testing.T) {
	if !inChild(t) {
		return
	}
	const query = "protocol=https\nhost=example.com\npath=org/repo.git\n\n"
	stored := "username=alice\npassword=" + password + "\npassword_expiry_utc=2000000000\n"
	for _, scope := range []string{"persistent", "user", "session"} {
		t.Run(scope, func(t *testing.T) {
			s := "--scope=" + scope
			if out := helper(t, 0, query, s, "get"); out != "" {
				t.Fatalf("get before store printed %q", out)
			}
			helper(t, 0, "capability[]=authtype\nprotocol=https\nhost=example.com\npath=org/repo.git\n"+stored+"wwwauth[]=Basic realm=x\n", s, "store")
			if out := helper(t, 0, query, s, "get"); out != stored {
				t.Errorf("get printed %q, want %q", out, stored)
			}
			if out := helper(t, 0, strings.Replace(query, "\n\n", "\nusername=alice\n\n", 1), s, "get"); out != stored {
				t.Errorf("get for alice printed %q", out)
			}
			if out := helper(t, 0, strings.Replace(query, "\n\n", "\nusername=bob\n\n", 1), s, "get"); out != "" {
				t.Errorf("get for bob printed %q", out)
			}
			if out := helper(t, 0, "protocol=https\nhost=example.com\n", s, "get"); out != "" {
				t.Errorf("get for another path printed %q", out)
			}
			if out := helper(t, 0, "", s, "list"); out != "https://example.com/org/repo.git\n" {
				t.Errorf("list printed %q", out)
			}
			helper(t, 0, strings.Replace(query, "\n\n", "\nusername=bob\n\n", 1), s, "erase") // not bob's: kept
			if out := helper(t, 0, query, s, "get"); out != stored {
				t.Errorf("erase for bob erased alice's credential: get printed %q", out)
			}
			helper(t, 0, query, s, "erase")
			helper(t, 0, query, s, "erase") // nothing left: no error
			if out := helper(t, 0, query, s, "get"); out != "" {
				t.Errorf("get after erase printed %q", out)
			}
		})
	}
}

// --timeout lets a credential expire. The kernel counts whole seconds of
// the wall clock, so a timeout of 3s ends 2 to 3 seconds after the store:
// enough for the get that follows, even on a loaded machine.
func TestTimeout(t *testing.T) {
	if !inChild(t) {
		return
	}
	const query = "protocol=https\nhost=example.com\n\n"
	helper(t, 0, "protocol=https\nhost=example.com\nusername=a\npassword="+password+"\n", "--timeout=3s", "--scope=user", "store")
	if out := helper(t, 0, query, "--scope=user", "get"); out == "" {
		t.Fatal("the credential is gone at once")
	}
	deadline := time.Now().Add(15 * time.Second)
	for helper(t, 0, query, "--scope=user", "get") != "" {
		if time.Now().After(deadline) {
			t.Fatal("the credential outlived --timeout=3s by 12 seconds")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Usage errors exit 2, --help 0, unknown actions are ignored as
// gitcredentials(7) asks, and store without a host fails.
func TestUsage(t *testing.T) {
	if !inChild(t) {
		return
	}
	if out := helper(t, 0, "", "--help"); !strings.Contains(out, "usage: credential-helper") {
		t.Errorf("--help printed %q", out)
	}
	helper(t, 2, "")
	helper(t, 2, "", "get", "extra")
	helper(t, 2, "", "--scope=bogus", "get")
	helper(t, 2, "", "--timeout=soon", "get")
	helper(t, 0, "", "--scope=user", "future-action")
	helper(t, 1, "username=a\npassword="+password+"\n", "--scope=user", "store")
	helper(t, 1, "protocol=https\nhost=h\n\n", "--scope=user", "store") // nothing to store
	helper(t, 1, strings.Repeat("x", maxInput+1), "--scope=user", "store")
	if out := helper(t, 0, "", "--scope=user", "list"); out != "" {
		t.Errorf("refused stores left %q", out)
	}
}

// git itself drives the helper: approve stores, fill gets, reject erases.
func TestWithGit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	if !inChild(t) {
		return
	}
	home := t.TempDir()
	credential := func(action, input string) (string, error) {
		cmd := exec.Command(git, "-c", "credential.helper=", "-c", "credential.helper="+os.Getenv("KERNKEYS_TEST_BIN")+" --scope=user", "credential", action)
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=")
		cmd.Stdin = strings.NewReader(input)
		out, err := cmd.Output()
		return string(out), err
	}
	const url = "url=https://alice@git.example.com/repo.git\n\n"
	if _, err := credential("approve", "url=https://alice@git.example.com/repo.git\npassword="+password+"\n\n"); err != nil {
		t.Fatalf("git credential approve: %v", err)
	}
	out, err := credential("fill", url)
	if err != nil || !strings.Contains(out, "username=alice\n") || !strings.Contains(out, "password="+password+"\n") {
		t.Fatalf("git credential fill: %v\n%s", err, out)
	}
	if _, err := credential("reject", url); err != nil {
		t.Fatalf("git credential reject: %v", err)
	}
	if out, err := credential("fill", url); err == nil {
		t.Errorf("git credential fill after reject found %q", out)
	}
}
