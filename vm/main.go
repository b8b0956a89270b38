//go:build linux

// Command vm runs kernkeys' tests on a second, fully-featured kernel: one
// with trusted keys on a (software) TPM 2.0, big_key, DH operations, key
// notifications, user-provided decrypted data for encrypted keys and
// PKCS#8 private keys, none of which the host kernel has; and for the
// NVDIMM and LUKS examples, nfit_test's emulated NVDIMMs with Intel DSM
// security, device-mapper with dm-crypt, and loop devices.
//
//	go run ./vm                         # every package's tests, Linux 6.1, x86_64
//	go run ./vm -run TestTrusted ./trusted
//	go run ./vm -kernel 5.10            # the same on another kernel
//	go run ./vm -arch arm64 ./keyring   # on an arm64 guest
//
// It builds the kernel from Debian's linux-source of the version -kernel
// names (5.10 from bullseye, 6.1 and 6.12 from bookworm; vm/kernel.go's
// kernels) with vm/kernel.config and the machine's vm/kernel-<arch>.config,
// and on x86_64 nfit_test (tools/testing/nvdimm) as modules against it
// (cached outside the repository, keyed by the fragments, the source
// version, the architecture and the build recipe; the first build takes
// about 20 minutes of CPU, 10 on 2 idle cores), compiles each package's
// test binary on the host for the guest's architecture, starts a fresh
// swtpm, and boots the kernel under qemu with the host's root filesystem
// shared read-only over virtio-9p: the guest is the host's userland
// (keyctl, request-key, ndctl, cryptsetup, the Go toolchain for tests that
// build helpers) on the VM's kernel. The guest's /init (vm/guest) loads
// the nfit_test modules, runs the binaries in their package directories
// and writes their results back; vm prints a line per package and exits 1
// if any failed, if a module did not load, or if the guest did not finish.
//
// One kernel config serves every test: nfit_test needs modules (its
// config_check.c wants libnvdimm, nd_pmem, nd_btt, nfit, device_dax and
// dax_pmem as modules, which it rebuilds with its wrappers), and the rest
// stays built in; modules change nothing for the key tests (module
// requests, such as key-type autoloading, go nowhere: CONFIG_MODPROBE_PATH
// is empty), and a second config would mean a second 10-minute build and a
// second cache entry to keep in step. The versions differ only where a
// kernel lacks an option (vm/kernel.go's onlyIn), and the machines in
// their board, console and TPM device (vm/kernel-<arch>.config).
//
// Two boots: a test that must see the same machine boot again (blobs
// sealed by the TPM, loaded after every key and mapping is gone) calls
// internal/vmtest.Boot, which in the first boot returns 1 and a directory
// under the run's work directory, and registers the test. After the first
// boot, vm boots the guest again on the same swtpm state and runs only the
// registered tests of each package (-test.run), where Boot returns 2 and
// the same directory. Each boot gets its own block of results.
//
// The guest gives the tests (internal/vmtest documents it): the host name
// kernkeys-vm; a writable tmpfs over /etc/ndctl/keys (ndctl's key blobs;
// the host's root is read-only); devtmpfs nodes for /dev/mapper/control,
// /dev/dm-N, /dev/loop-control and /dev/loopN (no udev); and in the
// environment KERNKEYS_VM_BOOT (1 or 2), KERNKEYS_VM_STATE (the package's
// directory that lasts across both boots) and KERNKEYS_VM_MODULES (the
// nfit_test stack's .ko files, in load order, for tests that reload it).
//
// Every path means the same in the guest as on the host. The guest has its
// own writable tmpfs on /tmp and /run (and its own /dev, /proc, /sys),
// which hide the host's; so vm lists in the plan the host directories the
// tests need that lie under those (the checkout, HOME, GOPATH, the module
// cache, GOROOT, PATH entries, the kernel's cache entry with its modules: a
// clone in /tmp, say), and the guest binds them back, read-only, over its
// tmpfs. The work directory and the Go build cache, shared read-write, may
// be under /tmp too. Only /proc and /sys cannot hold any of these: vm
// refuses before building anything.
//
// Needs (Debian): qemu-system-x86 swtpm swtpm-tools (ndctl and
// cryptsetup-bin for the tests that use them), and to build the kernel
// build-essential bc flex bison libelf-dev libssl-dev and apt access to
// Debian's archive; for arm64 also qemu-system-arm and
// gcc-aarch64-linux-gnu. No root is needed. KVM is not used: qemu emulates
// (TCG), so tests run several times slower than on the host.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kernkeys/kernkeys/internal/vmtest"
	"github.com/kernkeys/kernkeys/vm/internal/plan"
)

