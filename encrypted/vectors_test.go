package encrypted

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// vectorDir holds the vectors made by the real kernel; its README says
// which kernel made them and how to make them again.
const vectorDir = "testdata/vectors"

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectorDir, name))
	if err != nil {
		t.Fatalf("kernel-made test vector: %v", err)
	}
	return data
}

func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(readVector(t, name), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in vector: %v", err)
	}
	return b
}

func mustParse(t testing.TB, text string) *Blob {
	t.Helper()
	b, err := ParseBlob([]byte(text))
	if err != nil {
		t.Fatalf("ParseBlob: %v", err)
	}
	return b
}

func mustMarshal(t testing.TB, b *Blob) string {
	t.Helper()
	text, err := b.MarshalText()
	if err != nil {
		t.Fatalf("MarshalText: %v", err)
	}
	return string(text)
}

func mustOpen(t testing.TB, b *Blob, mk []byte) []byte {
	t.Helper()
	pt, err := Open(b, mk)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return pt
}

type keyVector struct {
	Name string `json:"name"`
	Hex  string `json:"hex"`
}

// formatVector is one of the per-format files, such as default32.json.
type formatVector struct {
	Case           string    `json:"case"`
	KeyDescription string    `json:"key_description"`
	AddKeyPayload  string    `json:"add_key_payload"`
	MasterKey      keyVector `json:"master_key"`
	Blob           string    `json:"blob"`
	Parsed         struct {
		Format     string `json:"format"`
		MasterDesc string `json:"master_desc"`
		DataLenStr string `json:"datalen_str"`
		IV         string `json:"iv"`
		GapHex     string `json:"gap_hex"`
		Ciphertext string `json:"ciphertext"`
		HMAC       string `json:"hmac"`
	} `json:"parsed"`
	EncKey        string `json:"ENC_KEY"`
	AuthKey       string `json:"AUTH_KEY"`
	HMACInput     string `json:"hmac_input"`
	DecryptedData string `json:"decrypted_data"`
	AfterUpdate   struct {
		MasterKey keyVector `json:"master_key"`
		Blob      string    `json:"blob"`
	} `json:"same_key_after_update_to_kmk2"`
	Reencrypted struct {
		KeyDescription string `json:"key_description"`
		Blob           string `json:"blob"`
	} `json:"reencrypted_blob_accepted_by_kernel"`
}

// formatVectors returns every *.blob in vectorDir with its JSON.
func formatVectors(t testing.TB) map[string]formatVector {
	t.Helper()
	readVector(t, "README.md") // fails clearly when the directory is missing
	blobs, err := filepath.Glob(filepath.Join(vectorDir, "*.blob"))
	if err != nil || len(blobs) < 6 {
		t.Fatalf("expected at least 6 *.blob vectors in %s, found %d (%v)", vectorDir, len(blobs), err)
	}
	vs := make(map[string]formatVector)
	for _, path := range blobs {
		name := strings.TrimSuffix(filepath.Base(path), ".blob")
		var v formatVector
		readJSON(t, name+".json", &v)
		if blob := readVector(t, name+".blob"); string(blob) != v.Blob {
			t.Fatalf("%s.blob differs from the blob in %s.json", name, name)
		}
		vs[name] = v
	}
	return vs
}

