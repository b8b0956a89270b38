package mktme

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"strings"
)

// Option names of each grammar, in the order of the RFC code's
// match_table_t.
var (
	namesV2 = []string{"type", "key", "tweak", "algorithm"}
	namesV1 = []string{"userkey", "tweak", "entropy", "algorithm"}
)

// Parse parses an RFC v2 payload, the text given to add_key(2) with the
// type "mktme", and checks it against the RFC v2 rules. It accepts what
// the RFC v2 kernel accepts (mktme_get_options, mktme_check_options),
// except where the v2 documentation is stricter than the v2 code:
//
//   - The payload is 1 to [MaxPayload] bytes.
//   - Options are separated by single spaces or tabs; runs of them, and
//     leading or trailing ones, are allowed. Nothing else separates: a
//     trailing newline becomes part of the last value, which is then wrong.
//   - Each option is name=value with a non-empty value. The names are type,
//     algorithm, key and tweak, matched case-sensitively; any other token
//     is refused. No option may appear twice.
//   - type= is required and is exactly "user", "cpu", "clear" or
//     "no-encrypt".
//   - algorithm= is exactly "aes-xts-128".
//   - key= and tweak= are exactly 32 hex digits, of either case. (The v2
//     code reads the first 32 and ignores the rest; the documentation
//     requires exactly 32, and so does Parse.)
//   - type=user requires algorithm=, key= and tweak=; type=cpu requires
//     algorithm= and takes key= and tweak= as optional entropy;
//     type=clear and type=no-encrypt forbid all three. (The v2 code
//     ignores them there; the documentation forbids them, and so does
//     Parse.)
//   - A NUL byte is refused: the kernel reads the payload as a C string and
//     would silently drop everything after it.
//
// The key material in the result is in new buffers owned by the caller:
// call Wipe on the result once done. Errors match keyring.ErrInvalid, name the
// field at fault and never contain payload bytes.
func Parse(payload []byte) (V2, error) {
	const op = "Parse"
	var o V2
	var alg bool
	err := scan(op, payload, namesV2, namesV1, "RFC v1 (use ParseV1)", func(name string, value []byte) error {
		var err error
		switch name {
		case "type":
			t, ok := lookupType(value)
			if !ok {
				return invalid(op, "type", "must be user, cpu, clear or no-encrypt"+valueHint(value, typeNames[1:]))
			}
			o.Type = t
		case "algorithm":
			if string(value) != Algorithm {
				return invalid(op, "algorithm", "must be "+Algorithm+algorithmHint(value, AlgorithmV1, "RFC v1"))
			}
			alg = true
		case "key":
			o.Key, err = hexValue(op, "key", value, KeySize, true)
		case "tweak":
			o.Tweak, err = hexValue(op, "tweak", value, KeySize, true)
		}
		return err
	})
	if err == nil {
		err = checkV2(op, o, alg)
	}
	if err != nil {
		o.Wipe()
		return V2{}, err
	}
	return o, nil
}

// checkV2 applies the per-type rules of RFC v2 to parsed options.
func checkV2(op string, o V2, alg bool) error {
	t := o.Type
	switch {
	case t == 0:
		return invalid(op, "type", "is required (user, cpu, clear or no-encrypt)")
	case t.needsAlgorithm() && !alg:
		return invalid(op, "algorithm", "is required for type="+t.String())
	case !t.needsAlgorithm() && alg:
		return invalid(op, "algorithm", "is not allowed with type="+t.String()+" (the RFC v2 documentation forbids it; its code ignores it)")
	case !t.needsAlgorithm() && len(o.Key) > 0:
		return invalid(op, "key", "is not allowed with type="+t.String()+" (the RFC v2 documentation forbids it; its code ignores it)")
	case !t.needsAlgorithm() && len(o.Tweak) > 0:
		return invalid(op, "tweak", "is not allowed with type="+t.String()+" (the RFC v2 documentation forbids it; its code ignores it)")
	case t == UserSupplied && len(o.Key) == 0:
		return invalid(op, "key", "is required for type=user")
	case t == UserSupplied && len(o.Tweak) == 0:
		return invalid(op, "tweak", "is required for type=user")
	}
	return nil
}

// ParseV1 parses an RFC v1 payload and checks it against the RFC v1 rules
// (the v1 code's mktme_get_options and mktme_check_options):
//
//   - The payload is 1 to [MaxPayload] bytes, without a NUL byte.
//   - Separators, name=value form, case-sensitive names and the ban on
//     repeats are as for [Parse]; the names are userkey, tweak, entropy
//     and algorithm.
//   - userkey=, tweak= and entropy= are exactly 16 hex digits, of either
//     case, which the v1 code decodes to 8 bytes.
//   - algorithm= is optional and exactly "aes_xts_128" (the v1 code's
//     spelling; its documentation's "aes-xts-128" is refused by that code).
//   - With userkey= (a user key): tweak= is required and entropy= is not
//     allowed. Without it (a CPU-generated key): entropy= is required and
//     tweak= is not allowed. A payload with no option is refused.
//
// The key material in the result is in new buffers owned by the caller:
// call Wipe on the result once done. Errors match keyring.ErrInvalid.
func ParseV1(payload []byte) (V1, error) {
	const op = "ParseV1"
	o := V1{OmitAlgorithm: true}
	err := scan(op, payload, namesV1, namesV2, "RFC v2 (use Parse)", func(name string, value []byte) error {
		var err error
		switch name {
		case "userkey":
			o.UserKey, err = hexValue(op, "userkey", value, KeySizeV1, false)
		case "tweak":
			o.Tweak, err = hexValue(op, "tweak", value, KeySizeV1, false)
		case "entropy":
			o.Entropy, err = hexValue(op, "entropy", value, KeySizeV1, false)
		case "algorithm":
			if string(value) != AlgorithmV1 {
				return invalid(op, "algorithm", "must be "+AlgorithmV1+algorithmHint(value, Algorithm, "RFC v2 (and of the v1 documentation, which the v1 code refuses)"))
			}
			o.OmitAlgorithm = false
		}
		return err
	})
	if err == nil {
		err = o.validate(op)
	}
	if err != nil {
		o.Wipe()
		return V1{}, err
	}
	return o, nil
}

