package encrypted

import (
	"bytes"
	"crypto/aes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

const (
	ivSize  = aes.BlockSize // ivsize of cbc(aes)
	macSize = sha256.Size   // HASH_SIZE
)

// Blob is an encrypted key in its userspace form: the text that
// KEYCTL_READ (keyctl pipe) returns and that a load payload carries,
//
//	format SP master SP datalen SP hex(IV) "00" hex(Ciphertext) hex(HMAC)
//
// A Blob holds no secret: its data is encrypted and authenticated under
// the master key. The zero value is not valid.
type Blob struct {
	// Format is the key's format. A Legacy blob is always Default.
	Format Format
	// Legacy marks a blob without a format word ("user:kmk 32 <hex>"),
	// as written before formats existed. Its HMAC does not cover the
	// format. The kernel loads it as a Default key and reads that key
	// back in the modern form, as Rewrap does.
	Legacy bool
	// Master names the master key that the data is encrypted under.
	Master Master
	// DataLen is the datalen token verbatim. The kernel keeps the token
	// it was given, emits it in the blob and covers it with the HMAC, so
	// "32", "032", "+32" and "32\n" are distinct blobs of 32 bytes.
	DataLen string
	// IV is the AES-CBC initialisation vector.
	IV [ivSize]byte
	// Ciphertext is the AES-256-CBC encryption of the decrypted data,
	// zero-padded to a multiple of 16 bytes.
	Ciphertext []byte
	// HMAC is the HMAC-SHA256 of the blob's fields.
	HMAC [macSize]byte
}

// maxPayload is the largest add_key or update payload that the encrypted
// key type accepts.
const maxPayload = 32767

var loadKeyword = []byte("load ")

// ParseBlob parses a blob as the kernel's "load" does. It accepts exactly
// the blobs whose load payload the kernel accepts up to the point where
// the master key is needed: spaces or tabs as single separators,
// upper-case hex, any two characters in place of the "00" gap (the kernel
// never reads them), a format-less Legacy blob, any datalen token that
// kstrtol accepts, and anything after the hex field, which the kernel
// ignores (as it ignores everything after a NUL byte). A trailing newline
// is rejected, as the kernel rejects it: it becomes part of the hex field.
//
// ParseBlob does not check the HMAC; [Open] does. For an Ecryptfs blob the
// kernel also checks the key description: see [ValidateDescription].
// Errors match [keyring.ErrInvalid].
func ParseBlob(text []byte) (*Blob, error) {
	b := new(Blob)
	if err := b.parse("ParseBlob", text); err != nil {
		return nil, err
	}
	return b, nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseBlob]'s
// rules. On error b is left unchanged.
func (b *Blob) UnmarshalText(text []byte) error {
	var nb Blob
	if err := nb.parse("Blob.UnmarshalText", text); err != nil {
		return err
	}
	*b = nb
	return nil
}

// parse fills the zero Blob b from text, following datablob_parse(),
// encrypted_key_alloc() and encrypted_key_decrypt().
func (b *Blob) parse(op string, text []byte) error {
	if len(loadKeyword)+len(text) > maxPayload {
		return invalid(op, "blob", "does not fit in a load payload of 32767 bytes")
	}
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	toks := tokens{rest: text}
	tok, _ := toks.next()
	if f, ok := lookupFormat(string(tok)); ok {
		b.Format = f
		if tok, ok = toks.next(); !ok {
			return invalid(op, "master", "missing")
		}
	} else {
		b.Legacy = true
	}
	m, err := parseMaster(op, string(tok))
	if err != nil {
		return err
	}
	b.Master = m
	dl, ok := toks.next()
	if !ok {
		return invalid(op, "datalen", "missing")
	}
	b.DataLen = string(dl)
	n, err := b.dataLen(op)
	if err != nil {
		return err
	}
	hx, ok := toks.next()
	if !ok {
		return invalid(op, "hex", "missing")
	}
	enclen := roundUp(n)
	if want := 2 * (ivSize + 1 + enclen + macSize); len(hx) != want {
		msg := "is " + strconv.Itoa(len(hx)) + " characters, want " + strconv.Itoa(want)
		if bytes.HasSuffix(hx, []byte("\n")) {
			msg += " (it ends with a newline; trim it)"
		}
		return invalid(op, "hex", msg)
	}
	ivHex := hx[:2*ivSize]
	ctHex := hx[2*ivSize+2 : len(hx)-2*macSize]
	macHex := hx[len(hx)-2*macSize:]
	b.Ciphertext = make([]byte, enclen)
	if _, err := hex.Decode(b.IV[:], ivHex); err != nil {
		return invalid(op, "hex", "non-hex character in the IV")
	}
	if _, err := hex.Decode(b.Ciphertext, ctHex); err != nil {
		return invalid(op, "hex", "non-hex character in the ciphertext")
	}
	if _, err := hex.Decode(b.HMAC[:], macHex); err != nil {
		return invalid(op, "hex", "non-hex character in the HMAC")
	}
	return nil
}

// tokens splits text as the kernel's strsep(&p, " \t") does: every single
// space or tab separates, so consecutive separators give empty tokens.
type tokens struct {
	rest []byte
	done bool
}

func (t *tokens) next() ([]byte, bool) {
	if t.done {
		return nil, false
	}
	i := bytes.IndexAny(t.rest, " \t")
	if i < 0 {
		t.done = true
		return t.rest, true
	}
	tok := t.rest[:i]
	t.rest = t.rest[i+1:]
	return tok, true
}

// roundUp returns n rounded up to a whole number of AES blocks: the
// encrypted_datalen for n bytes of decrypted data.
func roundUp(n int) int {
	return (n + aes.BlockSize - 1) / aes.BlockSize * aes.BlockSize
}

// dataLen returns the length that b.DataLen declares, checked against the
// rules of b.Format.
func (b *Blob) dataLen(op string) (int, error) {
	n, ok := parseDataLen(b.DataLen)
	if !ok {
		return 0, invalid(op, "datalen", "must be a base-10 integer as kstrtol reads it")
	}
	if err := b.Format.checkDataLen(op, n); err != nil {
		return 0, err
	}
	return n, nil
}

// check reports whether the kernel would accept b's fields, and returns
// the length of its decrypted data.
func (b *Blob) check(op string) (int, error) {
	if b == nil {
		return 0, invalid(op, "blob", "is nil")
	}
	if b.Legacy && b.Format != Default {
		return 0, invalid(op, "format", "a legacy blob has no format word, so its format must be Default")
	}
	if err := b.Master.check(op); err != nil {
		return 0, err
	}
	n, err := b.dataLen(op)
	if err != nil {
		return 0, err
	}
	if want := roundUp(n); len(b.Ciphertext) != want {
		return 0, invalid(op, "ciphertext", "is "+strconv.Itoa(len(b.Ciphertext))+" bytes, want "+strconv.Itoa(want))
	}
	return n, nil
}

// MarshalText implements [encoding.TextMarshaler]. It returns the bytes
// that the kernel's KEYCTL_READ returns for this key: lower-case hex, a
// "00" gap, single spaces, no trailing newline. For a Legacy blob it omits
// the format word, so the result still loads; the kernel would read such a
// key back in the modern form with a new HMAC (see [Rewrap]). Errors match
// [keyring.ErrInvalid].
func (b *Blob) MarshalText() ([]byte, error) {
	return b.appendText("Blob.MarshalText", nil)
}

// AppendText implements [encoding.TextAppender]: it appends the result of
// [Blob.MarshalText] to dst.
func (b *Blob) AppendText(dst []byte) ([]byte, error) {
	return b.appendText("Blob.AppendText", dst)
}

func (b *Blob) appendText(op string, dst []byte) ([]byte, error) {
	if _, err := b.check(op); err != nil {
		return dst, err
	}
	dst = b.appendFields(dst, ' ')
	dst = slices.Grow(dst, 2*(ivSize+1+len(b.Ciphertext)+macSize))
	dst = hex.AppendEncode(dst, b.IV[:])
	dst = append(dst, "00"...) // the gap byte
	dst = hex.AppendEncode(dst, b.Ciphertext)
	return hex.AppendEncode(dst, b.HMAC[:]), nil
}

// appendFields appends the format word (unless b is Legacy), the master
// descriptor and the datalen token, each followed by sep.
func (b *Blob) appendFields(dst []byte, sep byte) []byte {
	if !b.Legacy {
		dst = append(dst, b.Format.String()...)
		dst = append(dst, sep)
	}
	dst = append(dst, b.Master.Kind.String()...)
	dst = append(dst, ':')
	dst = append(dst, b.Master.Name...)
	dst = append(dst, sep)
	dst = append(dst, b.DataLen...)
	return append(dst, sep)
}

// macInput appends the bytes that the kernel's HMAC covers
// (datablob_hmac_append(), or the legacy form without "format\0"):
//
//	format \0 master \0 datalen \0 IV 0x00 Ciphertext
func (b *Blob) macInput(dst []byte) []byte {
	dst = b.appendFields(dst, 0)
	dst = append(dst, b.IV[:]...)
	dst = append(dst, 0) // the gap byte, always 0x00 whatever the hex said
	return append(dst, b.Ciphertext...)
}
