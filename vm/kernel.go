//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// sourcePackage is the Debian package whose tarball the kernel is built
// from. 6.1 is bookworm's kernel, and the one VM-TESTING.md measured.
const sourcePackage = "linux-source-6.1"

// nfitModules are the modules the nfit_test build (tools/testing/nvdimm,
// built out of tree against the kernel tree) makes, relative to its
// directory, in the order the guest loads them: nfit_test's own two, and
// its builds of libnvdimm, nd_btt, nd_pmem, nfit, device_dax and dax_pmem,
// which wrap the resource and ACPI calls nfit_test emulates and so replace
// the tree's modules of those names. Each depends only on the kernel and
// on those before it (checked after the build: an in-tree module one of
// them needed would have to be added here).
var nfitModules = []string{
	"test/nfit_test_iomap", "libnvdimm", "nd_btt", "nd_pmem",
	"nfit", "device_dax", "dax_pmem", "test/nfit_test",
}

// nfitDir is where the nfit_test sources are in the kernel tree.
const nfitDir = "tools/testing/nvdimm"

// buildRecipe names what a cached kernel is built from besides the
// fragment and the source: part of the cache key, so that a change to the
// build makes a new cache entry.
var buildRecipe = "make bzImage modules; make M=" + nfitDir + " modules: " + strings.Join(nfitModules, " ")

// builtKernel is a cached kernel: its bzImage and the modules the guest
// loads, in order.
type builtKernel struct {
	Dir     string   // the cache entry
	Image   string   // bzImage
	Modules []string // .ko files, in load order
}

// cachedKernel returns where the kernel for fragment (a Kconfig fragment)
// and the source package is cached, built or not: kernel-<key> under
// cache, where key hashes the fragment, the .deb's name (which carries its
// version) and buildRecipe. The directory is complete when its bzImage
// exists, written last.
func cachedKernel(cache, fragment string) (*builtKernel, []byte, string, error) {
	frag, err := os.ReadFile(fragment)
	if err != nil {
		return nil, nil, "", err
	}
	deb, err := sourceDeb(filepath.Join(cache, "src"))
	if err != nil {
		return nil, nil, "", err
	}
	sum := sha256.Sum256([]byte(string(frag) + "\x00" + filepath.Base(deb) + "\x00" + buildRecipe))
	k := &builtKernel{Dir: filepath.Join(cache, "kernel-"+hex.EncodeToString(sum[:8]))}
	k.Image = filepath.Join(k.Dir, "bzImage")
	for _, m := range nfitModules {
		k.Modules = append(k.Modules, filepath.Join(k.Dir, "modules", filepath.Base(m)+".ko"))
	}
	return k, frag, deb, nil
}

// build builds k unless the cache has it.
//
// Layout under cache: src/*.deb (the downloaded source package),
// build/<source>/ (one kernel tree, reconfigured per fragment, so a changed
// fragment rebuilds incrementally), k.Dir with config, bzImage and
// modules/*.ko.
func (k *builtKernel) build(cache, fragment string, frag []byte, deb string) error {
	if _, err := os.Stat(k.Image); err == nil {
		logf("kernel: cached %s", k.Image)
		return nil
	}
	tree := filepath.Join(cache, "build", sourcePackage)
	if _, err := os.Stat(filepath.Join(tree, "Makefile")); err != nil {
		logf("kernel: unpacking %s", filepath.Base(deb))
		if err := os.MkdirAll(filepath.Dir(tree), 0o755); err != nil {
			return err
		}
		// The .deb holds usr/src/<source>.tar.xz, which holds <source>/.
		unpack := fmt.Sprintf("dpkg-deb --fsys-tarfile %q | tar -xO ./usr/src/%s.tar.xz | tar -xJ -C %q",
			deb, sourcePackage, filepath.Dir(tree))
		if err := command("", "sh", "-c", unpack); err != nil {
			return err
		}
	}
	logf("kernel: configuring with %s", fragment)
	abs, err := filepath.Abs(fragment)
	if err != nil {
		return err
	}
	if err := command(tree, "make", "-s", "allnoconfig", "KCONFIG_ALLCONFIG="+abs); err != nil {
		return err
	}
	if err := checkConfig(frag, filepath.Join(tree, ".config")); err != nil {
		return err
	}
	jobs := fmt.Sprintf("-j%d", runtime.NumCPU())
	logf("kernel: building bzImage and modules (the first time, about 20 minutes of CPU: 10 on 2 idle cores)")
	if err := command(tree, "make", "-s", jobs, "bzImage", "modules"); err != nil {
		return err
	}
	// nfit_test links the tree's nvdimm sources with its own wrappers;
	// built after the tree's modules, whose Module.symvers it needs.
	logf("kernel: building nfit_test (%s)", nfitDir)
	if err := command(tree, "make", "-s", jobs, "M="+filepath.Join(tree, nfitDir), "modules"); err != nil {
		return err
	}
	if err := checkLoadOrder(filepath.Join(tree, nfitDir)); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(k.Dir, "modules"), 0o755); err != nil {
		return err
	}
	copies := []struct{ from, to string }{{filepath.Join(tree, ".config"), filepath.Join(k.Dir, "config")}}
	for i, m := range nfitModules {
		copies = append(copies, struct{ from, to string }{filepath.Join(tree, nfitDir, m+".ko"), k.Modules[i]})
	}
	// The image last: its presence says the entry is complete.
	copies = append(copies, struct{ from, to string }{filepath.Join(tree, "arch/x86/boot/bzImage"), k.Image})
	for _, f := range copies {
		b, err := os.ReadFile(f.from)
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.to, b, 0o644); err != nil {
			return err
		}
	}
	logf("kernel: built %s", k.Dir)
	return nil
}

// checkLoadOrder checks that each of nfitModules, built in dir, depends
// (its .modinfo's depends=) only on modules before it in the list.
func checkLoadOrder(dir string) error {
	loaded := map[string]bool{}
	for _, m := range nfitModules {
		info, err := modinfo(filepath.Join(dir, m+".ko"))
		if err != nil {
			return err
		}
		for _, d := range strings.Split(info["depends"], ",") {
			if d != "" && !loaded[d] {
				return fmt.Errorf("%s.ko depends on %s, which vm/kernel.go's nfitModules does not load before it", m, d)
			}
		}
		loaded[info["name"]] = true
	}
	return nil
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

// sourceDeb returns the source package in dir, downloading it with
// apt-get if there is none.
func sourceDeb(dir string) (string, error) {
	find := func() string {
		m, _ := filepath.Glob(filepath.Join(dir, sourcePackage+"_*.deb"))
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
	logf("kernel: apt-get download %s", sourcePackage)
	if err := command(dir, "apt-get", "download", "-q", sourcePackage); err != nil {
		return "", fmt.Errorf("%w (is apt's package list current? run apt-get update)", err)
	}
	if deb := find(); deb != "" {
		return deb, nil
	}
	return "", fmt.Errorf("apt-get download %s left no .deb in %s", sourcePackage, dir)
}

// checkConfig reports every option the fragment sets (=y, =m) that
// .config lacks: Kconfig silently drops options whose dependencies are
// unmet, and turns a module it must build in into =y.
func checkConfig(fragment []byte, config string) error {
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
