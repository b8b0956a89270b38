package trusted

import (
	"errors"
	"os"
	"strconv"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/kerr"
	"github.com/kernkeys/kernkeys/keyring"
)

// TypeName is the key type, as given to add_key(2).
const TypeName = "trusted"

// noTrustedKeys is the reason given when the running kernel has no
// "trusted" key type: add_key answers ENODEV.
const noTrustedKeys = `key type "trusted" is not in the running kernel: it needs CONFIG_TRUSTED_KEYS ` +
	"and a trust source that the kernel found at boot (a TPM with CONFIG_TRUSTED_KEYS_TPM, " +
	"OP-TEE's trusted-keys TA with _TEE, NXP CAAM with _CAAM or NXP DCP with _DCP)"

// KernelBackend reports which backend the running kernel's trusted keys
// use. It answers an error matching keyring.ErrNotSupported, naming
// CONFIG_TRUSTED_KEYS, when the kernel has no "trusted" key type; any
// other error means it could not tell (Errno ENXIO when the kernel has the
// type but sysfs shows no trust source's device).
//
// It first asks the kernel whether the type exists: add_key("trusted")
// with a payload that is no command, which the kernel refuses with
// EINVAL before it reaches any trust source, or with ENODEV when the type
// is not registered. That happens in a private session keyring on a
// thread of its own ([keyring.InNewSession]) and leaves nothing behind.
// Then it reads which source the kernel chose, because the kernel does
// not publish it: the trusted.source= module parameter has mode 0, so it
// never appears under /sys/module/trusted/parameters, built in or not.
// KernelBackend follows the kernel's own choice instead (see the package
// documentation): trusted.source= on /proc/cmdline, then the first source,
// in the kernel's order tpm, tee, caam, dcp, whose device sysfs shows, and
// for a TPM /sys/class/tpm/tpmN/tpm_version_major. A loadable trusted.ko
// given trusted.source= in /etc/modprobe.d is not seen. KernelBackend
// does not cache its answer.
func KernelBackend() (Backend, error) {
	if err := probeType(); err != nil {
		return 0, err
	}
	b, _, err := detectBackend(os.DirFS("/"))
	return b, err
}

// probeType reports nil if the kernel has the "trusted" key type.
func probeType() error {
	return keyring.InNewSession(func(s keyring.Keyring) error {
		_, err := s.Add(TypeName, "kernkeys:trusted-probe", []byte("kernkeys-probe"))
		var ke *keyring.Error
		switch {
		case err == nil, errors.Is(err, keyring.ErrInvalid):
			return nil // no kernel accepts that payload; a key would die with the session
		case errors.Is(err, keyring.ErrNotSupported) && errors.As(err, &ke):
			e := kerr.WithReason(ke, noTrustedKeys)
			e.ID = 0 // the probe's session is gone
			return e
		}
		return err
	})
}

// New creates a trusted key described desc in dest: the trust source
// generates o.KeyLen random bytes (MinKeyLen to MaxKeyLen; 0 means 32)
// and seals them ("new", add_key(2)). The kernel holds the key in the
// clear; userspace only ever sees the sealed blob ([ReadBlob]), which
// [Load] turns back into the key on the same machine. On TPM 2.0
// o.KeyHandle is required: the persistent handle of the parent key, such
// as 0x81000001.
//
// The backend is read from the kernel ([KernelBackend]) and o is checked
// against its rules first ([NewPayload]). Errors, all *keyring.Error:
//
//   - keyring.ErrInvalid with Refused set: o or desc is refused before
//     any system call; Field names the part at fault.
//   - keyring.ErrNotSupported: the kernel has no trusted keys; the
//     message names CONFIG_TRUSTED_KEYS.
//   - keyring.ErrPermission: the TPM refused to seal (the parent key is
//     not in the TPM, or keyauth= is wrong), pcrlock= without
//     CAP_SYS_ADMIN, or dest already links a non-migratable trusted key
//     described desc (add_key then updates that key, which is refused).
//   - keyring.ErrInvalid from the kernel: dest already links a trusted
//     key described desc (an update cannot take "new"), or pcrlock= names a
//     PCR the TPM lacks.
//   - E2BIG (errors.Is(err, syscall.E2BIG)): the TPM's answer is over the
//     kernel's 512-byte blob limit, seen with hash=sha512 (and sha384 with
//     a policy) on Linux 6.1.
//   - the errors of keyring.Keyring.Add.
func New(dest keyring.Keyring, desc string, o Options) (keyring.Key, error) {
	return add("New", dest, desc, Payload{Command: CommandNew, Options: o})
}

