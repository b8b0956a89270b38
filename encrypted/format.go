package encrypted

import "strconv"

// Format is the format of an encrypted key: how many bytes of key data it
// holds and how the kernel hands them to their user. The zero value is
// Default.
//
// Every format requires 20 to 4096 bytes; Enc32 and Ecryptfs narrow that to
// a single size.
type Format uint8

const (
	// Default holds 20 to 4096 bytes of key data, used as they are (for
	// example by dm-crypt or EVM).
	Default Format = iota
	// Ecryptfs holds a 64-byte eCryptfs key, which the kernel wraps in the
	// auth token that eCryptfs expects (see [EcryptfsAuthTok]). The key's
	// description must be exactly 16 hex digits (see [ValidateDescription]).
	Ecryptfs
	// Enc32 holds exactly 32 bytes; NVDIMM and CXL security (ndctl) use it.
	Enc32
)

var formatNames = [...]string{
	Default:  "default",
	Ecryptfs: "ecryptfs",
	Enc32:    "enc32",
}

// Size rules of encrypted.c.
const (
	minDataLen      = 20   // MIN_DATA_SIZE
	maxDataLen      = 4096 // MAX_DATA_SIZE
	enc32DataLen    = 32   // KEY_ENC32_PAYLOAD_LEN
	ecryptfsDataLen = 64   // ECRYPTFS_MAX_KEY_BYTES
	ecryptfsDescLen = 16   // KEY_ECRYPTFS_DESC_LEN
)

// String returns the format word of the payload grammar: "default",
// "ecryptfs" or "enc32".
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// ParseFormat parses a format word. Like the kernel, it accepts only the
// exact, lower-case words "default", "ecryptfs" and "enc32". Errors match
// [keyring.ErrInvalid].
func ParseFormat(s string) (Format, error) {
	f, ok := lookupFormat(s)
	if !ok {
		return 0, invalid("ParseFormat", "format", `must be "default", "ecryptfs" or "enc32"`)
	}
	return f, nil
}

func lookupFormat(s string) (Format, bool) {
	for f, name := range formatNames {
		if s == name {
			return Format(f), true
		}
	}
	return 0, false
}

// checkDataLen reports whether f can hold n bytes of decrypted data
// (encrypted_key_alloc()).
func (f Format) checkDataLen(op string, n int) error {
	if int(f) >= len(formatNames) {
		return invalid(op, "format", "unknown format")
	}
	switch {
	case n < minDataLen || n > maxDataLen:
		return invalid(op, "datalen", strconv.Itoa(n)+" is outside 20..4096")
	case f == Enc32 && n != enc32DataLen:
		return invalid(op, "datalen", "the enc32 format holds exactly 32 bytes, not "+strconv.Itoa(n))
	case f == Ecryptfs && n != ecryptfsDataLen:
		return invalid(op, "datalen", "the ecryptfs format holds exactly 64 bytes, not "+strconv.Itoa(n))
	}
	return nil
}

// parseDataLen reads a datalen token the way the kernel's
// kstrtol(s, 10, ...) does: one optional '+', at least one decimal digit
// (leading zeros allowed), and one optional trailing '\n'. Values above
// maxDataLen saturate, since every such value is rejected alike.
func parseDataLen(s string) (int, bool) {
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	if len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = min(n*10+int(c-'0'), maxDataLen+1)
	}
	return n, true
}

// ValidateDescription reports whether the kernel accepts desc as the
// description of an encrypted key of format f, at both new and load. Only
// Ecryptfs has a rule: the description must be exactly 16 hex digits
// (either case), because eCryptfs finds the key by that signature
// (ecryptfs_sig=). The description is not covered by the blob's HMAC, so a
// blob may be loaded under any valid description. The rules that every key
// description obeys are not checked here. Errors match [keyring.ErrInvalid].
func ValidateDescription(f Format, desc string) error {
	return validateDescription("ValidateDescription", f, desc)
}

func validateDescription(op string, f Format, desc string) error {
	if int(f) >= len(formatNames) {
		return invalid(op, "format", "unknown format")
	}
	if f != Ecryptfs {
		return nil
	}
	if len(desc) != ecryptfsDescLen {
		return invalid(op, "description", "an ecryptfs key's description must be 16 hex digits, not "+strconv.Itoa(len(desc))+" bytes")
	}
	for i := 0; i < len(desc); i++ {
		if !isHexDigit(desc[i]) {
			return invalid(op, "description", "an ecryptfs key's description must be 16 hex digits")
		}
	}
	return nil
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
