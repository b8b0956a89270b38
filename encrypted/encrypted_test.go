package encrypted

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/keyring"
)

// testKMK is the key of user:kmk in the vectors; testIV and plain32 are the KAT's.
var (
	testKMK = seq(0x00, 32)
	testIV  = seq(0xa0, 16)
	plain32 = seq(0x40, 32)
	userKMK = Master{Kind: UserMaster, Name: "kmk"}
)

func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// fieldOf returns the Field of err, which must be a *keyring.Error.
func fieldOf(t *testing.T, err error) string {
	t.Helper()
	var e *keyring.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *keyring.Error", err, err)
	}
	return e.Field
}

func TestParseMaster(t *testing.T) {
	for _, c := range []struct {
		in    string
		want  Master
		field string // the *Error's Field if rejected
	}{
		{in: "user:kmk", want: Master{UserMaster, "kmk"}},
		{in: "trusted:tk", want: Master{TrustedMaster, "tk"}},
		{in: "user:a:b", want: Master{UserMaster, "a:b"}},
		{in: "user:nvdimm-master", want: Master{UserMaster, "nvdimm-master"}},
		{in: "user:kmk\n", want: Master{UserMaster, "kmk\n"}}, // '\n' is not a separator
		{in: "", field: "master"},
		{in: "kmk", field: "master"},
		{in: "user", field: "master"},
		{in: "user:", field: "master"},
		{in: "trusted:", field: "master"},
		{in: "User:kmk", field: "master"},
		{in: "TRUSTED:tk", field: "master"},
		{in: "encrypted:ek1", field: "master"},
		{in: "logon:kmk", field: "master"},
		{in: "big_key:x", field: "master"},
		{in: ":kmk", field: "master"},
		{in: " user:kmk", field: "master"},
		{in: "user:a b", field: "master"},
		{in: "user:a\tb", field: "master"},
		{in: "user:a\x00b", field: "master"},
	} {
		got, err := ParseMaster(c.in)
		if c.field != "" {
			if !errors.Is(err, keyring.ErrInvalid) || fieldOf(t, err) != c.field || got != (Master{}) {
				t.Errorf("ParseMaster(%q) = %v, %v; want an keyring.ErrInvalid on %s", c.in, got, err, c.field)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseMaster(%q) = %#v, %v; want %#v", c.in, got, err, c.want)
		}
		if got.String() != c.in {
			t.Errorf("String() = %q, want %q", got.String(), c.in)
		}
	}
	if s := MasterKind(7).String(); s != "MasterKind(7)" {
		t.Errorf("MasterKind(7).String() = %q", s)
	}
}

func TestFormat(t *testing.T) {
	for f, name := range map[Format]string{Default: "default", Ecryptfs: "ecryptfs", Enc32: "enc32"} {
		if f.String() != name {
			t.Errorf("%d.String() = %q, want %q", f, f.String(), name)
		}
		if got, err := ParseFormat(name); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %v, %v", name, got, err)
		}
	}
	for _, bad := range []string{"", "Default", "ENC32", "aes", "default ", "Format(0)"} {
		if _, err := ParseFormat(bad); !errors.Is(err, keyring.ErrInvalid) {
			t.Errorf("ParseFormat(%q) = %v, want keyring.ErrInvalid", bad, err)
		}
	}
	if s := Format(3).String(); s != "Format(3)" {
		t.Errorf("Format(3).String() = %q", s)
	}
}

// TestParseDataLen pins kstrtol(s, 10) as the kernel's encrypted keys use
// it; the range check comes after (see TestSizeRules).
func TestParseDataLen(t *testing.T) {
	for _, c := range []struct {
		in string
		n  int
		ok bool
	}{
		{"32", 32, true},
		{"032", 32, true},
		{"0000000000000000000000000000000032", 32, true},
		{"+32", 32, true},
		{"32\n", 32, true},
		{"+32\n", 32, true},
		{"4096", 4096, true},
		{"99999999999999999999999999", maxDataLen + 1, true}, // saturates; rejected by the range
		{"0", 0, true},
		{"", 0, false},
		{"+", 0, false},
		{"\n", 0, false},
		{"+\n", 0, false},
		{"++32", 0, false},
		{"-32", 0, false}, // kstrtol accepts it; the range check rejects it
		{"0x20", 0, false},
		{"32\n\n", 0, false},
		{"\n32", 0, false},
		{"32 ", 0, false},
		{"3 2", 0, false},
		{"32a", 0, false},
		{"３２", 0, false},
	} {
		n, ok := parseDataLen(c.in)
		if n != c.n || ok != c.ok {
			t.Errorf("parseDataLen(%q) = %d, %v; want %d, %v", c.in, n, ok, c.n, c.ok)
		}
	}
}

