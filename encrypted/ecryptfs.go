package encrypted

import "encoding/binary"

// Layout of the packed struct ecryptfs_auth_tok (include/linux/ecryptfs.h)
// as ecryptfs_fill_auth_tok() fills it for an encrypted key.
const (
	authTokSize = 740

	authTokVersion      = 0   // u16: ECRYPTFS_VERSION_MAJOR<<8 | ECRYPTFS_VERSION_MINOR
	authTokTokenType    = 2   // u16: ECRYPTFS_PASSWORD
	authTokHashAlgo     = 632 // s32: token.password.hash_algo
	authTokSKEKBytes    = 640 // u32: token.password.session_key_encryption_key_bytes
	authTokPasswdFlags  = 644 // u32: token.password.flags
	authTokSKEK         = 648 // [64]u8: token.password.session_key_encryption_key
	authTokSignature    = 712 // [17]u8: token.password.signature, NUL-terminated
	ecryptfsVersion     = 0x0004
	ecryptfsPassword    = 0
	pgpDigestAlgoSHA512 = 10
	skekSet             = 0x02 // ECRYPTFS_SESSION_KEY_ENCRYPTION_KEY_SET
)

// EcryptfsAuthTok returns the 740-byte struct ecryptfs_auth_tok that the
// kernel builds as the payload of an Ecryptfs encrypted key with the given
// description holding key, the 64-byte eCryptfs key. Integers are in host
// byte order, as in the kernel.
//
// Only key is secret and only key is in the blob: the kernel encrypts just
// these 64 bytes (they are what [Open] returns) and rebuilds the rest of
// the token from the key's description at new and load. KEYCTL_READ
// returns the blob, never the token; eCryptfs reads the token in the
// kernel when it is mounted with ecryptfs_sig=<description>. eCryptfs
// looks that signature up as a user key first and as an encrypted key
// second (fs/ecryptfs/keystore.c), so this token can also be given to it
// as the payload of a user key.
//
// The fields that are set: version 0x0004, token_type ECRYPTFS_PASSWORD
// (0), hash_algo PGP_DIGEST_ALGO_SHA512 (10),
// session_key_encryption_key_bytes 64, flags
// ECRYPTFS_SESSION_KEY_ENCRYPTION_KEY_SET, session_key_encryption_key =
// key, signature = description. Everything else is zero.
//
// The caller owns the result, which contains key, and should wipe it with
// [keyring.Wipe].
// Errors match [keyring.ErrInvalid].
func EcryptfsAuthTok(description string, key []byte) ([]byte, error) {
	const op = "EcryptfsAuthTok"
	if err := validateDescription(op, Ecryptfs, description); err != nil {
		return nil, err
	}
	if err := Ecryptfs.checkDataLen(op, len(key)); err != nil {
		return nil, err
	}
	tok := make([]byte, authTokSize)
	ne := binary.NativeEndian
	ne.PutUint16(tok[authTokVersion:], ecryptfsVersion)
	ne.PutUint16(tok[authTokTokenType:], ecryptfsPassword)
	ne.PutUint32(tok[authTokHashAlgo:], pgpDigestAlgoSHA512)
	ne.PutUint32(tok[authTokSKEKBytes:], ecryptfsDataLen)
	ne.PutUint32(tok[authTokPasswdFlags:], skekSet)
	copy(tok[authTokSKEK:authTokSKEK+ecryptfsDataLen], key)
	copy(tok[authTokSignature:authTokSignature+ecryptfsDescLen], description)
	return tok, nil
}