// scan splits payload as the RFC code does (strsep on " \t", empty tokens
// skipped, match_token with "name=%s" patterns) and calls fn with each
// option. It enforces the rules common to every version: the payload's
// size, no NUL, known names, non-empty values, no repeats, at least one
// option. other names the options of the other grammar, for a hint.
func scan(op string, payload []byte, names, other []string, otherGrammar string, fn func(name string, value []byte) error) error {
	switch {
	case len(payload) == 0:
		return invalid(op, "payload", "is empty")
	case len(payload) > MaxPayload:
		return invalid(op, "payload", "is "+strconv.Itoa(len(payload))+" bytes, over the limit of "+strconv.Itoa(MaxPayload))
	case bytes.IndexByte(payload, 0) >= 0:
		return invalid(op, "payload", "contains a NUL byte (the kernel would silently ignore everything after it)")
	}
	var seen uint
	n := 0
	for start, i := 0, 0; i <= len(payload); i++ {
		if i < len(payload) && payload[i] != ' ' && payload[i] != '\t' {
			continue
		}
		tok := payload[start:i]
		start = i + 1
		if len(tok) == 0 {
			continue
		}
		n++
		eq := bytes.IndexByte(tok, '=')
		if eq < 0 {
			return invalid(op, "option", "option "+strconv.Itoa(n)+" is not name=value (only a space or a tab separates options)")
		}
		name, value := tok[:eq], tok[eq+1:]
		idx := -1
		for j, k := range names {
			if string(name) == k {
				idx = j
			}
		}
		if idx < 0 {
			return invalid(op, "option", "option "+strconv.Itoa(n)+" is not one of "+strings.Join(names, "=, ")+"="+nameHint(name, names, other, otherGrammar))
		}
		if len(value) == 0 {
			return invalid(op, names[idx], "has an empty value")
		}
		if seen&(1<<idx) != 0 {
			return invalid(op, names[idx], "is given twice")
		}
		seen |= 1 << idx
		if err := fn(names[idx], value); err != nil {
			return err
		}
	}
	if n == 0 {
		return invalid(op, "payload", "has no options")
	}
	return nil
}

// hexValue decodes a value of exactly 2*size hex digits into a new buffer.
// lax says the version's code reads only the first 2*size digits and
// ignores the rest (RFC v2), which the message then explains.
func hexValue(op, field string, v []byte, size int, lax bool) ([]byte, error) {
	digits := 2 * size
	msg := "must be exactly " + strconv.Itoa(digits) + " hex digits"
	switch {
	case len(v) < digits:
		return nil, invalid(op, field, msg+", not "+strconv.Itoa(len(v))+" characters")
	case len(v) > digits && lax && isHex(v[:digits]):
		return nil, invalid(op, field, msg+", not "+strconv.Itoa(len(v))+" characters"+newlineHint(v)+
			" (the RFC v2 code would read the first "+strconv.Itoa(digits)+" and ignore the rest; its documentation requires exactly "+strconv.Itoa(digits)+")")
	case len(v) > digits:
		return nil, invalid(op, field, msg+", not "+strconv.Itoa(len(v))+" characters"+newlineHint(v))
	case !isHex(v):
		return nil, invalid(op, field, msg+"; it has other characters")
	}
	out := make([]byte, size)
	hex.Decode(out, v) // cannot fail: checked above
	return out, nil
}

func isHex(v []byte) bool {
	for _, c := range v {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// The hints below add to an error message only words of the grammar, never
// bytes of the payload.

// nameHint explains an unknown option name that differs from a known one
// only in case, or that belongs to the other grammar.
func nameHint(name []byte, names, other []string, otherGrammar string) string {
	for _, k := range names {
		if strings.EqualFold(string(name), k) {
			return " (option names are case-sensitive: " + k + "=)"
		}
	}
	for _, k := range other {
		if string(name) == k {
			return " (" + k + "= belongs to the " + otherGrammar + " grammar)"
		}
	}
	return ""
}

// valueHint explains a word value that differs from a valid one only in
// case, or that carries a newline.
func valueHint(v []byte, valid []string) string {
	for _, k := range valid {
		if strings.EqualFold(string(v), k) {
			return " (values are case-sensitive: " + k + ")"
		}
	}
	return newlineHint(v)
}

// algorithmHint explains an algorithm spelled as the other grammar spells
// it.
func algorithmHint(v []byte, otherSpelling, otherGrammar string) string {
	if string(v) == otherSpelling {
		return " (" + otherSpelling + " is the spelling of " + otherGrammar + ")"
	}
	return valueHint(v, nil)
}

func newlineHint(v []byte) string {
	if bytes.ContainsAny(v, "\r\n") {
		return " (a newline is not a separator; the value includes it)"
	}
	return ""
}
