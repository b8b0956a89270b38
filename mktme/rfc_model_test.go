package mktme

import "strings"

// This file is a line-by-line model, in Go, of the option parsers of the
// two RFC postings, used as an oracle:
//
//   - RFC v1: "[RFC 11/12] keys/mktme: Add a new key service type for
//     memory encryption keys", mktme_instantiate, mktme_get_options,
//     mktme_check_options (2018-09-07).
//   - RFC v2: "[RFC v2 10/13] keys/mktme: Add the MKTME Key Service type
//     for memory encryption", mktme_preparse_key, mktme_get_options,
//     mktme_check_options (2018-12-03).
//
// with lib/parser.c (match_token: "name=%s" matches a token that starts
// with "name=" and has at least one more character) and lib/hexdump.c
// (hex2bin: pairs of hex digits of either case, failing at the first
// non-hex character, including the terminating NUL).
//
// Besides the verdict, the model records where the code is laxer than the
// documentation (laxity), the cases Parse refuses on purpose.

type rfcResult struct {
	ok     bool
	laxity string // non-empty when the code accepts what the documentation forbids
	typ    string // v2: the type name
	alg    bool   // an algorithm= option was given
	fields map[string][]byte
}

// rfcCString is the payload as the kernel's C string: kmemdup of datalen
// bytes, NUL-terminated, read up to the first NUL.
func rfcCString(p []byte) (string, bool) {
	if len(p) == 0 || len(p) > 1024 { // datalen <= 0 || datalen > 1024
		return "", false
	}
	s := string(p)
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i], true
	}
	return s, true
}

// rfcTokens is strsep(&options, " \t") with empty tokens skipped.
func rfcTokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
}

// rfcMatch is match_token over "name=%s" patterns: the index of the first
// pattern that matches, or -1 (OPT_ERROR), and the argument.
func rfcMatch(tok string, names []string) (int, string) {
	for i, n := range names {
		if strings.HasPrefix(tok, n+"=") && len(tok) > len(n)+1 {
			return i, tok[len(n)+1:]
		}
	}
	return -1, ""
}

// rfcHex2bin is hex2bin(dst, src, n) on a C string.
func rfcHex2bin(src string, n int) ([]byte, bool) {
	val := func(c byte) int {
		switch {
		case '0' <= c && c <= '9':
			return int(c - '0')
		case 'a' <= c && c <= 'f':
			return int(c-'a') + 10
		case 'A' <= c && c <= 'F':
			return int(c-'A') + 10
		}
		return -1
	}
	out := make([]byte, n)
	for i := range n {
		if 2*i+1 >= len(src) {
			return nil, false // the NUL terminator is not a hex digit
		}
		hi, lo := val(src[2*i]), val(src[2*i+1])
		if hi < 0 || lo < 0 {
			return nil, false
		}
		out[i] = byte(hi<<4 | lo)
	}
	return out, true
}

func rfcV2(p []byte) rfcResult {
	r := rfcResult{fields: map[string][]byte{}}
	s, ok := rfcCString(p)
	if !ok {
		return r
	}
	if len(s) < len(p) {
		r.laxity = "NUL"
	}
	names := []string{"type", "key", "tweak", "algorithm"} // OPT_TYPE, OPT_KEY, OPT_TWEAK, OPT_ALGORITHM
	var mask uint
	for _, tok := range rfcTokens(s) {
		id, arg := rfcMatch(tok, names)
		if id < 0 {
			return r // OPT_ERROR: default case, -EINVAL
		}
		if mask&(1<<id) != 0 {
			return r // test_and_set_bit
		}
		mask |= 1 << id
		switch names[id] {
		case "key", "tweak":
			v, ok := rfcHex2bin(arg, 16)
			if !ok {
				return r
			}
			if len(arg) > 32 {
				r.laxity = "long hex"
			}
			r.fields[names[id]] = v
		case "type":
			switch arg {
			case "user", "cpu", "clear", "no-encrypt":
				r.typ = arg
			default:
				return r
			}
		case "algorithm":
			if arg != "aes-xts-128" {
				return r
			}
			r.alg = true
		}
	}
	if mask == 0 {
		return r
	}
	hasKey, hasTweak := mask&(1<<1) != 0, mask&(1<<2) != 0
	switch r.typ {
	case "user":
		r.ok = r.alg && hasKey && hasTweak
	case "cpu":
		r.ok = r.alg
	case "clear", "no-encrypt":
		r.ok = true
		if r.alg || hasKey || hasTweak {
			r.laxity = "options with " + r.typ
		}
	}
	return r
}

func rfcV1(p []byte) rfcResult {
	r := rfcResult{fields: map[string][]byte{}}
	s, ok := rfcCString(p)
	if !ok {
		return r
	}
	if len(s) < len(p) {
		r.laxity = "NUL"
	}
	names := []string{"userkey", "tweak", "entropy", "algorithm"}
	var mask uint
	for _, tok := range rfcTokens(s) {
		id, arg := rfcMatch(tok, names)
		if id < 0 {
			return r // OPT_ERROR (-1): test_and_set_bit, then the default case
		}
		if mask&(1<<id) != 0 {
			return r
		}
		mask |= 1 << id
		if names[id] == "algorithm" {
			if arg != "aes_xts_128" { // match_string(mktme_alg_names, ...)
				return r
			}
			r.alg = true
			continue
		}
		if len(arg) != 16 { // strlen(args[0].from) != MKTME_AES_XTS_SIZE
			return r
		}
		v, ok := rfcHex2bin(arg, 8) // len = MKTME_AES_XTS_SIZE / 2
		if !ok {
			return r
		}
		r.fields[names[id]] = v
	}
	if mask == 0 {
		return r
	}
	userkey, tweak, entropy := mask&1 != 0, mask&2 != 0, mask&4 != 0
	if userkey {
		r.ok = tweak && !entropy
	} else {
		r.ok = entropy && !tweak
	}
	return r
}