// Load creates a trusted key described desc in dest from b, the sealed
// key as [ReadBlob] returned it ("load", add_key(2)): the trust source
// unseals it, and the kernel holds the same key as the key the blob was
// read from. A TPM 2.0 blob carries its parent's handle; o needs the
// blobauth=, keyauth= and policyhandle= that unsealing requires. o.KeyLen
// is ignored.
//
// Some kernels return the result of pcrlock= instead of an unsealing
// failure (trusted_tpm_unseal() as read in torvalds/linux; Debian's 6.1
// checks the failure first), and would make a key with no data from a
// refused blob. So with o.PCRLock set, Load first unseals the blob
// without pcrlock= in a private session of its own, and proceeds only if
// that works.
//
// Errors, all *keyring.Error:
//
//   - [ErrUnseal], which also matches keyring.ErrPermission: the trust
//     source refused to unseal (EPERM, "TPM error" in the kernel log):
//     the blob was changed or belongs to another TPM or parent, or the
//     authorization, policy or PCRs do not match.
//   - keyring.ErrInvalid with Refused set: o or b is refused before any
//     system call; Field names the part at fault.
//   - keyring.ErrNotSupported: the kernel has no trusted keys.
//   - keyring.ErrPermission without ErrUnseal: pcrlock= without
//     CAP_SYS_ADMIN, or dest already links a non-migratable trusted key
//     described desc.
//   - keyring.ErrInvalid from the kernel: the blob is not one the backend
//     can read, or dest already links a trusted key described desc.
//   - the errors of keyring.Keyring.Add.
func Load(dest keyring.Keyring, desc string, b Blob, o Options) (keyring.Key, error) {
	p := Payload{Command: CommandLoad, Blob: b, Options: o}
	if o.PCRLock != 0 {
		trial := p
		trial.Options.PCRLock = 0
		err := keyring.InNewSession(func(s keyring.Keyring) error {
			_, err := add("Load", s, "kernkeys:unseal-check", trial)
			return err
		})
		if err != nil {
			return keyring.Key{}, err
		}
	}
	return add("Load", dest, desc, p)
}

// add validates p for the kernel's backend, adds the key and explains the
// kernel's refusals.
func add(op string, dest keyring.Keyring, desc string, p Payload) (keyring.Key, error) {
	b, err := KernelBackend()
	if err != nil {
		return keyring.Key{}, err
	}
	p.Backend = b
	text, err := p.appendText(op, nil)
	if err != nil {
		return keyring.Key{}, err
	}
	defer keyring.Wipe(text)
	k, err := dest.Add(TypeName, desc, text)
	if err == nil {
		return k, nil
	}
	var ke *keyring.Error
	if !errors.As(err, &ke) {
		return keyring.Key{}, err
	}
	exists := func() bool {
		_, serr := dest.Search(TypeName, desc)
		return serr == nil
	}
	return keyring.Key{}, explainAdd(ke, b, p, desc, exists)
}