// TestSizeRules checks each format's sizes at and around its bounds, for
// both NewPayload and Seal.
func TestSizeRules(t *testing.T) {
	for _, c := range []struct {
		f    Format
		good []int
		bad  []int
	}{
		{Default, []int{20, 21, 32, 64, 4095, 4096}, []int{-1, 0, 19, 4097, 1 << 20}},
		{Enc32, []int{32}, []int{20, 31, 33, 64}},
		{Ecryptfs, []int{64}, []int{20, 32, 63, 65, 4096}},
		{Format(3), nil, []int{32}},
	} {
		for _, n := range c.good {
			if _, err := NewPayload(Options{Format: c.f, Master: userKMK, Length: n}); err != nil {
				t.Errorf("NewPayload(%v, %d): %v", c.f, n, err)
			}
			if _, err := Seal(make([]byte, n), SealOptions{MasterKey: testKMK, Format: c.f, Master: userKMK}); err != nil {
				t.Errorf("Seal(%v, %d bytes): %v", c.f, n, err)
			}
		}
		for _, n := range c.bad {
			// Options.Length 0 means the format's default size (TestPayloads).
			if _, err := NewPayload(Options{Format: c.f, Master: userKMK, Length: n}); n != 0 && !errors.Is(err, keyring.ErrInvalid) {
				t.Errorf("NewPayload(%v, %d) = %v, want keyring.ErrInvalid", c.f, n, err)
			}
			if n >= 0 && n <= 1<<20 {
				if _, err := Seal(make([]byte, n), SealOptions{MasterKey: testKMK, Format: c.f, Master: userKMK}); !errors.Is(err, keyring.ErrInvalid) {
					t.Errorf("Seal(%v, %d bytes) = %v, want keyring.ErrInvalid", c.f, n, err)
				}
			}
		}
	}
}

func TestValidateDescription(t *testing.T) {
	for _, c := range []struct {
		f    Format
		desc string
		ok   bool
	}{
		{Ecryptfs, "0123456789abcdef", true},
		{Ecryptfs, "0123456789ABCDEF", true},
		{Ecryptfs, "fedcba9876543210", true},
		{Ecryptfs, "0123456789abcde", false},
		{Ecryptfs, "0123456789abcdef0", false},
		{Ecryptfs, "0123456789abcdeg", false},
		{Ecryptfs, "0x23456789abcdef", false},
		{Ecryptfs, "", false},
		{Default, "anything at all", true},
		{Enc32, "nvdimm:1", true},
		{Format(9), "0123456789abcdef", false},
	} {
		err := ValidateDescription(c.f, c.desc)
		if c.ok != (err == nil) || err != nil && !errors.Is(err, keyring.ErrInvalid) {
			t.Errorf("ValidateDescription(%v, %q) = %v, want ok=%v", c.f, c.desc, err, c.ok)
		}
	}
}

