//go:build linux && cgo

// Command bench holds kernkeys against the other ways to reach the Linux
// key retention service, in one process, on one OS thread, in one fresh
// anonymous session keyring: C with raw syscall(2), C with libkeyutils,
// Go with golang.org/x/sys/unix, and github.com/jsipprell/keyctl where it
// has the operation (only when built with -tags jsipprell: see README.md).
// It prints ns/op (minimum and median over the rounds), Go allocs/op and
// ratios against C raw, then checks the targets. Unless
// -keyctl-runs=0, it then runs examples/keyctl/bench.sh, the whole-process
// comparison of examples/keyctl with keyutils' keyctl.
//
// Method: every round runs, for each operation, one batch of calls of each
// contender in turn (the order rotates from round to round), so that all
// contenders see the same machine load; C runs its whole batch inside one
// cgo call. See README.md.
//
// Usage (from bench/, as root for the 1000-key keyring):
//
//	go run [-tags jsipprell] . [-rounds 201] [-batch 4000] [-run regexp] [-md] [-strict] [-keyctl-runs 200]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"time"

	"github.com/kernkeys/kernkeys/keyring"
)

func main() {
	rounds := flag.Int("rounds", 201, "rounds: batches of each contender per operation")
	batch := flag.Int("batch", 4000, "calls per batch (divided by 2 or 4 for the operations that cost microseconds)")
	only := flag.String("run", "", "only the operations whose name matches this regexp")
	md := flag.Bool("md", false, "print the table in Markdown")
	strict := flag.Bool("strict", false, "exit 1 when a target is missed")
	keyctlRuns := flag.Int("keyctl-runs", 200, "runs per command in the whole-process keyctl comparison; 0 skips it")
	root := flag.String("root", "..", "the kernkeys repository, for examples/keyctl")
	flag.Parse()
	if *rounds < 1 || *batch < 4 {
		fmt.Fprintln(os.Stderr, "bench: -rounds must be at least 1 and -batch at least 4")
		os.Exit(2)
	}
	filter, err := regexp.Compile(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: -run:", err)
		os.Exit(2)
	}

	printMachine(os.Stdout, *rounds, *batch)
	res, err := runInSession(filter, *rounds, *batch, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Printf("load average after:  %s\n\n", loadavg())
	if *md {
		printMarkdown(os.Stdout, res)
	} else {
		printTable(os.Stdout, res)
	}
	fmt.Println()
	missed := printTargets(os.Stdout, res)

	if *keyctlRuns > 0 {
		fmt.Println()
		m, err := wholeProcess(os.Stdout, *root, *keyctlRuns)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: whole-process keyctl comparison:", err)
			os.Exit(1)
		}
		missed += m
	}
	if missed > 0 {
		fmt.Printf("\n%d target(s) missed.\n", missed)
		if *strict {
			os.Exit(1)
		}
	} else {
		fmt.Println("\nAll targets met.")
	}
}

// runInSession builds the fixture in a fresh anonymous session keyring on
// a locked OS thread, measures, and removes everything it made.
func runInSession(filter *regexp.Regexp, rounds, batch int, progress io.Writer) ([]*result, error) {
	var res []*result
	err := keyring.InNewSession(func(s keyring.Keyring) (err error) {
		fx, err := setup(s)
		defer func() {
			if terr := fx.teardown(); err == nil && terr != nil {
				err = fmt.Errorf("removing the benchmark keys: %w", terr)
			}
		}()
		if err != nil {
			return fmt.Errorf("setting up: %w", err)
		}
		var sel []*op
		for _, o := range ops(fx) {
			if filter.MatchString(o.name) {
				sel = append(sel, o)
			}
		}
		res, err = measure(sel, rounds, batch, progress)
		return err
	})
	return res, err
}

// printMachine prints what the numbers depend on.
func printMachine(w io.Writer, rounds, batch int) {
	fmt.Fprintf(w, "cpu:     %s (%d online, GOMAXPROCS %d)\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "kernel:  %s (meltdown: %s)\n", kernelRelease(), meltdown())
	alone, after := allocCost()
	fmt.Fprintf(w, "alloc:   a 32-byte Go allocation costs %.0f ns alone, %.0f ns right after a system call (getpid)\n", alone, after)
	fmt.Fprintf(w, "go:      %s; libkeyutils %s; jsipprell/keyctl %s\n", runtime.Version(), keyutilsVersion(), jsipprellVersion())
	fmt.Fprintf(w, "method:  %d rounds; per round and operation one batch per contender, rotating order; %d calls per batch (fewer where noted); one locked OS thread, one fresh anonymous session keyring\n", rounds, batch)
	fmt.Fprintf(w, "started: %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "load average before: %s\n", loadavg())
}
