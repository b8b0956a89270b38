package trusted

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strconv"
)

// Blob is a trusted key's sealed blob: what [ReadBlob] returns and [Load]
// takes, at most MaxBlob bytes. Only the trust source that sealed it can
// unseal it, so it is no secret by itself and may be stored as it is. Its
// format is the backend's: for TPM 2.0 since Linux 5.13 a DER TPMKey
// ([ParseBlob]), before 5.13 a TPM2B_PRIVATE and a TPM2B_PUBLIC
// ([ParseRawBlob]), which loads only with [Options.KeyHandle]; for TPM 1.2,
// tee, caam and dcp opaque bytes.
//
// The kernel's text form of a blob, what KEYCTL_READ returns and what
// "load" takes, is hex: [Blob.MarshalText] writes it, in lower case, and
// [Blob.UnmarshalText] reads it. The binary form is the bytes themselves.
type Blob []byte

// MarshalText returns b in hex, as the kernel reads and writes it.
func (b Blob) MarshalText() ([]byte, error) { return b.AppendText(nil) }

// AppendText appends b in hex to dst.
func (b Blob) AppendText(dst []byte) ([]byte, error) { return hex.AppendEncode(dst, b), nil }

// UnmarshalText sets *b to the blob whose hex form is text, in either
// case. It refuses an odd number of digits (the kernel would drop the last
// one), anything but hex, and more than MaxBlob bytes; the errors match
// keyring.ErrInvalid and do not quote text.
func (b *Blob) UnmarshalText(text []byte) error {
	v, err := decodeHex("Blob.UnmarshalText", "blob", text, MaxBlob)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalBinary returns a copy of b's bytes.
func (b Blob) MarshalBinary() ([]byte, error) { return bytes.Clone([]byte(b)), nil }

// AppendBinary appends b's bytes to dst.
func (b Blob) AppendBinary(dst []byte) ([]byte, error) { return append(dst, b...), nil }

// UnmarshalBinary sets *b to a copy of data. It refuses more than MaxBlob
// bytes with an error matching keyring.ErrInvalid.
func (b *Blob) UnmarshalBinary(data []byte) error {
	if len(data) > MaxBlob {
		return invalid("Blob.UnmarshalBinary", "blob", "is "+strconv.Itoa(len(data))+" bytes, over "+strconv.Itoa(MaxBlob))
	}
	*b = bytes.Clone(data)
	return nil
}

// TPMKey is the blob of a TPM 2.0 trusted key made by Linux 5.13 or
// later: the DER encoding of
//
//	TPMKey ::= SEQUENCE {
//	    type       OBJECT IDENTIFIER,            -- 2.23.133.10.1.5, TPMSealedData
//	    emptyAuth  [0] EXPLICIT BOOLEAN OPTIONAL,
//	    policy     [1] EXPLICIT SEQUENCE OF TPMPolicy OPTIONAL,
//	    secret     [2] EXPLICIT OCTET STRING OPTIONAL,
//	    parent     INTEGER,
//	    pubkey     OCTET STRING,                 -- TPM2B_PUBLIC
//	    privkey    OCTET STRING }                -- TPM2B_PRIVATE
//	TPMPolicy ::= SEQUENCE {
//	    commandCode   [0] EXPLICIT INTEGER,
//	    commandPolicy [1] EXPLICIT OCTET STRING }
//
// the ASN.1 of the "TSS2 PRIVATE KEY" files of the OpenSSL TPM engines
// and providers, without their PEM armour. The kernel's own grammar
// (security/keys/trusted-keys/tpm2key.asn1) has only type, emptyAuth,
// parent, pubkey and privkey: it writes no policy or secret, and fails to
// decode a blob that has them, which it then tries as a pre-5.13 blob
// and refuses. Blobs of the other backends, of TPM 1.2 and of TPM 2.0
// before Linux 5.13 are not ASN.1.
type TPMKey struct {
	// EmptyAuth is the [0] field: the kernel writes TRUE when the key was
	// sealed without blobauth=, and leaves the field out otherwise.
	EmptyAuth bool
	// Policy is the [1] field, the policy commands that userspace TPM
	// tools record; nil when absent.
	Policy []PolicyCommand
	// Secret is the [2] field, an encrypted seed of importable keys; nil
	// when absent.
	Secret []byte
	// Parent is the handle of the key that sealed the data, the
	// keyhandle= of its creation, such as 0x81000001. The kernel loads
	// the blob under this parent, whatever keyhandle= says.
	Parent uint32
	// Public is the sealed object's TPM2B_PUBLIC, as TPM2_Create returned
	// it, including its 2-byte size ([TPMKey.PublicArea] decodes it).
	Public []byte
	// Private is the sealed object's TPM2B_PRIVATE, including its 2-byte
	// size: the data encrypted under the parent key, opaque outside the
	// TPM.
	Private []byte
}

// PolicyCommand is one TPMPolicy of [TPMKey.Policy]: a TPM command code
// (TPM_CC, such as 0x17f for TPM2_PolicyPCR) and the command's parameters.
type PolicyCommand struct {
	CommandCode uint32
	Policy      []byte
}

// The TPMKey object identifiers, in DER contents form.
var (
	oidSealedData = []byte{0x67, 0x81, 0x05, 0x0a, 0x01, 0x05} // 2.23.133.10.1.5
	oidLoadable   = []byte{0x67, 0x81, 0x05, 0x0a, 0x01, 0x03} // 2.23.133.10.1.3
	oidImportable = []byte{0x67, 0x81, 0x05, 0x0a, 0x01, 0x04} // 2.23.133.10.1.4
)

// ASN.1 identifier octets.
const (
	tagBoolean     = 0x01
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagOID         = 0x06
	tagSequence    = 0x30
	tagExplicit0   = 0xa0 // [0] EXPLICIT, context-specific and constructed
	tagExplicit1   = 0xa1
	tagExplicit2   = 0xa2
)

// ParseBlob parses the blob of a TPM 2.0 trusted key, as [ReadBlob]
// returns it, into a TPMKey; [TPMKey.MarshalBinary] turns it back into
// the blob's bytes.
//
// It reads DER and the BER the kernel writes, which differs in one point:
// the kernel's encoder (lib/asn1_encoder.c) writes BOOLEAN TRUE as 0x01,
// where DER requires 0xff. encoding/asn1 refuses 0x01 ("invalid boolean"),
// so this is a small parser of its own that takes any non-zero byte as
// TRUE. It also accepts long-form lengths that are not minimal and
// INTEGERs with redundant leading zeros. It refuses indefinite lengths,
// tags above 30, trailing bytes, a parent or command code that is negative
// or above 32 bits, and public or private parts whose TPM2B size does not
// match their length. Errors are refusals matching keyring.ErrInvalid
// whose Field is the ASN.1 field at fault ("TPMKey", "type", "emptyAuth",
// "policy", "secret", "parent", "pubkey", "privkey").
func ParseBlob(blob Blob) (*TPMKey, error) {
	const op = "ParseBlob"
	outer := der{op: op, b: blob}
	body, err := outer.next("TPMKey", tagSequence)
	if err != nil {
		return nil, err
	}
	if len(outer.b) != 0 {
		return nil, invalid(op, "TPMKey", strconv.Itoa(len(outer.b))+" bytes follow the SEQUENCE")
	}
	d := der{op: op, b: body}
	oid, err := d.next("type", tagOID)
	if err != nil {
		return nil, err
	}
	switch {
	case bytes.Equal(oid, oidSealedData):
	case bytes.Equal(oid, oidLoadable), bytes.Equal(oid, oidImportable):
		return nil, invalid(op, "type", "is a TSS2 loadable or importable key, not sealed data (2.23.133.10.1.5)")
	default:
		return nil, invalid(op, "type", "is not TPMSealedData (2.23.133.10.1.5)")
	}
	k := new(TPMKey)
	if d.peek() == tagExplicit0 {
		if k.EmptyAuth, err = d.explicitBoolean("emptyAuth"); err != nil {
			return nil, err
		}
	}
	if d.peek() == tagExplicit1 {
		if k.Policy, err = d.policy(); err != nil {
			return nil, err
		}
	}
	if d.peek() == tagExplicit2 {
		v, err := d.explicit("secret", tagExplicit2, tagOctetString)
		if err != nil {
			return nil, err
		}
		if len(v) > 0 {
			k.Secret = bytes.Clone(v)
		}
	}
	if k.Parent, err = d.uint32("parent"); err != nil {
		return nil, err
	}
	if k.Public, err = d.tpm2b("pubkey"); err != nil {
		return nil, err
	}
	if k.Private, err = d.tpm2b("privkey"); err != nil {
		return nil, err
	}
	if len(d.b) != 0 {
		return nil, invalid(op, "TPMKey", "has fields after privkey")
	}
	return k, nil
}

// der reads ASN.1 elements from b, reporting errors for op.
type der struct {
	op string
	b  []byte
}

// peek returns the identifier octet of the next element, or 0.
func (d *der) peek() byte {
	if len(d.b) == 0 {
		return 0
	}
	return d.b[0]
}

// next reads the next element, which must have identifier want, and
// returns its contents.
func (d *der) next(field string, want byte) ([]byte, error) {
	if len(d.b) < 2 {
		return nil, invalid(d.op, field, "is missing or truncated")
	}
	if d.b[0] != want {
		return nil, invalid(d.op, field, "has ASN.1 identifier 0x"+strconv.FormatUint(uint64(d.b[0]), 16)+", want 0x"+strconv.FormatUint(uint64(want), 16))
	}
	n, off := int(d.b[1]), 2
	switch {
	case n == 0x80:
		return nil, invalid(d.op, field, "has an indefinite length")
	case n > 0x80:
		size := n & 0x7f
		if size > 3 || len(d.b) < off+size {
			return nil, invalid(d.op, field, "has a length that is too long or truncated")
		}
		n = 0
		for _, c := range d.b[off : off+size] {
			n = n<<8 | int(c)
		}
		off += size
	}
	if len(d.b)-off < n {
		return nil, invalid(d.op, field, "is truncated")
	}
	v := d.b[off : off+n]
	d.b = d.b[off+n:]
	return v, nil
}

// explicit reads an [n] EXPLICIT element holding one element of
// identifier inner and returns the inner contents.
func (d *der) explicit(field string, tag, inner byte) ([]byte, error) {
	v, err := d.next(field, tag)
	if err != nil {
		return nil, err
	}
	in := der{op: d.op, b: v}
	c, err := in.next(field, inner)
	if err != nil {
		return nil, err
	}
	if len(in.b) != 0 {
		return nil, invalid(d.op, field, "has bytes after its value")
	}
	return c, nil
}

// explicitBoolean reads [0] EXPLICIT BOOLEAN, taking any non-zero byte as
// TRUE (the kernel writes 0x01, DER 0xff).
func (d *der) explicitBoolean(field string) (bool, error) {
	v, err := d.explicit(field, tagExplicit0, tagBoolean)
	if err != nil {
		return false, err
	}
	if len(v) != 1 {
		return false, invalid(d.op, field, "is a BOOLEAN of "+strconv.Itoa(len(v))+" bytes, not 1")
	}
	return v[0] != 0, nil
}

// uint32 reads an INTEGER that must be a non-negative 32-bit value.
func (d *der) uint32(field string) (uint32, error) {
	v, err := d.next(field, tagInteger)
	if err != nil {
		return 0, err
	}
	return d.intValue(field, v)
}

func (d *der) intValue(field string, v []byte) (uint32, error) {
	switch {
	case len(v) == 0:
		return 0, invalid(d.op, field, "is an empty INTEGER")
	case v[0]&0x80 != 0:
		return 0, invalid(d.op, field, "is negative")
	}
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) > 4 {
		return 0, invalid(d.op, field, "is above 32 bits")
	}
	var n uint32
	for _, c := range v {
		n = n<<8 | uint32(c)
	}
	return n, nil
}

