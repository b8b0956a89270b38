package mktme

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"

	"github.com/kernkeys/kernkeys/internal/redact"
	"github.com/kernkeys/kernkeys/keyring"
)

// Payload limits and value sizes of the RFC code (security/keys/mktme_keys.c
// in the patch series).
const (
	// MaxPayload is the longest payload any RFC version accepts; an empty
	// payload is refused too.
	MaxPayload = 1024
	// KeySize is the size in bytes of an RFC v2 key or tweak value
	// (MKTME_AES_XTS_SIZE, AES-XTS-128): 32 hex digits in the payload.
	KeySize = 16
	// KeySizeV1 is the size in bytes of an RFC v1 userkey, tweak or
	// entropy value: the v1 code demands exactly 16 hex digits and decodes
	// 8 bytes from them, although its documentation speaks of 128 bits.
	KeySizeV1 = 8
)

// The only algorithm of every RFC version, AES-XTS with 128-bit keys, as
// each grammar spells it.
const (
	// Algorithm is the RFC v2 spelling (mktme_alg_names in v2).
	Algorithm = "aes-xts-128"
	// AlgorithmV1 is the RFC v1 code's spelling. The RFC v1
	// documentation writes "aes-xts-128", which the v1 code refuses.
	AlgorithmV1 = "aes_xts_128"
)

// Options says what MKTME key [New] creates: its payload, in one of the
// RFC grammars. The zero Options is a CPU-generated key in the RFC v2
// grammar (V2{Type: CPU}, "type=cpu algorithm=aes-xts-128": the hardware
// generates key and tweak), the key the RFC's own demonstration program
// creates; the RFC kernel itself has no default, and refuses a payload
// without type=.
//
// Printing Options with any fmt verb never shows key material.
type Options struct {
	// Payload is the add_key payload: a [V2] or a [V1] value. nil means
	// V2{Type: CPU}.
	Payload Payload
}

// payload returns o's payload, the default for nil.
func (o Options) payload() Payload {
	if o.Payload == nil {
		return V2{Type: CPU}
	}
	return o.Payload
}

// Validate checks o's payload against its grammar's rules, without any
// system call. Errors match keyring.ErrInvalid.
func (o Options) Validate() error { return o.payload().Validate() }

// String describes o's payload without key material.
func (o Options) String() string { return o.payload().String() }

// GoString is String: %#v must not print key material either.
func (o Options) GoString() string { return "mktme.Options{" + o.String() + "}" }

// Format prints String (GoString for %#v) for every fmt verb.
func (o Options) Format(f fmt.State, verb rune) { redact.Format(f, verb, o) }

// Wipe clears the key material of o's payload in place.
func (o Options) Wipe() {
	switch p := o.Payload.(type) {
	case V2:
		p.Wipe()
	case *V2:
		p.Wipe()
	case V1:
		p.Wipe()
	case *V1:
		p.Wipe()
	}
}

// Payload is an "mktme" add_key payload in one of the RFC grammars: [V2]
// (type=...) or [V1] (userkey=, entropy=). Only this package implements
// it; the two grammars are two types because their options, sizes and
// rules differ.
type Payload interface {
	// Validate checks the payload against its version's rules.
	Validate() error
	// AppendText appends the payload text to b.
	AppendText(b []byte) ([]byte, error)
	// MarshalText returns the payload text in a new buffer. The text holds
	// key material in hex: clear it with keyring.Wipe after use.
	MarshalText() ([]byte, error)
	// String describes the payload without key material.
	String() string

	appendText(op string, b []byte) ([]byte, error)
	version() int
}

// KeyType is the type= option of the RFC v2 grammar. The zero value is no
// type, which the kernel refuses, as it refuses a payload without type=.
type KeyType uint8

const (
	// UserSupplied is type=user: it programs a key and tweak that the
	// caller supplies (SET_KEY_DIRECT).
	UserSupplied KeyType = iota + 1
	// CPU has the CPU generate the key and tweak (SET_KEY_RANDOM); optional
	// key= and tweak= values are entropy mixed into them.
	CPU
	// Clear clears the hardware key: memory under its KeyID gets the
	// platform's TME behaviour (CLEAR_KEY).
	Clear
	// NoEncrypt tells the hardware not to encrypt memory under the KeyID
	// (NO_ENCRYPT).
	NoEncrypt
)

var typeNames = [...]string{
	UserSupplied: "user",
	CPU:          "cpu",
	Clear:        "clear",
	NoEncrypt:    "no-encrypt",
}

// String returns the type's word in the grammar: "user", "cpu", "clear" or
// "no-encrypt".
func (t KeyType) String() string {
	if t.valid() {
		return typeNames[t]
	}
	return "KeyType(" + strconv.Itoa(int(t)) + ")"
}

func (t KeyType) valid() bool { return t >= UserSupplied && t <= NoEncrypt }

// needsAlgorithm reports whether type t takes algorithm= (required) and
// key=/tweak= values; clear and no-encrypt forbid all three.
func (t KeyType) needsAlgorithm() bool { return t == UserSupplied || t == CPU }