// TestPayloads pins the exact bytes of each payload builder.
func TestPayloads(t *testing.T) {
	trustedNV := Master{Kind: TrustedMaster, Name: "nvdimm-master"}
	for _, c := range []struct {
		name string
		got  func() ([]byte, error)
		want string
	}{
		{"new default", func() ([]byte, error) { return NewPayload(Options{Format: Default, Master: userKMK, Length: 32}) }, "new default user:kmk 32"},
		{"new enc32", func() ([]byte, error) { return NewPayload(Options{Format: Enc32, Master: trustedNV, Length: 32}) }, "new enc32 trusted:nvdimm-master 32"},
		{"new ecryptfs", func() ([]byte, error) { return NewPayload(Options{Format: Ecryptfs, Master: userKMK, Length: 64}) }, "new ecryptfs user:kmk 64"},
		{"new, zero Length", func() ([]byte, error) { return NewPayload(Options{Master: userKMK}) }, "new default user:kmk 32"},
		{"new enc32, zero Length", func() ([]byte, error) { return NewPayload(Options{Format: Enc32, Master: userKMK}) }, "new enc32 user:kmk 32"},
		{"new ecryptfs, zero Length", func() ([]byte, error) { return NewPayload(Options{Format: Ecryptfs, Master: userKMK}) }, "new ecryptfs user:kmk 64"},
		{"new with data", func() ([]byte, error) { return NewPayloadWithData(plain32, Options{Format: Enc32, Master: userKMK}) },
			"new enc32 user:kmk 32 404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"},
		{"update", func() ([]byte, error) {
			return UpdatePayload(UpdateOptions{From: userKMK, To: Master{Kind: UserMaster, Name: "kmk2"}})
		}, "update user:kmk2"},
		{"update trusted", func() ([]byte, error) {
			return UpdatePayload(UpdateOptions{From: Master{Kind: TrustedMaster, Name: "a"}, To: trustedNV})
		}, "update trusted:nvdimm-master"},
		{"load", func() ([]byte, error) {
			b, err := Seal(plain32, SealOptions{MasterKey: testKMK, Master: userKMK, IV: testIV})
			if err != nil {
				return nil, err
			}
			return LoadPayload(b)
		}, "load default user:kmk 32 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf00dd32382528c788a6da9a864c367830a1a26835eedbbecbe11cd13ad9ccab3da950cc32e6988a5ddc45430f583536985b1630d1a92d599d10d6d0f26ab77bfa03"},
	} {
		got, err := c.got()
		if err != nil || string(got) != c.want {
			t.Errorf("%s = %q, %v; want %q", c.name, got, err, c.want)
		}
	}

	for _, c := range []struct {
		name  string
		err   func() error
		field string
	}{
		{"new, zero master", func() error { _, err := NewPayload(Options{Format: Default, Master: Master{}, Length: 32}); return err }, "master"},
		{"new, data of bad size", func() error {
			_, err := NewPayloadWithData(make([]byte, 31), Options{Format: Enc32, Master: userKMK})
			return err
		}, "datalen"},
		{"new, data and another Length", func() error {
			_, err := NewPayloadWithData(plain32, Options{Master: userKMK, Length: 33})
			return err
		}, "Options.Length"},
		{"new, nil data", func() error { _, err := NewPayloadWithData(nil, Options{Format: Default, Master: userKMK}); return err }, "datalen"},
		{"update, type change", func() error {
			_, err := UpdatePayload(UpdateOptions{From: userKMK, To: Master{Kind: TrustedMaster, Name: "x"}})
			return err
		}, "master"},
		{"update, bad from", func() error {
			_, err := UpdatePayload(UpdateOptions{From: Master{Kind: UserMaster}, To: userKMK})
			return err
		}, "master"},
		{"load, nil blob", func() error { _, err := LoadPayload(nil); return err }, "blob"},
	} {
		if err := c.err(); !errors.Is(err, keyring.ErrInvalid) || fieldOf(t, err) != c.field {
			t.Errorf("%s: %v, want keyring.ErrInvalid on %s", c.name, err, c.field)
		}
	}
}

