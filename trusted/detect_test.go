package trusted

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

func TestDetectBackend(t *testing.T) {
	link := &fstest.MapFile{Mode: fs.ModeSymlink}
	dir := &fstest.MapFile{Mode: fs.ModeDir}
	tpm := func(major string) fstest.MapFS {
		return fstest.MapFS{"sys/class/tpm/tpm0/tpm_version_major": {Data: []byte(major + "\n")}}
	}
	for _, c := range []struct {
		name    string
		fsys    fstest.MapFS
		cmdline string
		want    Backend
		how     string // a part of the evidence, or of the error
	}{
		{"tpm2", tpm("2"), "", TPM2, "tpm_version_major = 2"},
		{"tpm1", tpm("1"), "", TPM1, "tpm_version_major = 1"},
		{"lowest chip", fstest.MapFS{
			"sys/class/tpm/tpm1/tpm_version_major":  {Data: []byte("2")},
			"sys/class/tpm/tpm0/tpm_version_major":  {Data: []byte("1")},
			"sys/class/tpm/tpm10/tpm_version_major": {Data: []byte("2")},
		}, "", TPM1, "tpm0"},
		{"before 5.6, tpmrm", fstest.MapFS{"sys/class/tpm/tpm0": dir, "sys/class/tpmrm/tpmrm0": dir}, "", TPM2, "tpmrm0"},
		{"before 5.6, no tpmrm", fstest.MapFS{"sys/class/tpm/tpm0": dir}, "", TPM1, "TPM 1.2"},
		{"tee", fstest.MapFS{"sys/bus/tee/devices/optee-ta-" + teeTA: link}, "", TEE, teeTA},
		{"caam", fstest.MapFS{"sys/bus/platform/drivers/caam_jr/8010000.jr": link, "sys/bus/platform/drivers/caam_jr/module": link}, "", CAAM, "8010000.jr"},
		{"caam driver without device", fstest.MapFS{"sys/bus/platform/drivers/caam_jr/module": link, "sys/bus/platform/drivers/caam_jr/bind": {}}, "", 0, "no TPM"},
		{"dcp", fstest.MapFS{"sys/bus/platform/drivers/mxs-dcp/2280000.crypto": link}, "", DCP, "mxs-dcp"},
		{"tpm first", fstest.MapFS{
			"sys/class/tpm/tpm0/tpm_version_major":            {Data: []byte("2")},
			"sys/bus/tee/devices/optee-ta-" + teeTA:           link,
			"sys/bus/platform/drivers/mxs-dcp/2280000.crypto": link,
		}, "", TPM2, "tpm0"},
		{"trusted.source=tee", fstest.MapFS{
			"sys/class/tpm/tpm0/tpm_version_major":  {Data: []byte("2")},
			"sys/bus/tee/devices/optee-ta-" + teeTA: link,
		}, "console=ttyS0 trusted.source=tee quiet", TEE, "trusted.source=tee"},
		{"prefix match", tpm("2"), "trusted.source=tpm2", TPM2, "trusted.source=tpm2"},
		{"last one wins, quotes", fstest.MapFS{
			"sys/class/tpm/tpm0/tpm_version_major":            {Data: []byte("2")},
			"sys/bus/platform/drivers/mxs-dcp/2280000.crypto": link,
		}, `trusted.source=tpm "trusted.source=dcp"`, DCP, "trusted.source=dcp"},
		{"after --", tpm("2"), "-- trusted.source=tee", TPM2, "tpm0"},
		{"named but absent", tpm("2"), "trusted.source=caam", 0, `"caam"`},
		{"nothing", fstest.MapFS{}, "", 0, "sysfs shows no TPM"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.fsys["proc/cmdline"] = &fstest.MapFile{Data: []byte(c.cmdline + "\n")}
			b, how, err := detectBackend(c.fsys)
			if b != c.want {
				t.Fatalf("detectBackend = %v, %q, %v; want %v", b, how, err, c.want)
			}
			if c.want == 0 {
				if err == nil || !strings.Contains(err.Error(), c.how) {
					t.Fatalf("error %v does not say %q", err, c.how)
				}
				return
			}
			if err != nil || !strings.Contains(how, c.how) {
				t.Errorf("evidence %q, %v; want it to say %q", how, err, c.how)
			}
		})
	}
}

func TestSplitCmdline(t *testing.T) {
	got := strings.Join(splitCmdline(`a  "b c" d="e f"	g`+"\n"), "|")
	if want := `a|b c|d=e f|g`; got != want {
		t.Errorf("splitCmdline = %q, want %q", got, want)
	}
}
