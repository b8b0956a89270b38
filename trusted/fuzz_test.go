package trusted

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kernkeys/kernkeys/keyring"
)

// FuzzParseBlob: ParseBlob never panics, rejects only with ErrInvalid, and
// whatever it accepts marshals, re-parses to the same TPMKey and marshals
// to the same bytes (parse∘marshal is stable). PublicArea does not panic.
func FuzzParseBlob(f *testing.F) {
	f.Add(kernelBlob(f))
	for _, v := range kernelVectors {
		f.Add(readVector(f, v.name))
	}
	k := syntheticKey()
	k.Policy = []PolicyCommand{{CommandCode: 0x17f, Policy: []byte{1, 2}}}
	k.Secret = []byte{3}
	b, err := k.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(mustHex("3014 06066781050a0105 a0030101ff 020101 04020000 04020000"))
	f.Fuzz(func(t *testing.T, blob []byte) {
		k, err := ParseBlob(blob)
		if err != nil {
			if k != nil || !errors.Is(err, keyring.ErrInvalid) {
				t.Fatalf("ParseBlob = %v, %v; want nil and an ErrInvalid", k, err)
			}
			return
		}
		_, _ = k.PublicArea()
		m, err := k.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of a parsed key: %v", err)
		}
		k2, err := ParseBlob(m)
		if err != nil {
			t.Fatalf("ParseBlob(MarshalBinary()) = %v", err)
		}
		if diff := cmp.Diff(k, k2, cmpPayload); diff != "" {
			t.Fatalf("re-parse differs (-first +second):\n%s", diff)
		}
		m2, err := k2.MarshalBinary()
		if err != nil || !bytes.Equal(m, m2) {
			t.Fatalf("second MarshalBinary differs: %v", err)
		}
	})
}

// FuzzParsePayload: ParsePayload never panics, rejects only with
// ErrInvalid, and what it accepts marshals to a canonical text that
// parses to the same payload and marshals to the same text.
func FuzzParsePayload(f *testing.F) {
	blob := hexs(kernelBlob(f))
	for _, s := range []string{
		"new 32 keyhandle=0x81000001",
		"new\t+064\n keyhandle=81000001 keyauth=" + auth20h + " blobauth=pw pcrinfo=00 pcrlock=16 migratable=0 hash=sha1 policydigest=" + hexs(digest(20)) + " policyhandle=3000000",
		"load " + blob + " blobauth=" + auth20h,
		"update keyhandle=1 migratable=1",
	} {
		for b := TPM1; b <= DCP; b++ {
			f.Add(uint8(b), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, b uint8, text []byte) {
		p, err := ParsePayload(Backend(b), text)
		if err != nil {
			if !errors.Is(err, keyring.ErrInvalid) {
				t.Fatalf("ParsePayload error %v does not match ErrInvalid", err)
			}
			return
		}
		m, err := p.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText of a parsed payload: %v", err)
		}
		p2, err := ParsePayload(Backend(b), m)
		if err != nil {
			t.Fatalf("ParsePayload(MarshalText()) = %v", err)
		}
		if diff := cmp.Diff(p, p2, cmpPayload); diff != "" {
			t.Fatalf("re-parse differs (-first +second):\n%s", diff)
		}
		if m2, _ := p2.MarshalText(); !bytes.Equal(m, m2) {
			t.Fatal("second MarshalText differs")
		}
	})
}
