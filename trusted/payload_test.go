package trusted

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kernkeys/kernkeys/keyring"
)

var (
	auth20  = bytes.Repeat([]byte{0xab}, AuthSize)
	auth20h = strings.Repeat("ab", AuthSize)
	digest  = func(n int) []byte { return bytes.Repeat([]byte{0x5a}, n) }
)

// kernelBlob is a TPM 2.0 TPMKey whose parent is 0x81000001.
func kernelBlob(t testing.TB) []byte {
	t.Helper()
	b, err := syntheticKey().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every rule of the builders, per backend and command: the exact text for
// what the kernel accepts, the field for what it (or this package) refuses.
func TestBuilders(t *testing.T) {
	blob := kernelBlob(t)
	raw := []byte{0x00, 0x02, 0xaa, 0xbb, 0x00, 0x02, 0xcc, 0xdd} // pre-5.13 TPM 2.0: private || public
	for _, c := range []struct {
		name  string
		p     Payload
		want  string // exact text, or
		field string // the field of the error
	}{
		// Commands and sizes.
		{"tpm2 new", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 0x81000001}}, "new 32 keyhandle=0x81000001", ""},
		{"tpm2 new 128", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 128, KeyHandle: 0x81000001}}, "new 128 keyhandle=0x81000001", ""},
		{"keylen 31", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 31, KeyHandle: 1}}, "", "keylen"},
		{"keylen 129", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 129}}, "", "keylen"},
		{"tpm1 new, SRK default", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 32}}, "new 32", ""},
		{"no backend", Payload{Command: CommandNew, Options: Options{KeyLen: 32}}, "", "backend"},
		{"bad backend", Payload{Backend: 9, Command: CommandNew, Options: Options{KeyLen: 32}}, "", "backend"},
		{"no command", Payload{Backend: TPM1}, "", "command"},
		{"tpm2 new without keyhandle", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32}}, "", "keyhandle"},
		{"tpm2 update without keyhandle", Payload{Backend: TPM2, Command: CommandUpdate}, "", "keyhandle"},
		{"tpm2 update", Payload{Backend: TPM2, Command: CommandUpdate, Options: Options{KeyHandle: 0x81000001, PCRLock: 16}}, "update keyhandle=0x81000001 pcrlock=16", ""},
		{"tpm1 update, no option", Payload{Backend: TPM1, Command: CommandUpdate}, "update", ""},
		{"tee update", Payload{Backend: TEE, Command: CommandUpdate}, "", "command"},
		{"caam update", Payload{Backend: CAAM, Command: CommandUpdate}, "", "command"},
		{"dcp update", Payload{Backend: DCP, Command: CommandUpdate}, "", "command"},

		// Load.
		{"tpm2 load TPMKey", Payload{Backend: TPM2, Command: CommandLoad, Blob: blob}, "load " + hexs(blob), ""},
		{"tpm2 load TPMKey, same keyhandle", Payload{Backend: TPM2, Command: CommandLoad, Blob: blob, Options: Options{KeyHandle: 0x81000001}}, "load " + hexs(blob) + " keyhandle=0x81000001", ""},
		{"tpm2 load TPMKey, other keyhandle", Payload{Backend: TPM2, Command: CommandLoad, Blob: blob, Options: Options{KeyHandle: 0x81000002}}, "", "keyhandle"},
		{"tpm2 load raw needs keyhandle", Payload{Backend: TPM2, Command: CommandLoad, Blob: raw}, "", "keyhandle"},
		{"tpm2 load raw", Payload{Backend: TPM2, Command: CommandLoad, Blob: raw, Options: Options{KeyHandle: 0x81000001}}, "load 0002aabb0002ccdd keyhandle=0x81000001", ""},
		{"tpm1 load", Payload{Backend: TPM1, Command: CommandLoad, Blob: raw}, "load 0002aabb0002ccdd", ""},
		{"tpm2 load raw, public missing", Payload{Backend: TPM2, Command: CommandLoad, Blob: raw[:4], Options: Options{KeyHandle: 1}}, "", "blob"},
		{"tpm2 load raw, public truncated", Payload{Backend: TPM2, Command: CommandLoad, Blob: raw[:7], Options: Options{KeyHandle: 1}}, "", "blob"},
		{"tpm2 load raw, private too long", Payload{Backend: TPM2, Command: CommandLoad, Blob: []byte{0x01, 0xff, 0, 0}, Options: Options{KeyHandle: 1}}, "", "blob"},
		{"empty blob", Payload{Backend: TPM1, Command: CommandLoad}, "", "blob"},
		{"blob 513", Payload{Backend: TEE, Command: CommandLoad, Blob: make([]byte, 513)}, "", "blob"},
		{"blob 512", Payload{Backend: TEE, Command: CommandLoad, Blob: make([]byte, 512)}, "load " + strings.Repeat("00", 512), ""},
		{"policy in blob", Payload{Backend: TPM2, Command: CommandLoad, Blob: withPolicy(t)}, "", "blob"},
		{"parent 0 in blob", Payload{Backend: TPM2, Command: CommandLoad, Blob: withParent(t, 0), Options: Options{KeyHandle: 1}}, "", "blob"},

		// Non-TPM backends take no option.
		{"tee new", Payload{Backend: TEE, Command: CommandNew, Options: Options{KeyLen: 64}}, "new 64", ""},
		{"caam load", Payload{Backend: CAAM, Command: CommandLoad, Blob: raw}, "load 0002aabb0002ccdd", ""},
		{"tee option", Payload{Backend: TEE, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1}}, "", "options"},
		{"caam option", Payload{Backend: CAAM, Command: CommandNew, Options: Options{KeyLen: 32, PCRLock: 7}}, "", "options"},
		{"dcp option", Payload{Backend: DCP, Command: CommandLoad, Blob: raw, Options: Options{NonMigratable: true}}, "", "options"},

		// keyauth=, blobauth=.
		{"keyauth", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 32, KeyAuth: auth20}}, "new 32 keyauth=" + auth20h, ""},
		{"keyauth 19", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 32, KeyAuth: auth20[:19]}}, "", "keyauth"},
		{"tpm1 blobauth", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 32, BlobAuth: auth20}}, "new 32 blobauth=" + auth20h, ""},
		{"tpm1 blobauth password", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 32, BlobAuth: []byte("hello")}}, "", "blobauth"},
		{"tpm2 blobauth password", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, BlobAuth: []byte("hello")}}, "new 32 keyhandle=0x1 blobauth=hello", ""},
		{"tpm2 blobauth 20", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, BlobAuth: auth20}}, "new 32 keyhandle=0x1 blobauth=" + auth20h, ""},
		{"tpm2 blobauth 21", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, BlobAuth: make([]byte, 21)}}, "", "blobauth"},
		{"tpm2 blobauth space", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, BlobAuth: []byte("a b")}}, "", "blobauth"},
		{"tpm2 blobauth tab", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, BlobAuth: []byte("a\tb")}}, "", "blobauth"},
		{"tpm2 blobauth NUL", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, BlobAuth: []byte("a\x00")}}, "", "blobauth"},

		// pcrinfo=, pcrlock=, migratable=.
		{"pcrinfo", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 32, PCRInfo: []byte{1, 2}}}, "new 32 pcrinfo=0102", ""},
		{"pcrinfo 64", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 32, PCRInfo: make([]byte, 64)}}, "new 32 pcrinfo=" + strings.Repeat("00", 64), ""},
		{"pcrinfo 65", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 32, PCRInfo: make([]byte, 65)}}, "", "pcrinfo"},
		{"tpm2 pcrinfo parsed", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, PCRInfo: []byte{1}}}, "new 32 keyhandle=0x1 pcrinfo=01", ""},
		{"pcrlock", Payload{Backend: TPM1, Command: CommandLoad, Blob: raw, Options: Options{PCRLock: 23}}, "load 0002aabb0002ccdd pcrlock=23", ""},
		{"pcrlock negative", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 32, PCRLock: -1}}, "", "pcrlock"},
		{"pcrlock above int32 (64-bit int)", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 32, PCRLock: math.MaxInt}}, "", "pcrlock"},
		{"non-migratable", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, NonMigratable: true}}, "new 32 keyhandle=0x1 migratable=0", ""},

		// hash=, policydigest=, policyhandle=.
		{"tpm1 sha1", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 32, Hash: "sha1"}}, "new 32 hash=sha1", ""},
		{"tpm1 sha256", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 32, Hash: "sha256"}}, "", "hash"},
		{"tpm2 sm3", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, Hash: "sm3"}}, "new 32 keyhandle=0x1 hash=sm3", ""},
		{"tpm2 sm3-256", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, Hash: "sm3-256"}}, "", "hash"},
		{"tpm2 md5", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, Hash: "md5"}}, "", "hash"},
		{"tpm2 SHA256", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, Hash: "SHA256"}}, "", "hash"},
		{"policydigest sha256 default", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, PolicyDigest: digest(32)}}, "new 32 keyhandle=0x1 policydigest=" + hexs(digest(32)), ""},
		{"policydigest sha384", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, Hash: "sha384", PolicyDigest: digest(48)}}, "new 32 keyhandle=0x1 hash=sha384 policydigest=" + hexs(digest(48)), ""},
		{"policydigest size", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyLen: 32, KeyHandle: 1, Hash: "sha1", PolicyDigest: digest(32)}}, "", "policydigest"},
		{"tpm1 policydigest", Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 32, PolicyDigest: digest(20)}}, "", "policydigest"},
		{"policyhandle", Payload{Backend: TPM2, Command: CommandLoad, Blob: blob, Options: Options{PolicyHandle: 0x03000000}}, "load " + hexs(blob) + " policyhandle=0x3000000", ""},
		{"tpm1 policyhandle", Payload{Backend: TPM1, Command: CommandLoad, Blob: raw, Options: Options{PolicyHandle: 1}}, "", "policyhandle"},

		// Every option at once, in the kernel's order.
		{"all", Payload{Backend: TPM2, Command: CommandNew, Options: Options{
			KeyLen: 64, KeyHandle: 0x81000001, KeyAuth: auth20, BlobAuth: []byte("pw"), PCRInfo: []byte{9}, PCRLock: 16,
			NonMigratable: true, Hash: "sha512", PolicyDigest: digest(64), PolicyHandle: 0x03000001,
		}}, "new 64 keyhandle=0x81000001 keyauth=" + auth20h + " blobauth=pw pcrinfo=09 pcrlock=16 migratable=0 hash=sha512 policydigest=" + hexs(digest(64)) + " policyhandle=0x3000001", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.p.MarshalText()
			if c.field != "" {
				var e *keyring.Error
				if !errors.As(err, &e) || e.Field != c.field || !errors.Is(err, keyring.ErrInvalid) {
					t.Fatalf("MarshalText() = %q, %v; want an *Error of field %q matching ErrInvalid", got, err, c.field)
				}
				if got != nil {
					t.Errorf("MarshalText returned text with its error")
				}
				if verr := c.p.Validate(); verr == nil {
					t.Errorf("Validate() = nil, MarshalText() = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("MarshalText() = %v", err)
			}
			if string(got) != c.want {
				t.Fatalf("MarshalText() =\n%q, want\n%q", got, c.want)
			}
			// The parser reads it back to the same payload.
			back, err := ParsePayload(c.p.Backend, got)
			if err != nil {
				t.Fatalf("ParsePayload(MarshalText()) = %v", err)
			}
			if diff := cmp.Diff(c.p, back, cmpPayload); diff != "" {
				t.Errorf("ParsePayload(MarshalText()) differs (-want +got):\n%s", diff)
			}
			// The builder functions say the same as MarshalText.
			var built []byte
			switch c.p.Command {
			case CommandNew:
				built, err = NewPayload(c.p.Backend, c.p.Options)
			case CommandLoad:
				built, err = LoadPayload(c.p.Backend, c.p.Blob, c.p.Options)
			case CommandUpdate:
				built, err = UpdatePayload(c.p.Backend, c.p.Options)
			}
			if err != nil || string(built) != c.want {
				t.Errorf("builder = %q, %v", built, err)
			}
		})
	}
}

