//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// kernelSource is a kernel the runner builds: Debian's source package of
// that version, and the Debian suite that serves it when the system's
// apt sources do not (fetched with a private sources list, so that the
// system's are untouched).
type kernelSource struct {
	Package string
	Suite   string
}

// kernels are the versions -kernel takes. 6.1 is bookworm's kernel, the
// one every package's tests must pass on in CI; 5.10 is bullseye's (and
// the age of the enterprise kernels users run), 6.12 bookworm's newer LTS.
var kernels = map[string]kernelSource{
	"5.10": {Package: "linux-source-5.10", Suite: "bullseye"},
	"6.1":  {Package: "linux-source-6.1"},
	"6.12": {Package: "linux-source-6.12"},
}

// defaultKernel is the primary VM kernel.
const defaultKernel = "6.1"

// onlyIn lists the options of the fragments that not every kernel in
// kernels has: added in since, or removed in before. On a kernel without
// one Kconfig drops it (checkConfig lets it), and the tests of what it
// enables take their ErrNotSupported path. Every other difference
// between the versions is left to Kconfig.
var onlyIn = map[string]struct{ since, before string }{
	// Trusted keys' sources were split out (TPM, TEE, later CAAM) in
	// 5.13; before, TRUSTED_KEYS meant the TPM.
	"CONFIG_TRUSTED_KEYS_TPM": {since: "5.13"},
	// ECDSA (signature verification, P-192/256/384) came in 5.13.
	"CONFIG_CRYPTO_ECDSA": {since: "5.13"},
	// Encrypted keys with a user-provided decrypted key (the "user"
	// master's decrypted-data option, new key with given data) in 5.19.
	"CONFIG_USER_DECRYPTED_DATA": {since: "5.19"},
	// NVDIMMs' block-aperture driver, which nfit_test's config_check.c
	// wants as a module while it exists; deleted in 5.18.
	"CONFIG_ND_BLK": {before: "5.18"},
}

// machine is an architecture the runner builds and boots: its kernel
// build, its qemu, and its Go build.
type machine struct {
	GOARCH  string   // Go's name, -arch's value and the fragment's suffix
	Arch    string   // the kernel's ARCH=
	Cross   string   // CROSS_COMPILE= ("" builds with the host's gcc)
	Image   string   // the boot image, relative to the tree
	Qemu    string   // the emulator, and its Debian package
	QemuPkg string   //
	Args    []string // the emulated board and CPU
	TPM     string   // qemu's TPM device
	Console string   // the serial console's device name
	Cmdline string   // more kernel parameters
	// NfitTest says the kernel gets nfit_test's emulated NVDIMMs (built
	// out of tree as modules): only x86_64, the one place it runs in
	// the kernel's own tests.
	NfitTest bool
}

var machines = map[string]*machine{
	"amd64": {
		GOARCH: "amd64", Arch: "x86", Image: "arch/x86/boot/bzImage",
		Qemu: "qemu-system-x86_64", QemuPkg: "qemu-system-x86",
		Args: []string{"-machine", "q35,accel=tcg", "-cpu", "max"},
		TPM:  "tpm-tis", Console: "ttyS0", NfitTest: true,
	},
	"arm64": {
		GOARCH: "arm64", Arch: "arm64", Cross: "aarch64-linux-gnu-", Image: "arch/arm64/boot/Image",
		Qemu: "qemu-system-aarch64", QemuPkg: "qemu-system-arm",
		Args: []string{"-machine", "virt,accel=tcg", "-cpu", "max"},
		TPM:  "tpm-tis-device", Console: "ttyAMA0",
		// Without a seed from the CPU (RNDR) the guest's random pool
		// took 129 s to fill, and getrandom(2) blocks until it has.
		Cmdline: "random.trust_cpu=on",
	},
}

// nfitUnloaded are modules the nfit_test build makes that the guest does
// not load: ndtest (6.12) emulates PAPR NVDIMMs, a second emulator whose
// device class has the same name as nfit_test's, so the second of the
// two to load fails with EEXIST.
var nfitUnloaded = []string{"ndtest"}

