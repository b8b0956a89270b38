package asymmetric

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // SHA-256 and SHA-512 for crypto.Hash.New
	_ "crypto/sha512"
	"math/big"
	"testing"
)

// The EMSA-PSS encoding, with the private-key operation done by math/big
// as the kernel does it (enc=raw), verifies with crypto/rsa: on every
// kernel, and for moduli whose bit length is 1 mod 8 (the encoded message
// one byte shorter than the modulus).
func TestEMSAPSSEncode(t *testing.T) {
	for _, bits := range []int{2048, 2049, 3072} {
		priv, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA512} {
			d := h.New()
			d.Write([]byte("encoded here, signed in the kernel"))
			digest := d.Sum(nil)
			for _, saltLen := range []int{0, h.Size(), 20} {
				emBits := priv.N.BitLen() - 1
				em := make([]byte, (emBits+7)/8)
				rand.Read(em[len(em)-h.Size()-1-saltLen : len(em)-h.Size()-1])
				emsaPSSEncode(em, emBits, digest, saltLen, h.New())
				s := new(big.Int).Exp(new(big.Int).SetBytes(em), priv.D, priv.N)
				sig := s.FillBytes(make([]byte, priv.Size()))
				if err := rsa.VerifyPSS(&priv.PublicKey, h, digest, sig, &rsa.PSSOptions{SaltLength: saltLen}); err != nil {
					t.Errorf("%d bits, %v, salt %d: %v", bits, h, saltLen, err)
				}
			}
		}
	}
}