func lookupType(s []byte) (KeyType, bool) {
	for t := UserSupplied; t <= NoEncrypt; t++ {
		if string(s) == typeNames[t] {
			return t, true
		}
	}
	return 0, false
}

// V2 is an RFC v2 payload ("[RFC v2 00/13] Multi-Key Total Memory
// Encryption API", 2018-12):
//
//	type=user algorithm=aes-xts-128 key=<32 hex> tweak=<32 hex>
//	type=cpu algorithm=aes-xts-128 [key=<32 hex>] [tweak=<32 hex>]
//	type=clear
//	type=no-encrypt
//
// Rules: Type is required. A UserSupplied key needs Key and Tweak, KeySize bytes
// each. A CPU key may carry either or both as entropy that the kernel XORs
// with random bytes. Clear and NoEncrypt take neither. algorithm= is
// written for UserSupplied and CPU, which require it, and never for the others,
// which forbid it. A nil or empty Key or Tweak is absent.
//
// The zero V2 is invalid, as a payload without type= is.
type V2 struct {
	Type  KeyType
	Key   []byte
	Tweak []byte
}

func (o V2) version() int { return 2 }

// Validate checks o against the RFC v2 rules. Errors match keyring.ErrInvalid.
func (o V2) Validate() error { return o.validate("Validate") }

func (o V2) validate(op string) error {
	if !o.Type.valid() {
		if o.Type == 0 {
			return invalid(op, "type", "is required (user, cpu, clear or no-encrypt)")
		}
		return invalid(op, "type", o.Type.String()+" is not user, cpu, clear or no-encrypt")
	}
	for _, f := range [...]struct {
		name string
		v    []byte
	}{{"key", o.Key}, {"tweak", o.Tweak}} {
		switch {
		case len(f.v) == 0 && o.Type == UserSupplied:
			return invalid(op, f.name, "is required for type=user")
		case len(f.v) != 0 && !o.Type.needsAlgorithm():
			return invalid(op, f.name, "is not allowed with type="+o.Type.String())
		case len(f.v) != 0 && len(f.v) != KeySize:
			return invalid(op, f.name, "must be "+strconv.Itoa(KeySize)+" bytes, not "+strconv.Itoa(len(f.v)))
		}
	}
	return nil
}

// AppendText appends the payload text to b. The text holds key material
// in hex: clear it with keyring.Wipe after use. b grows at most once, so
// no copy of the key material is left behind in a discarded array. Errors
// match keyring.ErrInvalid.
func (o V2) AppendText(b []byte) ([]byte, error) { return o.appendText("AppendText", b) }

// MarshalText returns the payload text, for add_key(2) with the type
// "mktme". The text holds key material in hex: clear it with keyring.Wipe
// after use. Errors match keyring.ErrInvalid.
func (o V2) MarshalText() ([]byte, error) { return o.appendText("MarshalText", nil) }

func (o V2) appendText(op string, b []byte) ([]byte, error) {
	if err := o.validate(op); err != nil {
		return b, err
	}
	name := o.Type.String()
	n := len("type=") + len(name)
	if o.Type.needsAlgorithm() {
		n += len(" algorithm=") + len(Algorithm)
	}
	if len(o.Key) > 0 {
		n += len(" key=") + 2*KeySize
	}
	if len(o.Tweak) > 0 {
		n += len(" tweak=") + 2*KeySize
	}
	b = slices.Grow(b, n)
	b = append(b, "type="...)
	b = append(b, name...)
	if o.Type.needsAlgorithm() {
		b = append(b, " algorithm="...)
		b = append(b, Algorithm...)
	}
	if len(o.Key) > 0 {
		b = append(b, " key="...)
		b = hex.AppendEncode(b, o.Key)
	}
	if len(o.Tweak) > 0 {
		b = append(b, " tweak="...)
		b = hex.AppendEncode(b, o.Tweak)
	}
	return b, nil
}

// String describes o in the payload's words with the key material left
// out, as in "type=user algorithm=aes-xts-128 key=<16 bytes> tweak=<16
// bytes>". It describes invalid options too.
func (o V2) String() string {
	s := "type=" + o.Type.String()
	if o.Type.needsAlgorithm() {
		s += " algorithm=" + Algorithm
	}
	s += redacted(" key=", o.Key) + redacted(" tweak=", o.Tweak)
	return s
}

// GoString is String: %#v must not print key material either.
func (o V2) GoString() string { return "mktme.V2{" + o.String() + "}" }

// Format prints String (GoString for %#v) for every fmt verb: without it
// %d or %x would print the key material byte by byte.
func (o V2) Format(f fmt.State, verb rune) { redact.Format(f, verb, o) }

// Wipe clears o.Key and o.Tweak in place.
func (o *V2) Wipe() {
	keyring.Wipe(o.Key)
	keyring.Wipe(o.Tweak)
}