// TestPayloadLimits checks the 32767-byte payload limit at its boundary,
// and the page-size limit of update.
func TestPayloadLimits(t *testing.T) {
	name := func(n int) Master { return Master{Kind: UserMaster, Name: strings.Repeat("n", n)} }
	fixed := len("new default user: 32")
	if p, err := NewPayload(Options{Format: Default, Master: name(maxPayload - fixed), Length: 32}); err != nil || len(p) != maxPayload {
		t.Errorf("NewPayload of exactly 32767 bytes: len %d, %v", len(p), err)
	}
	if _, err := NewPayload(Options{Format: Default, Master: name(maxPayload - fixed + 1), Length: 32}); fieldOf(t, err) != "payload" {
		t.Errorf("NewPayload of 32768 bytes: %v", err)
	}
	if _, err := NewPayloadWithData(make([]byte, 32), Options{Format: Default, Master: name(maxPayload - fixed - 65)}); err != nil {
		t.Errorf("NewPayloadWithData of 32767 bytes: %v", err)
	}
	if _, err := NewPayloadWithData(make([]byte, 32), Options{Format: Default, Master: name(maxPayload - fixed - 65 + 1)}); fieldOf(t, err) != "payload" {
		t.Errorf("NewPayloadWithData of 32768 bytes: %v", err)
	}

	limit := min(os.Getpagesize(), maxPayload)
	if p, err := UpdatePayload(UpdateOptions{From: userKMK, To: name(limit - len("update user:"))}); err != nil || len(p) != limit {
		t.Errorf("UpdatePayload at the page size: len %d, %v", len(p), err)
	}
	if _, err := UpdatePayload(UpdateOptions{From: userKMK, To: name(limit - len("update user:") + 1)}); fieldOf(t, err) != "payload" {
		t.Errorf("UpdatePayload over the page size: %v", err)
	}

	// A blob whose load payload would exceed 32767 bytes: ParseBlob and
	// LoadPayload refuse it, MarshalText does not.
	b, err := Seal(plain32, SealOptions{MasterKey: testKMK, Master: name(maxPayload), IV: testIV})
	if err != nil {
		t.Fatal(err)
	}
	text := mustMarshal(t, b)
	if _, err := LoadPayload(b); fieldOf(t, err) != "payload" {
		t.Errorf("LoadPayload over 32767 bytes: %v", err)
	}
	if _, err := ParseBlob([]byte(text)); fieldOf(t, err) != "blob" {
		t.Errorf("ParseBlob over 32762 bytes: %v", err)
	}
}

// TestErrorsIs pins the documented errors.Is relations.
func TestErrorsIs(t *testing.T) {
	good, err := Seal(plain32, SealOptions{MasterKey: testKMK, Master: userKMK, IV: testIV})
	if err != nil {
		t.Fatal(err)
	}
	_, invalidErr := ParseBlob([]byte("default user:kmk 19 00"))
	_, hmacErr := Open(good, seq(1, 32))
	_, rewrapErr := Rewrap(good, RewrapOptions{OldMasterKey: seq(1, 32), NewMasterKey: testKMK, NewMaster: userKMK})
	for _, c := range []struct {
		name              string
		err               error
		isInvalid, isHMAC bool
	}{
		{"invalid input", invalidErr, true, false},
		{"Open, wrong key", hmacErr, true, true},
		{"Rewrap, wrong key", rewrapErr, true, true},
		// ErrBadHMAC is a plain sentinel now, attached as keyring.Error.Err
		// to errors whose errno is EINVAL: only those match both.
		{"ErrBadHMAC itself", ErrBadHMAC, false, true},
		{"keyring.ErrInvalid itself", keyring.ErrInvalid, true, false},
	} {
		if got := errors.Is(c.err, keyring.ErrInvalid); got != c.isInvalid {
			t.Errorf("%s: errors.Is(%v, keyring.ErrInvalid) = %v", c.name, c.err, got)
		}
		if got := errors.Is(c.err, ErrBadHMAC); got != c.isHMAC {
			t.Errorf("%s: errors.Is(%v, ErrBadHMAC) = %v", c.name, c.err, got)
		}
	}
	var e *keyring.Error
	if !errors.As(hmacErr, &e) || e.Op != "encrypted.Open" || e.Field != "hmac" || !e.Refused {
		t.Errorf("Open error = %#v", e)
	}
	if !errors.As(rewrapErr, &e) || e.Op != "encrypted.Rewrap" {
		t.Errorf("Rewrap error = %#v", e)
	}
	if got := hmacErr.Error(); !strings.HasPrefix(got, "encrypted.Open: hmac: ") {
		t.Errorf("message %q", got)
	}
}

