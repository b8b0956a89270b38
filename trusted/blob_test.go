package trusted

import (
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kernkeys/kernkeys/keyring"
)

// defaultPublic is the TPM2B_PUBLIC that tpm2_seal_trusted() asks for
// with no option: KEYEDHASH, sha256, userWithAuth, no policy, NULL
// scheme, empty unique (spec/KEY-FORMATS.md §2.4).
var defaultPublic = mustHex("000e" + "0008" + "000b" + "00000040" + "0000" + "0010" + "0000")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// syntheticKey is a key shaped like the kernel's: parent 0x81000001,
// emptyAuth, the default public area and a 192-byte private part.
func syntheticKey() *TPMKey {
	priv := make([]byte, 192)
	priv[0], priv[1] = 0x00, 190
	for i := 2; i < len(priv); i++ {
		priv[i] = byte(i*7 + 3)
	}
	return &TPMKey{EmptyAuth: true, Parent: 0x81000001, Public: defaultPublic, Private: priv}
}

func withParent(t testing.TB, parent uint32) []byte {
	k := syntheticKey()
	k.Parent = parent
	b, err := k.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The header the kernel wrote on the project's VM (testdata/ and docs/trusted.md):
// 30 81 e9, the OID, emptyAuth as a0 03 01 01 01, parent 0x81000001 as
// 02 05 00 81 00 00 01, then the OCTET STRINGs.
const vmHeader = "3081e9 06066781050a0105 a003010101 02050081000001 04"

func TestMarshalKernelLayout(t *testing.T) {
	got, err := syntheticKey().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := mustHex(vmHeader + " 10" + hex.EncodeToString(defaultPublic) + " 0481c0")
	if !bytes.HasPrefix(got, want) || len(got) != 3+0xe9 {
		t.Fatalf("MarshalBinary() = %x...; want the kernel's header %x and %d bytes", got[:min(len(got), 48)], want, 3+0xe9)
	}
	k, err := ParseBlob(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(syntheticKey(), k); diff != "" {
		t.Errorf("ParseBlob(MarshalBinary()) (-want +got):\n%s", diff)
	}
	p, err := k.PublicArea()
	if err != nil {
		t.Fatal(err)
	}
	if want := (Public{Type: 8, NameAlg: 0x000b, Attributes: AttrUserWithAuth, AuthPolicy: []byte{}}); !cmp.Equal(p, want) {
		t.Errorf("PublicArea() = %+v, want %+v", p, want)
	}
	if !p.Migratable() || p.Hash() != "sha256" {
		t.Errorf("Migratable() = %v, Hash() = %q", p.Migratable(), p.Hash())
	}
}

// encoding/asn1 refuses the kernel's BOOLEAN TRUE (0x01); ParseBlob takes
// it, and DER's 0xff, and writes the kernel's form back.
func TestBooleanEncodings(t *testing.T) {
	var b bool
	if _, err := asn1.Unmarshal([]byte{0x01, 0x01, 0x01}, &b); err == nil {
		t.Error("encoding/asn1 now accepts BOOLEAN 0x01; the package documentation says otherwise")
	}
	kernel := kernelBlob(t)
	i := bytes.Index(kernel, mustHex("a003010101"))
	for _, c := range []struct {
		name  string
		value byte
		empty bool
	}{{"kernel 0x01", 0x01, true}, {"DER 0xff", 0xff, true}, {"BER 0x5a", 0x5a, true}, {"FALSE", 0x00, false}} {
		blob := bytes.Clone(kernel)
		blob[i+4] = c.value
		k, err := ParseBlob(blob)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if k.EmptyAuth != c.empty {
			t.Errorf("%s: EmptyAuth = %v", c.name, k.EmptyAuth)
		}
		m, err := k.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if c.empty && !bytes.Equal(m, kernel) {
			t.Errorf("%s: MarshalBinary did not give the kernel's bytes back", c.name)
		}
		if !c.empty && bytes.Contains(m, mustHex("a003")) {
			t.Errorf("%s: an explicit FALSE is written back", c.name)
		}
	}
}

// Parent handles encode as asn1_encode_integer() does.
func TestParentEncoding(t *testing.T) {
	for _, c := range []struct {
		parent uint32
		der    string
	}{
		{0, "020100"},
		{1, "020101"},
		{0x7f, "02017f"},
		{0x80, "02020080"},
		{0x7fffffff, "02047fffffff"},
		{0x81000001, "02050081000001"},
		{0xffffffff, "020500ffffffff"},
	} {
		if got := hex.EncodeToString(appendInteger(nil, c.parent)); got != c.der {
			t.Errorf("appendInteger(%#x) = %s, want %s", c.parent, got, c.der)
		}
		k, err := ParseBlob(withParent(t, c.parent))
		if err != nil || k.Parent != c.parent {
			t.Errorf("parent %#x: %v, %v", c.parent, k, err)
		}
	}
}

// Lengths use the short form up to 127, then 81, 82, 83.
func TestLengthEncoding(t *testing.T) {
	for _, c := range []struct {
		n    int
		head string
	}{{0, "0400"}, {127, "047f"}, {128, "048180"}, {255, "0481ff"}, {256, "04820100"}, {65535, "0482ffff"}, {65536, "0483010000"}} {
		got := appendTLV(nil, tagOctetString, make([]byte, c.n))
		if h := hex.EncodeToString(got[:len(got)-c.n]); h != c.head {
			t.Errorf("length %d: %s, want %s", c.n, h, c.head)
		}
	}
}

// Policy and secret, the fields of userspace TSS2 keys, round-trip.
func TestPolicyAndSecret(t *testing.T) {
	k := syntheticKey()
	k.EmptyAuth = false
	k.Policy = []PolicyCommand{{CommandCode: 0x17f, Policy: mustHex("00000001000b03000001")}, {CommandCode: 0x16b, Policy: nil}}
	k.Secret = []byte{1, 2, 3}
	b, err := k.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseBlob(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k, got, cmpPayload); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	b2, _ := got.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Error("second MarshalBinary differs")
	}
}

// BER the kernel's decoder reads is accepted and written back as DER.
func TestBERTolerance(t *testing.T) {
	k := syntheticKey()
	var body []byte
	body = append(body, mustHex("06066781050a0105")...)
	body = append(body, mustHex("a003 0101ff")...)
	body = append(body, mustHex("0206 000081000001")...) // a redundant leading zero
	body = append(body, 0x04, 0x81, byte(len(k.Public))) // a long form where the short one fits
	body = append(body, k.Public...)
	body = append(body, 0x04, 0x82, 0x00, byte(len(k.Private)))
	body = append(body, k.Private...)
	blob := append([]byte{0x30, 0x82, byte(len(body) >> 8), byte(len(body))}, body...)
	got, err := ParseBlob(blob)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseBlobErrors(t *testing.T) {
	good := kernelBlob(t)
	mutate := func(f func([]byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, c := range []struct {
		name  string
		blob  []byte
		field string
	}{
		{"empty", nil, "TPMKey"},
		{"not a sequence", []byte{0x04, 0x00}, "TPMKey"},
		{"truncated", good[:len(good)-1], "TPMKey"},
		{"trailing", append(bytes.Clone(good), 0), "TPMKey"},
		{"indefinite", []byte{0x30, 0x80, 0, 0}, "TPMKey"},
		{"length of 4 bytes", []byte{0x30, 0x84, 0, 0, 0, 1, 0}, "TPMKey"},
		{"other OID", mutate(func(b []byte) []byte { b[10] = 0x06; return b }), "type"},
		{"loadable key", mutate(func(b []byte) []byte { b[10] = 0x03; return b }), "type"},
		{"boolean of 2 bytes", mustHex("300e 06066781050a0105 a004 01020101"), "emptyAuth"},
		{"no parent", mustHex("3008 06066781050a0105"), "parent"},
		{"negative parent", mutate(func(b []byte) []byte { b[16+2] = 0x81; return b }), "parent"},
		{"pubkey size", mutate(func(b []byte) []byte { b[25] = 0x0f; return b }), "pubkey"},
		{"privkey size", mutate(func(b []byte) []byte { b[3+0xe9-192+1] = 189; return b }), "privkey"},
		{"high tag", mustHex("3f00"), "TPMKey"},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseBlob(c.blob)
			var e *keyring.Error
			if k != nil || !errors.As(err, &e) || e.Field != c.field || !errors.Is(err, keyring.ErrInvalid) {
				t.Fatalf("ParseBlob = %v, %v; want an *Error of field %q", k, err, c.field)
			}
		})
	}
	// A parent above 32 bits.
	big := syntheticKey()
	b, _ := big.MarshalBinary()
	b = bytes.Replace(b, mustHex("02050081000001"), mustHex("0205ff81000001"), 1)
	if _, err := ParseBlob(b); err == nil {
		t.Error("a 40-bit parent parsed")
	}
	// MarshalBinary refuses parts that are not TPM2Bs.
	bad := syntheticKey()
	bad.Public = []byte{0, 5, 1}
	if _, err := bad.MarshalBinary(); !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("MarshalBinary of a bad pubkey: %v", err)
	}
}

func TestPublicArea(t *testing.T) {
	k := syntheticKey()
	k.Public = mustHex("003e 0008 000c 00000012 0030" + strings.Repeat("5a", 48) + "0010 0000")
	p, err := k.PublicArea()
	if err != nil {
		t.Fatal(err)
	}
	if p.Hash() != "sha384" || p.Migratable() || !bytes.Equal(p.AuthPolicy, digest(48)) || p.Attributes&AttrUserWithAuth != 0 {
		t.Errorf("PublicArea() = %+v", p)
	}
	k.Public = mustHex("0008 0008 000b 00000040")
	if _, err := k.PublicArea(); !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("short public: %v", err)
	}
	k.Public = mustHex("000c 0008 000b 00000040 0020 0000")
	if _, err := k.PublicArea(); !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("truncated policy: %v", err)
	}
	if (Public{NameAlg: 0x99}).Hash() != "" {
		t.Error("unknown nameAlg has a name")
	}
}

