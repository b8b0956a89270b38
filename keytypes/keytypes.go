package keytypes

import (
	"encoding/asn1"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/redact"
	"github.com/kernkeys/kernkeys/keyring"
)

// The kernel's limits.
const (
	// MaxUserPayload is the largest user or logon payload (user_preparse).
	MaxUserPayload = 32767
	// MaxBigKeyPayload is the largest big_key payload add_key passes
	// (add_key caps every payload at 1 MiB - 1; big_key_preparse would
	// take 1 MiB).
	MaxBigKeyPayload = 1<<20 - 1
	// MaxDescription is the longest description (KEY_MAX_DESC_SIZE - 1).
	MaxDescription = 4095
)

// Spec is a validated add_key request: a key type, a description and a
// payload.
type Spec struct {
	Type        string
	Description string
	Payload     []byte
}

// String describes s with its payload left out, as in
// `user "svc:name" <32-byte payload>`.
func (s Spec) String() string {
	return s.Type + " " + strconv.Quote(s.Description) + " <" + strconv.Itoa(len(s.Payload)) + "-byte payload>"
}

// GoString is String: %#v must not print the payload either.
func (s Spec) GoString() string { return "keytypes.Spec{" + s.String() + "}" }

// Format prints String (GoString for %#v) for every fmt verb: without it
// %v of a Spec would print the payload byte by byte.
func (s Spec) Format(f fmt.State, verb rune) { redact.Format(f, verb, s) }

// Add creates the key in r (add_key(2)); see keyring.Keyring.Add.
func (s Spec) Add(r keyring.Keyring) (keyring.Key, error) {
	return r.Add(s.Type, s.Description, s.Payload)
}

// invalid reports a broken rule of a type.
func invalid(typ, reason string) error {
	return &keyring.Error{Op: "keytypes." + typ, Errno: syscall.EINVAL, Reason: reason, Refused: true}
}

func checkDescription(typ, desc string) error {
	switch {
	case desc == "":
		return invalid(typ, "description is empty")
	case len(desc) > MaxDescription:
		return invalid(typ, "description is longer than "+strconv.Itoa(MaxDescription)+" bytes")
	case strings.IndexByte(desc, 0) >= 0:
		return invalid(typ, "description contains a NUL byte")
	}
	return nil
}

func checkPayload(typ string, payload []byte, max int) error {
	switch {
	case len(payload) == 0:
		return invalid(typ, "payload is empty")
	case len(payload) > max:
		return invalid(typ, "payload of "+strconv.Itoa(len(payload))+" bytes is over "+strconv.Itoa(max))
	}
	return nil
}

// User is a "user" key: any description, a payload of 1 to 32767 bytes
// that the possessor can read back.
func User(desc string, payload []byte) (Spec, error) {
	if err := checkDescription("user", desc); err != nil {
		return Spec{}, err
	}
	if err := checkPayload("user", payload, MaxUserPayload); err != nil {
		return Spec{}, err
	}
	return Spec{Type: "user", Description: desc, Payload: payload}, nil
}

// Logon is a "logon" key: like user, but its payload can never be read
// from userspace (KEYCTL_READ fails with EOPNOTSUPP, which keyring reports
// as ErrNotSupported saying why), only used by the kernel (dm-crypt, cifs,
// ceph, fscrypt). The description must have a service prefix: it must
// contain ':' and not start with it ("svc:name"; "a:" is valid).
func Logon(desc string, payload []byte) (Spec, error) {
	if err := checkDescription("logon", desc); err != nil {
		return Spec{}, err
	}
	switch i := strings.IndexByte(desc, ':'); {
	case i < 0:
		return Spec{}, invalid("logon", "description needs a service prefix, such as \"svc:name\": it has no ':'")
	case i == 0:
		return Spec{}, invalid("logon", "description starts with ':': the service prefix is empty")
	}
	if err := checkPayload("logon", payload, MaxUserPayload); err != nil {
		return Spec{}, err
	}
	return Spec{Type: "logon", Description: desc, Payload: payload}, nil
}

// BigKey is a "big_key" key (CONFIG_BIG_KEYS): a payload of up to
// 1 MiB - 1 bytes, stored encrypted in an unlinked shmem file when it is
// large. The kernel takes at most a page through KEYCTL_UPDATE.
func BigKey(desc string, payload []byte) (Spec, error) {
	if err := checkDescription("big_key", desc); err != nil {
		return Spec{}, err
	}
	if err := checkPayload("big_key", payload, MaxBigKeyPayload); err != nil {
		return Spec{}, err
	}
	return Spec{Type: "big_key", Description: desc, Payload: payload}, nil
}

// Asymmetric is an "asymmetric" key from DER: an X.509 certificate (a
// public key: pkey query, encrypt and verify) or a PKCS#8 private key
// (also decrypt and sign, with CONFIG_PKCS8_PRIVATE_KEY_PARSER). An empty
// description lets the kernel name the key from the certificate (subject
// and key identifier). The payload must be one complete DER SEQUENCE;
// whether the kernel's parsers accept its contents is the kernel's to say
// (EBADMSG).
func Asymmetric(desc string, der []byte) (Spec, error) {
	if desc != "" {
		if err := checkDescription("asymmetric", desc); err != nil {
			return Spec{}, err
		}
	}
	if err := checkPayload("asymmetric", der, MaxBigKeyPayload); err != nil {
		return Spec{}, err
	}
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(der, &v)
	switch {
	case err != nil:
		return Spec{}, invalid("asymmetric", "payload is not DER")
	case len(rest) != 0:
		return Spec{}, invalid("asymmetric", "payload has "+strconv.Itoa(len(rest))+" bytes after the DER value")
	case v.Class != asn1.ClassUniversal || v.Tag != asn1.TagSequence || !v.IsCompound:
		return Spec{}, invalid("asymmetric", "payload is not a DER SEQUENCE (a certificate or a PKCS#8 key)")
	}
	return Spec{Type: "asymmetric", Description: desc, Payload: der}, nil
}

// Keyring is a "keyring": a name that must not start with '.' (reserved
// for the kernel's own keyrings), and no payload.
func Keyring(name string) (Spec, error) {
	if err := checkDescription("keyring", name); err != nil {
		return Spec{}, err
	}
	if name[0] == '.' {
		return Spec{}, invalid("keyring", "name starts with '.' (reserved for the kernel)")
	}
	return Spec{Type: "keyring", Description: name}, nil
}
