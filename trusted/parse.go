package trusted

import (
	"bytes"
	"encoding/hex"
	"math"
	"strconv"
)

// ParsePayload parses a trusted key payload as backend b's kernel code
// does (datablob_parse() in trusted_core.c, then getoptions() in
// trusted_tpm1.c for the TPM backends), and checks it as [Payload.Validate]
// does: what ParsePayload accepts, the kernel passes on to the trust
// source, and MarshalText writes back in a canonical form (single
// spaces, options in a fixed order, lower-case hex, handles as 0x...).
//
// The grammar: a command word, "new", "load" or "update" (exact, lower
// case), then for new a key length in decimal (kstrtol: an optional sign,
// digits, one optional trailing newline), for load the blob in hex (either
// case), each separated by one space or tab; then options, name=value
// tokens separated by runs of spaces and tabs, each name at most once,
// hash= not after policydigest=.
//
// ParsePayload refuses, where the kernel silently ignores or truncates:
//
//   - a NUL byte (the kernel stops reading there);
//   - an odd number of hex digits in the blob or pcrinfo= (the kernel drops
//     the last one);
//   - keyhandle= or policyhandle= above 32 bits (the kernel keeps the low 32
//     bits), pcrlock= above 2147483647 (truncated to an int), and
//     keyhandle=0;
//   - migratable= other than exactly 0 or 1 (the kernel reads only the first
//     character);
//   - hash= names that TPM 2.0 sealing cannot use (at load the kernel's
//     parser accepts any name it knows, and ignores it);
//   - any option for the tee, caam and dcp backends, which ignore them all;
//   - keyhandle= differing from the parent inside a TPM 2.0 blob.
//
// A parsed new payload has its key length in Options.KeyLen. Errors are
// refusals (*keyring.Error with Refused set and Field naming the part at
// fault) matching keyring.ErrInvalid; they never quote the payload.
func ParsePayload(b Backend, text []byte) (Payload, error) {
	const op = "ParsePayload"
	p := Payload{Backend: b}
	if !b.valid() {
		return Payload{}, invalid(op, "backend", "unknown backend "+b.String()+" (see KernelBackend)")
	}
	switch {
	case len(text) == 0:
		return Payload{}, invalid(op, "payload", "is empty")
	case len(text) > maxPayload:
		return Payload{}, invalid(op, "payload", "is longer than 32767 bytes")
	case bytes.IndexByte(text, 0) >= 0:
		return Payload{}, invalid(op, "payload", "contains a NUL byte, where the kernel stops reading")
	}
	cmd, rest, more := cutSep(text)
	switch string(cmd) {
	case "new":
		p.Command = CommandNew
	case "load":
		p.Command = CommandLoad
	case "update":
		p.Command = CommandUpdate
	default:
		return Payload{}, invalid(op, "command", `must be "new", "load" or "update"`)
	}
	if p.Command != CommandUpdate {
		if !more {
			return Payload{}, invalid(op, "payload", p.Command.String()+" needs an argument")
		}
		var arg []byte
		arg, rest, more = cutSep(rest)
		if err := p.parseArg(op, arg); err != nil {
			return Payload{}, err
		}
	}
	if more {
		if err := p.Options.parse(op, b, rest); err != nil {
			p.Options.Wipe()
			return Payload{}, err
		}
	}
	if err := p.check(op); err != nil {
		p.Options.Wipe()
		return Payload{}, err
	}
	return p, nil
}

// cutSep splits s at its first space or tab, as the kernel's
// strsep(&s, " \t") does; more is false when there is none.
func cutSep(s []byte) (token, rest []byte, more bool) {
	if i := bytes.IndexAny(s, " \t"); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, nil, false
}

// parseArg parses the argument of new (the key length) or load (the
// blob).
func (p *Payload) parseArg(op string, arg []byte) error {
	if p.Command == CommandNew {
		n, ok := parseKernelInt(arg)
		if !ok {
			return invalid(op, "keylen", "must be a decimal number")
		}
		if n < MinKeyLen || n > MaxKeyLen {
			return invalid(op, "keylen", "is outside 32..128")
		}
		p.Options.KeyLen = int(n)
		return nil
	}
	blob, err := decodeHex(op, "blob", arg, MaxBlob)
	if err != nil {
		return err
	}
	if len(blob) == 0 {
		return invalid(op, "blob", "is empty")
	}
	p.Blob = blob
	return nil
}

// decodeHex decodes a hex value of at most max bytes, refusing an odd
// digit count.
func decodeHex(op, field string, s []byte, max int) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, invalid(op, field, "has an odd number of hex digits (the kernel would drop the last one)")
	}
	if len(s)/2 > max {
		return nil, invalid(op, field, "is "+strconv.Itoa(len(s)/2)+" bytes, over "+strconv.Itoa(max))
	}
	v := make([]byte, len(s)/2)
	if _, err := hex.Decode(v, s); err != nil {
		return nil, invalid(op, field, "is not hex")
	}
	return v, nil
}

// The option names, in the order of the kernel's enum (and of MarshalText).
var optionNames = [...]string{"keyhandle", "keyauth", "blobauth", "pcrinfo", "pcrlock", "migratable", "hash", "policydigest", "policyhandle"}

