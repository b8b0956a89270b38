//go:build linux && cgo

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
)

// keyctlLimit is the whole-process target: examples/keyctl within 1.5x of
// keyutils' keyctl.
const keyctlLimit = 1.5

// numberRE finds the ratios bench.sh prints after the word "ratio" ("ratio
// 1.47", "ratio min 1.47 median 1.46"; bc writes .83 for 0.83).
var numberRE = regexp.MustCompile(`[0-9]*\.?[0-9]+`)

// wholeProcess builds examples/keyctl from the repository at root (as
// bench.sh's header says: -trimpath, stripped) and runs
// its bench.sh, which times keyctl rlist and show over 1000 keys, keyutils'
// keyctl against it, runs times each. It copies the script's output and
// returns how many of its ratios miss the target.
func wholeProcess(w io.Writer, root string, runs int) (int, error) {
	script := filepath.Join(root, "examples", "keyctl", "bench.sh")
	if _, err := os.Stat(script); err != nil {
		return 0, fmt.Errorf("%w (set -root to the kernkeys repository)", err)
	}
	if _, err := os.Stat("/usr/bin/keyctl"); err != nil {
		return 0, fmt.Errorf("keyutils' keyctl: %w (apt-get install keyutils)", err)
	}
	tmp, err := os.MkdirTemp("", "kernkeys-bench-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "keyctl")
	build := exec.Command(goTool(), "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./examples/keyctl")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return 0, fmt.Errorf("building examples/keyctl: %w", err)
	}

	fmt.Fprintf(w, "Whole process: bash %s %s %d (keyutils' keyctl against examples/keyctl, 1000 keys, target <= %.1fx)\n",
		filepath.Join("examples", "keyctl", "bench.sh"), "<built examples/keyctl>", runs, keyctlLimit)
	cmd := exec.Command("bash", script, bin, strconv.Itoa(runs))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	missed, seen := 0, 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		note := ""
		if i := strings.LastIndex(line, "ratio"); i >= 0 {
			ok, n := true, 0
			for _, f := range numberRE.FindAllString(line[i:], -1) {
				r, err := strconv.ParseFloat(f, 64)
				if err != nil {
					continue
				}
				n++
				ok = ok && r <= keyctlLimit
			}
			if n > 0 {
				seen++
				if !ok {
					missed++
				}
				note = "  " + verdict(ok)
			}
		}
		fmt.Fprintf(w, "  %s%s\n", line, note)
	}
	if err := cmd.Wait(); err != nil {
		return missed, fmt.Errorf("bench.sh: %w", err)
	}
	if seen == 0 {
		fmt.Fprintln(w, "  (bench.sh printed no ratio: its output format changed? nothing checked)")
	}
	return missed, nil
}

// goTool finds the go command: on PATH, or the one that built this program.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
