package mktme

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kernkeys/kernkeys/keyring"
)

// equalV2 and equalV1 compare options, an empty value equal to an absent
// one. The fuzz targets avoid cmp: its caches make coverage unstable, and
// the fuzzer then stalls minimising inputs.
func equalV2(a, b V2) bool {
	return a.Type == b.Type && bytes.Equal(a.Key, b.Key) && bytes.Equal(a.Tweak, b.Tweak)
}

func equalV1(a, b V1) bool {
	return a.OmitAlgorithm == b.OmitAlgorithm && bytes.Equal(a.UserKey, b.UserKey) &&
		bytes.Equal(a.Tweak, b.Tweak) && bytes.Equal(a.Entropy, b.Entropy)
}

// FuzzParse: Parse never panics and rejects only with keyring.ErrInvalid. It
// agrees with the model of the RFC v2 code: it accepts exactly what the
// code accepts, minus what the v2 documentation forbids (a NUL, hex values
// longer than 32 digits, options after type=clear or type=no-encrypt),
// with the same values. What it accepts builds, parses back to the same
// options, and builds to the same text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"type=user " + alg2 + " key=" + hexK + " tweak=" + hexT,
		"type=cpu " + alg2,
		"\ttype=cpu  " + alg2 + " key=" + hexK + " ",
		"type=cpu " + alg2 + " tweak=" + hexT,
		"type=clear",
		"type=no-encrypt",
		"type=clear key=" + hexK,
		"type=cpu " + alg2 + " key=" + hexK + "00",
		"type=cpu " + alg2 + "\n",
		"Type=cpu",
		"type=cpu type=cpu",
		"type=cpu\x00 " + alg2,
		"userkey=" + hexU + " tweak=" + hexU2,
		// Over the size limit: with this branch covered, the fuzzer does
		// not spend its time minimising the long inputs it makes.
		pad("type=cpu "+alg2, MaxPayload+1),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		o, err := Parse(p)
		m := rfcV2(p)
		if err != nil {
			if !errors.Is(err, keyring.ErrInvalid) {
				t.Fatalf("Parse(%q): %v, want a keyring.ErrInvalid", p, err)
			}
			if !equalV2(o, V2{}) {
				t.Fatalf("Parse(%q) returned options with an error", p)
			}
			if m.ok && m.laxity == "" {
				t.Fatalf("Parse(%q) = %v; the RFC v2 code accepts it", p, err)
			}
			return
		}
		if !m.ok || m.laxity != "" {
			t.Fatalf("Parse(%q) accepted what the RFC v2 code refuses (%+v)", p, m)
		}
		if m.typ != o.Type.String() || !bytes.Equal(m.fields["key"], o.Key) || !bytes.Equal(m.fields["tweak"], o.Tweak) {
			t.Fatalf("Parse(%q) = %v; the RFC v2 code reads %+v", p, o, m)
		}
		text, err := o.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText of parsed %v: %v", o, err)
		}
		o2, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(MarshalText()) = %v", err)
		}
		if !equalV2(o, o2) {
			t.Fatalf("round trip of %q: %v became %v", p, o, o2)
		}
		if text2, err := o2.MarshalText(); err != nil || !bytes.Equal(text, text2) {
			t.Fatalf("MarshalText not stable: %q, %q, %v", text, text2, err)
		}
	})
}