// rawBlob is shaped like a blob of Linux 5.10: the synthetic key's
// private and public parts, then creation data, hash and ticket.
func rawBlob() (Blob, []byte) {
	k := syntheticKey()
	creation := mustHex("0000" + "0020" + strings.Repeat("c3", 32) + "8021 40000001 0000")
	return Blob(slices.Concat(k.Private, k.Public, creation)), creation
}

func TestParseRawBlob(t *testing.T) {
	blob, creation := rawBlob()
	k, err := ParseRawBlob(blob)
	if err != nil {
		t.Fatal(err)
	}
	want := syntheticKey()
	if !bytes.Equal(k.Private, want.Private) || !bytes.Equal(k.Public, want.Public) || !bytes.Equal(k.Creation, creation) {
		t.Errorf("ParseRawBlob = %x | %x | %x", k.Private, k.Public, k.Creation)
	}
	if p, err := k.PublicArea(); err != nil || p.Type != 8 || p.Hash() != "sha256" || p.Attributes != AttrUserWithAuth {
		t.Errorf("PublicArea() = %+v, %v", p, err)
	}
	// Without what follows the public part, as a blob cut to what the
	// kernel sends the TPM.
	k, err = ParseRawBlob(blob[:len(blob)-len(creation)])
	if err != nil || k.Creation != nil {
		t.Errorf("ParseRawBlob without creation data = %v, %v", k, err)
	}
	// The parts are copies.
	blob[5] ^= 0xff
	if k.Private[5] == blob[5] {
		t.Error("Private aliases the blob")
	}

	tpmKey, err := syntheticKey().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		blob  []byte
		field string
	}{
		"TPMKey":            {tpmKey, "blob"},
		"empty":             {nil, "private"},
		"one byte":          {[]byte{0}, "private"},
		"private too long":  {mustHex("0004 010203"), "private"},
		"no public":         {mustHex("0001 01"), "public"},
		"public too long":   {mustHex("0001 01 0003 0102"), "public"},
		"over MaxBlob":      {make([]byte, MaxBlob+1), "blob"},
		"size over MaxBlob": {append(mustHex("0300"), make([]byte, 500)...), "private"},
	} {
		_, err := ParseRawBlob(tc.blob)
		var ke *keyring.Error
		if !errors.Is(err, keyring.ErrInvalid) || !errors.As(err, &ke) || !ke.Refused || ke.Field != tc.field {
			t.Errorf("%s: %v; want a refusal of %s", name, err, tc.field)
		}
	}
	if _, err := ParseRawBlob(tpmKey); err == nil || !strings.Contains(err.Error(), "ParseBlob") {
		t.Errorf("ParseRawBlob of a TPMKey: %v; want it to point to ParseBlob", err)
	}
	// And the other way round: ParseBlob refuses a raw blob.
	if _, err := ParseBlob(blob); !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("ParseBlob of a raw blob: %v", err)
	}
	if _, err := (&RawBlob{Public: mustHex("0004 0008 000b")}).PublicArea(); !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("short public: %v", err)
	}
}