// TestNoSecretsInErrors drives every failing path with recognisable
// secrets and requires that no error message contains them, raw or in hex.
func TestNoSecretsInErrors(t *testing.T) {
	secret := []byte("TOPSECRET-master-key-0123456789ab")
	data := []byte("PLAINTEXT-secret-data-0123456789")
	b, err := Seal(data, SealOptions{MasterKey: secret, Master: userKMK})
	if err != nil {
		t.Fatal(err)
	}
	text := mustMarshal(t, b)
	ctHex := hex.EncodeToString(b.Ciphertext)
	var errs []error
	add := func(_ any, err error) { errs = append(errs, err) }
	add(Open(b, testKMK))
	add(Rewrap(b, RewrapOptions{OldMasterKey: testKMK, NewMasterKey: secret, NewMaster: userKMK}))
	add(Seal(data, SealOptions{MasterKey: secret, Master: userKMK, DataLen: "33"}))
	add(Seal(data, SealOptions{MasterKey: secret, Master: userKMK, IV: data}))
	add(Seal(data, SealOptions{MasterKey: nil, Master: userKMK}))
	add(Seal(data, SealOptions{MasterKey: secret, Master: Master{Kind: UserMaster, Name: string(secret) + " x"}}))
	add(NewPayloadWithData(append(data, secret...), Options{Format: Enc32, Master: userKMK}))
	add(EcryptfsAuthTok(string(secret[:16]), data))
	add(ParseBlob([]byte(text[:len(text)-1])))
	add(ParseBlob([]byte(strings.Replace(text, ctHex[:8], "zzzzzzzz", 1))))
	add(ParseBlob([]byte("default " + string(secret) + " 32 00")))
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		msg := err.Error()
		for _, s := range [][]byte{secret, data, []byte(hex.EncodeToString(secret)), []byte(hex.EncodeToString(data)), []byte(ctHex[:16]), secret[:9], data[:9]} {
			if strings.Contains(msg, string(s)) {
				t.Errorf("error %q leaks %q", msg, s)
			}
		}
	}
}

// flipHex returns text with the hex digit at i changed to another hex digit.
func flipHex(text string, i int) string {
	c := byte('0')
	if text[i] == '0' {
		c = '1'
	}
	return text[:i] + string(c) + text[i+1:]
}

// TestTamper flips one hex digit of the IV, the ciphertext or the HMAC of
// every kernel blob, or changes its datalen spelling: the blob still
// parses, but Open fails with ErrBadHMAC and returns no plaintext, as the
// kernel's load fails with EINVAL. A changed gap is ignored, as in the
// kernel.
func TestTamper(t *testing.T) {
	for name, v := range formatVectors(t) {
		mk := unhex(t, v.MasterKey.Hex)
		hexStart := strings.LastIndexByte(v.Blob, ' ') + 1
		for _, c := range []struct {
			what string
			text string
		}{
			{"IV", flipHex(v.Blob, hexStart)},
			{"IV end", flipHex(v.Blob, hexStart+31)},
			{"ciphertext", flipHex(v.Blob, hexStart+34)},
			{"ciphertext end", flipHex(v.Blob, len(v.Blob)-65)},
			{"HMAC", flipHex(v.Blob, len(v.Blob)-64)},
			{"HMAC end", flipHex(v.Blob, len(v.Blob)-1)},
			{"datalen spelling", strings.Replace(v.Blob, " "+v.Parsed.DataLenStr+" ", " 0"+v.Parsed.DataLenStr+" ", 1)},
		} {
			b := mustParse(t, c.text)
			pt, err := Open(b, mk)
			if !errors.Is(err, ErrBadHMAC) || pt != nil {
				t.Errorf("%s: %s tampered: Open = %x, %v; want nil, ErrBadHMAC", name, c.what, pt, err)
			}
		}
		gap := v.Blob[:hexStart+32] + "ff" + v.Blob[hexStart+34:]
		b := mustParse(t, gap)
		if _, err := Open(b, mk); err != nil {
			t.Errorf("%s: changed gap: %v", name, err)
		}
		if got := mustMarshal(t, b); got != v.Blob {
			t.Errorf("%s: changed gap marshals to %s", name, got)
		}
	}
}

