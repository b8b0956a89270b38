package encrypted

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/keyring"
)

type edgeCase struct {
	Group   string `json:"group"`
	What    string `json:"what"`
	Payload string `json:"payload"`
	Result  string `json:"result"`
	Note    string `json:"note"`
}

// kernelOnly lists the encrypted-key edge cases whose outcome depends on
// kernel state or on payloads that no function here can produce. The
// kernel-state ones run against the running kernel in
// TestKernelStateEdgeCases (kernel_test.go).
var kernelOnly = map[string]string{
	"  read it":                                        "a read needs the master key in the kernel (ENOKEY, EOPNOTSUPP)",
	"  read after update to missing master":            "a read needs the master key in the kernel",
	"load, master missing":                             "master lookup happens in the kernel (ENOKEY)",
	"load, master revoked":                             "master lookup happens in the kernel (EKEYREVOKED)",
	"add_key twice same desc ('new' goes to ->update)": "depends on the keyring's contents",
	"'update' keyword at instantiate":                  "the builders pick the keyword; add_key vs KEYCTL_UPDATE is the caller's choice",
	"update with 'new' keyword":                        "the builders pick the keyword; add_key vs KEYCTL_UPDATE is the caller's choice",
	"update with 'load' keyword":                       "the builders pick the keyword; add_key vs KEYCTL_UPDATE is the caller's choice",
	"unknown keyword":                                  "the builders emit only new, load and update",
	"new + any extra token":                            "the builders cannot emit a stray token",
	"update user:kmk extra tokens":                     "the builders cannot emit a stray token",
	"payload 32767 bytes":                              "fails on trailing spaces, which the builders cannot emit; the 32767-byte limit itself is in TestPayloadLimits",
}

