//go:build linux

// Command guest is /init of the VM that vm (the runner) boots: it makes the
// host's root filesystem, shared read-only over virtio-9p, its own root,
// runs the test binaries the runner's plan names, writes their results
// beside the plan and powers the machine off.
//
// It is PID 1, so its chroot is the root of the kernel's own threads too
// (they share init's fs_struct): the kernel's request-key upcalls run the
// host's /sbin/request-key, as they do on the host.
//
// The kernel command line carries kernkeys.work=DIR (the runner's work
// directory, shared read-write under tag "work" and mounted at the same
// path) and optionally kernkeys.gocache=DIR (the host's Go build cache,
// tag "gocache"), so every path means the same thing in the guest as on
// the host.
//
// The guest mounts its own /proc, /sys, /dev and a writable tmpfs on /tmp
// and /run (plan.Covered), which hide the host's. The host directories the
// tests need under them (a checkout in /tmp, GOPATH or HOME under /tmp...)
// are in the plan's Binds: /init reads the plan through a second,
// uncovered view of the host's root, creates each path in its own
// filesystem and bind-mounts the host's directory there, read-only. The
// work directory and Go build cache may be under /tmp too: their mount
// points are made the same way. The plan's Tmpfs directories (ndctl's key
// directory) get a writable tmpfs each.
//
// Once in the new root, /init sets the plan's hostname (ndctl and
// cryptsetup put it in what they write) and loads the plan's modules
// (nfit_test's stack) in order with finit_module: the guest has no kmod,
// and the kernel asks no modprobe (CONFIG_MODPROBE_PATH is empty). A module
// that fails to load is a failed result of its own; the tests run anyway.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/kernkeys/kernkeys/internal/kmod"
	"github.com/kernkeys/kernkeys/vm/internal/plan"
)

func main() {
	err := run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kernkeys-vm guest: %v\n", err)
	}
	syscall.Sync()
	// PID 1 must not exit: power off, which ends qemu.
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

