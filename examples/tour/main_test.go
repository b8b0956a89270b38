//go:build linux

package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
)

// The tour end to end: built and run as a program, it must finish every
// step and find that it left no key behind (it checks that itself).
func TestTour(t *testing.T) {
	out, err := exec.Command(keytest.Build(t, ".")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Done: the tour left no key behind.") {
		t.Fatalf("tour: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "demo value") {
		t.Error("the tour printed a payload")
	}
}