// explainAdd adds what this package knows to the kernel's error ke from
// adding payload p for backend b: the reason, and ErrUnseal for a blob the
// trust source refused. exists reports whether dest links a trusted key
// described desc. EPERM and E2BIG are told apart from their neighbours by
// errno: keyring.ErrPermission also matches EACCES (no write permission on
// dest), which is no answer of the trust source, and E2BIG has no sentinel.
func explainAdd(ke *keyring.Error, b Backend, p Payload, desc string, exists func() bool) error {
	eperm := errors.Is(ke, syscall.EPERM)
	switch {
	case errors.Is(ke, keyring.ErrNotSupported):
		return kerr.WithReason(ke, noTrustedKeys)
	case (errors.Is(ke, keyring.ErrInvalid) || eperm) && exists():
		return kerr.WithReason(ke, "dest already links a trusted key described "+strconv.Quote(desc)+
			": add_key then updates that key, which refuses "+p.Command.String()+" (EINVAL), or any update if the key is not migratable (EPERM)")
	case eperm && p.Options.PCRLock != 0 && p.Command == CommandLoad:
		return kerr.WithReason(ke, "the blob unseals, so pcrlock= failed: it needs CAP_SYS_ADMIN")
	case eperm && p.Command == CommandLoad:
		return kerr.WithErr(ke, "the "+b.String()+" refused to unseal the blob (the kernel logs a TPM error): the blob was changed, "+
			"was sealed by another TPM or under another parent, or its blobauth=, keyauth=, policy session or PCRs do not match", ErrUnseal)
	case eperm:
		return kerr.WithReason(ke, "the "+b.String()+" refused to seal: the parent key (keyhandle=) is not in the TPM, "+
			"keyauth= is wrong, or the TPM lacks hash= (swtpm has no sm3); or pcrlock= needs CAP_SYS_ADMIN")
	case errors.Is(ke, syscall.E2BIG) && p.Command != CommandLoad:
		return kerr.WithReason(ke, "the TPM's answer to sealing is larger than the kernel's 512-byte limit (MAX_BLOB_SIZE): "+
			"seen on Linux 6.1 with swtpm for hash=sha512, and for hash=sha384 with policydigest=")
	case errors.Is(ke, keyring.ErrInvalid):
		return kerr.WithReason(ke, "the kernel refused a payload that the "+b.String()+" rules accept: "+
			"pcrlock= names a PCR the TPM lacks, the TPM lacks hash=, or the blob is not one this backend can read")
	}
	return ke
}

// Update reseals the trusted key k with the options o, keeping its key
// data ("update", KEYCTL_UPDATE, keyctl_update(3)): to bind it to a new
// policy or PCR state, or to make it non-migratable. Its blob changes;
// read it again with [ReadBlob]. On TPM 2.0 o.KeyHandle is required;
// o.KeyLen is ignored.
//
// Errors, all *keyring.Error: keyring.ErrInvalid with Refused set (o
// refused before any system call, or the backend never updates keys);
// keyring.ErrPermission (the key is not migratable, the TPM refused to
// seal, or pcrlock= without CAP_SYS_ADMIN; before Linux 5.13 the kernel's
// update seals with TPM 1.2's TPM_Seal whatever the TPM, so a TPM 2.0
// refuses every update); keyring.ErrNotSupported (no
// trusted keys); the errors of keyring.Key.Update.
func Update(k keyring.Key, o Options) error {
	b, err := KernelBackend()
	if err != nil {
		return err
	}
	text, err := Payload{Backend: b, Command: CommandUpdate, Options: o}.appendText("Update", nil)
	if err != nil {
		return err
	}
	defer keyring.Wipe(text)
	err = k.Update(text)
	var ke *keyring.Error
	// EPERM alone: keyring.ErrPermission also matches EACCES, a key
	// without write permission, which is not the kernel's refusal below.
	if errors.As(err, &ke) && errors.Is(ke, syscall.EPERM) {
		return kerr.WithReason(ke, "the kernel refuses to update a non-migratable key (made with migratable=0, or "+
			"loaded from a blob with fixedTPM and fixedParent); or the TPM refused to seal (a TPM 2.0 refuses every update "+
			"before Linux 5.13, whose update seals with TPM 1.2's command); or pcrlock= needs CAP_SYS_ADMIN")
	}
	return err
}

// ReadBlob reads a trusted key's sealed blob (KEYCTL_READ, which returns
// it in hex) and returns its bytes: what [Load] takes, and for TPM 2.0 what
// [ParseBlob] decodes. The blob is no secret by itself: only the trust
// source that sealed it can unseal it. Errors, all *keyring.Error: those
// of keyring.Key.Read, and one matching keyring.ErrInvalid (Op
// "trusted.ReadBlob", Refused false) if the kernel's answer is not the
// hex of a blob, as for a key of another type.
func ReadBlob(k keyring.Key) (Blob, error) {
	text, err := k.Read()
	if err != nil {
		return nil, err
	}
	defer keyring.Wipe(text) // not secret, but the key may be of another type
	var b Blob
	if err := b.UnmarshalText(text); err != nil {
		reason := "the kernel's answer is not the hex of a trusted key's blob"
		if re := (*keyring.Error)(nil); errors.As(err, &re) {
			reason += ": it " + re.Reason
		}
		e := kerr.Errno("trusted.ReadBlob", syscall.EINVAL, reason)
		e.ID = k.ID()
		return nil, e
	}
	return b, nil
}
