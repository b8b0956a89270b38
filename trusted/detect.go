package trusted

import (
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/kerr"
)

// teeTA is the UUID of OP-TEE's trusted-keys TA: the tee bus names its
// device optee-ta-<uuid>, and trusted_tee.c registers the key type when
// that device probes.
const teeTA = "f04a0fe7-1f5d-4b9b-abf7-619b85b4ce8c"

// detectBackend tells which backend a kernel that has the trusted key type
// uses, from the files of fsys, the root of a Linux system: /proc/cmdline
// and sysfs. init_trusted() tries the sources compiled in, in the order
// tpm, tee, caam, dcp, skipping those that trusted.source= does not name
// (a prefix match), and keeps the first whose init succeeds: tpm's when
// the kernel has a TPM chip, tee's when the tee bus exists (the type is
// then registered when the trusted-keys TA's device probes), caam's and
// dcp's when their device is there. The second result says where the
// answer came from. When sysfs shows no such device, the error is a
// *keyring.Error with Errno ENXIO, which matches none of keyring's
// sentinels: KernelBackend could not tell.
func detectBackend(fsys fs.FS) (Backend, string, error) {
	cmdline, _ := fs.ReadFile(fsys, "proc/cmdline")
	source, named := cmdlineParam(string(cmdline), "trusted.source")
	for _, s := range []struct {
		name  string
		found func(fs.FS) (Backend, string)
	}{
		{"tpm", findTPM},
		{"tee", findTEE},
		{"caam", driverFinder(CAAM, "caam_jr")},
		{"dcp", driverFinder(DCP, "mxs-dcp")},
	} {
		if named && !strings.HasPrefix(source, s.name) {
			continue
		}
		if b, how := s.found(fsys); b != 0 {
			if named {
				how = "trusted.source=" + source + " on /proc/cmdline, " + how
			}
			return b, how, nil
		}
		if named {
			return 0, "", noDevice("the kernel has trusted keys and /proc/cmdline names trusted.source=" + strconv.Quote(source) +
				", but sysfs shows no such device (is sysfs mounted?)")
		}
	}
	return 0, "", noDevice("the kernel has trusted keys, but sysfs shows no TPM, OP-TEE trusted-keys TA, CAAM or DCP (is sysfs mounted?)")
}

// noDevice is detectBackend's error: ENXIO, no such device.
func noDevice(reason string) error {
	return kerr.Errno("trusted.KernelBackend", syscall.ENXIO, reason)
}

// findTPM finds the kernel's default TPM chip, the first registered: the
// lowest /sys/class/tpm/tpmN. Its tpm_version_major (Linux 5.6) says 1
// or 2; without it, a TPM 2.0 also has a tpmrmN device (Linux 4.12).
func findTPM(fsys fs.FS) (Backend, string) {
	entries, _ := fs.ReadDir(fsys, "sys/class/tpm")
	best := -1
	for _, e := range entries {
		if n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "tpm")); err == nil && strings.HasPrefix(e.Name(), "tpm") && (best < 0 || n < best) {
			best = n
		}
	}
	if best < 0 {
		return 0, ""
	}
	chip := "tpm" + strconv.Itoa(best)
	attr := path.Join("sys/class/tpm", chip, "tpm_version_major")
	if v, err := fs.ReadFile(fsys, attr); err == nil {
		switch strings.TrimSpace(string(v)) {
		case "1":
			return TPM1, "/" + attr + " = 1"
		case "2":
			return TPM2, "/" + attr + " = 2"
		}
	}
	rm := "sys/class/tpmrm/tpmrm" + strconv.Itoa(best)
	if _, err := fs.Stat(fsys, rm); err == nil {
		return TPM2, "/" + rm + " exists (only TPM 2.0 chips have one)"
	}
	return TPM1, "/sys/class/tpm/" + chip + " exists and has no tpmrm device (TPM 1.2)"
}

// findTEE finds the trusted-keys TA's device on the tee bus.
func findTEE(fsys fs.FS) (Backend, string) {
	entries, _ := fs.ReadDir(fsys, "sys/bus/tee/devices")
	for _, e := range entries {
		if strings.Contains(e.Name(), teeTA) {
			return TEE, "/sys/bus/tee/devices/" + e.Name() + " exists"
		}
	}
	return 0, ""
}

// driverFinder finds a platform device bound to the named driver: a
// symbolic link in its sysfs directory other than "module".
func driverFinder(b Backend, driver string) func(fs.FS) (Backend, string) {
	return func(fsys fs.FS) (Backend, string) {
		dir := "sys/bus/platform/drivers/" + driver
		entries, _ := fs.ReadDir(fsys, dir)
		for _, e := range entries {
			if e.Type()&fs.ModeSymlink != 0 && e.Name() != "module" {
				return b, "/" + dir + "/" + e.Name() + " is bound"
			}
		}
		return 0, ""
	}
}

// cmdlineParam returns the value of the last name=value parameter on a
// kernel command line, as the kernel's parse_args() sees it: words
// separated by white space, double quotes around a word or its value,
// nothing after "--".
func cmdlineParam(cmdline, name string) (string, bool) {
	var value string
	found := false
	for _, w := range splitCmdline(cmdline) {
		if w == "--" {
			break
		}
		if v, ok := strings.CutPrefix(w, name+"="); ok {
			value, found = v, true
		}
	}
	return value, found
}

// splitCmdline splits a command line into words, removing the double
// quotes that may group white space into one.
func splitCmdline(s string) []string {
	var words []string
	var w []byte
	inQuote, inWord := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			inQuote, inWord = !inQuote, true
		case !inQuote && (c == ' ' || c == '\t' || c == '\n'):
			if inWord {
				words = append(words, string(w))
				w, inWord = w[:0], false
			}
		default:
			w, inWord = append(w, c), true
		}
	}
	if inWord {
		words = append(words, string(w))
	}
	return slices.Clip(words)
}
