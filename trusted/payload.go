package trusted

import (
	"bytes"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
)

// The kernel's limits (include/keys/trusted-type.h).
const (
	// MinKeyLen and MaxKeyLen bound the key length of "new" in bytes
	// (MIN_KEY_SIZE, MAX_KEY_SIZE).
	MinKeyLen = 32
	MaxKeyLen = 128
	// MaxBlob is the largest sealed blob "load" takes, in bytes
	// (MAX_BLOB_SIZE).
	MaxBlob = 512
	// MaxPCRInfo is the largest pcrinfo= value in bytes
	// (MAX_PCRINFO_SIZE).
	MaxPCRInfo = 64
	// AuthSize is the size of keyauth= and of a hex blobauth= value in
	// bytes (TPM_DIGEST_SIZE, SHA-1's): 40 hex digits in the payload.
	AuthSize = 20
	// maxPayload is the largest payload trusted_instantiate takes.
	maxPayload = 32767
)

// Command is the first word of a payload.
type Command uint8

const (
	// CommandNew makes a key of Options.KeyLen random bytes from the trust
	// source's RNG (or the kernel's, with trusted.rng=kernel) and seals
	// it: "new <keylen> [options]". add_key only.
	CommandNew Command = iota + 1
	// CommandLoad unseals a blob: "load <hex blob> [options]". add_key
	// only.
	CommandLoad
	// CommandUpdate reseals the key's data with new options:
	// "update [options]". KEYCTL_UPDATE only, on a migratable key.
	CommandUpdate
)

var commandNames = [...]string{CommandNew: "new", CommandLoad: "load", CommandUpdate: "update"}

// String returns "new", "load" or "update".
func (c Command) String() string {
	if c >= CommandNew && c <= CommandUpdate {
		return commandNames[c]
	}
	return "Command(" + strconv.Itoa(int(c)) + ")"
}

// Options are the key length of a new key and the options of the payload
// grammar, which only TPM backends parse (getoptions() in trusted_tpm1.c
// serves both TPM versions). The zero value is a 32-byte key and no
// option at all, the kernel's defaults. Each field after KeyLen is written
// as one name=value token, in the order below; a zero field is not
// written.
//
// The kernel parses every option for new, load and update, and most
// matter for only some commands: sealing (new, update) uses keyhandle,
// keyauth, blobauth, pcrinfo (TPM 1.2), migratable, hash and
// policydigest; unsealing (load) uses keyhandle (TPM 1.2, and TPM 2.0
// blobs in the pre-5.13 format), keyauth, blobauth and policyhandle;
// pcrlock applies to all three. The same Options may be given to New and
// Load.
//
// KeyAuth and BlobAuth are secrets: the caller owns them ([Options.Wipe]
// clears them), and payloads built from them should be cleared with
// keyring.Wipe. String leaves them out.
type Options struct {
	// KeyLen is the length in bytes of the key that "new" makes
	// ([New], [NewPayload]): MinKeyLen to MaxKeyLen; 0 means 32
	// (MinKeyLen). Load and update take the key's data from its blob, and
	// ignore KeyLen, so the same Options may be given to all three.
	KeyLen int
	// KeyHandle (keyhandle=) is the handle of the parent key that seals
	// the data. TPM 1.2: 0 means the storage root key, 0x40000000.
	// TPM 2.0: required for new and update, usually a persistent handle
	// such as 0x81000001; a TPM 2.0 blob made by Linux 5.13 or later
	// carries its parent, and the kernel ignores keyhandle= when loading
	// it, so it must then be 0 or equal that parent.
	KeyHandle uint32
	// KeyAuth (keyauth=) is the parent key's authorization value,
	// exactly AuthSize bytes; nil means 20 zero bytes.
	KeyAuth []byte
	// BlobAuth (blobauth=) is the sealed data's authorization value:
	// AuthSize bytes, or on TPM 2.0 also a password of 1 to 19 bytes
	// with no space, tab or NUL, passed to the kernel as it is. nil
	// means none; then a TPM 2.0 blob says emptyAuth.
	BlobAuth []byte
	// PCRInfo (pcrinfo=) is a TPM 1.2 TPM_PCR_INFO structure binding
	// the data to PCR values, at most MaxPCRInfo bytes. TPM 2.0 parses
	// it and ignores it: bind with PolicyDigest instead.
	PCRInfo []byte
	// PCRLock (pcrlock=) is a PCR that the kernel extends after sealing
	// or unsealing, so that data sealed to it cannot be unsealed again
	// until reboot. It needs CAP_SYS_ADMIN. 0 means none, so PCR 0
	// cannot be locked this way; the TPM refuses a PCR it does not have
	// (EINVAL, after sealing or unsealing).
	PCRLock int
	// NonMigratable (migratable=0) makes a key that the kernel refuses to
	// update (EPERM); on TPM 2.0 it also sets fixedTPM and fixedParent
	// on the sealed object. Only new and update use it: a loaded key
	// takes the flag from its blob. migratable=1 is the default and is
	// never written.
	NonMigratable bool
	// Hash (hash=) is the hash algorithm of the sealed object's name and
	// policy: "sha1", "sha256", "sha384", "sha512" or "sm3" on TPM 2.0
	// (default sha256), "sha1" on TPM 1.2 (its only one). "" means the
	// default and is not written.
	Hash string
	// PolicyDigest (policydigest=, TPM 2.0 only) is the sealed object's
	// authPolicy: unsealing then needs a policy session (PolicyHandle)
	// that satisfies it, and the password alone no longer unseals. Its
	// length is the digest size of Hash.
	PolicyDigest []byte
	// PolicyHandle (policyhandle=, TPM 2.0 only) is a policy session
	// that authorizes unsealing; 0 means a password session.
	PolicyHandle uint32
}