func main() {
	var (
		run      = flag.String("run", "", "run only tests matching `regexp` (go test -run)")
		verbose  = flag.Bool("v", false, "verbose test output (go test -v)")
		timeout  = flag.Duration("timeout", 45*time.Minute, "give up on the VM after `d`")
		cacheDir = flag.String("cache", defaultCache(), "kernel cache `dir`")
		kernel   = flag.String("kernel", defaultKernel, "kernel `version`: "+strings.Join(slices.Sorted(maps.Keys(kernels)), ", "))
		arch     = flag.String("arch", runtime.GOARCH, "the guest's `GOARCH`: "+strings.Join(slices.Sorted(maps.Keys(machines)), ", "))
		keep     = flag.Bool("keep", false, "keep the work directory (plan, results, console log)")
	)
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: go run ./vm [flags] [packages]   (default ./...)\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	if *run != "" {
		if _, err := regexp.Compile(*run); err != nil {
			fatalf("-run: %v", err)
		}
	}
	m, found := machines[*arch]
	if !found {
		fatalf("-arch %s: not one of %s", *arch, strings.Join(slices.Sorted(maps.Keys(machines)), ", "))
	}
	ok, err := vm(options{
		pkgs: pkgs, run: *run, verbose: *verbose, timeout: *timeout,
		cache: *cacheDir, kernel: *kernel, machine: m, keep: *keep,
	})
	if err != nil {
		fatalf("%v", err)
	}
	if !ok {
		os.Exit(1)
	}
}

type options struct {
	pkgs    []string
	run     string
	verbose bool
	timeout time.Duration
	cache   string
	kernel  string
	machine *machine
	keep    bool
}

func vm(o options) (ok bool, err error) {
	m := o.machine
	tools := []struct{ bin, pkg string }{
		{m.Qemu, m.QemuPkg},
		{"swtpm", "swtpm"},
		{"swtpm_setup", "swtpm-tools"},
	}
	if m.Cross != "" {
		tools = append(tools, struct{ bin, pkg string }{m.Cross + "gcc", "gcc-" + strings.TrimSuffix(m.Cross, "-")})
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool.bin); err != nil {
			return false, fmt.Errorf("%s not found: apt-get install %s", tool.bin, tool.pkg)
		}
	}
	root, err := goEnv("", "GOMOD")
	if err != nil {
		return false, err
	}
	root = filepath.Dir(root)
	if err := os.Chdir(root); err != nil {
		return false, err
	}
	// The work directory (under the cache) and the Go build cache are
	// shared read-write and mounted at their host paths; as mount points
	// in the guest they must be real paths (no symlinks) and not under
	// /proc or /sys. Checked, like the binds, before building anything.
	if err := os.MkdirAll(o.cache, 0o755); err != nil {
		return false, err
	}
	cache, err := realDir(o.cache)
	if err != nil {
		return false, err
	}
	gocache, err := goEnv("", "GOCACHE")
	if err != nil {
		return false, err
	}
	if gocache == "off" {
		gocache = ""
	}
	if gocache != "" {
		if err := os.MkdirAll(gocache, 0o755); err != nil {
			return false, err
		}
		if gocache, err = realDir(gocache); err != nil {
			return false, err
		}
	}
	// The cache entry's directory (made now, filled by the build) holds
	// the modules the guest loads: shown to it like the checkout.
	k, frag, deb, err := cachedKernel(cache, o.kernel, m)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(k.Dir, 0o755); err != nil {
		return false, err
	}
	env := guestEnv(gocache)
	binds, err := guestBinds(append([]string{root, k.Dir}, envDirs(env)...))
	if err != nil {
		return false, err
	}

	replace, foreignEnv, err := foreignUserland(cache, m)
	if err != nil {
		return false, err
	}
	env = append(env, foreignEnv...)
	if err := k.build(cache, frag, deb); err != nil {
		return false, err
	}
	env = append(env, vmtest.EnvModules+"="+strings.Join(k.Modules, string(filepath.ListSeparator)))
	work, err := os.MkdirTemp(cache, "run-")
	if err != nil {
		return false, err
	}
	if o.keep {
		logf("work directory: %s", work)
	} else {
		defer os.RemoveAll(work)
	}
	p, err := buildPlan(work, o)
	if err != nil {
		return false, err
	}
	p.Binds, p.Modules, p.Hostname = binds, k.Modules, vmtest.Hostname
	p.Tmpfs, p.Replace = guestTmpfs(), replace
	initrd := filepath.Join(work, "initrd.gz")
	if err := buildInit(work, initrd, m); err != nil {
		return false, err
	}
	if err := setupTPM(work); err != nil {
		return false, err
	}
	// The first boot runs p; the second, on the same TPM state, the tests
	// that asked for it in the first (vmtest.Boot), if any.
	ok = true
	for n := 1; n <= 2 && len(p.Tests) > 0; n++ {
		p.Env = append(env[:len(env):len(env)], vmtest.EnvBoot+"="+strconv.Itoa(n))
		if err := plan.Write(work, p); err != nil {
			return false, err
		}
		if err := plan.ClearResults(work); err != nil {
			return false, err
		}
		if err := boot(work, k, initrd, gocache, o.timeout); err != nil {
			logf("%v", err)
		}
		results, err := plan.ReadResults(work)
		if err != nil {
			return false, err
		}
		if !report(n, p, results) {
			ok = false
		}
		if p, err = secondBoot(work, p, o); err != nil {
			return false, err
		}
	}
	if ok {
		fmt.Printf("PASS (on the VM's Linux %s, %s)\n", k.Version, m.GOARCH)
	} else {
		fmt.Printf("FAIL (on the VM's Linux %s, %s)\n", k.Version, m.GOARCH)
	}
	return ok, nil
}