// TestNonZeroPadding: the kernel discards the padding unchecked, and
// re-encrypts with zero padding (the edge case "load datalen 20 with
// non-zero pad bytes").
func TestNonZeroPadding(t *testing.T) {
	padded := append(seq(0x40, 20), bytes.Repeat([]byte{0xa5}, 12)...)
	text := refBlob(t, "default", "user:kmk", "20", padded, testKMK)
	b := mustParse(t, text)
	pt := mustOpen(t, b, testKMK)
	if !bytes.Equal(pt, padded[:20]) || cap(pt) != 20 {
		t.Errorf("Open = %x (cap %d), want %x", pt, cap(pt), padded[:20])
	}
	re, err := Rewrap(b, RewrapOptions{OldMasterKey: testKMK, NewMasterKey: testKMK, NewMaster: userKMK})
	if err != nil {
		t.Fatal(err)
	}
	zero := refBlob(t, "default", "user:kmk", "20", append(seq(0x40, 20), make([]byte, 12)...), testKMK)
	if got := mustMarshal(t, re); got != zero {
		t.Errorf("Rewrap:\n got %s\nwant %s", got, zero)
	}
	if sealed, err := Seal(pt, SealOptions{MasterKey: testKMK, Master: userKMK, IV: []byte("0123456789abcdef")}); err != nil || mustMarshal(t, sealed) != zero {
		t.Errorf("Seal differs from the reference algorithm: %v", err)
	}
}

// TestShortMasterKeyPadding pins a property of the kernel's derivation:
// both derivation buffers are max(9+len(MK), 32) bytes of zeros with the
// label and MK written in, so a master key and the same key followed by
// zero bytes derive the same keys while the total stays within 23 bytes.
func TestShortMasterKeyPadding(t *testing.T) {
	sesame := []byte("Sesame!")
	b, err := Seal(plain32, SealOptions{MasterKey: sesame, Master: userKMK, IV: testIV})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(b, append(sesame, make([]byte, 23-len(sesame))...)); err != nil {
		t.Errorf("Sesame! padded with zeros to 23 bytes: %v", err)
	}
	if _, err := Open(b, append(sesame, make([]byte, 24-len(sesame))...)); !errors.Is(err, ErrBadHMAC) {
		t.Errorf("Sesame! padded with zeros to 24 bytes: %v, want ErrBadHMAC", err)
	}
}

func TestSealParams(t *testing.T) {
	a, err := Seal(plain32, SealOptions{MasterKey: testKMK, Master: userKMK})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Seal(plain32, SealOptions{MasterKey: testKMK, Master: userKMK})
	if err != nil {
		t.Fatal(err)
	}
	if a.IV == b.IV {
		t.Error("two random IVs are equal")
	}
	if a.DataLen != "32" || a.Format != Default || a.Legacy {
		t.Errorf("defaults: DataLen %q, Format %v, Legacy %v", a.DataLen, a.Format, a.Legacy)
	}
	if got := mustOpen(t, a, testKMK); !bytes.Equal(got, plain32) {
		t.Errorf("Open = %x", got)
	}

	for _, c := range []struct {
		name  string
		pt    []byte
		mk    []byte
		p     SealOptions
		field string
	}{
		{"zero master", plain32, testKMK, SealOptions{}, "master"},
		{"empty master key", plain32, nil, SealOptions{Master: userKMK}, "master key"},
		{"huge master key", plain32, make([]byte, maxMasterKey+1), SealOptions{Master: userKMK}, "master key"},
		{"short IV", plain32, testKMK, SealOptions{Master: userKMK, IV: testIV[:15]}, "iv"},
		{"empty IV", plain32, testKMK, SealOptions{Master: userKMK, IV: []byte{}}, "iv"},
		{"datalen mismatch", plain32, testKMK, SealOptions{Master: userKMK, DataLen: "33"}, "datalen"},
		{"datalen hex", plain32, testKMK, SealOptions{Master: userKMK, DataLen: "0x20"}, "datalen"},
		{"bad format", plain32, testKMK, SealOptions{Format: Format(5), Master: userKMK}, "format"},
	} {
		p := c.p
		p.MasterKey = c.mk
		if _, err := Seal(c.pt, p); !errors.Is(err, keyring.ErrInvalid) || fieldOf(t, err) != c.field {
			t.Errorf("%s: %v, want keyring.ErrInvalid on %s", c.name, err, c.field)
		}
	}
	if _, err := Seal(plain32, SealOptions{MasterKey: make([]byte, maxMasterKey), Master: userKMK}); err != nil {
		t.Errorf("32767-byte master key: %v", err)
	}
}