// tpm2b reads an OCTET STRING that must hold a TPM2B: a big-endian
// 2-byte size and that many bytes.
func (d *der) tpm2b(field string) ([]byte, error) {
	v, err := d.next(field, tagOctetString)
	if err != nil {
		return nil, err
	}
	if err := checkTPM2B(d.op, field, v); err != nil {
		return nil, err
	}
	return bytes.Clone(v), nil
}

func checkTPM2B(op, field string, v []byte) error {
	if len(v) < 2 || int(binary.BigEndian.Uint16(v)) != len(v)-2 {
		return invalid(op, field, "is not a TPM2B: its 2-byte size does not match its length")
	}
	return nil
}

// policy reads [1] EXPLICIT SEQUENCE OF TPMPolicy.
func (d *der) policy() ([]PolicyCommand, error) {
	const field = "policy"
	seq, err := d.explicit(field, tagExplicit1, tagSequence)
	if err != nil {
		return nil, err
	}
	var list []PolicyCommand
	for s := (der{op: d.op, b: seq}); len(s.b) > 0; {
		v, err := s.next(field, tagSequence)
		if err != nil {
			return nil, err
		}
		e := der{op: d.op, b: v}
		code, err := e.explicit(field, tagExplicit0, tagInteger)
		if err != nil {
			return nil, err
		}
		var pc PolicyCommand
		if pc.CommandCode, err = d.intValue(field, code); err != nil {
			return nil, err
		}
		p, err := e.explicit(field, tagExplicit1, tagOctetString)
		if err != nil {
			return nil, err
		}
		if len(e.b) != 0 {
			return nil, invalid(d.op, field, "has a TPMPolicy with extra fields")
		}
		pc.Policy = bytes.Clone(p)
		list = append(list, pc)
	}
	return list, nil
}

