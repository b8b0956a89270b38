package mktme

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kernkeys/kernkeys/keyring"
)

// Hex values used in payloads; no error message may contain them.
const (
	hexK  = "00112233445566778899aabbccddeeff" // 32 digits: an RFC v2 key
	hexT  = "ffeeddccbbaa99887766554433221100" // 32 digits: an RFC v2 tweak
	hexU  = "0123456789abcdef"                 // 16 digits: RFC v1 values
	hexU2 = "fedcba9876543210"
	alg2  = "algorithm=aes-xts-128"
	alg1  = "algorithm=aes_xts_128"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// secrets are strings that must never appear in an error or a String.
var secrets = []string{hexK, hexT, hexU, hexU2, strings.ToUpper(hexK), hexK[:16], hexT[:16]}

// checkRejected checks that err rejects a payload as invalid, on field,
// without leaking key material.
func checkRejected(t *testing.T, what string, err error, field string) {
	t.Helper()
	var e *keyring.Error
	switch {
	case !errors.As(err, &e):
		t.Errorf("%s: error %v (%T) is not a *keyring.Error", what, err, err)
		return
	case !errors.Is(err, keyring.ErrInvalid) || !e.Refused || !strings.HasPrefix(e.Op, "mktme."):
		t.Errorf("%s: error %v does not match ErrInvalid, refused by mktme", what, err)
	case e.Field != field:
		t.Errorf("%s: error on field %q (%v), want %q", what, e.Field, err, field)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("%s: error %q contains key material", what, err)
		}
	}
}

// pad returns s followed by spaces up to n bytes.
func pad(s string, n int) string { return s + strings.Repeat(" ", n-len(s)) }