// TestEdgeCases replays, through this package's API, every encrypted-key
// case that the kernel was probed with (edge_cases.json) and requires the
// same verdict: nil where the kernel said ok, keyring.ErrInvalid where it said
// EINVAL. A case that is neither replayed nor listed in kernelOnly fails
// the test, so a regenerated vector file cannot be silently ignored.
func TestEdgeCases(t *testing.T) {
	var cases []edgeCase
	readJSON(t, "edge_cases.json", &cases)
	checkEdgeCasesMarkdown(t, cases)

	vs := formatVectors(t)
	d32, ecr := vs["default32"], vs["ecryptfs64"]
	kmk := unhex(t, d32.MasterKey.Hex)
	kmk2 := unhex(t, d32.AfterUpdate.MasterKey.Hex)
	blob := d32.Blob // "default user:kmk 32 <hex>"
	hx := blob[strings.LastIndexByte(blob, ' ')+1:]
	ecrHex := ecr.Blob[strings.LastIndexByte(ecr.Blob, ' ')+1:]
	userKMK := Master{Kind: UserMaster, Name: "kmk"}
	userKMK2 := Master{Kind: UserMaster, Name: "kmk2"}

	load := func(text string, mk []byte) error {
		b, err := ParseBlob([]byte(text))
		if err != nil {
			return err
		}
		_, err = Open(b, mk)
		return err
	}
	newp := func(f Format, master string, n int) error {
		m, err := ParseMaster(master)
		if err != nil {
			return err
		}
		_, err = NewPayload(Options{Format: f, Master: m, Length: n})
		return err
	}
	sealN := func(n int) error {
		_, err := Seal(make([]byte, n), SealOptions{MasterKey: kmk, Master: userKMK})
		return err
	}
	// sealText seals 32 bytes with a verbatim datalen, checks the blob's
	// prefix and that it parses, round-trips and opens.
	sealText := func(datalen string) error {
		b, err := Seal(make([]byte, 32), SealOptions{MasterKey: kmk, Master: userKMK, DataLen: datalen})
		if err != nil {
			return err
		}
		text := mustMarshal(t, b)
		if want := "default user:kmk " + datalen + " "; !strings.HasPrefix(text, want) {
			t.Errorf("blob starts %q, want %q", text[:len(want)], want)
		}
		if got := mustMarshal(t, mustParse(t, text)); got != text {
			t.Errorf("round trip of %q changed the blob", datalen)
		}
		return load(text, kmk)
	}
	update := func(from, to Master) error {
		_, err := UpdatePayload(UpdateOptions{From: from, To: to})
		return err
	}
	desc := func(d string) error { return ValidateDescription(Ecryptfs, d) }
	_, parseAES := ParseMaster("aes")
	longName := strings.Repeat("n", os.Getpagesize())

	replay := map[string]func() []error{
		"new, no format":                      func() []error { return []error{newp(Default, "user:kmk", 32)} },
		"new default":                         func() []error { return []error{newp(Default, "user:kmk", 32)} },
		"new enc32 32":                        func() []error { return []error{newp(Enc32, "user:kmk", 32)} },
		"new enc32 64 (must be 32)":           func() []error { return []error{newp(Enc32, "user:kmk", 64)} },
		"new ecryptfs 64, desc 16 hex":        func() []error { return []error{newp(Ecryptfs, "user:kmk", 64), desc("0123456789abcdef")} },
		"new ecryptfs 64, desc uppercase hex": func() []error { return []error{newp(Ecryptfs, "user:kmk", 64), desc("0123456789ABCDEF")} },
		"new ecryptfs 32 (must be 64)":        func() []error { return []error{newp(Ecryptfs, "user:kmk", 32)} },
		"new ecryptfs, desc not 16 chars":     func() []error { return []error{desc("0123456789abcde"), desc("0123456789abcdef0")} },
		"new ecryptfs, desc non-hex":          func() []error { return []error{desc("0123456789abcdeg")} },
		"datalen 19 (< MIN 20)":               func() []error { return []error{newp(Default, "user:kmk", 19), sealN(19)} },
		"datalen 20 (MIN)":                    func() []error { return []error{newp(Default, "user:kmk", 20), sealN(20)} },
		"datalen 4096 (MAX)":                  func() []error { return []error{newp(Default, "user:kmk", 4096), sealN(4096)} },
		"datalen 4097":                        func() []error { return []error{newp(Default, "user:kmk", 4097), sealN(4097)} },
		"datalen 0x20 (base 10 only)": func() []error {
			return []error{sealText("0x20"), load("default user:kmk 0x20 "+hx, kmk)}
		},
		"datalen '032' (kstrtol ok; string kept verbatim)": func() []error { return []error{sealText("032")} },
		"datalen '+32'":                  func() []error { return []error{sealText("+32")} },
		"trailing newline after datalen": func() []error { return []error{sealText("32\n")} },
		"trailing SPACE after datalen (empty 'decrypted data' token)": func() []error {
			_, err := NewPayloadWithData([]byte{}, Options{Format: Default, Master: userKMK})
			return []error{err}
		},
		"TAB separators":  func() []error { return []error{load(strings.ReplaceAll(blob, " ", "\t"), kmk)} },
		"leading space":   func() []error { return []error{load(" "+blob, kmk)} },
		"double space":    func() []error { return []error{load(strings.Replace(blob, " ", "  ", 1), kmk)} },
		"empty payload":   func() []error { return []error{load("", kmk)} },
		"only keyword":    func() []error { return []error{load("", kmk)} },
		"missing datalen": func() []error { return []error{load("default user:kmk", kmk)} },
		"unknown format word (taken as master desc)": func() []error {
			_, errFormat := ParseFormat("aes")
			return []error{parseAES, errFormat, load("aes user:kmk 32 "+hx, kmk)}
		},
		"master prefix logon:":     func() []error { return []error{newp(Default, "logon:kmk", 32)} },
		"master prefix encrypted:": func() []error { return []error{newp(Default, "encrypted:ek1", 32)} },
		"master 'user:' with empty name": func() []error {
			_, err := NewPayload(Options{Format: Default, Master: Master{Kind: UserMaster}, Length: 32})
			return []error{newp(Default, "user:", 32), err}
		},
		"master 'User:kmk' (case-sensitive)":           func() []error { return []error{newp(Default, "User:kmk", 32)} },
		"master user:<missing> (not looked up on new)": func() []error { return []error{newp(Default, "user:nosuchkey", 32)} },
		"master trusted:<x> (no TRUSTED_KEYS)":         func() []error { return []error{newp(Default, "trusted:tk", 32)} },
		"payload 32768 bytes (> 32767)": func() []error {
			m := Master{Kind: UserMaster, Name: strings.Repeat("n", maxPayload+1-len("new default user: 32"))}
			_, err := NewPayload(Options{Format: Default, Master: m, Length: 32})
			return []error{err}
		},
		"load own blob": func() []error { return []error{load(blob, kmk)} },
		"load, uppercase hex": func() []error {
			upper := strings.TrimSuffix(blob, hx) + strings.ToUpper(hx)
			if got := mustMarshal(t, mustParse(t, upper)); got != blob {
				t.Errorf("upper-case hex marshals to %s, want the kernel's lower case %s", got, blob)
			}
			return []error{load(upper, kmk)}
		},
		"load, gap chars 'zz' (ignored)": func() []error { return []error{load(strings.TrimSuffix(blob, hx)+hx[:32]+"zz"+hx[34:], kmk)} },
		"load, trailing extra token":     func() []error { return []error{load(blob+" trailing", kmk)} },
		"load, trailing newline":         func() []error { return []error{load(blob+"\n", kmk)} },
		"load, trailing space":           func() []error { return []error{load(blob+" ", kmk)} },
		"load, hex one char short":       func() []error { return []error{load(blob[:len(blob)-1], kmk)} },
		"load, hex one byte long":        func() []error { return []error{load(blob+"00", kmk)} },
		"load, non-hex char in IV":       func() []error { return []error{load("default user:kmk 32 g"+hx[1:], kmk)} },
		"load, datalen changed 32->48":   func() []error { return []error{load("default user:kmk 48 "+hx, kmk)} },
		"load, format default->enc32 (HMAC covers format)": func() []error {
			return []error{load("enc32 user:kmk 32 "+hx, kmk)}
		},
		"load, master renamed kmk->kmk2":                 func() []error { return []error{load("default user:kmk2 32 "+hx, kmk2)} },
		"load, no hex blob":                              func() []error { return []error{load("default user:kmk 32", kmk)} },
		"load, master renamed kmk->kmkcopy (same bytes)": func() []error { return []error{load("default user:kmkcopy 32 "+hx, kmk)} },
		"load, re-MACed for user:kmkcopy": func() []error {
			b, err := Rewrap(mustParse(t, blob), RewrapOptions{OldMasterKey: kmk, NewMasterKey: kmk, NewMaster: Master{Kind: UserMaster, Name: "kmkcopy"}})
			if err != nil {
				return []error{err}
			}
			return []error{load(mustMarshal(t, b), kmk)}
		},
		"load datalen 20 with non-zero pad bytes": func() []error {
			padded := slices.Repeat([]byte{0xa5}, 32)
			return []error{load(refBlob(t, "default", "user:kmk", "20", padded, kmk), kmk)}
		},
		"load ecryptfs blob under non-hex desc":     func() []error { return []error{desc("0123456789abcdez"), desc("ek_ecryptfs64")} },
		"load ecryptfs blob under another hex desc": func() []error { return []error{load(ecr.Blob, kmk), desc("fedcba9876543210")} },
		"load ecryptfs blob as format default":      func() []error { return []error{load("default user:kmk 64 "+ecrHex, kmk)} },
		"update user:kmk2":                          func() []error { return []error{update(userKMK, userKMK2)} },
		"update user:<missing> (not looked up)":     func() []error { return []error{update(userKMK, Master{Kind: UserMaster, Name: "nosuch"})} },
		"update back to user:kmk":                   func() []error { return []error{update(userKMK2, userKMK)} },
		"update trusted:x (type change)":            func() []error { return []error{update(userKMK, Master{Kind: TrustedMaster, Name: "x"})} },
		"update logon:x": func() []error {
			_, err := ParseMaster("logon:x")
			return []error{err}
		},
		"update ecryptfs user:kmk2 (format token ignored)": func() []error {
			p, err := UpdatePayload(UpdateOptions{From: userKMK, To: userKMK2})
			if err == nil && string(p) != "update user:kmk2" {
				t.Errorf("UpdatePayload = %q, want no format word", p)
			}
			return []error{err}
		},
		"update payload > PAGE_SIZE": func() []error { return []error{update(userKMK, Master{Kind: UserMaster, Name: longName})} },
	}

	used := make(map[string]bool)
	for _, c := range cases {
		if c.Group != "encrypted" && c.Group != "update" {
			continue
		}
		if c.What == "new + decrypted data (USER_DECRYPTED_DATA=n)" {
			// EINVAL here comes from the kernel's configuration, not the
			// grammar: the builder must produce the very payload it refused.
			got, err := NewPayloadWithData(make([]byte, 32), Options{Format: Default, Master: userKMK})
			if want := strings.Replace(c.Payload, "new ", "new default ", 1); err != nil || string(got) != want {
				t.Errorf("%s: NewPayloadWithData = %q, %v; want %q", c.What, got, err, want)
			}
			continue
		}
		if reason, ok := kernelOnly[c.What]; ok {
			t.Logf("%-50q kernel %-12s not replayable here: %s", c.What, c.Result, reason)
			continue
		}
		run, ok := replay[c.What]
		used[c.What] = true
		if !ok {
			t.Errorf("edge case %q (%s) is neither replayed nor listed in kernelOnly", c.What, c.Result)
			continue
		}
		accept := strings.HasPrefix(c.Result, "ok")
		if !accept && c.Result != "EINVAL" {
			t.Errorf("%q: kernel result %s is not replayable; list it in kernelOnly", c.What, c.Result)
			continue
		}
		for i, err := range run() {
			switch {
			case accept && err != nil:
				t.Errorf("%q [%d]: the kernel accepted it, got %v", c.What, i, err)
			case !accept && !errors.Is(err, keyring.ErrInvalid):
				t.Errorf("%q [%d]: the kernel said EINVAL, got %v", c.What, i, err)
			}
		}
	}
	for what := range replay {
		if !used[what] {
			t.Errorf("replayed case %q is not in edge_cases.json", what)
		}
	}
}