func run() error {
	for _, m := range []struct{ src, dst, fstype string }{
		{"devtmpfs", "/dev", "devtmpfs"},
		{"proc", "/proc", "proc"},
	} {
		if err := mount(m.src, m.dst, m.fstype, 0, ""); err != nil {
			return err
		}
	}
	cmdline, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return err
	}
	args := parseCmdline(string(cmdline))
	work := args["kernkeys.work"]
	if work == "" {
		return fmt.Errorf("kernel command line lacks kernkeys.work=")
	}

	// The host's root, read-only. cache=loose: the root is read-only, so
	// the guest may cache it all; binaries then load at memory speed.
	const (
		newroot  = "/newroot"
		hostroot = "/hostroot"
		opts9p   = "trans=virtio,version=9p2000.L,msize=512000"
	)
	if err := mount("hostroot", newroot, "9p", syscall.MS_RDONLY, opts9p+",cache=loose"); err != nil {
		return err
	}
	// A second view of it, which the guest's own mounts below do not
	// cover: the source of the binds, and where the plan is read from.
	if err := mount(newroot, hostroot, "", syscall.MS_BIND, ""); err != nil {
		return err
	}
	p, err := plan.Read(hostroot + work)
	if err != nil {
		return err
	}

	// The guest's own filesystems, hiding the host's: keep in step with
	// plan.Covered.
	for _, m := range []struct{ src, dst, fstype, data string }{
		{"proc", "/proc", "proc", ""},
		{"sysfs", "/sys", "sysfs", ""},
		{"devtmpfs", "/dev", "devtmpfs", ""},
		{"tmpfs", "/tmp", "tmpfs", "mode=1777"},
		{"tmpfs", "/run", "tmpfs", "mode=0755"},
	} {
		if err := mount(m.src, newroot+m.dst, m.fstype, 0, m.data); err != nil {
			return err
		}
	}
	// The host directories the tests need under those (a checkout under
	// /tmp, say), back at their paths: a mount point made in the tmpfs,
	// the host's directory bound onto it.
	for _, b := range p.Binds {
		if err := os.MkdirAll(newroot+b.Path, 0o755); err != nil {
			return err
		}
		if err := mount(hostroot+b.Source, newroot+b.Path, "", syscall.MS_BIND, ""); err != nil {
			return err
		}
	}
	// The guest architecture's programs over the host's (plan.Replace).
	for _, b := range p.Replace {
		if err := mount(hostroot+b.Source, newroot+b.Path, "", syscall.MS_BIND, ""); err != nil {
			return err
		}
	}
	// Scratch space over directories of the host's read-only root that
	// the tools the tests run write to (ndctl's key blobs).
	for _, d := range p.Tmpfs {
		if err := mount("tmpfs", newroot+d, "tmpfs", 0, "mode=0755"); err != nil {
			return err
		}
	}
	// Last, the writable shares, at their host paths (real paths: no
	// symlink to follow), over anything above.
	rw := []struct{ tag, dir string }{{"work", work}}
	if gc := args["kernkeys.gocache"]; gc != "" {
		rw = append(rw, struct{ tag, dir string }{"gocache", gc})
	}
	for _, m := range rw {
		if err := os.MkdirAll(newroot+m.dir, 0o755); err != nil {
			return err
		}
		if err := mount(m.tag, newroot+m.dir, "9p", 0, opts9p); err != nil {
			return err
		}
	}
	if err := syscall.Unmount(hostroot, syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount %s: %w", hostroot, err)
	}

	// switch_root: move the new root over / and enter it.
	if err := os.Chdir(newroot); err != nil {
		return err
	}
	if err := mount(".", "/", "", syscall.MS_MOVE, ""); err != nil {
		return err
	}
	if err := syscall.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	if err := os.Chdir("/"); err != nil {
		return err
	}

	if err := syscall.Sethostname([]byte(p.Hostname)); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	var results []plan.Result
	// A module that does not load fails the run, but the tests still
	// run: those that need it fail and say so, the others can pass.
	if err := kmod.Load(p.Modules...); err != nil {
		fmt.Fprintf(os.Stderr, "kernkeys-vm guest: loading the modules: %v\n", err)
		results = append(results, plan.Result{Package: plan.ModulesResult, Error: err.Error()})
		if err := plan.WriteResults(work, results); err != nil {
			return err
		}
	}
	for _, t := range p.Tests {
		results = append(results, runTest(p, t))
		// Written after every package: a hung or crashed guest still
		// leaves the results so far.
		if err := plan.WriteResults(work, results); err != nil {
			return err
		}
	}
	return nil
}

// runTest runs one test binary in its package directory, its output going
// to the console between marker lines the runner recognises.
func runTest(p *plan.Plan, t plan.Test) plan.Result {
	fmt.Printf("%s %s\n", plan.StartMarker, t.Package)
	start := time.Now()
	cmd := exec.Command(t.Binary, t.Args...)
	cmd.Dir = t.Dir
	cmd.Env = append(p.Env[:len(p.Env):len(p.Env)], t.Env...)
	var tail tailWriter
	cmd.Stdout = &tail
	cmd.Stderr = &tail
	err := cmd.Run()
	res := plan.Result{Package: t.Package, Seconds: time.Since(start).Seconds(), Pass: err == nil}
	if err != nil {
		res.Error = err.Error()
		res.Output = tail.String()
	}
	verdict := "ok"
	if !res.Pass {
		verdict = "FAIL"
	}
	fmt.Printf("%s %s %s %.1fs\n", plan.EndMarker, t.Package, verdict, res.Seconds)
	return res
}

// tailWriter copies everything to the console and keeps the last 64 KiB
// for the result file.
type tailWriter struct{ buf bytes.Buffer }

func (w *tailWriter) Write(b []byte) (int, error) {
	os.Stdout.Write(b)
	w.buf.Write(b)
	if n := w.buf.Len(); n > 64<<10 {
		w.buf.Next(n - 64<<10)
	}
	return len(b), nil
}

func (w *tailWriter) String() string { return w.buf.String() }

// mount mounts; the mount point exists (in the initramfs, on the host's
// root filesystem, which is read-only here, or made in a tmpfs).
func mount(src, dst, fstype string, flags uintptr, data string) error {
	if err := syscall.Mount(src, dst, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s (%s): %w", src, dst, fstype, err)
	}
	return nil
}

func parseCmdline(s string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(s) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}
