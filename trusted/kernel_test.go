//go:build linux

package trusted

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/encrypted"
	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// These tests decide what to expect by asking the running kernel: one with
// the "trusted" key type and a TPM 2.0 (the project's VM: swtpm, with a
// storage key persisted at 0x81000001 by swtpm_setup --create-spk) is
// tested for real; one without the type (the host, CONFIG_TRUSTED_KEYS
// off) for the ErrNotSupported answer. Only a kernel with another trust
// source skips the TPM 2.0 tests, saying which.

// spk is the parent key's handle: the storage primary key that
// swtpm_setup --create-spk persists.
const spk = 0x81000001

// kernelHasTrusted asks the kernel directly whether it has the type:
// add_key("trusted") with a payload that is no command answers ENODEV
// only when the type is missing.
func kernelHasTrusted(t *testing.T) bool {
	t.Helper()
	err := keyring.InNewSession(func(s keyring.Keyring) error {
		_, err := s.Add("trusted", "kernkeys-test:probe", []byte("probe"))
		return err
	})
	switch {
	case errors.Is(err, syscall.ENODEV):
		return false
	case errors.Is(err, syscall.EINVAL):
		return true
	}
	t.Fatalf(`probing add_key("trusted"): %v`, err)
	return false
}

func wantNoTrustedKeys(t *testing.T, what string, err error) {
	t.Helper()
	var ke *keyring.Error
	switch {
	case !errors.Is(err, keyring.ErrNotSupported) || !errors.Is(err, syscall.ENODEV):
		t.Errorf("%s: %v; want keyring.ErrNotSupported (ENODEV)", what, err)
	case !strings.Contains(err.Error(), "CONFIG_TRUSTED_KEYS") || !strings.Contains(err.Error(), `"trusted"`):
		t.Errorf("%s: %q does not name CONFIG_TRUSTED_KEYS", what, err)
	case !errors.As(err, &ke) || ke.Op != "add_key":
		t.Errorf("%s: %v is not a *keyring.Error of add_key", what, err)
	}
}