// TestKernelBlobs checks every kernel-made blob: it parses into the
// recorded fields, marshals back byte for byte, verifies and opens under
// kmk, and Seal with the same IV reproduces it. The blob the kernel made
// after "update user:kmk2" opens under kmk2 to the same data, and Rewrap
// reproduces it. The blob that the kernel accepted from the vector
// generator round-trips and is reproduced by Seal.
func TestKernelBlobs(t *testing.T) {
	for name, v := range formatVectors(t) {
		t.Run(name, func(t *testing.T) {
			kmk := unhex(t, v.MasterKey.Hex)
			kmk2 := unhex(t, v.AfterUpdate.MasterKey.Hex)
			data := unhex(t, v.DecryptedData)
			if v.Parsed.GapHex != "00" {
				t.Fatalf("gap %q in a kernel blob, want 00", v.Parsed.GapHex)
			}

			b := mustParse(t, v.Blob)
			want := &Blob{
				Format:     mustFormat(t, v.Parsed.Format),
				Master:     mustMaster(t, v.Parsed.MasterDesc),
				DataLen:    v.Parsed.DataLenStr,
				IV:         [16]byte(unhex(t, v.Parsed.IV)),
				Ciphertext: unhex(t, v.Parsed.Ciphertext),
				HMAC:       [32]byte(unhex(t, v.Parsed.HMAC)),
			}
			if !reflect.DeepEqual(b, want) {
				t.Errorf("ParseBlob:\n got %+v\nwant %+v", b, want)
			}
			if got := mustMarshal(t, b); got != v.Blob {
				t.Errorf("MarshalText:\n got %s\nwant %s", got, v.Blob)
			}
			if got, err := LoadPayload(b); err != nil || string(got) != "load "+v.Blob {
				t.Errorf("LoadPayload = %q, %v", got, err)
			}
			if got := b.macInput(nil); !bytes.Equal(got, unhex(t, v.HMACInput)) {
				t.Errorf("HMAC input = %x, want %s", got, v.HMACInput)
			}
			if enc := deriveKey(encLabel, kmk); hex.EncodeToString(enc[:]) != v.EncKey {
				t.Errorf("ENC_KEY = %x, want %s", enc, v.EncKey)
			}
			if auth := deriveKey(authLabel, kmk); hex.EncodeToString(auth[:]) != v.AuthKey {
				t.Errorf("AUTH_KEY = %x, want %s", auth, v.AuthKey)
			}
			if got := mustOpen(t, b, kmk); !bytes.Equal(got, data) {
				t.Errorf("Open = %x, want %s", got, v.DecryptedData)
			}
			sealed, err := Seal(data, SealOptions{MasterKey: kmk, Format: b.Format, Master: b.Master, DataLen: b.DataLen, IV: b.IV[:]})
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if got := mustMarshal(t, sealed); got != v.Blob {
				t.Errorf("Seal with the kernel's IV:\n got %s\nwant %s", got, v.Blob)
			}
			if b.Format == Ecryptfs {
				if err := ValidateDescription(Ecryptfs, v.KeyDescription); err != nil {
					t.Errorf("ValidateDescription(%q): %v", v.KeyDescription, err)
				}
				if err := ValidateDescription(Ecryptfs, v.Reencrypted.KeyDescription); err != nil {
					t.Errorf("ValidateDescription(%q): %v", v.Reencrypted.KeyDescription, err)
				}
			}

			// The kernel's "update user:kmk2" keeps the IV and the data.
			up := mustParse(t, v.AfterUpdate.Blob)
			if got := mustMarshal(t, up); got != v.AfterUpdate.Blob {
				t.Errorf("after-update MarshalText:\n got %s\nwant %s", got, v.AfterUpdate.Blob)
			}
			if up.IV != b.IV {
				t.Errorf("the kernel's update changed the IV")
			}
			if want := mustMaster(t, v.AfterUpdate.MasterKey.Name); up.Master != want {
				t.Errorf("after-update master = %v, want %v", up.Master, want)
			}
			if got := mustOpen(t, up, kmk2); !bytes.Equal(got, data) {
				t.Errorf("after-update Open under kmk2 = %x, want %s", got, v.DecryptedData)
			}
			re, err := Rewrap(b, RewrapOptions{OldMasterKey: kmk, NewMasterKey: kmk2, NewMaster: up.Master})
			if err != nil {
				t.Fatalf("Rewrap: %v", err)
			}
			if got := mustMarshal(t, re); got != v.AfterUpdate.Blob {
				t.Errorf("Rewrap to kmk2:\n got %s\nwant %s (the kernel's update)", got, v.AfterUpdate.Blob)
			}
			back, err := Rewrap(up, RewrapOptions{OldMasterKey: kmk2, NewMasterKey: kmk, NewMaster: b.Master})
			if err != nil {
				t.Fatalf("Rewrap back: %v", err)
			}
			if got := mustMarshal(t, back); got != v.Blob {
				t.Errorf("Rewrap back to kmk:\n got %s\nwant %s", got, v.Blob)
			}

			// A fresh-IV blob that the kernel loaded and read back unchanged.
			acc := mustParse(t, v.Reencrypted.Blob)
			if got := mustMarshal(t, acc); got != v.Reencrypted.Blob {
				t.Errorf("accepted-blob MarshalText:\n got %s\nwant %s", got, v.Reencrypted.Blob)
			}
			if got := mustOpen(t, acc, kmk); !bytes.Equal(got, data) {
				t.Errorf("accepted-blob Open = %x, want %s", got, v.DecryptedData)
			}
			sealed, err = Seal(data, SealOptions{MasterKey: kmk, Format: acc.Format, Master: acc.Master, IV: acc.IV[:]})
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if got := mustMarshal(t, sealed); got != v.Reencrypted.Blob {
				t.Errorf("Seal with the accepted blob's IV:\n got %s\nwant %s", got, v.Reencrypted.Blob)
			}
		})
	}
}

