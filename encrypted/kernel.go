package encrypted

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kernkeys/kernkeys/internal/kerr"
	"github.com/kernkeys/kernkeys/keyring"
)

// Kernel operations: encrypted keys made from blobs and key material, and
// moved between master keys. The kernel looks a master key up with
// request_key(2) from the calling thread's keyrings (thread, process,
// session) when it loads or reads an encrypted key, so the masters named
// here must be reachable from the calling thread; run these functions on
// one thread (runtime.LockOSThread) if the program's threads have different
// session keyrings.

// tempMasterLife bounds how long a temporary master key can outlive a
// process that dies in the middle of Import.
const tempMasterLife = time.Minute

// New adds to dest a new encrypted key described desc whose data the kernel
// generates ("new [format] master length", see [NewPayload] and
// [Options]), and returns it. desc must suit o.Format (see
// [ValidateDescription]). The kernel does not look the master key up
// here: a missing master shows when the key is read ([ReadBlob]).
//
// Errors: keyring.ErrInvalid (input refused before the call, or dest
// already has an encrypted key described desc: the kernel then treats the
// add as an update, which refuses "new"), keyring.ErrNotSupported
// (CONFIG_ENCRYPTED_KEYS is off), and the errors of keyring.Keyring.Add.
func New(dest keyring.Keyring, desc string, o Options) (keyring.Key, error) {
	if err := validateDescription("New", o.Format, desc); err != nil {
		return keyring.Key{}, err
	}
	p, err := newPayload("New", o.Format, o.Master, o.length(), nil)
	if err != nil {
		return keyring.Key{}, err
	}
	k, err := dest.Add("encrypted", desc, p)
	if err != nil {
		return keyring.Key{}, addError(dest, desc, "new", err, nil)
	}
	return k, nil
}

// Load adds an encrypted key described desc to dest from the blob b
// ("load"), and returns it. The kernel needs b's master key, verifies the
// HMAC and holds the decrypted data.
//
// Errors: keyring.ErrNotFound (the master key is not reachable),
// keyring.ErrRevoked (it is revoked), keyring.ErrInvalid (input refused
// before the call; desc does not suit an Ecryptfs key; dest already has an
// encrypted key described desc: the kernel then treats the add as an
// update, which refuses "load"; or the blob does not verify under its
// master, which also matches [ErrBadHMAC]), and the errors of
// keyring.Keyring.Add.
func Load(dest keyring.Keyring, desc string, b *Blob) (keyring.Key, error) {
	const op = "Load"
	if _, err := b.check(op); err != nil {
		return keyring.Key{}, err
	}
	if err := validateDescription(op, b.Format, desc); err != nil {
		return keyring.Key{}, err
	}
	p, err := loadPayload(op, b)
	if err != nil {
		return keyring.Key{}, err
	}
	k, err := dest.Add("encrypted", desc, p)
	if err != nil {
		return keyring.Key{}, addError(dest, desc, "load", err, b)
	}
	return k, nil
}

// addError adds what this package knows to the kernel's EINVAL for an
// add_key of an encrypted key with the command cmd ("new" or "load"): the
// payload passed this package's checks, so either dest already holds an
// encrypted key desc (the kernel then turns the add into an update, which
// refuses cmd), or, for a load of b, the blob does not verify under its
// master key.
func addError(dest keyring.Keyring, desc, cmd string, err error, b *Blob) error {
	var ke *keyring.Error
	if !errors.As(err, &ke) || !errors.Is(err, keyring.ErrInvalid) {
		return err
	}
	if _, serr := dest.Search("encrypted", desc); serr == nil {
		return kerr.WithReason(ke, "an encrypted key "+strconv.Quote(desc)+" already exists there, and the kernel turns the add into an update, which refuses "+strconv.Quote(cmd))
	}
	if b != nil {
		return kerr.WithErr(ke, "the kernel's HMAC check failed: the master key "+b.Master.String()+" is not the one the blob was sealed under, or the blob was changed", ErrBadHMAC)
	}
	return err
}

