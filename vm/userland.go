//go:build linux

package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kernkeys/kernkeys/vm/internal/plan"
)

// foreignPrograms are the host's programs the tests run that a guest of
// another architecture needs in its own build, from Debian's package of
// that architecture: keyutils' keyctl, and request-key, which the kernel
// runs for an upcall, and the shell that runs request-key's handler
// scripts and the tests' own, and true, which examples/keyctl's tests
// run under keyctl session. The C library and libkeyutils they link
// come from the host's root: arm64's install beside amd64's (multiarch,
// .ci/run's install_arm64_tools).
var foreignPrograms = []struct{ pkg, file, over string }{
	{"keyutils", "bin/keyctl", "/usr/bin/keyctl"},
	{"keyutils", "sbin/request-key", "/usr/sbin/request-key"},
	{"dash", "bin/dash", "/usr/bin/dash"},
	{"coreutils", "bin/true", "/usr/bin/true"},
}

// requestKeyHelper is where .ci/run installs keyring's request-key test
// helper (keyring/testdata/reqkeyhelper), which /etc/request-key.d names:
// on a guest of another architecture it is replaced with a build of its
// own.
const requestKeyHelper = "/usr/local/libexec/kernkeys-reqkey"

// foreignUserland returns the binds that show m's builds of the host's
// programs the tests run (foreignPrograms, the Go toolchain at GOROOT, the
// request-key test helper) in place of the host's, and the environment
// the tests need there, when m is not the host's architecture; nothing
// when it is. What it downloads and unpacks stays under
// cache/userland-<goarch>.
//
// The host's C compiler cannot run in such a guest, so the environment
// turns cgo off for the go command there (a test that builds a cgo
// program asks for it, and skips: keytest.NeedCC).
func foreignUserland(cache string, m *machine) ([]plan.Bind, []string, error) {
	if m.GOARCH == hostGOARCH() {
		return nil, nil, nil
	}
	dir := filepath.Join(cache, "userland-"+m.GOARCH)
	root := filepath.Join(dir, "root")
	var pkgs []string
	for _, p := range foreignPrograms {
		if spec := p.pkg + ":" + m.GOARCH; !slices.Contains(pkgs, spec) {
			pkgs = append(pkgs, spec)
		}
	}
	// complete lists the packages unpacked, written last.
	complete, unpacked := filepath.Join(dir, "complete"), strings.Join(pkgs, "\n")
	if b, err := os.ReadFile(complete); err != nil || string(b) != unpacked {
		if err := unpackPackages(dir, root, pkgs); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(complete, []byte(unpacked), 0o644); err != nil {
			return nil, nil, err
		}
	}
	var binds []plan.Bind
	for _, p := range foreignPrograms {
		if _, err := os.Stat(p.over); err != nil {
			continue // the host has no such program: the tests that need it skip
		}
		binds = append(binds, plan.Bind{Path: p.over, Source: filepath.Join(root, p.file)})
	}
	goroot, err := goEnv("", "GOROOT")
	if err != nil {
		return nil, nil, err
	}
	toolchain, err := goToolchain(cache, m)
	if err != nil {
		return nil, nil, err
	}
	binds = append(binds, plan.Bind{Path: goroot, Source: toolchain})
	if _, err := os.Stat(requestKeyHelper); err == nil {
		helper := filepath.Join(dir, "kernkeys-reqkey")
		if err := goBuild(m, "build", "-o", helper, "./keyring/testdata/reqkeyhelper"); err != nil {
			return nil, nil, err
		}
		binds = append(binds, plan.Bind{Path: requestKeyHelper, Source: helper})
	}
	for _, b := range binds {
		if err := sharable(b.Path); err != nil {
			return nil, nil, err
		}
	}
	return binds, []string{"CGO_ENABLED=0"}, nil
}

// unpackPackages downloads the Debian packages pkgs (name:arch) into
// dir/debs and unpacks them into root, both emptied first.
func unpackPackages(dir, root string, pkgs []string) error {
	debs := filepath.Join(dir, "debs")
	for _, d := range []string{debs, root} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	logf("userland: apt-get download %s", strings.Join(pkgs, " "))
	if err := command(debs, "apt-get", append([]string{"download", "-q"}, pkgs...)...); err != nil {
		return fmt.Errorf("%w (as root, dpkg --add-architecture and apt-get update let apt see another architecture's packages)", err)
	}
	files, err := filepath.Glob(filepath.Join(debs, "*.deb"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := command("", "dpkg-deb", "-x", f, root); err != nil {
			return err
		}
	}
	return nil
}

// goToolchain returns a GOROOT of the host's Go version built for m, from
// the module proxy's golang.org/toolchain module (what GOTOOLCHAIN
// switching downloads), unpacked under cache/go-<version>-linux-<goarch>
// with the changes cmd/go makes to a toolchain it unpacks: module zips
// keep no execute bits, and store a nested module's go.mod as _go.mod.
func goToolchain(cache string, m *machine) (string, error) {
	version, err := goEnv("", "GOVERSION")
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, version+".linux-"+m.GOARCH)
	if _, err := os.Stat(filepath.Join(dir, "bin", "go")); err == nil {
		return dir, nil
	}
	mod := "golang.org/toolchain@v0.0.1-" + version + ".linux-" + m.GOARCH
	logf("userland: go mod download %s", mod)
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", mod, err)
	}
	var info struct{ Zip string }
	if err := json.Unmarshal(out, &info); err != nil || info.Zip == "" {
		return "", fmt.Errorf("go mod download %s: no zip in %q", mod, out)
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	if err := unzipToolchain(info.Zip, mod, tmp); err != nil {
		return "", err
	}
	return dir, os.Rename(tmp, dir)
}

// unzipToolchain unpacks the toolchain module zip into dir: its files are
// under "<module>@<version>/".
func unzipToolchain(zipFile, prefix, dir string) error {
	z, err := zip.OpenReader(zipFile)
	if err != nil {
		return err
	}
	defer z.Close()
	for _, f := range z.File {
		name, ok := strings.CutPrefix(f.Name, prefix+"/")
		if !ok || strings.HasSuffix(name, "/") {
			continue
		}
		if filepath.Base(name) == "_go.mod" {
			name = filepath.Join(filepath.Dir(name), "go.mod")
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "bin/") || strings.HasPrefix(name, "pkg/tool/") ||
			strings.HasPrefix(name, "lib/") && strings.HasSuffix(name, "_exec") {
			mode = 0o755
		}
		if err := extract(f, filepath.Join(dir, filepath.FromSlash(name)), mode); err != nil {
			return err
		}
	}
	return nil
}

func extract(f *zip.File, path string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// hostGOARCH is the architecture the host's go command builds for by
// default (the runner itself may be built for another).
func hostGOARCH() string {
	arch, err := goEnv("", "GOHOSTARCH")
	if err != nil {
		return ""
	}
	return arch
}