// stateDir is the directory of a package's test binary that lasts from
// the first boot to the second (vmtest.EnvState).
func stateDir(work, pkg string) string {
	return filepath.Join(work, "state", strings.ReplaceAll(pkg, "/", "_"))
}

// testArgs are the test binaries' flags.
func testArgs(run string, verbose bool) []string {
	args := []string{"-test.count=1", "-test.timeout=15m"}
	if run != "" {
		args = append(args, "-test.run="+run)
	}
	if verbose {
		args = append(args, "-test.v")
	}
	return args
}

// secondBoot returns the plan of the second boot after first: the tests
// that registered for it (vmtest.Boot), in each package's state directory,
// and only those.
func secondBoot(work string, first *plan.Plan, o options) (*plan.Plan, error) {
	second := *first
	second.Tests = nil
	for _, t := range first.Tests {
		b, err := os.ReadFile(filepath.Join(stateDir(work, t.Package), vmtest.SecondBootFile))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		names := strings.Fields(string(b))
		sort.Strings(names)
		names = slices.Compact(names)
		for i, n := range names {
			names[i] = regexp.QuoteMeta(n)
		}
		t.Args = testArgs("^("+strings.Join(names, "|")+")$", o.verbose)
		second.Tests = append(second.Tests, t)
	}
	return &second, nil
}

// buildPlan compiles the test binary of every package in o.pkgs that has
// tests, into work/bin.
func buildPlan(work string, o options) (*plan.Plan, error) {
	out, err := output("", "go", append([]string{"list", "-f",
		"{{.ImportPath}}\t{{.Dir}}\t{{len .TestGoFiles}}{{len .XTestGoFiles}}"}, o.pkgs...)...)
	if err != nil {
		return nil, err
	}
	args := testArgs(o.run, o.verbose)
	p := &plan.Plan{}
	bin := filepath.Join(work, "bin")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 || f[2] == "00" {
			continue
		}
		exe := filepath.Join(bin, strings.ReplaceAll(f[0], "/", "_")+".test")
		logf("go test -c %s", f[0])
		if err := goBuild(o.machine, "test", "-c", "-o", exe, f[0]); err != nil {
			return nil, err
		}
		state := stateDir(work, f[0])
		if err := os.MkdirAll(state, 0o755); err != nil {
			return nil, err
		}
		p.Tests = append(p.Tests, plan.Test{Package: f[0], Binary: exe, Dir: f[1], Args: args,
			Env: []string{vmtest.EnvState + "=" + state}})
	}
	if len(p.Tests) == 0 {
		return nil, fmt.Errorf("no package in %s has tests", strings.Join(o.pkgs, " "))
	}
	return p, nil
}