// Every rule of the RFC v2 grammar, accepted and refused. The oracle is
// the model of the RFC v2 code (rfc_model_test.go): every payload Parse
// accepts, the code accepts with the same values; every payload Parse
// refuses, the code refuses too, except the rows marked lax, where the
// code is laxer than the v2 documentation.
func TestParseV2Rules(t *testing.T) {
	user := V2{Type: UserSupplied, Key: unhex(hexK), Tweak: unhex(hexT)}
	for _, c := range []struct {
		rule  string
		in    string
		want  V2
		field string // the rejected field, "" if accepted
		lax   bool   // the RFC v2 code accepts it; its documentation does not
	}{
		// Whole payload: 1..1024 bytes, no NUL.
		{rule: "empty payload", in: "", field: "payload"},
		{rule: "1024 bytes", in: pad("type=cpu "+alg2, 1024), want: V2{Type: CPU}},
		{rule: "1025 bytes", in: pad("type=cpu "+alg2, 1025), field: "payload"},
		{rule: "NUL byte", in: "type=cpu " + alg2 + "\x00key=" + hexK, field: "payload", lax: true},
		{rule: "NUL byte at the start", in: "\x00type=cpu", field: "payload"},
		{rule: "separators only", in: " \t \t", field: "payload"},

		// Separators: single spaces and tabs, runs allowed, nothing else.
		{rule: "documented user example", in: "type=user " + alg2 + " key=" + hexK + " tweak=" + hexT, want: user},
		{rule: "any order", in: "tweak=" + hexT + " key=" + hexK + " " + alg2 + " type=user", want: user},
		{rule: "tabs, runs, leading and trailing", in: "\t type=cpu \t\t " + alg2 + "  \t", want: V2{Type: CPU}},
		{rule: "newline is not a separator", in: "type=cpu\n" + alg2, field: "type"},
		{rule: "trailing newline", in: "type=cpu " + alg2 + "\n", field: "algorithm"},
		{rule: "CR is not a separator", in: "type=cpu\r " + alg2, field: "type"},
		{rule: "vertical tab is not a separator", in: "type=cpu\v" + alg2, field: "type"},
		{rule: "comma is not a separator", in: "type=cpu," + alg2, field: "type"},

		// Options: name=value, known case-sensitive names, non-empty values.
		{rule: "no =", in: "type=cpu " + alg2 + " verbose", field: "option"},
		{rule: "unknown name", in: "type=cpu " + alg2 + " mode=fast", field: "option"},
		{rule: "empty name", in: "=cpu " + alg2, field: "option"},
		{rule: "name case", in: "Type=cpu " + alg2, field: "option"},
		{rule: "name case", in: "type=cpu ALGORITHM=aes-xts-128", field: "option"},
		{rule: "v1 option", in: "type=cpu " + alg2 + " entropy=" + hexU, field: "option"},
		{rule: "v1 option", in: "userkey=" + hexU + " tweak=" + hexU2, field: "option"},
		{rule: "space around =", in: "type = cpu " + alg2, field: "option"},
		{rule: "empty value", in: "type= " + alg2, field: "type"},
		{rule: "empty value", in: "type=cpu algorithm=", field: "algorithm"},
		{rule: "empty value", in: "type=cpu " + alg2 + " key=", field: "key"},
		{rule: "repeat", in: "type=cpu type=cpu " + alg2, field: "type"},
		{rule: "repeat with another value", in: "type=cpu " + alg2 + " type=user", field: "type"},
		{rule: "repeat", in: "type=cpu " + alg2 + " " + alg2, field: "algorithm"},
		{rule: "repeat", in: "type=cpu " + alg2 + " key=" + hexK + " key=" + hexK, field: "key"},
		{rule: "repeat", in: "type=cpu " + alg2 + " tweak=" + hexT + " tweak=" + hexT, field: "tweak"},

		// type=: required, one of four exact words.
		{rule: "type required", in: alg2 + " key=" + hexK + " tweak=" + hexT, field: "type"},
		{rule: "type user", in: "type=user " + alg2 + " key=" + hexK + " tweak=" + hexT, want: user},
		{rule: "type cpu", in: alg2 + " type=cpu", want: V2{Type: CPU}},
		{rule: "type clear", in: "type=clear", want: V2{Type: Clear}},
		{rule: "type no-encrypt", in: "type=no-encrypt", want: V2{Type: NoEncrypt}},
		{rule: "type case", in: "type=CPU " + alg2, field: "type"},
		{rule: "type case", in: "type=User " + alg2 + " key=" + hexK + " tweak=" + hexT, field: "type"},
		{rule: "unknown type", in: "type=random " + alg2, field: "type"},
		{rule: "unknown type", in: "type=no_encrypt", field: "type"},
		{rule: "type prefix", in: "type=cp " + alg2, field: "type"},
		{rule: "type with =", in: "type==cpu " + alg2, field: "type"},

		// algorithm=: exactly aes-xts-128.
		{rule: "algorithm case", in: "type=cpu algorithm=AES-XTS-128", field: "algorithm"},
		{rule: "algorithm v1 spelling", in: "type=cpu " + alg1, field: "algorithm"},
		{rule: "other algorithm", in: "type=cpu algorithm=aes-xts-256", field: "algorithm"},

		// key= and tweak=: exactly 32 hex digits of either case.
		{rule: "upper-case hex", in: "type=user " + alg2 + " key=" + strings.ToUpper(hexK) + " tweak=" + hexT, want: user},
		{rule: "31 digits", in: "type=cpu " + alg2 + " key=" + hexK[:31], field: "key"},
		{rule: "16 digits (v1 size)", in: "type=cpu " + alg2 + " tweak=" + hexT[:16], field: "tweak"},
		{rule: "33 digits", in: "type=cpu " + alg2 + " key=" + hexK + "0", field: "key", lax: true},
		{rule: "64 digits", in: "type=cpu " + alg2 + " tweak=" + hexT + hexT, field: "tweak", lax: true},
		{rule: "32 digits and junk", in: "type=cpu " + alg2 + " key=" + hexK + "zz", field: "key", lax: true},
		{rule: "32 digits and a newline", in: "type=cpu " + alg2 + " key=" + hexK + "\n", field: "key", lax: true},
		{rule: "not hex", in: "type=cpu " + alg2 + " key=" + hexK[:30] + "xy", field: "key"},
		{rule: "0x prefix", in: "type=cpu " + alg2 + " key=0x" + hexK[:30], field: "key"},

		// Per type.
		{rule: "user needs algorithm", in: "type=user key=" + hexK + " tweak=" + hexT, field: "algorithm"},
		{rule: "user needs key", in: "type=user " + alg2 + " tweak=" + hexT, field: "key"},
		{rule: "user needs tweak", in: "type=user " + alg2 + " key=" + hexK, field: "tweak"},
		{rule: "cpu needs algorithm", in: "type=cpu", field: "algorithm"},
		{rule: "cpu needs algorithm", in: "type=cpu key=" + hexK, field: "algorithm"},
		{rule: "cpu key entropy", in: "type=cpu " + alg2 + " key=" + hexK, want: V2{Type: CPU, Key: unhex(hexK)}},
		{rule: "cpu tweak entropy", in: "type=cpu " + alg2 + " tweak=" + hexT, want: V2{Type: CPU, Tweak: unhex(hexT)}},
		{rule: "cpu both entropies", in: "type=cpu " + alg2 + " key=" + hexK + " tweak=" + hexT, want: V2{Type: CPU, Key: unhex(hexK), Tweak: unhex(hexT)}},
		{rule: "clear forbids algorithm", in: "type=clear " + alg2, field: "algorithm", lax: true},
		{rule: "clear forbids key", in: "type=clear key=" + hexK, field: "key", lax: true},
		{rule: "clear forbids tweak", in: "type=clear tweak=" + hexT, field: "tweak", lax: true},
		{rule: "no-encrypt forbids algorithm", in: "type=no-encrypt " + alg2, field: "algorithm", lax: true},
		{rule: "no-encrypt forbids key", in: "type=no-encrypt key=" + hexK, field: "key", lax: true},
		{rule: "no-encrypt forbids tweak", in: "tweak=" + hexT + " type=no-encrypt", field: "tweak", lax: true},
		{rule: "a bad algorithm is refused even with clear", in: "type=clear algorithm=des", field: "algorithm"},
	} {
		what := fmt.Sprintf("%s: Parse(%q)", c.rule, c.in)
		got, err := Parse([]byte(c.in))
		model := rfcV2([]byte(c.in))
		if c.field != "" {
			checkRejected(t, what, err, c.field)
			if diff := cmp.Diff(V2{}, got); diff != "" {
				t.Errorf("%s: returned options with the error", what)
			}
			if model.ok != c.lax {
				t.Errorf("%s: the RFC v2 code accepts it: %v; the table says %v", what, model.ok, c.lax)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", what, diff)
		}
		if !model.ok || model.laxity != "" || model.typ != got.Type.String() ||
			!bytes.Equal(model.fields["key"], got.Key) || !bytes.Equal(model.fields["tweak"], got.Tweak) {
			t.Errorf("%s: the RFC v2 code reads it otherwise: %+v", what, model)
		}
	}
}

// Every rule of the RFC v1 grammar (its documentation and the v1 code).
func TestParseV1Rules(t *testing.T) {
	user := V1{UserKey: unhex(hexU), Tweak: unhex(hexU2)}
	cpu := V1{Entropy: unhex(hexU)}
	for _, c := range []struct {
		rule  string
		in    string
		want  V1
		field string
		lax   bool
	}{
		{rule: "empty payload", in: "", field: "payload"},
		{rule: "1024 bytes", in: pad("entropy="+hexU, 1024), want: V1{Entropy: unhex(hexU), OmitAlgorithm: true}},
		{rule: "1025 bytes", in: pad("entropy="+hexU, 1025), field: "payload"},
		{rule: "NUL byte", in: "entropy=" + hexU + "\x00junk", field: "payload", lax: true},
		{rule: "separators only", in: "\t  ", field: "payload"},

		{rule: "user key", in: alg1 + " userkey=" + hexU + " tweak=" + hexU2, want: user},
		{rule: "user key without algorithm", in: "userkey=" + hexU + " tweak=" + hexU2, want: V1{UserKey: unhex(hexU), Tweak: unhex(hexU2), OmitAlgorithm: true}},
		{rule: "cpu key", in: alg1 + " entropy=" + hexU, want: cpu},
		{rule: "any order, tabs and runs", in: "\tentropy=" + hexU + "  \t" + alg1 + " ", want: cpu},
		{rule: "upper-case hex", in: alg1 + " entropy=" + strings.ToUpper(hexU), want: cpu},
		{rule: "trailing newline", in: alg1 + " entropy=" + hexU + "\n", field: "entropy"},
		{rule: "newline is not a separator", in: alg1 + "\nentropy=" + hexU, field: "algorithm"},

		{rule: "no =", in: "entropy=" + hexU + " cpu", field: "option"},
		{rule: "unknown name", in: "entropy=" + hexU + " mode=x", field: "option"},
		{rule: "name case", in: "Entropy=" + hexU, field: "option"},
		{rule: "name case", in: "USERKEY=" + hexU + " tweak=" + hexU2, field: "option"},
		{rule: "v2 option", in: "type=cpu " + alg1 + " entropy=" + hexU, field: "option"},
		{rule: "v2 option", in: "key=" + hexU + " tweak=" + hexU2, field: "option"},
		{rule: "empty value", in: "entropy=", field: "entropy"},
		{rule: "empty value", in: "algorithm= entropy=" + hexU, field: "algorithm"},
		{rule: "repeat", in: "entropy=" + hexU + " entropy=" + hexU, field: "entropy"},
		{rule: "repeat", in: alg1 + " " + alg1 + " entropy=" + hexU, field: "algorithm"},
		{rule: "repeat", in: "userkey=" + hexU + " userkey=" + hexU + " tweak=" + hexU2, field: "userkey"},

		{rule: "algorithm documented spelling", in: alg2 + " entropy=" + hexU, field: "algorithm"},
		{rule: "algorithm case", in: "algorithm=AES_XTS_128 entropy=" + hexU, field: "algorithm"},

		{rule: "15 digits", in: "entropy=" + hexU[:15], field: "entropy"},
		{rule: "17 digits", in: "entropy=" + hexU + "0", field: "entropy"},
		{rule: "32 digits (v2 size)", in: "userkey=" + hexK + " tweak=" + hexU2, field: "userkey"},
		{rule: "not hex", in: "userkey=" + hexU[:14] + "zz tweak=" + hexU2, field: "userkey"},
		{rule: "not hex", in: "userkey=" + hexU + " tweak=" + hexU2[:15] + "g", field: "tweak"},

		{rule: "cpu key needs entropy", in: alg1, field: "entropy"},
		{rule: "cpu key forbids tweak", in: "entropy=" + hexU + " tweak=" + hexU2, field: "tweak"},
		{rule: "tweak alone", in: "tweak=" + hexU2, field: "entropy"},
		{rule: "user key needs tweak", in: "userkey=" + hexU, field: "tweak"},
		{rule: "user key forbids entropy", in: "userkey=" + hexU + " tweak=" + hexU2 + " entropy=" + hexU, field: "entropy"},
	} {
		what := fmt.Sprintf("%s: ParseV1(%q)", c.rule, c.in)
		got, err := ParseV1([]byte(c.in))
		model := rfcV1([]byte(c.in))
		if c.field != "" {
			checkRejected(t, what, err, c.field)
			if diff := cmp.Diff(V1{}, got); diff != "" {
				t.Errorf("%s: returned options with the error", what)
			}
			if model.ok != c.lax {
				t.Errorf("%s: the RFC v1 code accepts it: %v; the table says %v", what, model.ok, c.lax)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", what, diff)
		}
		if !model.ok || model.laxity != "" || model.alg == got.OmitAlgorithm ||
			!bytes.Equal(model.fields["userkey"], got.UserKey) || !bytes.Equal(model.fields["tweak"], got.Tweak) ||
			!bytes.Equal(model.fields["entropy"], got.Entropy) {
			t.Errorf("%s: the RFC v1 code reads it otherwise: %+v", what, model)
		}
	}
}

// Every rule of the V2 builder, and the exact text it writes.
func TestMarshalV2(t *testing.T) {
	k, tw := unhex(hexK), unhex(hexT)
	for _, c := range []struct {
		rule  string
		in    V2
		want  string
		field string
	}{
		{rule: "user", in: V2{Type: UserSupplied, Key: k, Tweak: tw}, want: "type=user " + alg2 + " key=" + hexK + " tweak=" + hexT},
		{rule: "cpu", in: V2{Type: CPU}, want: "type=cpu " + alg2},
		{rule: "cpu with key entropy", in: V2{Type: CPU, Key: k}, want: "type=cpu " + alg2 + " key=" + hexK},
		{rule: "cpu with tweak entropy", in: V2{Type: CPU, Tweak: tw}, want: "type=cpu " + alg2 + " tweak=" + hexT},
		{rule: "cpu with both", in: V2{Type: CPU, Key: k, Tweak: tw}, want: "type=cpu " + alg2 + " key=" + hexK + " tweak=" + hexT},
		{rule: "empty slices are absent", in: V2{Type: CPU, Key: []byte{}, Tweak: []byte{}}, want: "type=cpu " + alg2},
		{rule: "clear", in: V2{Type: Clear}, want: "type=clear"},
		{rule: "no-encrypt", in: V2{Type: NoEncrypt}, want: "type=no-encrypt"},

		{rule: "zero value", in: V2{}, field: "type"},
		{rule: "unknown type", in: V2{Type: NoEncrypt + 1}, field: "type"},
		{rule: "user needs key", in: V2{Type: UserSupplied, Tweak: tw}, field: "key"},
		{rule: "user needs tweak", in: V2{Type: UserSupplied, Key: k}, field: "tweak"},
		{rule: "key size", in: V2{Type: UserSupplied, Key: k[:15], Tweak: tw}, field: "key"},
		{rule: "key size", in: V2{Type: CPU, Key: append(k, 0)}, field: "key"},
		{rule: "tweak size", in: V2{Type: CPU, Tweak: tw[:8]}, field: "tweak"},
		{rule: "clear forbids key", in: V2{Type: Clear, Key: k}, field: "key"},
		{rule: "no-encrypt forbids tweak", in: V2{Type: NoEncrypt, Tweak: tw}, field: "tweak"},
	} {
		what := fmt.Sprintf("%s: %v.MarshalText()", c.rule, c.in)
		got, err := c.in.MarshalText()
		if verr := c.in.Validate(); (verr == nil) != (err == nil) {
			t.Errorf("%s: Validate = %v, MarshalText error %v", what, verr, err)
		}
		if c.field != "" {
			checkRejected(t, what, err, c.field)
			if got != nil {
				t.Errorf("%s: returned %q with the error", what, got)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("%s = %q, %v; want %q", what, got, err, c.want)
			continue
		}
		back, err := Parse(got)
		if err != nil {
			t.Errorf("%s: Parse of the result: %v", what, err)
		}
		if diff := cmp.Diff(normalV2(c.in), back); diff != "" {
			t.Errorf("%s: round trip (-want +got)\n%s", what, diff)
		}
		if m := rfcV2(got); !m.ok || m.laxity != "" {
			t.Errorf("%s: the RFC v2 code would refuse %q", what, got)
		}
	}
}

// Every rule of the V1 builder, and the exact text it writes.
func TestMarshalV1(t *testing.T) {
	u, u2 := unhex(hexU), unhex(hexU2)
	for _, c := range []struct {
		rule  string
		in    V1
		want  string
		field string
	}{
		{rule: "user", in: V1{UserKey: u, Tweak: u2}, want: alg1 + " userkey=" + hexU + " tweak=" + hexU2},
		{rule: "cpu", in: V1{Entropy: u}, want: alg1 + " entropy=" + hexU},
		{rule: "without algorithm", in: V1{Entropy: u, OmitAlgorithm: true}, want: "entropy=" + hexU},
		{rule: "user without algorithm", in: V1{UserKey: u, Tweak: u2, OmitAlgorithm: true}, want: "userkey=" + hexU + " tweak=" + hexU2},
		{rule: "empty slices are absent", in: V1{Entropy: u, UserKey: []byte{}, Tweak: []byte{}}, want: alg1 + " entropy=" + hexU},

		{rule: "zero value", in: V1{}, field: "entropy"},
		{rule: "cpu needs entropy", in: V1{OmitAlgorithm: true}, field: "entropy"},
		{rule: "tweak alone", in: V1{Tweak: u2}, field: "entropy"},
		{rule: "cpu forbids tweak", in: V1{Entropy: u, Tweak: u2}, field: "tweak"},
		{rule: "user needs tweak", in: V1{UserKey: u}, field: "tweak"},
		{rule: "user forbids entropy", in: V1{UserKey: u, Tweak: u2, Entropy: u}, field: "entropy"},
		{rule: "userkey size", in: V1{UserKey: unhex(hexK), Tweak: u2}, field: "userkey"},
		{rule: "tweak size", in: V1{UserKey: u, Tweak: u2[:7]}, field: "tweak"},
		{rule: "entropy size", in: V1{Entropy: append(u, 1)}, field: "entropy"},
	} {
		what := fmt.Sprintf("%s: %v.MarshalText()", c.rule, c.in)
		got, err := c.in.MarshalText()
		if verr := c.in.Validate(); (verr == nil) != (err == nil) {
			t.Errorf("%s: Validate = %v, MarshalText error %v", what, verr, err)
		}
		if c.field != "" {
			checkRejected(t, what, err, c.field)
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("%s = %q, %v; want %q", what, got, err, c.want)
			continue
		}
		back, err := ParseV1(got)
		if err != nil {
			t.Errorf("%s: ParseV1 of the result: %v", what, err)
		}
		if diff := cmp.Diff(normalV1(c.in), back); diff != "" {
			t.Errorf("%s: round trip (-want +got)\n%s", what, diff)
		}
		if m := rfcV1(got); !m.ok || m.laxity != "" {
			t.Errorf("%s: the RFC v1 code would refuse %q", what, got)
		}
	}
}

// normalV2 and normalV1 turn empty values into nil, as Parse returns them.
func normalV2(o V2) V2 {
	if len(o.Key) == 0 {
		o.Key = nil
	}
	if len(o.Tweak) == 0 {
		o.Tweak = nil
	}
	return o
}

func normalV1(o V1) V1 {
	for _, p := range []*[]byte{&o.UserKey, &o.Tweak, &o.Entropy} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	return o
}

// AppendText appends, grows the buffer at most once and, given room,
// allocates nothing; on error it returns the buffer unchanged.
func TestAppendText(t *testing.T) {
	opts := []Payload{
		V2{Type: UserSupplied, Key: unhex(hexK), Tweak: unhex(hexT)},
		V2{Type: NoEncrypt},
		V1{UserKey: unhex(hexU), Tweak: unhex(hexU2)},
		V1{Entropy: unhex(hexU), OmitAlgorithm: true},
	}
	for _, o := range opts {
		want, err := o.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		got, err := o.AppendText([]byte("prefix:"))
		if err != nil || string(got) != "prefix:"+string(want) {
			t.Errorf("%v: AppendText = %q, %v", o, got, err)
		}
		if cap(got) != len(got) && cap(got) > 2*len(got) {
			t.Errorf("%v: AppendText grew the buffer to %d for %d bytes", o, cap(got), len(got))
		}
		buf := make([]byte, 0, 200)
		if n := testing.AllocsPerRun(100, func() { buf, _ = o.AppendText(buf[:0]) }); n != 0 {
			t.Errorf("%v: AppendText into a large enough buffer allocates %v times", o, n)
		}
	}
	b := []byte("keep")
	got, err := V2{}.AppendText(b)
	if err == nil || string(got) != "keep" {
		t.Errorf("AppendText of invalid options = %q, %v", got, err)
	}
}

// String, GoString and every fmt verb leave key material out.
func TestStringRedacts(t *testing.T) {
	for _, c := range []struct {
		o    Payload
		want string
	}{
		{V2{Type: UserSupplied, Key: unhex(hexK), Tweak: unhex(hexT)}, "type=user algorithm=aes-xts-128 key=<16 bytes> tweak=<16 bytes>"},
		{V2{Type: CPU, Key: unhex(hexK)}, "type=cpu algorithm=aes-xts-128 key=<16 bytes>"},
		{V2{Type: Clear}, "type=clear"},
		{V2{Key: []byte{1, 2, 3}}, "type=KeyType(0) key=<3 bytes>"},
		{V1{UserKey: unhex(hexU), Tweak: unhex(hexU2)}, "algorithm=aes_xts_128 userkey=<8 bytes> tweak=<8 bytes>"},
		{V1{Entropy: unhex(hexU), OmitAlgorithm: true}, "entropy=<8 bytes>"},
		{V1{OmitAlgorithm: true}, ""},
	} {
		if got := c.o.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
		all := fmt.Sprintf("%v %+v %#v %s %q", c.o, c.o, c.o, c.o, c.o)
		for _, v := range [][]byte{unhex(hexK), unhex(hexU)} {
			if strings.Contains(all, fmt.Sprint(v[:4])) || strings.Contains(all, hex.EncodeToString(v[:4])) {
				t.Errorf("fmt prints key material: %s", all)
			}
		}
	}
	for typ, want := range map[KeyType]string{UserSupplied: "user", CPU: "cpu", Clear: "clear", NoEncrypt: "no-encrypt", 0: "KeyType(0)", 9: "KeyType(9)"} {
		if typ.String() != want {
			t.Errorf("KeyType(%d).String() = %q, want %q", typ, typ.String(), want)
		}
	}
}

func TestWipe(t *testing.T) {
	o, err := Parse([]byte("type=user " + alg2 + " key=" + hexK + " tweak=" + hexT))
	if err != nil {
		t.Fatal(err)
	}
	k, tw := o.Key, o.Tweak
	o.Wipe()
	if !bytes.Equal(k, make([]byte, KeySize)) || !bytes.Equal(tw, make([]byte, KeySize)) {
		t.Errorf("V2.Wipe left %x %x", k, tw)
	}
	o1, err := ParseV1([]byte("userkey=" + hexU + " tweak=" + hexU2))
	if err != nil {
		t.Fatal(err)
	}
	u, tw1 := o1.UserKey, o1.Tweak
	o1.Wipe()
	if !bytes.Equal(u, make([]byte, KeySizeV1)) || !bytes.Equal(tw1, make([]byte, KeySizeV1)) {
		t.Errorf("V1.Wipe left %x %x", u, tw1)
	}
	k2, u2 := unhex(hexK), unhex(hexU)
	Options{Payload: V2{Type: UserSupplied, Key: k2}}.Wipe()
	Options{Payload: &V1{Entropy: u2}}.Wipe()
	if !bytes.Equal(k2, make([]byte, KeySize)) || !bytes.Equal(u2, make([]byte, KeySizeV1)) {
		t.Errorf("Options.Wipe left %x %x", k2, u2)
	}
	var zero V2
	zero.Wipe()          // nil slices: no panic
	Options{}.Wipe()     // no payload: no panic
	var zeroOpts Options // the zero Options is type=cpu in RFC v2
	if p, err := zeroOpts.payload().MarshalText(); err != nil || string(p) != "type=cpu algorithm=aes-xts-128" || zeroOpts.Validate() != nil || zeroOpts.String() != "type=cpu algorithm=aes-xts-128" {
		t.Errorf("the zero Options: %q, %v", p, err)
	}
}

// The hints of error messages: case, the other grammar, newlines. They
// quote only words of the grammar.
func TestErrorHints(t *testing.T) {
	for _, c := range []struct {
		v1   bool
		in   string
		want string
	}{
		{false, "Type=cpu", "option names are case-sensitive: type="},
		{false, "entropy=" + hexU, "entropy= belongs to the RFC v1 (use ParseV1) grammar"},
		{true, "type=cpu", "type= belongs to the RFC v2 (use Parse) grammar"},
		{false, "type=CPU", "values are case-sensitive: cpu"},
		{false, "type=cpu " + alg1, "aes_xts_128 is the spelling of RFC v1"},
		{true, alg2 + " entropy=" + hexU, "aes-xts-128 is the spelling of RFC v2"},
		{false, "type=cpu " + alg2 + "\n", "a newline is not a separator"},
		{false, "type=cpu " + alg2 + " key=" + hexK + "\n", "would read the first 32 and ignore the rest"},
		{false, "type=clear key=" + hexK, "its code ignores it"},
		{false, "type=cpu " + alg2 + " k", "option 3 is not name=value"},
		{false, "type=cpu " + alg2 + " x=" + hexK, "option 3 is not one of type=, key=, tweak=, algorithm="},
	} {
		var err error
		if c.v1 {
			_, err = ParseV1([]byte(c.in))
		} else {
			_, err = Parse([]byte(c.in))
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v; want a message with %q", c.in, err, c.want)
		}
	}
}