// MarshalBinary returns k's DER encoding exactly as the kernel writes it
// (tpm2_key_encode()): minimal lengths, a minimal positive INTEGER, and
// emptyAuth, when true, as a0 03 01 01 01 (TRUE as 0x01). For every blob
// the kernel made, MarshalBinary of ParseBlob's result gives back the
// same bytes: the [Blob] to give to [Load]. Public and Private must be
// TPM2Bs. Errors are refusals matching keyring.ErrInvalid.
func (k *TPMKey) MarshalBinary() ([]byte, error) { return k.AppendBinary(nil) }

// AppendBinary appends k's encoding to b, as MarshalBinary does.
func (k *TPMKey) AppendBinary(b []byte) ([]byte, error) {
	const op = "TPMKey.MarshalBinary"
	if err := checkTPM2B(op, "pubkey", k.Public); err != nil {
		return nil, err
	}
	if err := checkTPM2B(op, "privkey", k.Private); err != nil {
		return nil, err
	}
	body := appendTLV(nil, tagOID, oidSealedData)
	if k.EmptyAuth {
		body = appendTLV(body, tagExplicit0, []byte{tagBoolean, 1, 1})
	}
	if len(k.Policy) > 0 {
		var seq []byte
		for _, pc := range k.Policy {
			e := appendTLV(nil, tagExplicit0, appendInteger(nil, pc.CommandCode))
			e = appendTLV(e, tagExplicit1, appendTLV(nil, tagOctetString, pc.Policy))
			seq = appendTLV(seq, tagSequence, e)
		}
		body = appendTLV(body, tagExplicit1, appendTLV(nil, tagSequence, seq))
	}
	if len(k.Secret) > 0 {
		body = appendTLV(body, tagExplicit2, appendTLV(nil, tagOctetString, k.Secret))
	}
	body = appendInteger(body, k.Parent)
	body = appendTLV(body, tagOctetString, k.Public)
	body = appendTLV(body, tagOctetString, k.Private)
	return appendTLV(b, tagSequence, body), nil
}