// guestEnv is the test binaries' environment in the guest: the host's Go
// setup (the toolchain, module cache and build cache are shared; the build
// cache at gocache, its real path, where the guest mounts it), a tmpfs for
// temporary files.
func guestEnv(gocache string) []string {
	env := []string{"TMPDIR=/tmp", "GOTOOLCHAIN=local", "GOFLAGS=-mod=readonly"}
	for _, k := range []string{"PATH", "HOME", "USER", "LOGNAME"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	if gocache == "" {
		gocache = "off"
	}
	env = append(env, "GOCACHE="+gocache)
	for _, k := range []string{"GOMODCACHE", "GOPATH", "GOROOT"} {
		if v, err := goEnv("", k); err == nil && v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// envDirs are the directories env (guestEnv) names: HOME, the Go
// toolchain, GOPATH, the module cache and PATH.
func envDirs(env []string) []string {
	var dirs []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "GOPATH", "GOMODCACHE", "GOROOT", "PATH":
			dirs = append(dirs, filepath.SplitList(v)...)
		}
	}
	return dirs
}

// guestBinds returns the binds that show dirs in the guest as on the host
// (plan.Bind): the guest's root is the host's, but its own tmpfs on /tmp
// and /run (and its /dev) hide whatever the host has there, such as a
// checkout under /tmp. The package directories are under the repository
// or the module cache, so dirs covers them.
//
// A directory is shown at its path and at its real path (symlinks
// resolved), both bound from the real one, so that a symlink into /tmp, or
// one in /tmp, resolves in the guest as on the host. A directory that is
// itself a covered one (HOME=/tmp) is left to the guest's own filesystem;
// one under /proc or /sys cannot be shown at all.
func guestBinds(dirs []string) ([]plan.Bind, error) {
	var binds []plan.Bind
	for _, d := range dirs {
		if !filepath.IsAbs(d) {
			continue
		}
		d = filepath.Clean(d)
		real, err := filepath.EvalSymlinks(d)
		if err != nil {
			continue // not on the host (a PATH entry, say): nothing to show
		}
		if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
			continue
		}
		for _, p := range []string{d, real} {
			if err := sharable(p); err != nil {
				return nil, err
			}
			if c := plan.CoveredBy(p); c != "" && c != p {
				binds = append(binds, plan.Bind{Path: p, Source: real})
			}
		}
	}
	// Sorted, a directory comes before those under it, which its bind
	// already shows.
	sort.Slice(binds, func(i, j int) bool { return binds[i].Path < binds[j].Path })
	var out []plan.Bind
	for _, b := range binds {
		if n := len(out); n > 0 && (b.Path == out[n-1].Path || strings.HasPrefix(b.Path, out[n-1].Path+"/")) {
			continue
		}
		out = append(out, b)
	}
	return out, nil
}

// guestTmpfs lists the directories of the host's root that the guest
// covers with a writable tmpfs: ndctl's key directory (where ndctl keeps
// the blobs of the DIMMs' passphrase keys), if ndctl is installed.
func guestTmpfs() []string {
	var dirs []string
	for _, d := range []string{vmtest.NdctlKeys} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// sharable says why the guest cannot see the host's path, if it cannot:
// it mounts proc and sysfs over /proc and /sys, where no directory can be
// made to bind onto.
func sharable(path string) error {
	if c := plan.CoveredBy(path); c == "/proc" || c == "/sys" {
		return fmt.Errorf("%s is under %s, which the VM's guest replaces with its own %s: move it elsewhere", path, c, c[1:])
	}
	return nil
}

// realDir is dir with symlinks resolved, checked to be sharable with the
// guest at that path.
func realDir(dir string) (string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return "", err
	}
	return real, sharable(real)
}