// ReadBlob reads an encrypted key's blob (KEYCTL_READ): the kernel
// encrypts the key's data under its current master, which must be
// reachable (keyring.ErrNotFound otherwise).
func ReadBlob(k keyring.Key) (*Blob, error) {
	text, err := k.Read()
	if err != nil {
		return nil, err
	}
	return ParseBlob(text)
}

// Update moves the encrypted key k from master o.From to master o.To with
// the kernel's "update" (KEYCTL_UPDATE, see [UpdatePayload]). The kernel
// keeps the key's data and looks up neither master: a missing o.To shows
// when the key is next read. It cannot change the master's type; see
// [Migrate] for a user to trusted move.
//
// Errors: keyring.ErrInvalid (input refused before the call, or k is not
// an encrypted key under a master of o.To's type), and the errors of
// keyring.Key.Update.
func Update(k keyring.Key, o UpdateOptions) error {
	p, err := updatePayload("Update", o)
	if err != nil {
		return err
	}
	return k.Update(p)
}

// ImportOptions are the parameters of Import.
type ImportOptions struct {
	// Format of the new key; its size rule applies to the key material.
	// Zero is Default.
	Format Format
	// Master is the master key the imported key ends up under; it is
	// required. A UserMaster master must be reachable when the blob is
	// read at the end; a TrustedMaster one needs a kernel that accepts
	// user-provided data.
	Master Master
}

// Import makes an encrypted key described desc in dest that holds
// plaintext, existing key material, under o.Master, and returns the key and
// its blob (what the kernel reads back, to be stored and loaded later).
//
// The kernel creates encrypted keys from caller-chosen data only with
// CONFIG_USER_DECRYPTED_DATA. Import works without it for UserMaster
// masters:
//
//  1. a random 32-byte temporary master key is added, as a user key
//     "kernkeys-import:<random>", to the calling thread's session keyring
//     with a one-minute timeout;
//  2. plaintext is sealed under it in userspace ([Seal]) and loaded into
//     the kernel ("load");
//  3. the temporary master is revoked and unlinked: the kernel now holds
//     the data;
//  4. the key is switched to o.Master ("update") and its blob read back.
//
// For a TrustedMaster master, whose type the kernel's update cannot switch to,
// Import uses "new ... <data>" directly and fails with
// keyring.ErrNotSupported where the kernel lacks CONFIG_USER_DECRYPTED_DATA.
// A kernel before Linux 5.19 has no user-provided data and ignores it: it
// would make the key from random data. Import first probes for that, once
// per process, with a payload such a kernel accepts and a later one
// refuses (a "new" with one byte of data for a 32-byte key, added to dest
// under a random description and at once invalidated and unlinked where
// it was accepted), and fails with keyring.ErrNotSupported before it sends
// the data.
//
// On any failure the new encrypted key is unlinked and the temporary master
// revoked: nothing is left behind. Every buffer Import makes that holds the
// plaintext or the temporary master key is wiped; plaintext itself belongs
// to the caller.
//
// Errors: keyring.ErrInvalid (input refused before any call), and the
// errors of [Load], [Update] and [ReadBlob].
func Import(dest keyring.Keyring, desc string, plaintext []byte, o ImportOptions) (k keyring.Key, b *Blob, err error) {
	const op = "Import"
	if err := o.Format.checkDataLen(op, len(plaintext)); err != nil {
		return keyring.Key{}, nil, err
	}
	if err := o.Master.check(op); err != nil {
		return keyring.Key{}, nil, err
	}
	if err := validateDescription(op, o.Format, desc); err != nil {
		return keyring.Key{}, nil, err
	}
	defer func() {
		if err != nil && k != (keyring.Key{}) {
			_ = dest.Unlink(k)
			k = keyring.Key{}
		}
	}()
	if o.Master.Kind == TrustedMaster {
		k, err = importWithData(dest, desc, plaintext, o)
	} else {
		k, err = importSealed(dest, desc, plaintext, o)
	}
	if err != nil {
		return k, nil, err
	}
	b, err = ReadBlob(k)
	return k, b, err
}