// Options.KeyLen 0 is a 32-byte key; load and update ignore KeyLen.
func TestKeyLenDefault(t *testing.T) {
	for _, c := range []struct {
		name string
		p    Payload
		want string
	}{
		{"zero", Payload{Backend: TPM1, Command: CommandNew}, "new 32"},
		{"zero, tpm2", Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyHandle: 1}}, "new 32 keyhandle=0x1"},
		{"load ignores it", Payload{Backend: TPM1, Command: CommandLoad, Blob: Blob{1}, Options: Options{KeyLen: 7}}, "load 01"},
		{"update ignores it", Payload{Backend: TPM1, Command: CommandUpdate, Options: Options{KeyLen: 7}}, "update"},
		{"tee takes it", Payload{Backend: TEE, Command: CommandNew, Options: Options{KeyLen: 48}}, "new 48"},
	} {
		got, err := c.p.MarshalText()
		if err != nil || string(got) != c.want {
			t.Errorf("%s: MarshalText() = %q, %v; want %q", c.name, got, err, c.want)
		}
		if c.p.Command != CommandLoad && c.p.String() != c.want {
			t.Errorf("%s: String() = %q, want %q", c.name, c.p.String(), c.want)
		}
	}
	if p, err := NewPayload(TPM1, Options{}); err != nil || string(p) != "new 32" {
		t.Errorf("NewPayload(TPM1, Options{}) = %q, %v", p, err)
	}
	var e *keyring.Error
	if _, err := NewPayload(TPM1, Options{KeyLen: -1}); !errors.As(err, &e) || e.Field != "keylen" || !e.Refused {
		t.Errorf("NewPayload with KeyLen -1: %v; want a refusal of keylen", err)
	}
}

