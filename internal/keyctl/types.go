package keyctl

// Operation numbers and structures from include/uapi/linux/keyctl.h that
// callers name; they are the same on every architecture.

// Public-key operation selectors for PkeyOp.
const (
	PkeyEncrypt = 25 // KEYCTL_PKEY_ENCRYPT
	PkeyDecrypt = 26 // KEYCTL_PKEY_DECRYPT
	PkeySign    = 27 // KEYCTL_PKEY_SIGN
	PkeyVerify  = 28 // KEYCTL_PKEY_VERIFY
)

// RawReadMax is the largest buffer Read reads with a raw call. A payload
// that fits it is in kernel memory for every mainline type: big_key keeps
// payloads under BIG_KEY_FILE_THRESHOLD (the size of an inode and a
// dentry, well over 256 bytes) in memory, and returns only the size when
// the buffer cannot hold the payload, so a small buffer never reaches its
// backing file.
const RawReadMax = 256

// MoveExcl is KEYCTL_MOVE_EXCL.
const MoveExcl = 1

// DHParams is struct keyctl_dh_params.
type DHParams struct {
	Private, Prime, Base int32
}

// KDFParams is struct keyctl_kdf_params.
type KDFParams struct {
	HashName     *byte
	OtherInfo    *byte
	OtherInfoLen uint32
	_            [8]uint32
}

// PkeyQueryResult is struct keyctl_pkey_query.
type PkeyQueryResult struct {
	SupportedOps uint32
	KeySize      uint32
	MaxDataSize  uint16
	MaxSigSize   uint16
	MaxEncSize   uint16
	MaxDecSize   uint16
	_            [10]uint32
}

// PkeyParams is struct keyctl_pkey_params.
type PkeyParams struct {
	KeyID int32
	InLen uint32
	// OutLen is out_len, or in2_len (the signature's length) for verify.
	OutLen uint32
	_      [7]uint32
}

// WatchTypeFilter is struct watch_notification_type_filter: notifications
// of watch type Type pass if their subtype's bit is set in SubtypeFilter[0]
// and (info & InfoMask) == InfoFilter.
type WatchTypeFilter struct {
	Type          uint32
	InfoFilter    uint32
	InfoMask      uint32
	SubtypeFilter [8]uint32
}