// KernelBackend agrees with the kernel: ErrNotSupported naming
// CONFIG_TRUSTED_KEYS where the type is missing, and every kernel
// function says the same; otherwise a backend, and for a TPM the version
// the kernel's own parser shows.
func TestKernelBackend(t *testing.T) {
	s := keytest.Session(t)
	b, err := KernelBackend()
	if !kernelHasTrusted(t) {
		wantNoTrustedKeys(t, "KernelBackend", err)
		if b != 0 {
			t.Errorf("KernelBackend = %v with its error", b)
		}
		_, err = New(s, "kmk", Options{KeyHandle: spk})
		wantNoTrustedKeys(t, "New", err)
		_, err = Load(s, "kmk", Blob{0, 2, 1, 2, 0, 2, 3, 4}, Options{KeyHandle: spk})
		wantNoTrustedKeys(t, "Load", err)
		u, err := s.Add("user", "not-trusted", []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		wantNoTrustedKeys(t, "Update", Update(u, Options{KeyHandle: spk}))
		return
	}
	if err != nil {
		t.Fatalf("KernelBackend: %v", err)
	}
	t.Logf("the kernel's trusted keys use the %v backend", b)
	if !b.IsTPM() {
		return
	}
	// Without touching the TPM, the kernel's parser tells the versions
	// apart: TPM 1.2 refuses a 1-character blobauth= (EINVAL); TPM 2.0 takes
	// it as a password, reads the blob as a pre-5.13 one under keyhandle=1,
	// and finds its public part's size too big (E2BIG).
	_, err = s.Add("trusted", "kernkeys-test:version", []byte("load 0000ffff keyhandle=1 blobauth=x"))
	switch {
	case b == TPM2 && !errors.Is(err, syscall.E2BIG), b == TPM1 && !errors.Is(err, syscall.EINVAL):
		t.Errorf("KernelBackend says %v, but the kernel's parser answered %v", b, err)
	}
}

// needTPM2 returns a fresh session on a kernel whose trusted keys use a
// TPM 2.0, and skips elsewhere, saying why.
func needTPM2(t *testing.T) keyring.Keyring {
	t.Helper()
	s := keytest.Session(t)
	if !kernelHasTrusted(t) {
		t.Skip(`the kernel has no "trusted" key type (ENODEV; CONFIG_TRUSTED_KEYS is off): TestKernelBackend checks that answer`)
	}
	b, err := KernelBackend()
	if err != nil {
		t.Fatal(err)
	}
	if b != TPM2 {
		t.Skipf("these tests need TPM 2.0 with a storage key at 0x81000001; the kernel's trusted keys use %v", b)
	}
	return s
}

// sealed is a blob as the running kernel wrote it, in the format that
// kernel writes: a TPMKey (Linux 5.13 and later) or a raw blob (before),
// told apart by what the kernel wrote, not by its version.
type sealed struct {
	blob Blob
	key  *TPMKey  // a TPMKey blob, or nil
	raw  *RawBlob // a raw blob, or nil
}

// opts returns o with what loading s needs: a raw blob names no parent,
// so it takes keyhandle=, the handle it was sealed under (spk).
func (s sealed) opts(o Options) Options {
	if s.raw != nil && o.KeyHandle == 0 {
		o.KeyHandle = spk
	}
	return o
}

func mustNew(t *testing.T, s keyring.Keyring, desc string, o Options) (keyring.Key, sealed) {
	t.Helper()
	k, err := New(s, desc, o)
	if err != nil {
		t.Fatalf("New(%v): %v (is a storage key persisted at 0x81000001? swtpm_setup --create-spk)", o, err)
	}
	return k, mustRead(t, k)
}

// mustRead reads k's blob and parses it in the format the kernel wrote,
// which its first byte tells: 0x30 starts a TPMKey's SEQUENCE, and can
// start no raw blob, whose TPM2B_PRIVATE's size is under 0x200.
func mustRead(t *testing.T, k keyring.Key) sealed {
	t.Helper()
	blob, err := ReadBlob(k)
	if err != nil {
		t.Fatal(err)
	}
	if len(blob) == 0 {
		t.Fatal("the kernel wrote an empty blob")
	}
	if blob[0] != tagSequence {
		return mustReadRaw(t, blob)
	}
	key, err := ParseBlob(blob)
	if err != nil {
		t.Fatalf("ParseBlob of the kernel's blob: %v", err)
	}
	m, err := key.MarshalBinary()
	if err != nil || !bytes.Equal(m, blob) {
		t.Fatalf("MarshalBinary does not give the kernel's blob back (%v):\n%x\n%x", err, m, blob)
	}
	return sealed{blob: blob, key: key}
}

// mustReadRaw checks a blob in the format of kernels before 5.13
// (tpm2_seal_trusted() of 5.10): all of TPM2_Create's answer, private
// and public parts first.
func mustReadRaw(t *testing.T, blob Blob) sealed {
	t.Helper()
	var u syscall.Utsname
	if err := syscall.Uname(&u); err == nil {
		var rel []byte
		for _, c := range u.Release {
			if c == 0 {
				break
			}
			rel = append(rel, byte(c))
		}
		var major, minor int
		if _, err := fmt.Sscanf(string(rel), "%d.%d", &major, &minor); err == nil && (major > 5 || major == 5 && minor >= 13) {
			t.Errorf("Linux %s wrote a raw TPM 2.0 blob; from 5.13 on the kernel writes TPMKey: %x", rel, blob[:min(len(blob), 16)])
		}
	}
	raw, err := ParseRawBlob(blob)
	if err != nil {
		t.Fatalf("the kernel's blob %x... is neither a TPMKey nor a raw blob: %v", blob[:min(len(blob), 16)], err)
	}
	if !bytes.Equal(slices.Concat(raw.Private, raw.Public, raw.Creation), blob) {
		t.Fatal("ParseRawBlob's parts do not make the kernel's blob")
	}
	if len(raw.Creation) == 0 {
		t.Error("the raw blob ends with its public part; the kernel keeps TPM2_Create's creation data and ticket after it")
	}
	return sealed{blob: blob, raw: raw}
}

func mustPublic(t *testing.T, s sealed) Public {
	t.Helper()
	var p Public
	var err error
	if s.key != nil {
		p, err = s.key.PublicArea()
	} else {
		p, err = s.raw.PublicArea()
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mustLoad loads sb with o and what its format needs (sealed.opts).
func mustLoad(t *testing.T, s keyring.Keyring, desc string, sb sealed, o Options) keyring.Key {
	t.Helper()
	k, err := Load(s, desc, sb.blob, sb.opts(o))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got, err := ReadBlob(k)
	if err != nil || !bytes.Equal(got, sb.blob) {
		t.Fatalf("the loaded key reads back another blob (%v)", err)
	}
	return k
}

// A key made with keyhandle= reads back as a TPMKey with the kernel's
// layout (Linux 5.13 and later) or as a raw blob (before), and loads
// again from its blob, after the original is gone.
func TestKernelNewReadLoad(t *testing.T) {
	s := needTPM2(t)
	k, sb := mustNew(t, s, "kmk", Options{KeyHandle: spk})
	blob := sb.blob
	if key := sb.key; key != nil {
		if !bytes.HasPrefix(blob[3:], mustHex("06066781050a0105 a003010101 02050081000001")) || blob[0] != 0x30 {
			t.Errorf("the blob does not start as docs/trusted.md says the kernel writes it: %x", blob[:min(len(blob), 24)])
		}
		if key.Parent != spk || !key.EmptyAuth || key.Policy != nil || key.Secret != nil {
			t.Errorf("ParseBlob = parent %#x, emptyAuth %v, policy %v, secret %v", key.Parent, key.EmptyAuth, key.Policy, key.Secret)
		}
	} else {
		t.Logf("the kernel writes raw TPM 2.0 blobs (before Linux 5.13): %d bytes, private %d, public %d, creation %d",
			len(blob), len(sb.raw.Private), len(sb.raw.Public), len(sb.raw.Creation))
	}
	if p := mustPublic(t, sb); p.Type != 8 || p.Hash() != "sha256" || p.Attributes&AttrUserWithAuth == 0 || !p.Migratable() || len(p.AuthPolicy) != 0 {
		t.Errorf("PublicArea() = %+v", p)
	}
	if err := s.Unlink(k); err != nil {
		t.Fatal(err)
	}
	keytest.WaitGone(t, k)
	if sb.raw != nil {
		// A raw blob names no parent: Load refuses it without keyhandle=,
		// before asking the kernel, and the TPM refuses another parent.
		_, err := Load(s, "kmk", blob, Options{})
		var ke *keyring.Error
		if !errors.As(err, &ke) || !ke.Refused || ke.Field != "keyhandle" {
			t.Errorf("Load of a raw blob without keyhandle=: %v; want a refusal of keyhandle", err)
		}
		if _, err := Load(s, "kmk", blob, Options{KeyHandle: spk + 1}); !errors.Is(err, ErrUnseal) {
			t.Errorf("Load of a raw blob under %#x, which the TPM does not have: %v; want ErrUnseal", uint32(spk+1), err)
		}
	}
	mustLoad(t, s, "kmk", sb, Options{})
	// The same, with keyhandle= equal to the blob's parent.
	mustLoad(t, s, "kmk-again", sb, Options{KeyHandle: spk})
}

// An encrypted key under a trusted master survives the unlinking of both:
// loading the trusted blob gives back the same master key, or the
// encrypted blob's HMAC would not verify.
func TestKernelEncryptedUnderTrusted(t *testing.T) {
	s := needTPM2(t)
	tk, tblob := mustNew(t, s, "kmk", Options{KeyHandle: spk})
	master := encrypted.Master{Kind: encrypted.TrustedMaster, Name: "kmk"}
	p, err := encrypted.NewPayload(encrypted.Options{Format: encrypted.Default, Master: master, Length: 32})
	if err != nil {
		t.Fatal(err)
	}
	ek, err := s.Add("encrypted", "ek", p)
	if err != nil {
		t.Fatal(err)
	}
	eblob, err := encrypted.ReadBlob(ek)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []keyring.Key{ek, tk} {
		if err := s.Unlink(k); err != nil {
			t.Fatal(err)
		}
	}
	keytest.WaitGone(t, ek, tk)

	// Another trusted key under the same name does not open the blob.
	other, _ := mustNew(t, s, "kmk", Options{KeyHandle: spk})
	if _, err := encrypted.Load(s, "ek", eblob); !errors.Is(err, keyring.ErrInvalid) {
		t.Fatalf("encrypted.Load under another trusted key: %v; want EINVAL (HMAC)", err)
	}
	if err := s.Unlink(other); err != nil {
		t.Fatal(err)
	}
	keytest.WaitGone(t, other)

	mustLoad(t, s, "kmk", tblob, Options{})
	ek2, err := encrypted.Load(s, "ek", eblob)
	if err != nil {
		t.Fatalf("encrypted.Load under the reloaded trusted key: %v", err)
	}
	again, err := encrypted.ReadBlob(ek2)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := again.MarshalText()
	b, _ := eblob.MarshalText()
	if !bytes.Equal(a, b) {
		t.Error("the reloaded encrypted key reads back another blob")
	}
}

// A blob with one changed byte is refused by the TPM: EPERM, reported as
// ErrUnseal.
func TestKernelTamperedBlob(t *testing.T) {
	s := needTPM2(t)
	_, sb := mustNew(t, s, "kmk", Options{KeyHandle: spk})
	bad := bytes.Clone(sb.blob)
	if sb.key != nil {
		bad[len(bad)-1] ^= 0x01 // inside privkey: still a valid TPMKey
		if _, err := ParseBlob(bad); err != nil {
			t.Fatal(err)
		}
	} else {
		// The last byte of the private part: the kernel ignores what
		// follows the public part.
		bad[len(sb.raw.Private)-1] ^= 0x01
		if _, err := ParseRawBlob(bad); err != nil {
			t.Fatal(err)
		}
	}
	wantUnseal := func(what string, err error) {
		t.Helper()
		var ke *keyring.Error
		if !errors.Is(err, ErrUnseal) || !errors.Is(err, keyring.ErrPermission) || !errors.Is(err, syscall.EPERM) || !errors.As(err, &ke) {
			t.Fatalf("%s: %v; want ErrUnseal, keyring.ErrPermission and EPERM", what, err)
		}
		if !strings.Contains(err.Error(), "refused to unseal") {
			t.Errorf("%s: %q does not say the TPM refused to unseal", what, err)
		}
	}
	_, err := Load(s, "tampered", bad, sb.opts(Options{}))
	wantUnseal("Load", err)

	// With pcrlock=, the kernel returns the PCR extension's result instead
	// of the unsealing failure (trusted_tpm_unseal()); Load checks first.
	_, err = Load(s, "tampered", bad, sb.opts(Options{PCRLock: 16}))
	wantUnseal("Load with pcrlock=", err)
	if os.Geteuid() == 0 {
		p, err := LoadPayload(TPM2, bad, sb.opts(Options{PCRLock: 16}))
		if err != nil {
			t.Fatal(err)
		}
		k, err := s.Add("trusted", "tampered-raw", p)
		if err == nil {
			t.Logf("kernel bug reproduced: add_key(%q) with pcrlock=16 accepted a blob the TPM refuses", "load <tampered blob> pcrlock=16")
			_ = s.Unlink(k)
		} else {
			t.Logf("the kernel refuses a tampered blob with pcrlock=16 too: %v", err)
		}
	}
}

// Options reach the sealed object: what the blob says matches what was
// asked, and the TPM enforces it at load. Each subtest runs on a thread of
// its own, so each has its own session.
func TestKernelOptions(t *testing.T) {
	t.Run("blobauth", func(t *testing.T) {
		s := needTPM2(t)
		_, sb := mustNew(t, s, "pw", Options{KeyHandle: spk, BlobAuth: []byte("hunter2")})
		if sb.key != nil && sb.key.EmptyAuth {
			t.Error("a key with blobauth= says emptyAuth")
		}
		// (A raw blob does not say whether it has a password: only the
		// TPM's answers below do.)
		_, err := Load(s, "pw-none", sb.blob, sb.opts(Options{}))
		if !errors.Is(err, ErrUnseal) {
			t.Errorf("Load without the password: %v; want ErrUnseal", err)
		}
		mustLoad(t, s, "pw-ok", sb, Options{BlobAuth: []byte("hunter2")})
	})

	t.Run("hash and policydigest", func(t *testing.T) {
		s := needTPM2(t)
		digest := bytes.Repeat([]byte{0x42}, 20)
		_, sb := mustNew(t, s, "policy", Options{KeyHandle: spk, Hash: "sha1", PolicyDigest: digest})
		p := mustPublic(t, sb)
		if p.Hash() != "sha1" || !bytes.Equal(p.AuthPolicy, digest) || p.Attributes&AttrUserWithAuth != 0 {
			t.Errorf("PublicArea() = %+v; want sha1, the digest, no userWithAuth", p)
		}
		// No policy session can satisfy a made-up digest: the TPM refuses.
		if _, err := Load(s, "policy-load", sb.blob, sb.opts(Options{})); !errors.Is(err, ErrUnseal) {
			t.Errorf("Load without a policy session: %v; want ErrUnseal", err)
		}
	})

	t.Run("migratable=0", func(t *testing.T) {
		s := needTPM2(t)
		k, sb := mustNew(t, s, "fixed", Options{KeyHandle: spk, NonMigratable: true})
		p := mustPublic(t, sb)
		switch {
		case sb.key != nil && (p.Migratable() || p.Attributes&(AttrFixedTPM|AttrFixedParent) != AttrFixedTPM|AttrFixedParent):
			t.Errorf("PublicArea() = %+v; want fixedTPM and fixedParent", p)
		case sb.raw != nil && p.Attributes&(AttrFixedTPM|AttrFixedParent) != 0:
			// Kernels that write raw blobs seal the flag with the data.
			t.Errorf("PublicArea() of a raw blob = %+v; want neither fixedTPM nor fixedParent", p)
		}
		err := Update(k, Options{KeyHandle: spk})
		if !errors.Is(err, keyring.ErrPermission) || !strings.Contains(err.Error(), "non-migratable") {
			t.Errorf("Update of a non-migratable key: %v; want EPERM saying why", err)
		}
		// Loaded, it is still non-migratable: the kernel reads the flag
		// from the blob's public area (TPMKey) or sealed data (raw).
		l := mustLoad(t, s, "fixed-loaded", sb, Options{})
		if err := Update(l, Options{KeyHandle: spk}); !errors.Is(err, keyring.ErrPermission) {
			t.Errorf("Update of the loaded non-migratable key: %v", err)
		}
		// add_key on its description becomes an update, refused too.
		_, err = New(s, "fixed", Options{KeyHandle: spk})
		if !errors.Is(err, keyring.ErrPermission) || !strings.Contains(err.Error(), "already links") {
			t.Errorf("New over a non-migratable key: %v", err)
		}
	})

	t.Run("update", func(t *testing.T) {
		s := needTPM2(t)
		k, sb := mustNew(t, s, "up", Options{KeyHandle: spk})
		err := Update(k, Options{KeyHandle: spk, BlobAuth: []byte("new-pw")})
		switch {
		case err != nil && sb.raw != nil && errors.Is(err, syscall.EPERM):
			// The kernels that write raw blobs (5.10's trusted_update() in
			// trusted_tpm1.c) reseal with key_seal(), TPM 1.2's TPM_Seal,
			// whatever the TPM: a TPM 2.0 refuses it.
			t.Logf("Update: %v: the kernel's update seals with TPM 1.2's command, which the TPM 2.0 refuses (fixed in Linux 5.13)", err)
			if !strings.Contains(err.Error(), "TPM 1.2") {
				t.Errorf("Update's error %q does not give this reason", err)
			}
			if got, rerr := ReadBlob(k); rerr != nil || !bytes.Equal(got, sb.blob) {
				t.Errorf("the key's blob changed after a refused update (%v)", rerr)
			}
			return
		case err != nil:
			t.Fatalf("Update: %v", err)
		}
		sb2 := mustRead(t, k)
		if bytes.Equal(sb.blob, sb2.blob) || sb2.key != nil && sb2.key.EmptyAuth {
			t.Error("the resealed blob did not change to one with a password")
		}
		// Both blobs hold the same key: an encrypted key made under one
		// loads under the other.
		ep, err := encrypted.NewPayload(encrypted.Options{Format: encrypted.Default, Master: encrypted.Master{Kind: encrypted.TrustedMaster, Name: "up"}, Length: 32})
		if err != nil {
			t.Fatal(err)
		}
		ek, err := s.Add("encrypted", "ek-up", ep)
		if err != nil {
			t.Fatal(err)
		}
		eblob, err := encrypted.ReadBlob(ek)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Unlink(ek); err != nil {
			t.Fatal(err)
		}
		if err := s.Unlink(k); err != nil {
			t.Fatal(err)
		}
		keytest.WaitGone(t, k, ek)
		mustLoad(t, s, "up", sb2, Options{BlobAuth: []byte("new-pw")})
		if _, err := encrypted.Load(s, "ek-up2", eblob); err != nil {
			t.Errorf("the resealed trusted key holds another key: %v", err)
		}
		// add_key on an existing migratable key's description: EINVAL, explained.
		_, err = New(s, "up", Options{KeyHandle: spk})
		if !errors.Is(err, keyring.ErrInvalid) || !strings.Contains(err.Error(), "already links") {
			t.Errorf("New over an existing key: %v", err)
		}
	})

	t.Run("pcrlock", func(t *testing.T) {
		s := needTPM2(t)
		pcr := "/sys/class/tpm/tpm0/pcr-sha256/16"
		before, rerr := os.ReadFile(pcr)
		_, err := New(s, "locked", Options{KeyHandle: spk, PCRLock: 16})
		if os.Geteuid() != 0 {
			if !errors.Is(err, keyring.ErrPermission) {
				t.Errorf("pcrlock= without CAP_SYS_ADMIN: %v; want EPERM", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("New with pcrlock=16: %v", err)
		}
		if rerr != nil {
			t.Logf("cannot read %s (%v): the extension is not checked", pcr, rerr)
			return
		}
		after, err := os.ReadFile(pcr)
		if err != nil || bytes.Equal(before, after) {
			t.Errorf("PCR 16 did not change after pcrlock=16 (%v)", err)
		}
	})
}

// Key material imported under a trusted master (encrypted.Import, which
// needs CONFIG_USER_DECRYPTED_DATA for trusted masters) survives the
// unlinking of both keys.
func TestKernelImportUnderTrusted(t *testing.T) {
	s := needTPM2(t)
	_, tblob := mustNew(t, s, "kmk", Options{KeyHandle: spk})
	plain := bytes.Repeat([]byte{0x17}, 32)
	master := encrypted.Master{Kind: encrypted.TrustedMaster, Name: "kmk"}
	ek, eblob, err := encrypted.Import(s, "imported", plain, encrypted.ImportOptions{Master: master})
	if !keytest.KernelConfig(t, "CONFIG_USER_DECRYPTED_DATA") {
		if !errors.Is(err, keyring.ErrNotSupported) {
			t.Errorf("Import under %v without CONFIG_USER_DECRYPTED_DATA: %v, want ErrNotSupported", master, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Import under %v: %v", master, err)
	}
	if err := s.Clear(); err != nil {
		t.Fatal(err)
	}
	keytest.WaitGone(t, ek)
	mustLoad(t, s, "kmk", tblob, Options{})
	if _, err := encrypted.Load(s, "imported", eblob); err != nil {
		t.Fatalf("the imported key does not load under the reloaded trusted master: %v", err)
	}
}

// A blob under a user master migrates to a trusted master (by way of
// userspace: the kernel's update cannot change the master type), and the
// result reloads under the reloaded trusted master.
func TestKernelMigrateToTrusted(t *testing.T) {
	s := needTPM2(t)
	userKey := bytes.Repeat([]byte{0x42}, 32)
	if _, err := s.Add("user", "ukmk", userKey); err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte{0x29}, 32)
	ub, err := encrypted.Seal(plain, encrypted.SealOptions{MasterKey: userKey, Format: encrypted.Enc32, Master: encrypted.Master{Kind: encrypted.UserMaster, Name: "ukmk"}})
	if err != nil {
		t.Fatal(err)
	}
	_, tblob := mustNew(t, s, "tkmk", Options{KeyHandle: spk})
	to := encrypted.Master{Kind: encrypted.TrustedMaster, Name: "tkmk"}
	ek, nb, err := encrypted.Migrate(s, "migrated", ub, encrypted.MigrateOptions{To: to})
	if !keytest.KernelConfig(t, "CONFIG_USER_DECRYPTED_DATA") {
		if !errors.Is(err, keyring.ErrNotSupported) {
			t.Errorf("Migrate to %v without CONFIG_USER_DECRYPTED_DATA: %v, want ErrNotSupported", to, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Migrate to %v: %v", to, err)
	}
	if nb.Master != to || nb.Format != encrypted.Enc32 {
		t.Errorf("migrated blob is under %v in format %v", nb.Master, nb.Format)
	}
	if err := s.Clear(); err != nil {
		t.Fatal(err)
	}
	keytest.WaitGone(t, ek)
	mustLoad(t, s, "tkmk", tblob, Options{})
	if _, err := encrypted.Load(s, "migrated", nb); err != nil {
		t.Fatalf("the migrated key does not load under the reloaded trusted master: %v", err)
	}
}