// nfitDir is where the nfit_test sources are in the kernel tree.
const nfitDir = "tools/testing/nvdimm"

// buildRecipe names what a cached kernel is built from besides the
// fragments and the source: part of the cache key, so that a change to
// the build makes a new cache entry.
var buildRecipe = "make allnoconfig; make image modules; make M=" + nfitDir + " modules; modules in dependency order (modules/order) but " + strings.Join(nfitUnloaded, " ")

// builtKernel is a cached kernel: its boot image and the modules the guest
// loads, in order.
type builtKernel struct {
	Version string
	Source  kernelSource
	Machine *machine
	Dir     string   // the cache entry
	Image   string   // the boot image
	Modules []string // .ko files, in load order (after build)
}

// fragments are the Kconfig fragments of m's kernel: the common one and
// m's own, relative to the repository.
func (m *machine) fragments() []string {
	return []string{"vm/kernel.config", "vm/kernel-" + m.GOARCH + ".config"}
}

// cachedKernel returns where the kernel of version for m is cached,
// built or not, and its fragment (m's fragments, joined): kernel-<key>
// under cache, where key hashes the fragment, the .deb's name (which
// carries its version), m and buildRecipe. The directory is complete
// when its image exists, written last.
func cachedKernel(cache, version string, m *machine) (*builtKernel, []byte, string, error) {
	src, ok := kernels[version]
	if !ok {
		return nil, nil, "", fmt.Errorf("no kernel %q: -kernel takes %s", version, strings.Join(slices.Sorted(maps.Keys(kernels)), ", "))
	}
	var frag []byte
	for _, f := range m.fragments() {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, "", err
		}
		frag = append(append(frag, "# "+f+"\n"...), b...)
	}
	deb, err := sourceDeb(filepath.Join(cache, "src"), src)
	if err != nil {
		return nil, nil, "", err
	}
	sum := sha256.Sum256([]byte(string(frag) + "\x00" + filepath.Base(deb) + "\x00" + m.GOARCH + "\x00" + buildRecipe))
	k := &builtKernel{Version: version, Source: src, Machine: m, Dir: filepath.Join(cache, "kernel-"+hex.EncodeToString(sum[:8]))}
	k.Image = filepath.Join(k.Dir, filepath.Base(m.Image))
	return k, frag, deb, nil
}

// make runs make in tree for k's machine.
func (k *builtKernel) make(tree string, args ...string) error {
	args = append([]string{"-s", "ARCH=" + k.Machine.Arch}, args...)
	if k.Machine.Cross != "" {
		args = append(args, "CROSS_COMPILE="+k.Machine.Cross)
	}
	return command(tree, "make", args...)
}