// parse reads the options string s into o for backend b, as getoptions()
// does. Values are checked as far as they can be alone; check does the
// rest.
func (o *Options) parse(op string, b Backend, s []byte) error {
	var seen uint16
	for len(s) > 0 {
		var tok []byte
		tok, s, _ = cutSep(s)
		if len(tok) == 0 {
			continue // runs of separators
		}
		if !b.IsTPM() {
			return invalid(op, "options", "the "+b.String()+" backend ignores every option: the kernel would accept them and apply none")
		}
		name, value, ok := bytes.Cut(tok, []byte("="))
		if !ok || len(value) == 0 {
			return invalid(op, "options", "an option is not name=value with a non-empty value")
		}
		i := 0
		for i < len(optionNames) && optionNames[i] != string(name) {
			i++
		}
		if i == len(optionNames) {
			return invalid(op, "options", "unknown option "+strconv.Quote(string(name)))
		}
		field := optionNames[i]
		if seen&(1<<i) != 0 {
			return invalid(op, field, "is given twice")
		}
		seen |= 1 << i
		if err := o.parseOption(op, b, field, value, seen); err != nil {
			return err
		}
	}
	return nil
}

// parseOption parses one option's value; seen holds the options parsed
// so far, this one included.
func (o *Options) parseOption(op string, b Backend, field string, value []byte, seen uint16) error {
	var err error
	switch field {
	case "keyhandle":
		o.KeyHandle, err = parseHandle(op, field, value)
		if err == nil && o.KeyHandle == 0 {
			err = invalid(op, field, "0 is not a key handle")
		}
	case "keyauth":
		if len(value) != 2*AuthSize {
			return invalid(op, field, "must be exactly 40 hex digits")
		}
		o.KeyAuth, err = decodeHex(op, field, value, AuthSize)
	case "blobauth":
		switch {
		case len(value) == 2*AuthSize:
			o.BlobAuth, err = decodeHex(op, field, value, AuthSize)
		case b == TPM2 && len(value) <= AuthSize:
			// A password, used as it is. One of exactly 20 bytes is
			// written back as 40 hex digits: the same value.
			o.BlobAuth = bytes.Clone(value)
		case b == TPM2:
			return invalid(op, field, "must be 40 hex digits or a password of at most 20 bytes")
		default:
			return invalid(op, field, "TPM 1.2 takes exactly 40 hex digits")
		}
	case "pcrinfo":
		o.PCRInfo, err = decodeHex(op, field, value, MaxPCRInfo)
	case "pcrlock":
		n, ok := parseKernelUint(value, 10)
		if !ok || n > math.MaxInt32 {
			return invalid(op, field, "must be a decimal PCR number up to 2147483647")
		}
		o.PCRLock = int(n)
	case "migratable":
		switch string(value) {
		case "0":
			o.NonMigratable = true
		case "1":
		default:
			return invalid(op, field, "must be 0 or 1 (the kernel reads only the first character)")
		}
	case "hash":
		if seen&(1<<7) != 0 { // policydigest
			return invalid(op, field, "must come before policydigest=, whose length the kernel checks against the hash in effect")
		}
		o.Hash = string(value)
		if _, ok := lookupHash(b, o.Hash); !ok {
			o.Hash = ""
			if b == TPM1 {
				return invalid(op, field, "TPM 1.2 supports only sha1")
			}
			return invalid(op, field, "TPM 2.0 sealing supports only sha1, sha256, sha384, sha512 and sm3")
		}
	case "policydigest":
		if b == TPM1 {
			return invalid(op, field, "TPM 1.2 has no policies")
		}
		h, _ := lookupHash(b, o.Hash)
		if len(value) != 2*h.size {
			return invalid(op, field, "must be "+strconv.Itoa(2*h.size)+" hex digits, the digest size of "+h.name)
		}
		o.PolicyDigest, err = decodeHex(op, field, value, h.size)
	case "policyhandle":
		if b == TPM1 {
			return invalid(op, field, "TPM 1.2 has no policy sessions")
		}
		o.PolicyHandle, err = parseHandle(op, field, value)
	}
	return err
}

// parseHandle parses a handle as kstrtoul(s, 16) does, refusing values
// above 32 bits, which the kernel truncates.
func parseHandle(op, field string, s []byte) (uint32, error) {
	n, ok := parseKernelUint(s, 16)
	if !ok {
		return 0, invalid(op, field, "must be a hex number (0x prefix optional)")
	}
	if n > math.MaxUint32 {
		return 0, invalid(op, field, "is above 32 bits (the kernel would keep the low 32 bits)")
	}
	return uint32(n), nil
}

// parseKernelUint parses s as the kernel's kstrtoull(s, base, ...) does
// for base 10 and 16: an optional '+', for base 16 an optional 0x or 0X,
// at least one digit, and one optional trailing newline. It fails on
// overflow (ERANGE).
func parseKernelUint(s []byte, base uint64) (uint64, bool) {
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	if base == 16 && len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	if len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	if len(s) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range s {
		var d uint64
		switch {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case base == 16 && 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && 'A' <= c && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if n > (math.MaxUint64-d)/base {
			return 0, false
		}
		n = n*base + d
	}
	return n, true
}

// parseKernelInt parses s as kstrtol(s, 10, ...) does: an optional sign,
// then kstrtoull. Values beyond MaxKeyLen saturate, since every such value
// is refused alike.
func parseKernelInt(s []byte) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
		if len(s) > 0 && s[0] == '+' {
			return 0, false // kstrtol: "-+1" is not a number
		}
	}
	n, ok := parseKernelUint(s, 10)
	if !ok || n > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}
