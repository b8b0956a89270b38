//go:build linux

package sessioninit_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/keyring/sessioninit"
)

// The constructor ran before this binary's main, where no test's lock
// on an ordinary user's key quota could cover it: another package's test
// binary may have held the quota full just then.
func TestMain(m *testing.M) {
	_, err := sessioninit.Session()
	keytest.RestartUnderQuota(err)
	os.Exit(m.Run())
}

// This test binary imports the package: built with cgo (go test with a C
// compiler, and every go test -race) the constructor ran before it
// started, and every thread shares the session it joined; built without,
// Session says there was no constructor.
func TestEveryThreadSharesSession(t *testing.T) {
	keytest.Session(t) // the test's own thread leaves the session; the others keep it
	s, err := sessioninit.Session()
	if !cgo {
		keytest.WantNoConstructor(t, err)
		return
	}
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	d, err := s.Describe()
	if err != nil || d.Type != "keyring" || d.Description != "_ses" {
		t.Fatalf("the session is %v (%v), want an anonymous session keyring", d, err)
	}
	keytest.OnThreads(t, 64, func(tid int) {
		if id, err := keyring.Session().Resolve(); err != nil || id != s.ID() {
			t.Errorf("thread %d: @s is %v (%v), want %v", tid, id, err, s.ID())
		}
	})
}

// A program that imports sessioninit and processinit, built with cgo, with
// -race, and without cgo: with the constructors, 64 threads see one new
// session and one process keyring, different from the one it inherited
// and from another run's; without, both packages say so.
func TestProgram(t *testing.T) {
	keytest.NeedCC(t)
	own := keytest.Session(t) // the programs start from this thread, in this session
	for _, b := range []struct {
		name string
		env  []string
	}{
		{"cgo", []string{"CGO_ENABLED=1"}},
		{"race", []string{"CGO_ENABLED=1", "GOFLAGS=-race"}},
		{"nocgo", []string{"CGO_ENABLED=0"}},
	} {
		t.Run(b.name, func(t *testing.T) {
			bin := keytest.Build(t, "./testdata/threads", b.env...)
			var sessions []string
			for range 2 {
				out, err := exec.Command(bin).CombinedOutput()
				if err != nil {
					t.Fatalf("threads: %v\n%s", err, out)
				}
				if b.name == "nocgo" {
					if n := strings.Count(string(out), "CGO_ENABLED=1"); n != 2 {
						t.Errorf("built without cgo, the program says:\n%s", out)
					}
					return
				}
				m := regexp.MustCompile(`^session=(\d+) process=(\d+)\n$`).FindStringSubmatch(string(out))
				if m == nil {
					t.Fatalf("threads printed %q", out)
				}
				if m[1] == own.ID().String() {
					t.Errorf("the program's session %s is the one it inherited", m[1])
				}
				sessions = append(sessions, m[1])
			}
			if sessions[0] == sessions[1] {
				t.Errorf("two runs joined the same session %s", sessions[0])
			}
		})
	}
}