// build builds k unless the cache has it, and reads its module order.
//
// Layout under cache: src/*.deb (the downloaded source packages),
// build/<source>-<goarch>/ (one kernel tree per version and machine,
// reconfigured per fragment, so a changed fragment rebuilds
// incrementally), k.Dir with config, the image, and modules/ with the
// .ko files and order, their load order.
func (k *builtKernel) build(cache string, frag []byte, deb string) error {
	if _, err := os.Stat(k.Image); err == nil {
		logf("kernel: cached %s", k.Image)
		return k.readModules()
	}
	tree := filepath.Join(cache, "build", k.Source.Package+"-"+k.Machine.GOARCH)
	if _, err := os.Stat(filepath.Join(tree, "Makefile")); err != nil {
		logf("kernel: unpacking %s", filepath.Base(deb))
		if err := os.MkdirAll(tree, 0o755); err != nil {
			return err
		}
		// The .deb holds usr/src/<source>.tar.xz, which holds <source>/.
		unpack := fmt.Sprintf("dpkg-deb --fsys-tarfile %q | tar -xO ./usr/src/%s.tar.xz | tar -xJ --strip-components=1 -C %q",
			deb, k.Source.Package, tree)
		if err := command("", "sh", "-c", unpack); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(k.Dir, "modules"), 0o755); err != nil {
		return err
	}
	fragment := filepath.Join(k.Dir, "fragment")
	if err := os.WriteFile(fragment, frag, 0o644); err != nil {
		return err
	}
	logf("kernel: configuring %s for %s with %s", k.Source.Package, k.Machine.GOARCH, strings.Join(k.Machine.fragments(), " + "))
	if err := k.make(tree, "allnoconfig", "KCONFIG_ALLCONFIG="+fragment); err != nil {
		return err
	}
	if err := checkConfig(frag, filepath.Join(tree, ".config"), k.Version); err != nil {
		return err
	}
	jobs := fmt.Sprintf("-j%d", runtime.NumCPU())
	logf("kernel: building %s and modules (the first time, about 20 minutes of CPU: 10 on 2 idle cores)", filepath.Base(k.Machine.Image))
	if err := k.make(tree, jobs, filepath.Base(k.Machine.Image), "modules"); err != nil {
		return err
	}
	var order []string
	if k.Machine.NfitTest {
		// nfit_test links the tree's nvdimm sources with its own
		// wrappers; built after the tree's modules, whose
		// Module.symvers it needs.
		logf("kernel: building nfit_test (%s)", nfitDir)
		if err := k.make(tree, jobs, "M="+filepath.Join(tree, nfitDir), "modules"); err != nil {
			return err
		}
		var err error
		if order, err = loadOrder(filepath.Join(tree, nfitDir)); err != nil {
			return err
		}
	}
	copies := []struct{ from, to string }{{filepath.Join(tree, ".config"), filepath.Join(k.Dir, "config")}}
	for _, m := range order {
		copies = append(copies, struct{ from, to string }{filepath.Join(tree, nfitDir, m), filepath.Join(k.Dir, "modules", filepath.Base(m))})
	}
	for _, f := range copies {
		b, err := os.ReadFile(f.from)
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.to, b, 0o644); err != nil {
			return err
		}
	}
	var names []string
	for _, m := range order {
		names = append(names, filepath.Base(m)+"\n")
	}
	if err := os.WriteFile(filepath.Join(k.Dir, "modules", "order"), []byte(strings.Join(names, "")), 0o644); err != nil {
		return err
	}
	// The image last: its presence says the entry is complete.
	b, err := os.ReadFile(filepath.Join(tree, k.Machine.Image))
	if err != nil {
		return err
	}
	if err := os.WriteFile(k.Image, b, 0o644); err != nil {
		return err
	}
	logf("kernel: built %s", k.Dir)
	return k.readModules()
}

// readModules sets k.Modules from the cache entry's modules/order.
func (k *builtKernel) readModules() error {
	b, err := os.ReadFile(filepath.Join(k.Dir, "modules", "order"))
	if err != nil {
		return err
	}
	k.Modules = nil
	for _, name := range strings.Fields(string(b)) {
		k.Modules = append(k.Modules, filepath.Join(k.Dir, "modules", name))
	}
	return nil
}

// loadOrder returns the modules built in dir (nfit_test's own and its
// builds of libnvdimm, nd_pmem, nfit, dax_pmem ..., which differ from
// version to version) but nfitUnloaded, relative to dir, in an order where each comes
// after every module its .modinfo depends= names. A dependency that is
// not among them would be a module of the tree, which the guest does not
// load: an error (the fragment should build it in).
func loadOrder(dir string) ([]string, error) {
	deps := map[string][]string{} // module name -> names it depends on
	path := map[string]string{}   // module name -> .ko, relative to dir
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".ko") || slices.Contains(nfitUnloaded, strings.TrimSuffix(d.Name(), ".ko")) {
			return err
		}
		info, err := modinfo(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		path[info["name"]] = rel
		deps[info["name"]] = strings.FieldsFunc(info["depends"], func(r rune) bool { return r == ',' })
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(path) == 0 {
		return nil, fmt.Errorf("the nfit_test build made no modules in %s", dir)
	}
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name, from string) error
	visit = func(name, from string) error {
		if _, ok := path[name]; !ok {
			return fmt.Errorf("%s.ko depends on %s, which the nfit_test build does not make: build it into the kernel (vm/kernel-*.config)", from, name)
		}
		switch state[name] {
		case 1:
			return fmt.Errorf("the nfit_test modules depend on each other in a cycle through %s", name)
		case 2:
			return nil
		}
		state[name] = 1
		for _, d := range deps[name] {
			if err := visit(d, name); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, path[name])
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(path)) {
		if err := visit(name, name); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// modinfo reads a module's .modinfo section: key=value strings, each
// ending in a NUL.
func modinfo(ko string) (map[string]string, error) {
	f, err := elf.Open(ko)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("%s has no .modinfo section", ko)
	}
	b, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ko, err)
	}
	info := map[string]string{}
	for _, kv := range strings.Split(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			info[k] = v
		}
	}
	return info, nil
}