// goBuild runs the go command for m's GOARCH, without cgo: the guest
// runs what the host builds.
func goBuild(m *machine, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOARCH="+m.GOARCH)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// buildInit compiles vm/guest statically and packs it as the initramfs.
func buildInit(work, initrd string, m *machine) error {
	exe := filepath.Join(work, "init")
	if err := goBuild(m, "build", "-trimpath", "-o", exe, "./vm/guest"); err != nil {
		return err
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		return err
	}
	return initramfs(initrd, b)
}

// setupTPM makes a fresh TPM state in work/tpm, which both boots use.
func setupTPM(work string) error {
	tpm := filepath.Join(work, "tpm")
	if err := os.MkdirAll(tpm, 0o700); err != nil {
		return err
	}
	// --create-spk persists a storage primary key at 0x81000001: the
	// parent handle trusted keys need on TPM 2.0.
	return command("", "swtpm_setup", "--tpm2", "--tpmstate", tpm, "--create-spk", "--overwrite")
}

// boot starts swtpm on the TPM state of setupTPM and boots the kernel
// under qemu, copying the console to stdout and to work/console.log, until
// the guest powers off or timeout passes.
func boot(work string, k *builtKernel, initrd, gocache string, timeout time.Duration) error {
	tpm := filepath.Join(work, "tpm")
	sock := filepath.Join(tpm, "sock")
	pidfile := filepath.Join(tpm, "pid")
	if err := command("", "swtpm", "socket", "--tpm2", "--tpmstate", "dir="+tpm,
		"--ctrl", "type=unixio,path="+sock, "--pid", "file="+pidfile,
		"--flags", "startup-clear", "--daemon"); err != nil {
		return err
	}
	// swtpm exits when qemu disconnects; make sure it does.
	defer killPidfile(pidfile)

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	append9p := func(tag, path string, ro bool) []string {
		opt := "local,path=" + path + ",mount_tag=" + tag + ",security_model=none,multidevs=remap"
		if ro {
			opt += ",readonly=on"
		}
		return []string{"-virtfs", opt}
	}
	m := k.Machine
	cmdline := strings.TrimSpace("console=" + m.Console + " panic=-1 quiet " + m.Cmdline + " kernkeys.work=" + work)
	args := append(m.Args[:len(m.Args):len(m.Args)],
		"-smp", "2", "-m", "2048",
		"-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
		"-kernel", k.Image, "-initrd", initrd,
		"-chardev", "socket,id=chrtpm,path="+sock,
		"-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", m.TPM+",tpmdev=tpm0",
	)
	args = append(args, append9p("hostroot", "/", true)...)
	args = append(args, append9p("work", work, false)...)
	if gocache != "" {
		args = append(args, append9p("gocache", gocache, false)...)
		cmdline += " kernkeys.gocache=" + gocache
	}
	args = append(args, "-append", cmdline)

	console, err := os.OpenFile(filepath.Join(work, "console.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer console.Close()
	cmd := exec.CommandContext(ctx, m.Qemu, args...)
	cmd.Stdin = nil
	cmd.Stdout = io.MultiWriter(os.Stdout, console)
	cmd.Stderr = io.MultiWriter(os.Stderr, console)
	logf("booting Linux %s for %s, %s (console log: %s)", k.Version, m.GOARCH, k.Image, console.Name())
	start := time.Now()
	err = cmd.Run()
	logf("VM ran %.0fs", time.Since(start).Seconds())
	if ctx.Err() != nil {
		return fmt.Errorf("VM did not power off within %v", timeout)
	}
	if err != nil {
		return fmt.Errorf("qemu: %w", err)
	}
	return nil
}

// report prints a line per package of boot n's plan p (and one for the
// modules if they failed to load) and whether all of p ran and passed.
func report(n int, p *plan.Plan, results []plan.Result) bool {
	got := map[string]plan.Result{}
	for _, r := range results {
		got[r.Package] = r
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "\n=== VM results, boot %d\n", n)
	ok := true
	if r, failed := got[plan.ModulesResult]; failed {
		ok = false
		fmt.Fprintf(w, "FAIL \t%s\t(%s)\n", r.Package, r.Error)
	}
	for _, t := range p.Tests {
		r, ran := got[t.Package]
		switch {
		case !ran:
			ok = false
			fmt.Fprintf(w, "?    \t%s\t[did not run: the guest stopped before it]\n", t.Package)
		case r.Pass:
			fmt.Fprintf(w, "ok   \t%s\t%.1fs\n", t.Package, r.Seconds)
		default:
			ok = false
			fmt.Fprintf(w, "FAIL \t%s\t%.1fs\t(%s)\n", t.Package, r.Seconds, r.Error)
		}
	}
	return ok
}

func killPidfile(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 0 {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	}
}

func goEnv(dir, key string) (string, error) {
	out, err := output(dir, "go", "env", key)
	return strings.TrimSpace(out), err
}

func output(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
		}
		return "", err
	}
	return string(out), nil
}

func defaultCache() string {
	if d := os.Getenv("KERNKEYS_VM_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "kernkeys-vm")
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "vm: "+format+"\n", args...)
}

func fatalf(format string, args ...any) {
	logf(format, args...)
	os.Exit(2)
}