// checkEdgeCasesMarkdown requires edge_cases.md to list the same
// encrypted-key cases with the same results as edge_cases.json.
func checkEdgeCasesMarkdown(t *testing.T, cases []edgeCase) {
	t.Helper()
	var fromJSON, fromMD []string
	for _, c := range cases {
		if c.Group == "encrypted" || c.Group == "update" {
			fromJSON = append(fromJSON, strings.TrimSpace(c.What)+" => "+c.Result)
		}
	}
	for _, line := range strings.Split(string(readVector(t, "edge_cases.md")), "\n") {
		cols := strings.Split(line, "|")
		if len(cols) < 6 {
			continue
		}
		if g := strings.TrimSpace(cols[1]); g == "encrypted" || g == "update" {
			fromMD = append(fromMD, strings.TrimSpace(cols[2])+" => "+strings.TrimSpace(cols[4]))
		}
	}
	if !slices.Equal(fromJSON, fromMD) {
		t.Errorf("edge_cases.md and edge_cases.json disagree:\n json %q\n md   %q", fromJSON, fromMD)
	}
}

// refBlob builds a blob straight from the spec's reference algorithm
// (§1.15) with the standard library, independently of Seal: padded is the
// full CBC plaintext, padding included, so it can hold non-zero padding,
// which Seal never writes. The IV is fixed.
func refBlob(t testing.TB, format, master, datalen string, padded, mk []byte) string {
	t.Helper()
	iv := []byte("0123456789abcdef")
	pad32 := func(label string) []byte {
		buf := append([]byte(label+"\x00"), mk...)
		if label == "ENC_KEY" {
			buf = append(buf, 0)
		}
		for len(buf) < 32 {
			buf = append(buf, 0)
		}
		return buf
	}
	encKey := sha256.Sum256(pad32("ENC_KEY"))
	authKey := sha256.Sum256(pad32("AUTH_KEY"))
	block, err := aes.NewCipher(encKey[:])
	if err != nil {
		t.Fatal(err)
	}
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	h := hmac.New(sha256.New, authKey[:])
	h.Write([]byte(format + "\x00" + master + "\x00" + datalen + "\x00"))
	h.Write(iv)
	h.Write([]byte{0})
	h.Write(ct)
	return format + " " + master + " " + datalen + " " + hex.EncodeToString(iv) + "00" + hex.EncodeToString(ct) + hex.EncodeToString(h.Sum(nil))
}