// cmpPayload treats nil and empty slices alike, Blob's included (a Blob
// is assignable to []byte).
var cmpPayload = cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	s := make([]byte, 0, 2*len(b))
	for _, c := range b {
		s = append(s, digits[c>>4], digits[c&15])
	}
	return string(s)
}

// The parser's rules: the kernel's grammar, and what it refuses where the
// kernel would silently ignore or truncate.
func TestParsePayload(t *testing.T) {
	blob := kernelBlob(t)
	bh := hexs(blob)
	for _, c := range []struct {
		name  string
		b     Backend
		text  string
		want  string // canonical text, or
		field string // the field of the error
	}{
		{"plain", TPM2, "new 32 keyhandle=0x81000001", "new 32 keyhandle=0x81000001", ""},
		{"tabs and runs", TPM2, "new\t32 \t keyhandle=81000001\t\t", "new 32 keyhandle=0x81000001", ""},
		{"kstrtol +, leading zero, newline", TPM2, "new +032\n keyhandle=0X81000001\n", "new 32 keyhandle=0x81000001", ""},
		{"upper-case blob hex", TPM2, "load " + strings.ToUpper(bh), "load " + bh, ""},
		{"update alone", TPM1, "update", "update", ""},
		{"update trailing space", TPM1, "update ", "update", ""},
		{"migratable=1 is the default", TPM2, "new 32 keyhandle=1 migratable=1", "new 32 keyhandle=0x1", ""},
		{"pcrlock=0 is none", TPM2, "new 32 keyhandle=1 pcrlock=0", "new 32 keyhandle=0x1", ""},
		{"policyhandle=0 is none", TPM2, "new 32 keyhandle=1 policyhandle=0", "new 32 keyhandle=0x1", ""},
		{"raw 20-char blobauth is the same 20 bytes", TPM2, "new 32 keyhandle=1 blobauth=" + strings.Repeat("A", 20), "new 32 keyhandle=0x1 blobauth=" + strings.Repeat("41", 20), ""},
		{"blobauth with =", TPM2, "new 32 keyhandle=1 blobauth=a=b", "new 32 keyhandle=0x1 blobauth=a=b", ""},
		{"hash then policydigest", TPM2, "new 32 keyhandle=1 hash=sha1 policydigest=" + hexs(digest(20)), "new 32 keyhandle=0x1 hash=sha1 policydigest=" + hexs(digest(20)), ""},
		{"tee: no option", TEE, "load 00ff", "load 00ff", ""},

		{"empty", TPM2, "", "", "payload"},
		{"NUL", TPM2, "new 32 keyhandle=1\x00junk", "", "payload"},
		{"too long", TPM1, "update " + strings.Repeat(" ", 32767), "", "payload"},
		{"leading space", TPM1, " new 32", "", "command"},
		{"upper-case command", TPM1, "NEW 32", "", "command"},
		{"unknown command", TPM1, "create 32", "", "command"},
		{"new alone", TPM1, "new", "", "payload"},
		{"new, empty keylen", TPM1, "new ", "", "keylen"},
		{"two spaces before keylen", TPM1, "new  32", "", "keylen"},
		{"keylen hex", TPM1, "new 0x20", "", "keylen"},
		{"keylen negative", TPM1, "new -32", "", "keylen"},
		{"keylen -+", TPM1, "new -+32", "", "keylen"},
		{"keylen 31", TPM1, "new 31", "", "keylen"},
		{"keylen 129", TPM1, "new 129", "", "keylen"},
		{"keylen overflow", TPM1, "new 99999999999999999999999", "", "keylen"},
		{"load alone", TPM1, "load", "", "payload"},
		{"load, empty blob", TPM1, "load ", "", "blob"},
		{"odd blob", TPM1, "load 00f", "", "blob"},
		{"non-hex blob", TPM1, "load 0g", "", "blob"},
		{"blob over 512", TPM1, "load " + strings.Repeat("00", 513), "", "blob"},

		{"tee option", TEE, "new 32 keyhandle=1", "", "options"},
		{"caam junk", CAAM, "load 00ff junk", "", "options"},
		{"dcp option", DCP, "new 32 pcrlock=1", "", "options"},
		{"unknown option", TPM2, "new 32 keyhandle=1 foo=bar", "", "options"},
		{"option without =", TPM2, "new 32 keyhandle=1 migratable", "", "options"},
		{"option without value", TPM2, "new 32 keyhandle=", "", "options"},
		{"upper-case option", TPM2, "new 32 KEYHANDLE=1", "", "options"},
		{"duplicate", TPM2, "new 32 keyhandle=1 keyhandle=1", "", "keyhandle"},
		{"duplicate pcrlock", TPM2, "new 32 keyhandle=1 pcrlock=1 pcrlock=2", "", "pcrlock"},

		{"keyhandle not hex", TPM2, "new 32 keyhandle=xyz", "", "keyhandle"},
		{"keyhandle 0x alone", TPM2, "new 32 keyhandle=0x", "", "keyhandle"},
		{"keyhandle negative", TPM2, "new 32 keyhandle=-1", "", "keyhandle"},
		{"keyhandle above 32 bits", TPM2, "new 32 keyhandle=0x181000001", "", "keyhandle"},
		{"keyhandle above 64 bits", TPM2, "new 32 keyhandle=0x10000000000000000", "", "keyhandle"},
		{"keyhandle 0", TPM1, "new 32 keyhandle=0", "", "keyhandle"},
		{"tpm2 new without keyhandle", TPM2, "new 32", "", "keyhandle"},
		{"tpm2 load other keyhandle", TPM2, "load " + bh + " keyhandle=2", "", "keyhandle"},
		{"keyauth 39", TPM1, "new 32 keyauth=" + auth20h[:39], "", "keyauth"},
		{"keyauth 41", TPM1, "new 32 keyauth=" + auth20h + "a", "", "keyauth"},
		{"keyauth newline", TPM1, "new 32 keyauth=" + auth20h[:39] + "\n", "", "keyauth"},
		{"keyauth not hex", TPM1, "new 32 keyauth=" + strings.Repeat("zz", 20), "", "keyauth"},
		{"tpm1 blobauth password", TPM1, "new 32 blobauth=hello", "", "blobauth"},
		{"tpm2 40-char blobauth must be hex", TPM2, "new 32 keyhandle=1 blobauth=" + strings.Repeat("zz", 20), "", "blobauth"},
		{"tpm2 blobauth 21", TPM2, "new 32 keyhandle=1 blobauth=" + strings.Repeat("a", 21), "", "blobauth"},
		{"pcrinfo odd", TPM1, "new 32 pcrinfo=abc", "", "pcrinfo"},
		{"pcrinfo not hex", TPM1, "new 32 pcrinfo=zz", "", "pcrinfo"},
		{"pcrinfo 65", TPM1, "new 32 pcrinfo=" + strings.Repeat("00", 65), "", "pcrinfo"},
		{"pcrlock hex", TPM1, "new 32 pcrlock=0x10", "", "pcrlock"},
		{"pcrlock above int32", TPM1, "new 32 pcrlock=2147483648", "", "pcrlock"},
		{"migratable=0junk", TPM1, "new 32 migratable=0junk", "", "migratable"},
		{"migratable=2", TPM1, "new 32 migratable=2", "", "migratable"},
		{"hash after policydigest", TPM2, "new 32 keyhandle=1 policydigest=" + hexs(digest(32)) + " hash=sha256", "", "hash"},
		{"tpm1 hash sha256", TPM1, "new 32 hash=sha256", "", "hash"},
		{"tpm2 hash sm3-256", TPM2, "new 32 keyhandle=1 hash=sm3-256", "", "hash"},
		{"tpm2 hash md5 at load", TPM2, "load " + bh + " hash=md5", "", "hash"},
		{"policydigest wrong size", TPM2, "new 32 keyhandle=1 policydigest=" + hexs(digest(20)), "", "policydigest"},
		{"policydigest not hex", TPM2, "new 32 keyhandle=1 policydigest=" + strings.Repeat("zz", 32), "", "policydigest"},
		{"tpm1 policydigest", TPM1, "new 32 policydigest=" + hexs(digest(20)), "", "policydigest"},
		{"tpm1 policyhandle", TPM1, "new 32 policyhandle=1", "", "policyhandle"},
		{"policyhandle above 32 bits", TPM2, "new 32 keyhandle=1 policyhandle=0x100000000", "", "policyhandle"},
		{"tee update", TEE, "update", "", "command"},
		{"no backend", 0, "new 32", "", "backend"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParsePayload(c.b, []byte(c.text))
			if c.field != "" {
				var e *keyring.Error
				if !errors.As(err, &e) || e.Field != c.field || !errors.Is(err, keyring.ErrInvalid) {
					t.Fatalf("ParsePayload = %v, %v; want an *Error of field %q matching ErrInvalid", p, err, c.field)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePayload: %v", err)
			}
			got, err := p.MarshalText()
			if err != nil || string(got) != c.want {
				t.Fatalf("MarshalText() = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

// Secrets and blob bytes stay out of String and error messages.
func TestNoSecretsInMessages(t *testing.T) {
	secret := []byte("s3cr3t")
	o := Options{KeyHandle: 0x81000001, KeyAuth: bytes.Repeat([]byte{0xee}, 20), BlobAuth: secret}
	p := Payload{Backend: TPM2, Command: CommandLoad, Blob: kernelBlob(t), Options: o}
	s := p.String()
	for _, leak := range []string{"s3cr3t", "eeee", hexs(p.Blob)[:16]} {
		if strings.Contains(s, leak) {
			t.Errorf("String() = %q contains secret or blob bytes", s)
		}
	}
	if want := "load <blob of 236 bytes> keyhandle=0x81000001 keyauth=<20 bytes> blobauth=<6 bytes>"; s != want {
		t.Errorf("String() = %q, want %q", s, want)
	}
	if got := (Options{}).String(); got != "" {
		t.Errorf("Options{}.String() = %q", got)
	}
	for _, text := range []string{
		"new 32 keyhandle=1 blobauth=s3cr3t s3cr3t",
		"new 32 keyhandle=1 keyauth=s3cr3t",
		"new 32 keyhandle=1 blobauth=s3cr3ts3cr3ts3cr3ts3cr3t",
		"new 32 keyhandle=1 s3cr3t=1",
	} {
		_, err := ParsePayload(TPM2, []byte(text))
		if err == nil {
			t.Fatalf("ParsePayload(%q) accepted", text)
		}
		if strings.Contains(err.Error(), "3cr3") && !strings.Contains(err.Error(), `"s3cr3t"`) {
			t.Errorf("error %q leaks the value", err)
		}
	}
	// An option's name is quoted, never its value.
	_, err := ParsePayload(TPM2, []byte("new 32 keyhandle=1 blobauht=s3cr3t"))
	if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "blobauht") {
		t.Errorf("misspelt option: %v", err)
	}
}

func TestOptionsWipe(t *testing.T) {
	p, err := ParsePayload(TPM2, []byte("new 32 keyhandle=1 keyauth="+auth20h+" blobauth=pw"))
	if err != nil {
		t.Fatal(err)
	}
	p.Options.Wipe()
	if !bytes.Equal(p.Options.KeyAuth, make([]byte, 20)) || !bytes.Equal(p.Options.BlobAuth, []byte{0, 0}) {
		t.Errorf("Wipe left %x, %x", p.Options.KeyAuth, p.Options.BlobAuth)
	}
}

func TestBackendNames(t *testing.T) {
	for _, c := range []struct {
		b              Backend
		str, source    string
		tpm, migratory bool
	}{
		{TPM1, "TPM 1.2", "tpm", true, true},
		{TPM2, "TPM 2.0", "tpm", true, true},
		{TEE, "tee", "tee", false, false},
		{CAAM, "caam", "caam", false, false},
		{DCP, "dcp", "dcp", false, false},
		{0, "Backend(0)", "", false, false},
	} {
		if c.b.String() != c.str || c.b.Source() != c.source || c.b.IsTPM() != c.tpm || c.b.Migratable() != c.migratory {
			t.Errorf("%d: %q %q %v %v", c.b, c.b.String(), c.b.Source(), c.b.IsTPM(), c.b.Migratable())
		}
	}
	if CommandNew.String() != "new" || CommandLoad.String() != "load" || CommandUpdate.String() != "update" || Command(0).String() != "Command(0)" {
		t.Error("Command names")
	}
}

// withPolicy is a TPMKey with a [1] policy, as userspace tools write.
func withPolicy(t testing.TB) []byte {
	k := syntheticKey()
	k.Policy = []PolicyCommand{{CommandCode: 0x17f, Policy: []byte{1}}}
	b, err := k.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