// TestBlobCheck: a Blob built by hand is checked before use.
func TestBlobCheck(t *testing.T) {
	good, err := Seal(plain32, SealOptions{MasterKey: testKMK, Master: userKMK, IV: testIV})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		edit  func(*Blob)
		field string
	}{
		{"short ciphertext", func(b *Blob) { b.Ciphertext = b.Ciphertext[:16] }, "ciphertext"},
		{"nil ciphertext", func(b *Blob) { b.Ciphertext = nil }, "ciphertext"},
		{"legacy enc32", func(b *Blob) { b.Legacy, b.Format = true, Enc32 }, "format"},
		{"zero master", func(b *Blob) { b.Master = Master{} }, "master"},
		{"empty datalen", func(b *Blob) { b.DataLen = "" }, "datalen"},
		{"enc32 of 64", func(b *Blob) { b.Format, b.DataLen = Enc32, "64" }, "datalen"},
	} {
		b := *good
		c.edit(&b)
		if _, err := b.MarshalText(); fieldOf(t, err) != c.field {
			t.Errorf("%s: MarshalText: %v, want %s", c.name, err, c.field)
		}
		if pt, err := Open(&b, testKMK); pt != nil || fieldOf(t, err) != c.field {
			t.Errorf("%s: Open: %v, want %s", c.name, err, c.field)
		}
	}
	var nilBlob *Blob
	if _, err := nilBlob.MarshalText(); fieldOf(t, err) != "blob" {
		t.Errorf("nil MarshalText: %v", err)
	}
	if _, err := Open(nil, testKMK); fieldOf(t, err) != "blob" {
		t.Errorf("Open(nil): %v", err)
	}
	if _, err := Rewrap(nil, RewrapOptions{OldMasterKey: testKMK, NewMasterKey: testKMK, NewMaster: userKMK}); fieldOf(t, err) != "blob" {
		t.Errorf("Rewrap(nil): %v", err)
	}
	if _, err := Rewrap(good, RewrapOptions{OldMasterKey: testKMK, NewMasterKey: nil, NewMaster: userKMK}); fieldOf(t, err) != "master key" {
		t.Errorf("Rewrap to an empty key: %v", err)
	}
	if _, err := Rewrap(good, RewrapOptions{OldMasterKey: testKMK, NewMasterKey: testKMK, NewMaster: Master{Kind: UserMaster}}); fieldOf(t, err) != "master" {
		t.Errorf("Rewrap to an empty name: %v", err)
	}
	// Rewrap may change the master's type, which the kernel's update cannot.
	tr, err := Rewrap(good, RewrapOptions{OldMasterKey: testKMK, NewMasterKey: testKMK, NewMaster: Master{Kind: TrustedMaster, Name: "tk"}})
	if err != nil || !strings.HasPrefix(mustMarshal(t, tr), "default trusted:tk 32 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf00") {
		t.Errorf("Rewrap to trusted: %v", err)
	}
}

