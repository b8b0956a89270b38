//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
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

// kernel returns the path of a bzImage built from fragment (a Kconfig
// fragment), building it if the cache has none for this fragment and source.
//
// Layout under cache: src/*.deb (the downloaded source package),
// build/<source>/ (one kernel tree, reconfigured per fragment, so a changed
// fragment rebuilds incrementally), kernel-<key>/bzImage where key hashes
// the fragment and the .deb's name (which carries its version).
func kernel(cache, fragment string) (string, error) {
	frag, err := os.ReadFile(fragment)
	if err != nil {
		return "", err
	}
	deb, err := sourceDeb(filepath.Join(cache, "src"))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append(frag, filepath.Base(deb)...))
	out := filepath.Join(cache, "kernel-"+hex.EncodeToString(sum[:8]))
	image := filepath.Join(out, "bzImage")
	if _, err := os.Stat(image); err == nil {
		logf("kernel: cached %s", image)
		return image, nil
	}

	tree := filepath.Join(cache, "build", sourcePackage)
	if _, err := os.Stat(filepath.Join(tree, "Makefile")); err != nil {
		logf("kernel: unpacking %s", filepath.Base(deb))
		if err := os.MkdirAll(filepath.Dir(tree), 0o755); err != nil {
			return "", err
		}
		// The .deb holds usr/src/<source>.tar.xz, which holds <source>/.
		unpack := fmt.Sprintf("dpkg-deb --fsys-tarfile %q | tar -xO ./usr/src/%s.tar.xz | tar -xJ -C %q",
			deb, sourcePackage, filepath.Dir(tree))
		if err := command("", "sh", "-c", unpack); err != nil {
			return "", err
		}
	}
	logf("kernel: configuring with %s", fragment)
	abs, err := filepath.Abs(fragment)
	if err != nil {
		return "", err
	}
	if err := command(tree, "make", "-s", "allnoconfig", "KCONFIG_ALLCONFIG="+abs); err != nil {
		return "", err
	}
	if err := checkConfig(frag, filepath.Join(tree, ".config")); err != nil {
		return "", err
	}
	logf("kernel: building bzImage (about 5 minutes on 2 cores the first time)")
	if err := command(tree, "make", "-s", fmt.Sprintf("-j%d", runtime.NumCPU()), "bzImage"); err != nil {
		return "", err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	for _, f := range []struct{ from, to string }{
		{filepath.Join(tree, ".config"), filepath.Join(out, "config")},
		{filepath.Join(tree, "arch/x86/boot/bzImage"), image},
	} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(f.to, b, 0o644); err != nil {
			return "", err
		}
	}
	logf("kernel: built %s", image)
	return image, nil
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

// checkConfig reports every option the fragment sets that .config lacks:
// Kconfig silently drops options whose dependencies are unmet.
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
		if strings.HasPrefix(l, "CONFIG_") && strings.HasSuffix(l, "=y") && !lines[l] {
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
