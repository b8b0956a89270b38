// Package plan is the contract between the VM runner (vm) and its guest
// (vm/guest): the plan the runner writes into its work directory, the
// results the guest writes back, and the console markers around each
// package's output.
package plan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Console markers: the guest prints StartMarker and EndMarker lines around
// each package's test output.
const (
	StartMarker = "=== kernkeys-vm start"
	EndMarker   = "=== kernkeys-vm end"
)

// Plan is what the guest runs.
type Plan struct {
	Env   []string // the test binaries' environment (each Test adds its own)
	Binds []Bind   // host directories to show again under the guest's own mounts
	Tmpfs []string // directories of the host's root the guest covers with a writable tmpfs
	// Replace are files and directories of the host's root that the
	// guest shows with other host files of the same kind in their place:
	// on a guest of another architecture, that architecture's builds of
	// the programs the tests run (keyctl, request-key, sh, the Go
	// toolchain). Path exists on the host; Source is bound over it.
	Replace  []Bind
	Hostname string
	Modules  []string // .ko files the guest loads, in order, before any test
	Tests    []Test
}

// ModulesResult is the Package of the Result the guest writes when a
// module of Plan.Modules fails to load.
const ModulesResult = "(loading the modules)"

// Covered are the directories the guest mounts its own filesystems on
// (proc, sysfs, devtmpfs, a tmpfs on /tmp and /run), hiding the host's
// directories there. vm/guest mounts exactly these.
var Covered = []string{"/proc", "/sys", "/dev", "/tmp", "/run"}

// CoveredBy returns the directory of Covered that path (absolute, clean)
// is, or lies under; "" if none.
func CoveredBy(path string) string {
	for _, c := range Covered {
		if path == c || strings.HasPrefix(path, c+"/") {
			return c
		}
	}
	return ""
}

// Bind is a host directory the tests need that lies under a Covered
// directory, such as a checkout under /tmp. The guest creates Path in its
// own filesystem and bind-mounts the host's Source there (read-only, like
// the rest of the host's root).
type Bind struct {
	Path   string // where, in the guest as on the host
	Source string // Path with symlinks resolved on the host
}

// Test is one package's test binary.
type Test struct {
	Package string   // import path, for the report
	Binary  string   // absolute path, valid on the host and in the guest
	Dir     string   // the package's source directory, the binary's cwd
	Args    []string // -test.* flags
	Env     []string // added to Plan.Env for this binary
}

// Result is one package's outcome.
type Result struct {
	Package string
	Pass    bool
	Seconds float64
	Error   string `json:",omitempty"` // how the binary ended, when it failed
	Output  string `json:",omitempty"` // the tail of its output, when it failed
}

const (
	planFile    = "plan.json"
	resultsFile = "results.json"
)

// Write stores p in the work directory dir.
func Write(dir string, p *Plan) error { return writeJSON(filepath.Join(dir, planFile), p) }

// Read loads the plan from the work directory dir.
func Read(dir string) (*Plan, error) {
	var p Plan
	return &p, readJSON(filepath.Join(dir, planFile), &p)
}

// WriteResults stores the results so far in the work directory dir.
func WriteResults(dir string, r []Result) error {
	return writeJSON(filepath.Join(dir, resultsFile), r)
}

// ClearResults removes the results from the work directory dir, if any.
func ClearResults(dir string) error {
	err := os.Remove(filepath.Join(dir, resultsFile))
	if os.IsNotExist(err) {
		return nil
	}
	return err
}

// ReadResults loads the results from the work directory dir; none if the
// guest wrote none.
func ReadResults(dir string) ([]Result, error) {
	var r []Result
	err := readJSON(filepath.Join(dir, resultsFile), &r)
	if os.IsNotExist(err) {
		return nil, nil
	}
	return r, err
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "\t")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
