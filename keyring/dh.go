package keyring

import (
	"strconv"

	"github.com/kernkeys/kernkeys/internal/keyctl"
)

// DHParams names the three user keys of a Diffie-Hellman computation: the
// private exponent, the prime and the base, each a big-endian integer.
type DHParams struct {
	Private, Prime, Base Key
}

// KDF applies a key derivation function (SP800-56A, the kernel's
// "kdf_ctr" construction) to the shared secret.
type KDF struct {
	// Hash is a kernel crypto hash name, such as "sha256".
	Hash string
	// OtherInfo is the KDF's OtherInfo field; may be empty.
	OtherInfo []byte
}

// DHCompute computes base^private mod prime (KEYCTL_DH_COMPUTE,
// keyctl_dh_compute(3)) and returns it, as long as the prime.
//
// The kernel's DH (crypto/dh.c) refuses primes shorter than 1536 bits
// (2048 in FIPS mode) with EINVAL: RFC 3526's group 5 is the smallest
// that works (measured on Linux 6.1 in the VM).
//
// Errors: ErrNotSupported (no CONFIG_KEY_DH_OPERATIONS), ErrPermission (no
// READ on a key), ErrInvalid (also for a prime that is too short),
// ErrNotFound (a key that cannot be looked up, the zero Key and unknown
// negative IDs included: the kernel answers ENOKEY for each).
func DHCompute(p DHParams) ([]byte, error) {
	kp := p.raw()
	n, e := keyctl.DHCompute(&kp, nil, nil)
	if e != 0 {
		return nil, fail("dh_compute", p.Private.id, e)
	}
	buf := make([]byte, n)
	n, e = keyctl.DHCompute(&kp, buf, nil)
	if e != 0 {
		Wipe(buf)
		return nil, fail("dh_compute", p.Private.id, e)
	}
	return buf[:n], nil
}

// DHComputeKDF computes the shared secret as DHCompute does and returns n
// bytes derived from it with kdf (keyctl_dh_compute_kdf(3)).
//
// Errors: as for DHCompute; ErrInvalid before the call for an empty,
// over-long or '.'-prefixed hash name and for n outside 1..1 MiB - 1.
func DHComputeKDF(p DHParams, kdf KDF, n int) ([]byte, error) {
	kp := p.raw()
	if err := checkType("dh_compute", p.Private.id, "KDF.Hash", kdf.Hash); err != nil {
		return nil, err
	}
	if n <= 0 || n > MaxPayload {
		return nil, invalid("dh_compute", p.Private.id, "n", "output length "+strconv.Itoa(n)+" out of range")
	}
	var h cstring
	kk := keyctl.KDFParams{HashName: h.set(kdf.Hash), OtherInfoLen: uint32(len(kdf.OtherInfo))}
	if len(kdf.OtherInfo) > 0 {
		kk.OtherInfo = &kdf.OtherInfo[0]
	}
	buf := make([]byte, n)
	got, e := keyctl.DHCompute(&kp, buf, &kk)
	if e != 0 {
		Wipe(buf)
		return nil, fail("dh_compute", p.Private.id, e)
	}
	return buf[:got], nil
}

// raw gives the keys' IDs as they are: the kernel answers ENOKEY for one
// that names no key, 0 and unknown negative IDs included.
func (p DHParams) raw() keyctl.DHParams {
	return keyctl.DHParams{Private: int32(p.Private.id), Prime: int32(p.Prime.id), Base: int32(p.Base.id)}
}
