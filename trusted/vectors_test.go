package trusted

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// kernelVector is a blob the kernel made (testdata/README.md) and what its
// payload asked for.
type kernelVector struct {
	name         string
	emptyAuth    bool
	hash         string
	migratable   bool
	policy       []byte
	userWithAuth bool
	publicLen    int
	totalLen     int
}

var kernelVectors = []kernelVector{
	{name: "default", emptyAuth: true, hash: "sha256", migratable: true, userWithAuth: true, publicLen: 0x30, totalLen: 3 + 0xe9},
	{name: "blobauth", emptyAuth: false, hash: "sha256", migratable: true, userWithAuth: true, publicLen: 0x30, totalLen: 3 + 0xe4},
	{name: "sha1", emptyAuth: true, hash: "sha1", migratable: true, userWithAuth: true, publicLen: 0x24, totalLen: 3 + 0xc5},
	{name: "sha384", emptyAuth: true, hash: "sha384", migratable: true, userWithAuth: true, publicLen: 0x40, totalLen: 4 + 0x119},
	{name: "policy256", emptyAuth: true, hash: "sha256", migratable: false, policy: make([]byte, 32), userWithAuth: false, publicLen: 0x50, totalLen: 4 + 0x109},
}

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", "tpm2-"+name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(string(text))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The kernel's blobs parse to what their payloads asked for, marshal back
// byte for byte, and load payloads are built from them.
func TestKernelVectors(t *testing.T) {
	for _, v := range kernelVectors {
		t.Run(v.name, func(t *testing.T) {
			blob := readVector(t, v.name)
			if len(blob) != v.totalLen {
				t.Errorf("%d bytes, want %d", len(blob), v.totalLen)
			}
			hdr := 3 + int(blob[1]-0x81) // 30 81 xx or 30 82 xx xx
			if !bytes.HasPrefix(blob[hdr:], mustHex("06066781050a0105")) {
				t.Errorf("no TPMSealedData OID after the SEQUENCE header: %x", blob[:16])
			}
			k, err := ParseBlob(blob)
			if err != nil {
				t.Fatal(err)
			}
			m, err := k.MarshalBinary()
			if err != nil || !bytes.Equal(m, blob) {
				t.Fatalf("MarshalBinary does not give the kernel's bytes back (%v)", err)
			}
			if k.Parent != 0x81000001 || k.EmptyAuth != v.emptyAuth || k.Policy != nil || k.Secret != nil || len(k.Public) != v.publicLen {
				t.Errorf("parent %#x, emptyAuth %v, policy %v, secret %v, public %d bytes", k.Parent, k.EmptyAuth, k.Policy, k.Secret, len(k.Public))
			}
			p, err := k.PublicArea()
			if err != nil {
				t.Fatal(err)
			}
			if p.Type != 0x0008 || p.Hash() != v.hash || p.Migratable() != v.migratable ||
				!bytes.Equal(p.AuthPolicy, v.policy) || (p.Attributes&AttrUserWithAuth != 0) != v.userWithAuth {
				t.Errorf("PublicArea() = %+v", p)
			}
			text, err := LoadPayload(TPM2, blob, Options{})
			if err != nil || !bytes.Equal(text, []byte("load "+hexs(blob))) {
				t.Errorf("LoadPayload = %q, %v", text, err)
			}
		})
	}
}