// isZero reports whether o sets no option of the payload grammar (KeyLen
// is none: it is the argument of new).
func (o *Options) isZero() bool {
	return o.KeyHandle == 0 && len(o.KeyAuth) == 0 && len(o.BlobAuth) == 0 &&
		len(o.PCRInfo) == 0 && o.PCRLock == 0 && !o.NonMigratable &&
		o.Hash == "" && len(o.PolicyDigest) == 0 && o.PolicyHandle == 0
}

// String describes the options in the payload's words, without the
// authorization values and without KeyLen: "keyhandle=0x81000001
// blobauth=<5 bytes>".
func (o Options) String() string {
	b := o.appendOptions(nil, true)
	if len(b) == 0 {
		return ""
	}
	return string(b[1:])
}

// Wipe clears the authorization values in o (KeyAuth and BlobAuth).
func (o *Options) Wipe() {
	clear(o.KeyAuth)
	clear(o.BlobAuth)
}

// appendOptions appends " name=value" for each option set in o; with
// redact, the authorization values are replaced by their size.
func (o *Options) appendOptions(b []byte, redact bool) []byte {
	if o.KeyHandle != 0 {
		b = strconv.AppendUint(append(b, " keyhandle=0x"...), uint64(o.KeyHandle), 16)
	}
	if len(o.KeyAuth) > 0 {
		b = appendAuth(append(b, " keyauth="...), o.KeyAuth, redact)
	}
	if len(o.BlobAuth) > 0 {
		b = appendAuth(append(b, " blobauth="...), o.BlobAuth, redact)
	}
	if len(o.PCRInfo) > 0 {
		b = hex.AppendEncode(append(b, " pcrinfo="...), o.PCRInfo)
	}
	if o.PCRLock != 0 {
		b = strconv.AppendInt(append(b, " pcrlock="...), int64(o.PCRLock), 10)
	}
	if o.NonMigratable {
		b = append(b, " migratable=0"...)
	}
	if o.Hash != "" {
		b = append(append(b, " hash="...), o.Hash...)
	}
	if len(o.PolicyDigest) > 0 {
		b = hex.AppendEncode(append(b, " policydigest="...), o.PolicyDigest)
	}
	if o.PolicyHandle != 0 {
		b = strconv.AppendUint(append(b, " policyhandle=0x"...), uint64(o.PolicyHandle), 16)
	}
	return b
}

// appendAuth appends an authorization value: AuthSize bytes in hex, a
// shorter TPM 2.0 password as it is, or with redact only its size.
func appendAuth(b, v []byte, redact bool) []byte {
	switch {
	case redact:
		return append(strconv.AppendInt(append(b, '<'), int64(len(v)), 10), " bytes>"...)
	case len(v) == AuthSize:
		return hex.AppendEncode(b, v)
	}
	return append(b, v...)
}