// appendTLV appends an element with a minimal definite length, the
// kernel's asn1_encode_length(): short form up to 127, then 0x81, 0x82,
// 0x83 and a big-endian length.
func appendTLV(b []byte, tag byte, v []byte) []byte {
	b = append(b, tag)
	switch n := len(v); {
	case n <= 0x7f:
		b = append(b, byte(n))
	case n <= 0xff:
		b = append(b, 0x81, byte(n))
	case n <= 0xffff:
		b = append(b, 0x82, byte(n>>8), byte(n))
	default:
		b = append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, v...)
}

// appendInteger appends a non-negative INTEGER as asn1_encode_integer()
// does: the fewest bytes, with a leading 0x00 when the top bit is set.
func appendInteger(b []byte, n uint32) []byte {
	var v [5]byte
	binary.BigEndian.PutUint32(v[1:], n)
	i := 1
	for i < 4 && v[i] == 0 {
		i++
	}
	if v[i]&0x80 != 0 {
		i--
	}
	return appendTLV(b, tagInteger, v[i:])
}

// TPMA_OBJECT bits of [Public.Attributes] that the kernel sets or reads.
const (
	// AttrFixedTPM and AttrFixedParent are both set on keys made with
	// migratable=0; the kernel reads a blob with both as non-migratable.
	AttrFixedTPM    = 0x00000002
	AttrFixedParent = 0x00000010
	// AttrUserWithAuth is set unless the key was made with
	// policydigest=: then only a policy session can unseal it.
	AttrUserWithAuth = 0x00000040
)

