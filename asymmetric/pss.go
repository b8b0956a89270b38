package asymmetric

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"hash"
	"io"
	"strconv"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/kerr"
)

// signPSS makes an RSASSA-PSS signature: the message representative is
// encoded here (the kernel has no PSS encoding) and the kernel applies the
// private key to it, raw (RSASP1 is RSADP: KEYCTL_PKEY_DECRYPT, enc=raw).
func (k *Key) signPSS(random io.Reader, p *rsa.PublicKey, digest []byte, opts *rsa.PSSOptions) ([]byte, error) {
	const op = "asymmetric.Sign"
	h := opts.Hash
	if _, err := checkDigest(op, h, digest); err != nil {
		return nil, err
	}
	if !h.Available() {
		return nil, kerr.Refuse(op, "opts", "hash "+h.String()+" is not linked into the program")
	}
	emBits := p.N.BitLen() - 1
	emLen := (emBits + 7) / 8
	saltLen := opts.SaltLength
	switch saltLen {
	case rsa.PSSSaltLengthAuto:
		saltLen = emLen - h.Size() - 2
	case rsa.PSSSaltLengthEqualsHash:
		saltLen = h.Size()
	}
	if saltLen < 0 || emLen < h.Size()+saltLen+2 {
		return nil, kerr.Refuse(op, "opts", "PSS salt length "+strconv.Itoa(opts.SaltLength)+" does not fit the key with "+h.String())
	}
	if random == nil {
		random = rand.Reader
	}
	// The encoded message, right-aligned in the modulus's size.
	in := make([]byte, p.Size())
	em := in[len(in)-emLen:]
	salt := em[emLen-h.Size()-1-saltLen : emLen-h.Size()-1]
	if _, err := io.ReadFull(random, salt); err != nil {
		return nil, kerr.Errno(op, syscall.EIO, "no random bytes for the PSS salt: "+err.Error())
	}
	emsaPSSEncode(em, emBits, digest, saltLen, h.New())
	out := make([]byte, p.Size())
	n, err := k.key.Decrypt("enc=raw", in, out)
	if err != nil {
		return nil, err
	}
	// The kernel writes the integer's bytes, without leading zeros.
	sig := make([]byte, p.Size())
	copy(sig[len(sig)-n:], out[:n])
	return sig, nil
}

// emsaPSSEncode is EMSA-PSS-ENCODE (RFC 8017 9.1.1) in place: em holds
// ceil(emBits/8) bytes, the salt already at its place (the saltLen bytes
// before the hash and the trailer byte), and is filled in around it.
func emsaPSSEncode(em []byte, emBits int, digest []byte, saltLen int, h hash.Hash) {
	hLen := h.Size()
	db := em[:len(em)-hLen-1]
	salt := db[len(db)-saltLen:]
	// H = Hash(8 zero bytes || mHash || salt)
	var zero [8]byte
	h.Write(zero[:])
	h.Write(digest)
	h.Write(salt)
	mHash := h.Sum(em[len(db):len(db)])
	// DB = PS || 0x01 || salt, masked with MGF1(H).
	clear(db[:len(db)-saltLen-1])
	db[len(db)-saltLen-1] = 0x01
	mgf1XOR(db, h, mHash)
	db[0] &= 0xff >> (8*len(em) - emBits)
	em[len(em)-1] = 0xbc
}

// mgf1XOR xors out with MGF1(seed) (RFC 8017 B.2.1).
func mgf1XOR(out []byte, h hash.Hash, seed []byte) {
	var counter [4]byte
	var sum []byte
	for done := 0; done < len(out); {
		h.Reset()
		h.Write(seed)
		h.Write(counter[:])
		sum = h.Sum(sum[:0])
		for i := 0; i < len(sum) && done < len(out); i++ {
			out[done] ^= sum[i]
			done++
		}
		binary.BigEndian.PutUint32(counter[:], binary.BigEndian.Uint32(counter[:])+1)
	}
}
