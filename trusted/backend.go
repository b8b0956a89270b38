package trusted

import "strconv"

// Backend is the trust source that seals a trusted key's data, as far as
// the payload grammar is concerned: the kernel parses options only for
// TPMs, and parses them differently for TPM 1.2 and TPM 2.0. The zero
// value is no backend; builders and parsers refuse it. [KernelBackend]
// tells which one the running kernel uses.
type Backend uint8

const (
	// TPM1 is a TPM 1.2 (trusted.source=tpm, trusted_tpm1.c). Blobs are
	// TPM_STORED_DATA structures; keys are sealed under the storage root
	// key (handle 0x40000000) unless keyhandle= names another.
	TPM1 Backend = iota + 1
	// TPM2 is a TPM 2.0 (trusted.source=tpm, trusted_tpm2.c). Blobs are
	// DER TPMKey structures ([ParseBlob]) since Linux 5.13; keyhandle=
	// naming the parent key is required for new keys and updates.
	TPM2
	// TEE is a Trusted Execution Environment, OP-TEE's trusted-keys TA
	// (trusted.source=tee, Linux 5.13). Blobs are opaque.
	TEE
	// CAAM is NXP's Cryptographic Acceleration and Assurance Module
	// (trusted.source=caam, Linux 5.19). Blobs are CAAM blobs: the key
	// length plus 48 bytes.
	CAAM
	// DCP is NXP's Data Co-Processor (trusted.source=dcp, Linux 6.10).
	// Blobs are 53 bytes plus the key length.
	DCP
)

var backendNames = [...]string{
	TPM1: "TPM 1.2",
	TPM2: "TPM 2.0",
	TEE:  "tee",
	CAAM: "caam",
	DCP:  "dcp",
}

// String returns "TPM 1.2", "TPM 2.0", "tee", "caam" or "dcp".
func (b Backend) String() string {
	if b.valid() {
		return backendNames[b]
	}
	return "Backend(" + strconv.Itoa(int(b)) + ")"
}

// Source returns the backend's name in the kernel's trusted.source=
// parameter: "tpm" (for both TPM versions), "tee", "caam" or "dcp".
func (b Backend) Source() string {
	switch b {
	case TPM1, TPM2:
		return "tpm"
	case TEE, CAAM, DCP:
		return backendNames[b]
	}
	return ""
}

// IsTPM reports whether b is TPM1 or TPM2, the backends that take
// options.
func (b Backend) IsTPM() bool { return b == TPM1 || b == TPM2 }

// Migratable reports whether new keys of backend b are migratable by
// default (trusted_key_ops.migratable): TPM keys are, unless made with
// migratable=0; tee, caam and dcp keys never are, so the kernel refuses
// to update them.
func (b Backend) Migratable() bool { return b.IsTPM() }

func (b Backend) valid() bool { return b >= TPM1 && b <= DCP }

// hashAlg is a hash= value that a TPM backend can use: its name in the
// kernel's hash_algo_name[], its digest size and its TPM_ALG_ID.
type hashAlg struct {
	name   string
	size   int
	tpmAlg uint16
}

// tpm2Hashes are the hashes of tpm2_hash_map in trusted_tpm2.c, the only
// ones TPM 2.0 sealing accepts. TPM 1.2 accepts only sha1.
var tpm2Hashes = [...]hashAlg{
	{"sha1", 20, 0x0004},
	{"sha256", 32, 0x000b},
	{"sha384", 48, 0x000c},
	{"sha512", 64, 0x000d},
	{"sm3", 32, 0x0012}, // HASH_ALGO_SM3_256, TPM_ALG_SM3_256
}

// lookupHash returns the hash named name for backend b ("" is b's
// default: sha1 for TPM 1.2, sha256 for TPM 2.0).
func lookupHash(b Backend, name string) (hashAlg, bool) {
	if name == "" {
		if b == TPM1 {
			return tpm2Hashes[0], true
		}
		return tpm2Hashes[1], true
	}
	for _, h := range tpm2Hashes {
		if h.name == name {
			return h, b == TPM2 || h.name == "sha1"
		}
	}
	return hashAlg{}, false
}

// hashByAlg returns the hash whose TPM_ALG_ID is alg.
func hashByAlg(alg uint16) (hashAlg, bool) {
	for _, h := range tpm2Hashes {
		if h.tpmAlg == alg {
			return h, true
		}
	}
	return hashAlg{}, false
}