// Public is the start of a TPM2B_PUBLIC (TPMT_PUBLIC): what a trusted
// key's options set when it was sealed.
type Public struct {
	// Type is the object type, TPM_ALG_KEYEDHASH (0x0008) for sealed data.
	Type uint16
	// NameAlg is the TPM_ALG_ID of the hash= option: 0x0004 sha1,
	// 0x000b sha256 (the default), 0x000c sha384, 0x000d sha512, 0x0012
	// sm3.
	NameAlg uint16
	// Attributes are the TPMA_OBJECT bits (AttrFixedTPM, ...).
	Attributes uint32
	// AuthPolicy is the policydigest= option; empty without one.
	AuthPolicy []byte
}

// PublicArea decodes the start of k.Public. Errors are refusals matching
// keyring.ErrInvalid.
func (k *TPMKey) PublicArea() (Public, error) {
	return publicArea("TPMKey.PublicArea", "pubkey", k.Public)
}

// publicArea decodes the start of the TPM2B_PUBLIC v, the field of op.
func publicArea(op, field string, v []byte) (Public, error) {
	if err := checkTPM2B(op, field, v); err != nil {
		return Public{}, err
	}
	if len(v) < 12 {
		return Public{}, invalid(op, field, "is too short for a TPMT_PUBLIC")
	}
	p := Public{
		Type:       binary.BigEndian.Uint16(v[2:]),
		NameAlg:    binary.BigEndian.Uint16(v[4:]),
		Attributes: binary.BigEndian.Uint32(v[6:]),
	}
	n := int(binary.BigEndian.Uint16(v[10:]))
	if len(v) < 12+n {
		return Public{}, invalid(op, field, "has a truncated authPolicy")
	}
	p.AuthPolicy = bytes.Clone(v[12 : 12+n])
	return p, nil
}

// Migratable reports whether the kernel treats a key with these
// attributes as migratable: unless both fixedTPM and fixedParent are set.
// That holds for a [TPMKey]; the public area of a [RawBlob] never has
// them, and its flag is sealed with the data instead.
func (p Public) Migratable() bool {
	return p.Attributes&(AttrFixedTPM|AttrFixedParent) != AttrFixedTPM|AttrFixedParent
}

// Hash returns the hash= name of p.NameAlg, or "" for another algorithm.
func (p Public) Hash() string {
	h, _ := hashByAlg(p.NameAlg)
	return h.name
}