// TestText covers the encoding interfaces and the parser's C-string and
// trailing-data behaviour.
func TestText(t *testing.T) {
	b, err := Seal(plain32, SealOptions{MasterKey: testKMK, Format: Enc32, Master: userKMK, IV: testIV})
	if err != nil {
		t.Fatal(err)
	}
	text := mustMarshal(t, b)

	if got, err := b.AppendText([]byte("load ")); err != nil || string(got) != "load "+text {
		t.Errorf("AppendText = %q, %v", got, err)
	}

	var u Blob
	if err := u.UnmarshalText([]byte(text)); err != nil || mustMarshal(t, &u) != text {
		t.Errorf("UnmarshalText: %v", err)
	}
	before := mustMarshal(t, &u)
	if err := u.UnmarshalText([]byte("enc32 user:kmk 32")); !errors.Is(err, keyring.ErrInvalid) || mustMarshal(t, &u) != before {
		t.Errorf("UnmarshalText of a bad blob: %v, or it changed the Blob", err)
	}

	j, err := json.Marshal(struct{ Key *Blob }{b})
	if err != nil || string(j) != `{"Key":"`+text+`"}` {
		t.Errorf("json.Marshal = %s, %v", j, err)
	}
	var back struct{ Key *Blob }
	if err := json.Unmarshal(j, &back); err != nil || mustMarshal(t, back.Key) != text {
		t.Errorf("json.Unmarshal: %v", err)
	}

	// The kernel reads the payload as a C string and ignores what follows
	// the hex field.
	for _, extra := range []string{"\x00", "\x00junk", " ", "\tjunk", " a b c"} {
		p, err := ParseBlob([]byte(text + extra))
		if err != nil || mustMarshal(t, p) != text {
			t.Errorf("ParseBlob(blob+%q): %v", extra, err)
		}
	}
	for _, bad := range []string{text[:40] + "\x00" + text[41:], text + "\n", text + "\r", "\x00" + text} {
		if _, err := ParseBlob([]byte(bad)); !errors.Is(err, keyring.ErrInvalid) {
			t.Errorf("ParseBlob accepted %q", bad)
		}
	}
	if _, err := ParseBlob([]byte(text + "\n")); !strings.Contains(err.Error(), "newline") {
		t.Errorf("trailing newline error does not say so: %v", err)
	}
	for _, c := range []struct{ text, field string }{
		{"", "master"},
		{"enc32", "master"},
		{"enc32 user:kmk", "datalen"},
		{"enc32 user:kmk 32", "hex"},
		{"enc32 user:kmk 32 ", "hex"},
		{"enc32 user:kmk 031 00", "datalen"},
		{"ecryptfs user:kmk 32 00", "datalen"},
	} {
		if _, err := ParseBlob([]byte(c.text)); fieldOf(t, err) != c.field {
			t.Errorf("ParseBlob(%q): %v, want %s", c.text, err, c.field)
		}
	}
	hexStart := strings.LastIndexByte(text, ' ') + 1
	for _, c := range []struct {
		i    int
		part string
	}{{hexStart, "IV"}, {hexStart + 40, "ciphertext"}, {len(text) - 1, "HMAC"}} {
		bad := text[:c.i] + "x" + text[c.i+1:]
		if _, err := ParseBlob([]byte(bad)); err == nil || !strings.Contains(err.Error(), c.part) {
			t.Errorf("non-hex in the %s: %v", c.part, err)
		}
	}
}

// TestEcryptfsAuthTok checks the layout of struct ecryptfs_auth_tok (§1.12).
func TestEcryptfsAuthTok(t *testing.T) {
	key := seq(0x40, 64)
	tok, err := EcryptfsAuthTok("0011223344556677", key)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 740 {
		t.Fatalf("len = %d, want 740", len(tok))
	}
	ne := binary.NativeEndian
	want := make([]byte, 740)
	ne.PutUint16(want[0:], 0x0004)       // version
	ne.PutUint16(want[2:], 0)            // token_type ECRYPTFS_PASSWORD
	ne.PutUint32(want[632:], 10)         // hash_algo PGP_DIGEST_ALGO_SHA512
	ne.PutUint32(want[640:], 64)         // session_key_encryption_key_bytes
	ne.PutUint32(want[644:], 0x02)       // flags: SESSION_KEY_ENCRYPTION_KEY_SET
	copy(want[648:712], key)             // session_key_encryption_key
	copy(want[712:], "0011223344556677") // signature; want[728] is its NUL
	if !bytes.Equal(tok, want) {
		t.Errorf("auth tok =\n%x\nwant\n%x", tok, want)
	}
	for _, c := range []struct {
		desc  string
		key   []byte
		field string
	}{
		{"001122334455667", key, "description"},
		{"001122334455667g", key, "description"},
		{"0011223344556677", key[:32], "datalen"},
		{"0011223344556677", nil, "datalen"},
	} {
		if _, err := EcryptfsAuthTok(c.desc, c.key); fieldOf(t, err) != c.field {
			t.Errorf("EcryptfsAuthTok(%q, %d bytes): %v, want %s", c.desc, len(c.key), err, c.field)
		}
	}
}

func TestWipe(t *testing.T) {
	b := seq(1, 40)
	keyring.Wipe(b[3:])
	if !bytes.Equal(b, append(seq(1, 3), make([]byte, 37)...)) {
		t.Errorf("Wipe left %x", b)
	}
	keyring.Wipe(nil)
}

// The master keys of testdata/vectors.
var (
	kmk  = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}
	kmk2 = []byte("Sesame!")
)