// FuzzParseV1 is FuzzParse for the RFC v1 grammar, whose code is as
// strict as its rules except for the NUL.
func FuzzParseV1(f *testing.F) {
	for _, s := range []string{
		alg1 + " userkey=" + hexU + " tweak=" + hexU2,
		"entropy=" + hexU,
		"\t" + alg1 + "  entropy=" + hexU + " ",
		"userkey=" + hexU,
		"entropy=" + hexU + " tweak=" + hexU2,
		alg2 + " entropy=" + hexU,
		"entropy=" + hexU + "\n",
		"entropy=" + hexU + "\x00x",
		"type=cpu " + alg2,
		pad("entropy="+hexU, MaxPayload+1),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		o, err := ParseV1(p)
		m := rfcV1(p)
		if err != nil {
			if !errors.Is(err, keyring.ErrInvalid) {
				t.Fatalf("ParseV1(%q): %v, want a keyring.ErrInvalid", p, err)
			}
			if !equalV1(o, V1{}) {
				t.Fatalf("ParseV1(%q) returned options with an error", p)
			}
			if m.ok && m.laxity == "" {
				t.Fatalf("ParseV1(%q) = %v; the RFC v1 code accepts it", p, err)
			}
			return
		}
		if !m.ok || m.laxity != "" {
			t.Fatalf("ParseV1(%q) accepted what the RFC v1 code refuses (%+v)", p, m)
		}
		if m.alg == o.OmitAlgorithm || !bytes.Equal(m.fields["userkey"], o.UserKey) ||
			!bytes.Equal(m.fields["tweak"], o.Tweak) || !bytes.Equal(m.fields["entropy"], o.Entropy) {
			t.Fatalf("ParseV1(%q) = %v; the RFC v1 code reads %+v", p, o, m)
		}
		text, err := o.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText of parsed %v: %v", o, err)
		}
		o2, err := ParseV1(text)
		if err != nil {
			t.Fatalf("ParseV1(MarshalText()) = %v", err)
		}
		if !equalV1(o, o2) {
			t.Fatalf("round trip of %q: %v became %v", p, o, o2)
		}
		if text2, err := o2.MarshalText(); err != nil || !bytes.Equal(text, text2) {
			t.Fatalf("MarshalText not stable: %q, %q, %v", text, text2, err)
		}
	})
}

// FuzzBuild: the builders never panic; options they refuse, Validate
// refuses too, with keyring.ErrInvalid; options they accept make a payload that
// parses back to the same options and that the RFC code accepts.
func FuzzBuild(f *testing.F) {
	f.Add(uint8(UserSupplied), unhex(hexK), unhex(hexT), []byte(nil), false)
	f.Add(uint8(CPU), []byte(nil), unhex(hexT), unhex(hexU), true)
	f.Add(uint8(Clear), []byte{}, []byte(nil), unhex(hexU), false)
	f.Add(uint8(0), unhex(hexU), unhex(hexU2), []byte(nil), true)
	f.Add(uint8(CPU), make([]byte, 2000), []byte{1}, make([]byte, 2000), false)
	f.Fuzz(func(t *testing.T, typ uint8, a, b, c []byte, omit bool) {
		v2 := V2{Type: KeyType(typ), Key: a, Tweak: b}
		v1 := V1{UserKey: a, Tweak: b, Entropy: c, OmitAlgorithm: omit}
		text, err := v2.MarshalText()
		if (err == nil) != (v2.Validate() == nil) || err != nil && !errors.Is(err, keyring.ErrInvalid) {
			t.Fatalf("%v: MarshalText %v, Validate %v", v2, err, v2.Validate())
		}
		if err == nil {
			back, err := Parse(text)
			if err != nil || !equalV2(v2, back) {
				t.Fatalf("%v: Parse(%q) = %v, %v", v2, text, back, err)
			}
			if m := rfcV2(text); !m.ok || m.laxity != "" {
				t.Fatalf("%v: the RFC v2 code refuses %q", v2, text)
			}
		}
		text, err = v1.MarshalText()
		if (err == nil) != (v1.Validate() == nil) || err != nil && !errors.Is(err, keyring.ErrInvalid) {
			t.Fatalf("%v: MarshalText %v, Validate %v", v1, err, v1.Validate())
		}
		if err == nil {
			back, err := ParseV1(text)
			if err != nil || !equalV1(v1, back) {
				t.Fatalf("%v: ParseV1(%q) = %v, %v", v1, text, back, err)
			}
			if m := rfcV1(text); !m.ok || m.laxity != "" {
				t.Fatalf("%v: the RFC v1 code refuses %q", v1, text)
			}
		}
	})
}