// V1 is an RFC v1 payload ("[RFC 00/12] Multi-Key Total Memory Encryption
// API (MKTME)", 2018-09):
//
//	[algorithm=aes_xts_128] userkey=<16 hex> tweak=<16 hex>   a user key
//	[algorithm=aes_xts_128] entropy=<16 hex>                  a CPU-generated key
//
// Rules: with UserKey, the key is the caller's and needs Tweak, and
// Entropy is not allowed; without UserKey, the CPU generates the key and
// needs Entropy (used for both the key and the tweak), and Tweak is not
// allowed. Every value is exactly KeySizeV1 (8) bytes, 16 hex digits: the
// v1 code's 64-bit reading of what its documentation calls 128 bits.
// algorithm= is optional in v1; MarshalText writes it unless
// OmitAlgorithm. A nil or empty value is absent.
//
// The zero V1 is invalid: it asks for a CPU key without entropy.
type V1 struct {
	UserKey       []byte
	Tweak         []byte
	Entropy       []byte
	OmitAlgorithm bool
}

func (o V1) version() int { return 1 }

// Validate checks o against the RFC v1 rules. Errors match keyring.ErrInvalid.
func (o V1) Validate() error { return o.validate("Validate") }

func (o V1) validate(op string) error {
	for _, f := range [...]struct {
		name string
		v    []byte
	}{{"userkey", o.UserKey}, {"tweak", o.Tweak}, {"entropy", o.Entropy}} {
		if len(f.v) != 0 && len(f.v) != KeySizeV1 {
			return invalid(op, f.name, "must be "+strconv.Itoa(KeySizeV1)+" bytes (16 hex digits), not "+strconv.Itoa(len(f.v)))
		}
	}
	if len(o.UserKey) > 0 {
		switch {
		case len(o.Tweak) == 0:
			return invalid(op, "tweak", "is required with userkey=")
		case len(o.Entropy) > 0:
			return invalid(op, "entropy", "is not allowed with userkey= (entropy is for CPU-generated keys)")
		}
		return nil
	}
	switch {
	case len(o.Entropy) == 0:
		return invalid(op, "entropy", "is required for a CPU-generated key (no userkey=)")
	case len(o.Tweak) > 0:
		return invalid(op, "tweak", "is not allowed for a CPU-generated key (no userkey=)")
	}
	return nil
}

// AppendText appends the payload text to b, growing it at most once. The
// text holds key material in hex: clear it with keyring.Wipe after use.
// Errors match keyring.ErrInvalid.
func (o V1) AppendText(b []byte) ([]byte, error) { return o.appendText("AppendText", b) }

// MarshalText returns the payload text. The text holds key material in
// hex: clear it with keyring.Wipe after use. Errors match keyring.ErrInvalid.
func (o V1) MarshalText() ([]byte, error) { return o.appendText("MarshalText", nil) }

func (o V1) appendText(op string, b []byte) ([]byte, error) {
	if err := o.validate(op); err != nil {
		return b, err
	}
	type field struct {
		name string
		v    []byte
	}
	fields := [...]field{{"userkey=", o.UserKey}, {"tweak=", o.Tweak}, {"entropy=", o.Entropy}}
	n := 0
	if !o.OmitAlgorithm {
		n += len("algorithm=") + len(AlgorithmV1)
	}
	for _, f := range fields {
		if len(f.v) > 0 {
			n += 1 + len(f.name) + 2*KeySizeV1
		}
	}
	b = slices.Grow(b, n)
	sep := false
	if !o.OmitAlgorithm {
		b = append(b, "algorithm="...)
		b = append(b, AlgorithmV1...)
		sep = true
	}
	for _, f := range fields {
		if len(f.v) == 0 {
			continue
		}
		if sep {
			b = append(b, ' ')
		}
		b = append(b, f.name...)
		b = hex.AppendEncode(b, f.v)
		sep = true
	}
	return b, nil
}

// String describes o in the payload's words with the key material left
// out, as in "algorithm=aes_xts_128 entropy=<8 bytes>".
func (o V1) String() string {
	s := ""
	if !o.OmitAlgorithm {
		s = "algorithm=" + AlgorithmV1
	}
	s += redacted(" userkey=", o.UserKey) + redacted(" tweak=", o.Tweak) + redacted(" entropy=", o.Entropy)
	if len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// GoString is String: %#v must not print key material either.
func (o V1) GoString() string { return "mktme.V1{" + o.String() + "}" }

// Format prints String (GoString for %#v) for every fmt verb.
func (o V1) Format(f fmt.State, verb rune) { redact.Format(f, verb, o) }

// Wipe clears o.UserKey, o.Tweak and o.Entropy in place.
func (o *V1) Wipe() {
	keyring.Wipe(o.UserKey)
	keyring.Wipe(o.Tweak)
	keyring.Wipe(o.Entropy)
}

// redacted renders an option whose value is key material by its size.
func redacted(prefix string, v []byte) string {
	if len(v) == 0 {
		return ""
	}
	return prefix + "<" + strconv.Itoa(len(v)) + " bytes>"
}