// importWithData creates the key from "new <format> <master> <len> <hex>",
// after checkUserData has made sure the kernel reads the data.
func importWithData(dest keyring.Keyring, desc string, plaintext []byte, o ImportOptions) (keyring.Key, error) {
	p, err := newPayload("Import", o.Format, o.Master, len(plaintext), plaintext)
	if err != nil {
		return keyring.Key{}, err
	}
	defer keyring.Wipe(p)
	if err := checkUserData(dest, o.Master); err != nil {
		return keyring.Key{}, err
	}
	k, err := dest.Add("encrypted", desc, p)
	var ke *keyring.Error
	if errors.As(err, &ke) && errors.Is(err, keyring.ErrInvalid) {
		if ae := addError(dest, desc, "new", err, nil); ae != err {
			return keyring.Key{}, ae // desc is taken
		}
		// The payload was valid: the kernel refuses user-provided data,
		// a feature it has but was built or booted without.
		ne := kerr.WithReason(ke, "importing under a "+o.Master.Kind.String()+" master needs user-provided encrypted key data (CONFIG_USER_DECRYPTED_DATA, or the module parameter encrypted_keys.user_decrypted_data), which the running kernel refuses")
		ne.Errno = syscall.EOPNOTSUPP
		return keyring.Key{}, ne
	}
	return k, err
}

// userData caches checkUserData's conclusive answer: userDataRead (the
// kernel parses the data of "new ... <hex>"), userDataIgnored (it does
// not), or zero before the first conclusive probe.
var userData atomic.Int32

const (
	userDataRead int32 = 1 + iota
	userDataIgnored
)

// checkUserData makes sure that the running kernel does not ignore the
// data of a "new <format> <master> <len> <hex>" payload. Linux before 5.19
// has no user-provided data: its datablob_parse
// (security/keys/encrypted-keys/encrypted.c, 5.10) stops after the length
// and never looks at the rest, so the add succeeds and the key holds
// random data instead of the caller's, silently. Since 5.19 the kernel
// reads the data token and refuses with EINVAL data of the wrong length,
// and any data when CONFIG_USER_DECRYPTED_DATA is off.
//
// The probe is such a payload with one byte of data for a 32-byte key: a
// kernel that reads the data refuses it (EINVAL) without making a key; a
// kernel before 5.19 makes a key of random data under a user master that
// need not exist, which is invalidated (or revoked) and unlinked at once.
// It is added to dest, where the real add goes, under a random
// description, so that it meets the same permissions, restriction and
// quota; an answer other than those two is returned as the error and not
// cached. The kernel's answer does not change while it runs: a
// conclusive one is cached for the process.
func checkUserData(dest keyring.Keyring, m Master) error {
	switch userData.Load() {
	case userDataRead:
		return nil
	case userDataIgnored:
		return userDataError(dest, m)
	}
	var nonce [8]byte
	rand.Read(nonce[:]) // never fails: it would crash the program first
	desc := "kernkeys-probe:" + hex.EncodeToString(nonce[:])
	k, err := dest.Add("encrypted", desc, []byte("new default user:"+desc+" 32 00"))
	switch {
	case err == nil:
		if k.Invalidate() != nil {
			_ = k.Revoke()
		}
		_ = dest.Unlink(k)
		userData.Store(userDataIgnored)
		return userDataError(dest, m)
	case errors.Is(err, keyring.ErrInvalid):
		userData.Store(userDataRead)
		return nil
	}
	return err
}

// userDataError is the error of an import under the master m on a kernel
// that ignores user-provided data.
func userDataError(dest keyring.Keyring, m Master) error {
	e := kerr.Errno("add_key", syscall.EOPNOTSUPP, "importing under a "+m.Kind.String()+" master needs user-provided encrypted key data (CONFIG_USER_DECRYPTED_DATA, Linux 5.19), which the running kernel lacks: it ignores the data of \"new\" and would make a random key")
	e.ID = dest.ID()
	return e
}

