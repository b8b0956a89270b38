package keytypes

import (
	"encoding/asn1"
	"fmt"
	"strconv"
	"strings"

	"github.com/kernkeys/kernkeys/internal/kerr"
	"github.com/kernkeys/kernkeys/internal/redact"
	"github.com/kernkeys/kernkeys/keyring"
)

// The limits of the key types. The limits every type shares (the longest
// description, the largest add_key payload) are keyring's:
// keyring.MaxDescription and keyring.MaxPayload.
const (
	// MaxUserPayload is the largest user or logon payload (user_preparse
	// in security/keys/user_defined.c).
	MaxUserPayload = 32767
	// MaxBigKeyPayload is the largest big_key payload add_key passes
	// (keyring.MaxPayload, 1 MiB - 1; big_key_preparse would take 1 MiB).
	MaxBigKeyPayload = keyring.MaxPayload
)

// Type is one of the key types this package creates. The zero Type is
// TypeUser.
type Type uint8

const (
	// TypeUser is a "user" key: any description, a payload of 1 to
	// MaxUserPayload bytes that the possessor can read back.
	TypeUser Type = iota
	// TypeLogon is a "logon" key: like user, but its payload can never be
	// read from userspace (KEYCTL_READ fails with EOPNOTSUPP, which
	// keyring reports as ErrNotSupported saying why), only used by the
	// kernel (dm-crypt, cifs, ceph, fscrypt). The description must have a
	// service prefix: it must contain ':' and not start with it
	// ("svc:name"; "a:" is valid).
	TypeLogon
	// TypeBigKey is a "big_key" key (CONFIG_BIG_KEYS): a payload of 1 to
	// MaxBigKeyPayload bytes, stored encrypted in an unlinked shmem file
	// when it is large. The kernel takes at most a page through
	// KEYCTL_UPDATE.
	TypeBigKey
	// TypeAsymmetric is an "asymmetric" key from DER: an X.509
	// certificate (a public key: pkey query, encrypt and verify) or a
	// PKCS#8 private key (also decrypt and sign, with
	// CONFIG_PKCS8_PRIVATE_KEY_PARSER). An empty description lets the
	// kernel name the key from the certificate (subject and key
	// identifier); a PKCS#8 key carries no name and needs a description
	// (the kernel answers EINVAL without one). The payload must be one complete DER SEQUENCE; whether
	// the kernel's parsers accept its contents is the kernel's to say
	// (EBADMSG).
	TypeAsymmetric
	// TypeKeyring is a "keyring": a name that must not start with '.'
	// (reserved for the kernel's own keyrings), and no payload.
	TypeKeyring
)

var typeNames = [...]string{
	TypeUser:       "user",
	TypeLogon:      "logon",
	TypeBigKey:     "big_key",
	TypeAsymmetric: "asymmetric",
	TypeKeyring:    "keyring",
}

// String returns the kernel's name of the type, as add_key(2) takes it:
// "user", "logon", "big_key", "asymmetric" or "keyring".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Options says what key [New] creates: its type and its payload. The zero
// Options is a user key without a payload, which is refused: set at least
// Payload.
//
// Payload is the caller's slice, not a copy: wipe it (keyring.Wipe) once
// the key is created. Printing Options with any fmt verb shows the type
// and the payload's size, never its bytes.
type Options struct {
	// Type is the key type; the zero Type is TypeUser.
	Type Type
	// Payload is the key's payload: empty for TypeKeyring, 1 to the type's
	// limit for the others.
	Payload []byte
}

// String describes o with its payload left out, as in
// `user <32-byte payload>`.
func (o Options) String() string {
	return o.Type.String() + " <" + strconv.Itoa(len(o.Payload)) + "-byte payload>"
}

// GoString is String: %#v must not print the payload either.
func (o Options) GoString() string { return "keytypes.Options{" + o.String() + "}" }

// Format prints String (GoString for %#v) for every fmt verb: without it
// %v of Options would print the payload byte by byte.
func (o Options) Format(f fmt.State, verb rune) { redact.Format(f, verb, o) }

// Validate checks desc and o against the type's rules as the kernel states
// them (security/keys/user_defined.c, big_key.c, keyring.c,
// crypto/asymmetric_keys/), without any system call. New applies the same
// checks.
//
// Errors: a *keyring.Error matching keyring.ErrInvalid, with Refused set,
// Field naming "desc", "Options.Type" or "Options.Payload", and a Reason
// that says which rule was broken; never payload bytes.
func (o Options) Validate(desc string) error { return o.validate("keytypes.Validate", desc) }