func mustFormat(t testing.TB, s string) Format {
	t.Helper()
	f, err := ParseFormat(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustMaster(t testing.TB, s string) Master {
	t.Helper()
	m, err := ParseMaster(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMasterKeyDerivation checks the key derivation against
// master_keys.json: the exact SHA-256 inputs (the extra 0x00 after the
// master key in the ENC buffer; zero padding to 32 bytes for the 7-byte
// kmk2) and the derived keys.
func TestMasterKeyDerivation(t *testing.T) {
	type derived struct {
		EncKey    string `json:"ENC_KEY"`
		EncInput  string `json:"ENC_KEY_sha256_input"`
		AuthKey   string `json:"AUTH_KEY"`
		AuthInput string `json:"AUTH_KEY_sha256_input"`
	}
	var v struct {
		KMK     struct{ Hex string } `json:"kmk"`
		KMK2    struct{ Hex string } `json:"kmk2"`
		Derived map[string]derived   `json:"derived"`
	}
	readJSON(t, "master_keys.json", &v)
	keys := map[string]string{"kmk": v.KMK.Hex, "kmk2": v.KMK2.Hex}
	if len(v.Derived) != len(keys) {
		t.Fatalf("master_keys.json derives %d keys, want %d", len(v.Derived), len(keys))
	}
	for name, d := range v.Derived {
		mk := unhex(t, keys[name])
		for _, c := range []struct{ label, input, key string }{
			{encLabel, d.EncInput, d.EncKey},
			{authLabel, d.AuthInput, d.AuthKey},
		} {
			if got := hex.EncodeToString(kdfInput(c.label, mk)); got != c.input {
				t.Errorf("%s %s input = %s, want %s", name, c.label, got, c.input)
			}
			if got := deriveKey(c.label, mk); hex.EncodeToString(got[:]) != c.key {
				t.Errorf("%s %s = %x, want %s", name, c.label, got, c.key)
			}
		}
	}
}

// TestDeterministicKAT checks kat_deterministic.json: Seal with the fixed
// IV reproduces each blob that the kernel loaded and read back unchanged,
// field by field and byte for byte, and LoadPayload reproduces the payload.
func TestDeterministicKAT(t *testing.T) {
	var kats []struct {
		Format         string    `json:"format"`
		KeyDescription string    `json:"key_description"`
		MasterKey      keyVector `json:"master_key"`
		IV             string    `json:"iv"`
		DecryptedData  string    `json:"decrypted_data"`
		HMACInput      string    `json:"hmac_input"`
		Ciphertext     string    `json:"ciphertext"`
		HMAC           string    `json:"hmac"`
		Blob           string    `json:"blob"`
		LoadPayload    string    `json:"load_payload"`
	}
	readJSON(t, "kat_deterministic.json", &kats)
	if len(kats) == 0 {
		t.Fatal("kat_deterministic.json is empty")
	}
	for _, k := range kats {
		t.Run(k.KeyDescription, func(t *testing.T) {
			mk := unhex(t, k.MasterKey.Hex)
			data := unhex(t, k.DecryptedData)
			f := mustFormat(t, k.Format)
			if err := ValidateDescription(f, k.KeyDescription); err != nil {
				t.Errorf("ValidateDescription(%q): %v", k.KeyDescription, err)
			}
			b, err := Seal(data, SealOptions{MasterKey: mk, Format: f, Master: mustMaster(t, k.MasterKey.Name), IV: unhex(t, k.IV)})
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if got := hex.EncodeToString(b.Ciphertext); got != k.Ciphertext {
				t.Errorf("ciphertext = %s, want %s", got, k.Ciphertext)
			}
			if got := hex.EncodeToString(b.HMAC[:]); got != k.HMAC {
				t.Errorf("HMAC = %s, want %s", got, k.HMAC)
			}
			if got := hex.EncodeToString(b.macInput(nil)); got != k.HMACInput {
				t.Errorf("HMAC input = %s, want %s", got, k.HMACInput)
			}
			if got := mustMarshal(t, b); got != k.Blob {
				t.Errorf("Seal:\n got %s\nwant %s", got, k.Blob)
			}
			if got, err := LoadPayload(b); err != nil || string(got) != k.LoadPayload {
				t.Errorf("LoadPayload = %q, %v; want %q", got, err, k.LoadPayload)
			}
			if got := mustOpen(t, mustParse(t, k.Blob), mk); !bytes.Equal(got, data) {
				t.Errorf("Open = %x, want %s", got, k.DecryptedData)
			}
		})
	}
}

// TestLegacyFormatless checks legacy_formatless.json: the format-less blob
// the kernel accepted parses as Legacy, round-trips, verifies under the
// legacy HMAC (no "format\0") and opens; Rewrap to the same master gives
// the kernel's read-back (modern form, new HMAC, same IV); and a modern
// blob with its format word stripped fails the HMAC, as in the kernel.
func TestLegacyFormatless(t *testing.T) {
	var v struct {
		MasterKey     string `json:"master_key"`
		DecryptedData string `json:"decrypted_data"`
		LoadPayload   string `json:"load_payload"`
		ReadBack      string `json:"read_back"`
	}
	readJSON(t, "legacy_formatless.json", &v)
	mk := unhex(t, v.MasterKey)
	text, ok := strings.CutPrefix(v.LoadPayload, "load ")
	if !ok {
		t.Fatalf("load_payload does not start with %q", "load ")
	}

	b := mustParse(t, text)
	if !b.Legacy || b.Format != Default {
		t.Errorf("Legacy, Format = %v, %v; want true, default", b.Legacy, b.Format)
	}
	if got := mustMarshal(t, b); got != text {
		t.Errorf("MarshalText:\n got %s\nwant %s", got, text)
	}
	if got, err := LoadPayload(b); err != nil || string(got) != v.LoadPayload {
		t.Errorf("LoadPayload = %q, %v", got, err)
	}
	if !bytes.HasPrefix(b.macInput(nil), []byte("user:kmk\x0032\x00")) {
		t.Errorf("legacy HMAC input starts %q, want the master first", b.macInput(nil)[:16])
	}
	if got := mustOpen(t, b, mk); !bytes.Equal(got, unhex(t, v.DecryptedData)) {
		t.Errorf("Open = %x, want %s", got, v.DecryptedData)
	}
	re, err := Rewrap(b, RewrapOptions{OldMasterKey: mk, NewMasterKey: mk, NewMaster: b.Master})
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	if got := mustMarshal(t, re); got != v.ReadBack {
		t.Errorf("Rewrap:\n got %s\nwant %s (the kernel's read-back)", got, v.ReadBack)
	}

	stripped := mustParse(t, strings.TrimPrefix(v.ReadBack, "default "))
	if _, err := Open(stripped, mk); !errors.Is(err, ErrBadHMAC) {
		t.Errorf("Open of a modern blob without its format word: %v, want ErrBadHMAC", err)
	}
}

// TestRoundtripResults guards the vectors: the kernel-side checks that
// produced them must all have passed.
func TestRoundtripResults(t *testing.T) {
	var checks []struct {
		Check string `json:"check"`
		Pass  bool   `json:"pass"`
	}
	readJSON(t, "roundtrip_results.json", &checks)
	if len(checks) == 0 {
		t.Fatal("roundtrip_results.json is empty")
	}
	for _, c := range checks {
		if !c.Pass {
			t.Errorf("kernel-side check failed, vectors are suspect: %s", c.Check)
		}
	}
}