// importSealed loads the data under a temporary user master and switches
// the key to o.Master.
func importSealed(dest keyring.Keyring, desc string, plaintext []byte, o ImportOptions) (k keyring.Key, err error) {
	var nonce [8]byte
	mk := make([]byte, 32)
	defer keyring.Wipe(mk)
	rand.Read(mk) // never fails: it would crash the program first
	rand.Read(nonce[:])
	temp := Master{Kind: UserMaster, Name: "kernkeys-import:" + hex.EncodeToString(nonce[:])}
	session := keyring.Session()
	tk, err := session.Add("user", temp.Name, mk)
	if err != nil {
		return keyring.Key{}, err
	}
	defer func() {
		_ = tk.Revoke()
		_ = session.Unlink(tk)
	}()
	if err := tk.SetTimeout(tempMasterLife); err != nil {
		return keyring.Key{}, err
	}

	blob, err := seal("Import", plaintext, SealOptions{MasterKey: mk, Master: temp, Format: o.Format})
	if err != nil {
		return keyring.Key{}, err
	}
	if k, err = Load(dest, desc, blob); err != nil {
		return keyring.Key{}, err
	}
	return k, Update(k, UpdateOptions{From: temp, To: o.Master})
}

// MigrateOptions are the parameters of [Migrate].
type MigrateOptions struct {
	// To is the master the key ends up under; it is required.
	To Master
}

// Migrate loads the blob b (whose master must be reachable) as an
// encrypted key described desc in dest, switches it to the master o.To
// with the kernel's update, and returns the key and its new blob. The key
// data never leaves the kernel.
//
// The kernel's update cannot change the master's type. From a UserMaster
// master to a TrustedMaster one, Migrate therefore opens b in userspace
// with the user master's key (read from the kernel: the caller's keyrings
// must hold it, as they must for the kernel to load b) and imports the
// data under o.To as [Import] does, which needs
// CONFIG_USER_DECRYPTED_DATA (keyring.ErrNotSupported otherwise); the data
// and the master key pass through this process's memory and are wiped.
// From TrustedMaster to UserMaster there is no way (keyring.ErrInvalid):
// the trusted master's key never leaves the TPM, and the kernel does not
// reveal an encrypted key's data.
//
// On failure the key is unlinked from dest. Errors: those of [Load],
// [Update], [ReadBlob] and [Import].
func Migrate(dest keyring.Keyring, desc string, b *Blob, o MigrateOptions) (k keyring.Key, nb *Blob, err error) {
	const op = "Migrate"
	if _, err := b.check(op); err != nil {
		return keyring.Key{}, nil, err
	}
	to := o.To
	if b.Master.Kind == UserMaster && to.Kind == TrustedMaster {
		return migrateToTrusted(dest, desc, b, to)
	}
	uo := UpdateOptions{From: b.Master, To: to}
	if _, err := updatePayload(op, uo); err != nil {
		return keyring.Key{}, nil, err
	}
	if k, err = Load(dest, desc, b); err != nil {
		return keyring.Key{}, nil, err
	}
	defer func() {
		if err != nil {
			_ = dest.Unlink(k)
			k = keyring.Key{}
		}
	}()
	if err = Update(k, uo); err != nil {
		return k, nil, err
	}
	nb, err = ReadBlob(k)
	return k, nb, err
}

// migrateToTrusted re-creates b's data under the trusted master to, by way
// of userspace (see Migrate).
func migrateToTrusted(dest keyring.Keyring, desc string, b *Blob, to Master) (keyring.Key, *Blob, error) {
	if err := to.check("Migrate"); err != nil {
		return keyring.Key{}, nil, err
	}
	mk, err := keyring.Request("user", b.Master.Name, keyring.RequestOptions{})
	if err != nil {
		return keyring.Key{}, nil, err
	}
	masterKey, err := mk.Read()
	if err != nil {
		return keyring.Key{}, nil, err
	}
	defer keyring.Wipe(masterKey)
	plain, err := open("Migrate", b, masterKey)
	if err != nil {
		return keyring.Key{}, nil, err
	}
	defer keyring.Wipe(plain)
	return Import(dest, desc, plain, ImportOptions{Format: b.Format, Master: to})
}