// RawBlob is the blob of a TPM 2.0 trusted key made by Linux before 5.13
// (tpm2_seal_trusted() of 5.10): the parameters of the TPM's answer to
// TPM2_Create as they came, outPrivate (a TPM2B_PRIVATE) and outPublic (a
// TPM2B_PUBLIC), then creationData, creationHash and creationTicket,
// which the kernel keeps and never reads. It does not name its parent
// key: loading it needs [Options.KeyHandle], the keyhandle= it was sealed
// under. Linux 5.13 and later load such blobs too: tpm2_load_cmd() reads
// a blob that is not a TPMKey in this format.
//
// The kernels that write it keep migratable= as the last byte of the
// sealed data, so its public area never has fixedTPM and fixedParent;
// and nothing in it says whether it was sealed with blobauth=.
type RawBlob struct {
	// Private is the sealed object's TPM2B_PRIVATE, including its 2-byte
	// size.
	Private []byte
	// Public is the sealed object's TPM2B_PUBLIC, including its 2-byte
	// size ([RawBlob.PublicArea] decodes it).
	Public []byte
	// Creation is what follows Public: the rest of the TPM2_Create
	// answer, or nothing. The kernel ignores it.
	Creation []byte
}

// ParseRawBlob parses the blob of a TPM 2.0 trusted key in the format of
// Linux before 5.13, as [ReadBlob] returns it, into a RawBlob; Private,
// Public and Creation, one after the other, are the blob's bytes.
//
// A TPM 2.0 blob is in one format or the other, by its first byte: a
// TPMKey ([ParseBlob]) starts with 0x30, its SEQUENCE, and a raw blob
// with the high byte of its TPM2B_PRIVATE's size, which is 0 or 1 in a
// blob of at most MaxBlob bytes. ParseRawBlob refuses a blob that starts
// with 0x30, saying it is a TPMKey, one whose TPM2B_PRIVATE or
// TPM2B_PUBLIC does not fit in it (the kernel would answer E2BIG), and
// more than MaxBlob bytes. Errors are refusals matching
// keyring.ErrInvalid whose Field is "blob", "private" or "public".
func ParseRawBlob(blob Blob) (*RawBlob, error) {
	const op = "ParseRawBlob"
	switch {
	case len(blob) > MaxBlob:
		return nil, invalid(op, "blob", "is "+strconv.Itoa(len(blob))+" bytes, over "+strconv.Itoa(MaxBlob))
	case len(blob) > 0 && blob[0] == tagSequence:
		return nil, invalid(op, "blob", "starts with 0x30: it is a TPMKey, the format of Linux 5.13 and later (ParseBlob)")
	}
	k, field, reason := splitRawBlob(blob)
	if field != "" {
		return nil, invalid(op, field, reason)
	}
	return &k, nil
}

// splitRawBlob splits a raw blob into its TPM2B_PRIVATE, its TPM2B_PUBLIC
// and the rest, as tpm2_load_cmd() reads it. Where one does not fit, it
// names it in field ("private" or "public") and says why in reason.
func splitRawBlob(blob []byte) (k RawBlob, field, reason string) {
	rest := blob
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"private", &k.Private}, {"public", &k.Public}} {
		if len(rest) < 2 {
			return RawBlob{}, f.name, "is missing or truncated"
		}
		n := 2 + int(binary.BigEndian.Uint16(rest))
		if n > len(rest) {
			return RawBlob{}, f.name, "is a TPM2B of " + strconv.Itoa(n) + " bytes, longer than the " + strconv.Itoa(len(rest)) + " left"
		}
		*f.dst = bytes.Clone(rest[:n])
		rest = rest[n:]
	}
	if len(rest) > 0 {
		k.Creation = bytes.Clone(rest)
	}
	return k, "", ""
}

// PublicArea decodes the start of k.Public. Errors are refusals matching
// keyring.ErrInvalid.
func (k *RawBlob) PublicArea() (Public, error) {
	return publicArea("RawBlob.PublicArea", "public", k.Public)
}