// sourceDeb returns src's source package in dir, downloading it with
// apt-get if there is none: from the system's apt sources, or from
// src.Suite of Debian's archive through a sources list and package lists
// of the runner's own, under dir/apt-<suite>.
func sourceDeb(dir string, src kernelSource) (string, error) {
	find := func() string {
		m, _ := filepath.Glob(filepath.Join(dir, src.Package+"_*.deb"))
		if len(m) == 0 {
			return ""
		}
		return m[len(m)-1]
	}
	if deb := find(); deb != "" {
		return deb, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var apt []string
	if src.Suite != "" {
		priv := filepath.Join(dir, "apt-"+src.Suite)
		for _, d := range []string{"lists/partial", "cache/archives/partial"} {
			if err := os.MkdirAll(filepath.Join(priv, d), 0o755); err != nil {
				return "", err
			}
		}
		list := filepath.Join(priv, "sources.list")
		line := "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian " + src.Suite + " main\n"
		if err := os.WriteFile(list, []byte(line), 0o644); err != nil {
			return "", err
		}
		apt = []string{"-o", "Dir::Etc::SourceList=" + list, "-o", "Dir::Etc::SourceParts=/dev/null",
			"-o", "Dir::State::Lists=" + filepath.Join(priv, "lists"), "-o", "Dir::Cache=" + filepath.Join(priv, "cache")}
		logf("kernel: apt-get update (Debian %s, private lists in %s)", src.Suite, priv)
		if err := command(dir, "apt-get", append(apt, "update", "-q")...); err != nil {
			return "", err
		}
	}
	logf("kernel: apt-get download %s", src.Package)
	if err := command(dir, "apt-get", append(apt, "download", "-q", src.Package)...); err != nil {
		if src.Suite == "" {
			return "", fmt.Errorf("%w (is apt's package list current? run apt-get update)", err)
		}
		return "", err
	}
	if deb := find(); deb != "" {
		return deb, nil
	}
	return "", fmt.Errorf("apt-get download %s left no .deb in %s", src.Package, dir)
}

// checkConfig reports every option the fragment sets (=y, =m) that
// .config lacks, but those version does not have (onlyIn): Kconfig silently
// drops options whose dependencies are unmet, and turns a module it must
// build in into =y.
func checkConfig(fragment []byte, config, version string) error {
	have, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(have), "\n") {
		lines[l] = true
	}
	var missing []string
	sc := bufio.NewScanner(bytes.NewReader(fragment))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		opt, _, _ := strings.Cut(l, "=")
		if r, ok := onlyIn[opt]; ok && (r.since != "" && olderThan(version, r.since) || r.before != "" && !olderThan(version, r.before)) {
			continue
		}
		if strings.HasPrefix(l, "CONFIG_") && (strings.HasSuffix(l, "=y") || strings.HasSuffix(l, "=m")) && !lines[l] {
			missing = append(missing, l)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("Kconfig dropped %s (unmet dependencies: add them to the fragment)", strings.Join(missing, ", "))
	}
	return nil
}

// command runs name with args in dir, its output going to the runner's.
func command(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// olderThan reports whether kernel version a ("5.10") comes before b.
func olderThan(a, b string) bool {
	parse := func(v string) (n [2]int) {
		major, minor, _ := strings.Cut(v, ".")
		n[0], _ = strconv.Atoi(major)
		n[1], _ = strconv.Atoi(minor)
		return n
	}
	x, y := parse(a), parse(b)
	return x[0] < y[0] || x[0] == y[0] && x[1] < y[1]
}