// check reports whether backend b's kernel code accepts o with command
// c, before it reaches the trust source. blobParent is the parent handle
// carried by a TPM 2.0 load blob, or 0.
func (o *Options) check(op string, b Backend, c Command, blobParent uint32) error {
	if !b.IsTPM() {
		if !o.isZero() {
			return invalid(op, "options", "the "+b.String()+" backend ignores every option: the kernel would accept them and apply none")
		}
		return nil
	}
	if o.KeyHandle == 0 && b == TPM2 && c != CommandLoad {
		return invalid(op, "keyhandle", "TPM 2.0 needs the parent key's handle (keyhandle=) to seal")
	}
	if o.KeyHandle == 0 && b == TPM2 && c == CommandLoad && blobParent == 0 {
		return invalid(op, "keyhandle", "a TPM 2.0 blob in the pre-5.13 format (not a TPMKey) needs the parent key's handle (keyhandle=)")
	}
	if o.KeyHandle != 0 && blobParent != 0 && o.KeyHandle != blobParent {
		return invalid(op, "keyhandle", "differs from the parent handle inside the blob, which the kernel uses instead")
	}
	if len(o.KeyAuth) != 0 && len(o.KeyAuth) != AuthSize {
		return invalid(op, "keyauth", "must be "+strconv.Itoa(AuthSize)+" bytes, not "+strconv.Itoa(len(o.KeyAuth)))
	}
	if err := checkBlobAuth(op, b, o.BlobAuth); err != nil {
		return err
	}
	if len(o.PCRInfo) > MaxPCRInfo {
		return invalid(op, "pcrinfo", "is "+strconv.Itoa(len(o.PCRInfo))+" bytes, over "+strconv.Itoa(MaxPCRInfo))
	}
	if o.PCRLock < 0 || o.PCRLock > math.MaxInt32 {
		return invalid(op, "pcrlock", "must be a PCR number between 0 (none) and 2147483647")
	}
	h, ok := lookupHash(b, o.Hash)
	if !ok {
		if b == TPM1 {
			return invalid(op, "hash", "TPM 1.2 supports only sha1")
		}
		return invalid(op, "hash", "TPM 2.0 sealing supports only sha1, sha256, sha384, sha512 and sm3")
	}
	if b == TPM1 && len(o.PolicyDigest) > 0 {
		return invalid(op, "policydigest", "TPM 1.2 has no policies")
	}
	if len(o.PolicyDigest) > 0 && len(o.PolicyDigest) != h.size {
		return invalid(op, "policydigest", "must be "+strconv.Itoa(h.size)+" bytes, the digest size of "+h.name+", not "+strconv.Itoa(len(o.PolicyDigest)))
	}
	if b == TPM1 && o.PolicyHandle != 0 {
		return invalid(op, "policyhandle", "TPM 1.2 has no policy sessions")
	}
	return nil
}

// checkBlobAuth checks a blobauth= value: AuthSize bytes (written in
// hex), or on TPM 2.0 a shorter password that the payload can carry.
func checkBlobAuth(op string, b Backend, v []byte) error {
	switch {
	case len(v) == 0, len(v) == AuthSize:
		return nil
	case b == TPM1:
		return invalid(op, "blobauth", "TPM 1.2 takes exactly "+strconv.Itoa(AuthSize)+" bytes, not "+strconv.Itoa(len(v)))
	case len(v) > AuthSize:
		return invalid(op, "blobauth", "is "+strconv.Itoa(len(v))+" bytes, over "+strconv.Itoa(AuthSize))
	case bytes.ContainsAny(v, " \t\x00"):
		return invalid(op, "blobauth", "a password shorter than 20 bytes goes into the payload as it is, and cannot contain a space, a tab or a NUL byte")
	}
	return nil
}

// Payload is a trusted key's add_key or KEYCTL_UPDATE payload for one
// backend. Build one with [NewPayload], [LoadPayload] or
// [UpdatePayload], or parse one with [ParsePayload].
type Payload struct {
	// Backend decides which options are valid.
	Backend Backend
	Command Command
	// Blob is the sealed blob of CommandLoad, 1 to MaxBlob bytes, as
	// [ReadBlob] returns it.
	Blob Blob
	// Options.KeyLen is the key length of CommandNew (0 means 32);
	// the other options must be zero for the tee, caam and dcp backends.
	Options Options
}

// NewPayload returns the add_key payload that makes a key of o.KeyLen
// random bytes (MinKeyLen to MaxKeyLen; 0 means 32) sealed by backend b:
//
//	new <keylen> [options]
//
// For TPM2, o.KeyHandle is required. The payload may hold o's
// authorization values: clear it with keyring.Wipe after use. Errors are
// refusals matching keyring.ErrInvalid.
func NewPayload(b Backend, o Options) ([]byte, error) {
	return Payload{Backend: b, Command: CommandNew, Options: o}.appendText("NewPayload", nil)
}

// LoadPayload returns the add_key payload that unseals blob, as
// [ReadBlob] returned it, with backend b:
//
//	load <hex blob> [options]
//
// For TPM2, a TPMKey blob (Linux 5.13 and later) carries its parent key's
// handle; an older raw blob needs o.KeyHandle. o.KeyLen is ignored. The
// payload may hold o's authorization values: clear it with keyring.Wipe
// after use. Errors are refusals matching keyring.ErrInvalid.
func LoadPayload(b Backend, blob Blob, o Options) ([]byte, error) {
	return Payload{Backend: b, Command: CommandLoad, Blob: blob, Options: o}.appendText("LoadPayload", nil)
}