// New creates a key described desc of the type and with the payload of o,
// and links it into dest (add_key(2) through keyring.Keyring.Add). It
// first checks desc and o as [Options.Validate] does, and refuses what
// breaks the type's rules before any system call. If dest already links a
// key of the same type and description, the kernel updates that key
// instead and New returns it.
//
// Errors: keyring.ErrInvalid (refused input, Error.Refused set, or the
// kernel's EINVAL), keyring.ErrNotSupported (the running kernel lacks the
// type; the message names it), and the other errors of
// keyring.Keyring.Add (ErrQuota, ErrPermission, ErrNotFound).
func New(dest keyring.Keyring, desc string, o Options) (keyring.Key, error) {
	if err := o.validate("keytypes.New", desc); err != nil {
		return keyring.Key{}, err
	}
	return dest.Add(o.Type.String(), desc, o.Payload)
}

func (o Options) validate(op, desc string) error {
	t := o.Type
	if int(t) >= len(typeNames) {
		return kerr.Refuse(op, "Options.Type", t.String()+" is not one of TypeUser, TypeLogon, TypeBigKey, TypeAsymmetric, TypeKeyring")
	}
	name := t.String()
	if desc != "" || t != TypeAsymmetric {
		if err := checkDescription(op, name, desc); err != nil {
			return err
		}
	}
	switch t {
	case TypeUser:
		return checkPayload(op, name, o.Payload, MaxUserPayload)
	case TypeLogon:
		switch i := strings.IndexByte(desc, ':'); {
		case i < 0:
			return kerr.Refuse(op, "desc", "a logon key's description needs a service prefix, such as \"svc:name\": it has no ':'")
		case i == 0:
			return kerr.Refuse(op, "desc", "a logon key's description starts with ':': the service prefix is empty")
		}
		return checkPayload(op, name, o.Payload, MaxUserPayload)
	case TypeBigKey:
		return checkPayload(op, name, o.Payload, MaxBigKeyPayload)
	case TypeAsymmetric:
		return checkDER(op, o.Payload)
	case TypeKeyring:
		if desc[0] == '.' {
			return kerr.Refuse(op, "desc", "a keyring name starts with '.' (reserved for the kernel)")
		}
		if len(o.Payload) != 0 {
			return kerr.Refuse(op, "Options.Payload", "a keyring takes no payload")
		}
	}
	return nil
}

func checkDescription(op, typ, desc string) error {
	switch {
	case desc == "":
		return kerr.Refuse(op, "desc", "a "+typ+" key's description is empty")
	case len(desc) > keyring.MaxDescription:
		return kerr.Refuse(op, "desc", "description is longer than "+strconv.Itoa(keyring.MaxDescription)+" bytes")
	case strings.IndexByte(desc, 0) >= 0:
		return kerr.Refuse(op, "desc", "description contains a NUL byte")
	}
	return nil
}

func checkPayload(op, typ string, payload []byte, max int) error {
	switch {
	case len(payload) == 0:
		return kerr.Refuse(op, "Options.Payload", "a "+typ+" key's payload is empty")
	case len(payload) > max:
		return kerr.Refuse(op, "Options.Payload", "a "+typ+" key's payload of "+strconv.Itoa(len(payload))+" bytes is over "+strconv.Itoa(max))
	}
	return nil
}

// checkDER checks that an asymmetric payload is one complete DER SEQUENCE.
func checkDER(op string, der []byte) error {
	if err := checkPayload(op, "asymmetric", der, MaxBigKeyPayload); err != nil {
		return err
	}
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(der, &v)
	switch {
	case err != nil:
		return kerr.Refuse(op, "Options.Payload", "an asymmetric key's payload is not DER")
	case len(rest) != 0:
		return kerr.Refuse(op, "Options.Payload", "an asymmetric key's payload has "+strconv.Itoa(len(rest))+" bytes after the DER value")
	case v.Class != asn1.ClassUniversal || v.Tag != asn1.TagSequence || !v.IsCompound:
		return kerr.Refuse(op, "Options.Payload", "an asymmetric key's payload is not a DER SEQUENCE (a certificate or a PKCS#8 key)")
	}
	return nil
}