// UpdatePayload returns the KEYCTL_UPDATE payload that reseals a key's
// data with the options o, for example to bind it to other PCR values or
// another policy:
//
//	update [options]
//
// Only TPM keys can be updated, and only while migratable. For TPM2,
// o.KeyHandle is required; o.KeyLen is ignored. The payload may hold o's
// authorization values: clear it with keyring.Wipe after use. Errors are
// refusals matching keyring.ErrInvalid.
func UpdatePayload(b Backend, o Options) ([]byte, error) {
	return Payload{Backend: b, Command: CommandUpdate, Options: o}.appendText("UpdatePayload", nil)
}

// Validate reports whether the kernel's parser, for p.Backend, accepts p
// and would pass it on to the trust source. Errors are refusals matching
// keyring.ErrInvalid.
func (p Payload) Validate() error { return p.check("Payload.Validate") }

// MarshalText returns the payload text. It may hold authorization
// values: clear it with keyring.Wipe after use. Errors are refusals
// matching keyring.ErrInvalid.
func (p Payload) MarshalText() ([]byte, error) { return p.appendText("Payload.MarshalText", nil) }

// AppendText appends the payload text to dst. Errors are refusals
// matching keyring.ErrInvalid.
func (p Payload) AppendText(dst []byte) ([]byte, error) {
	return p.appendText("Payload.AppendText", dst)
}

// String describes p without authorization values or the blob's bytes:
// "new 32 keyhandle=0x81000001", "load <blob of 233 bytes>".
func (p Payload) String() string {
	b := []byte(p.Command.String())
	switch p.Command {
	case CommandNew:
		b = strconv.AppendInt(append(b, ' '), int64(p.Options.keyLen()), 10)
	case CommandLoad:
		b = append(strconv.AppendInt(append(b, " <blob of "...), int64(len(p.Blob)), 10), " bytes>"...)
	}
	return string(p.Options.appendOptions(b, true))
}

func (p Payload) check(op string) error {
	if !p.Backend.valid() {
		return invalid(op, "backend", "unknown backend "+p.Backend.String()+" (see KernelBackend)")
	}
	var parent uint32
	switch p.Command {
	case CommandNew:
		if n := p.Options.keyLen(); n < MinKeyLen || n > MaxKeyLen {
			return invalid(op, "keylen", strconv.Itoa(n)+" is outside 32..128")
		}
	case CommandLoad:
		if len(p.Blob) == 0 || len(p.Blob) > MaxBlob {
			return invalid(op, "blob", "is "+strconv.Itoa(len(p.Blob))+" bytes, outside 1..512")
		}
		if p.Backend == TPM2 {
			if k, err := ParseBlob(p.Blob); err == nil {
				parent = k.Parent
				if k.Policy != nil || k.Secret != nil {
					// tpm2key.asn1 has neither: the kernel would fail to
					// decode the blob and misread it as a pre-5.13 one.
					return invalid(op, "blob", "a TPMKey with a policy or secret field, which the kernel's TPMKey grammar does not have")
				}
				if parent == 0 {
					// The kernel would take the 0 as the handle, and refuse it.
					return invalid(op, "blob", "the TPMKey's parent handle is 0")
				}
			} else if p.Blob[0] != tagSequence {
				// tpm2_load_cmd reads it as a raw blob and checks that its
				// two TPM2Bs fit (EINVAL or E2BIG), as ParseRawBlob does.
				if _, field, reason := splitRawBlob(p.Blob); field != "" {
					return invalid(op, "blob", "is neither a TPMKey nor a raw TPM 2.0 blob (the format before Linux 5.13): its TPM2B_"+strings.ToUpper(field)+" "+reason)
				}
			}
		}
	case CommandUpdate:
		if !p.Backend.Migratable() {
			return invalid(op, "command", "keys of the "+p.Backend.String()+" backend are never migratable: the kernel refuses every update (EPERM)")
		}
	default:
		return invalid(op, "command", "unknown command "+p.Command.String())
	}
	return p.Options.check(op, p.Backend, p.Command, parent)
}

func (p Payload) appendText(op string, dst []byte) ([]byte, error) {
	if err := p.check(op); err != nil {
		return nil, err
	}
	start := len(dst)
	dst = append(dst, p.Command.String()...)
	switch p.Command {
	case CommandNew:
		dst = strconv.AppendInt(append(dst, ' '), int64(p.Options.keyLen()), 10)
	case CommandLoad:
		dst = hex.AppendEncode(append(dst, ' '), p.Blob)
	}
	dst = p.Options.appendOptions(dst, false) // empty for the other backends
	if len(dst)-start > maxPayload {
		clear(dst[start:])
		return nil, invalid(op, "payload", "is longer than 32767 bytes")
	}
	return dst, nil
}

// keyLen returns the key length of new: o.KeyLen, or 32 for 0.
func (o *Options) keyLen() int {
	if o.KeyLen == 0 {
		return MinKeyLen
	}
	return o.KeyLen
}
