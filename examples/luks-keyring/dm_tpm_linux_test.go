package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kernkeys/kernkeys/encrypted"
	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/internal/vmtest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/secret"
	"github.com/kernkeys/kernkeys/trusted"
	"golang.org/x/sys/unix"
)

// Volumes whose key is never in clear in userspace: an encrypted key
// under a trusted master, and a trusted key, both generated in the kernel
// and stored only as blobs. They need the VM's TPM 2.0 (swtpm, with a
// storage key persisted at 0x81000001).

// spk is the TPM 2.0 parent key's handle, which swtpm_setup --create-spk
// persists.
const spk uint32 = 0x81000001

const (
	kmkDesc = "kernkeys-test:kmk"     // the trusted master key
	encDesc = "kernkeys-test:vol-enc" // the encrypted volume key
	trDesc  = "kernkeys-test:vol-tr"  // the trusted volume key
)

// needTPM2 skips where the kernel has no trusted keys (the host's:
// CONFIG_TRUSTED_KEYS is off), or has them from another trust source; on
// the VM, which has a TPM 2.0, it fails the test instead.
func needTPM2(t *testing.T) {
	t.Helper()
	b, err := trusted.KernelBackend()
	if errors.Is(err, keyring.ErrNotSupported) {
		vmtest.Need(t, "trusted keys (CONFIG_TRUSTED_KEYS)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if b != trusted.TPM2 {
		t.Skipf("these tests need a TPM 2.0 with a storage key at %#x; the kernel's trusted keys use %v", spk, b)
	}
}

// writeTrustedBlob writes k's blob, in hex, to a new file in dir.
func writeTrustedBlob(t *testing.T, k keyring.Key, dir, name string) string {
	t.Helper()
	b, err := trusted.ReadBlob(k)
	if err != nil {
		t.Fatal(err)
	}
	text, err := b.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	return writeSecretFile(t, dir, name, text)
}

// loadKMK loads the trusted master from its blob in state into s.
func loadKMK(t *testing.T, s keyring.Keyring, state string) {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(state, "kmk.blob"))
	if err != nil {
		t.Fatal(err)
	}
	var b trusted.Blob
	if err := b.UnmarshalText(bytes.TrimSpace(text)); err != nil {
		t.Fatal(err)
	}
	// The handle it was sealed under: a TPM 2.0 blob made before Linux
	// 5.13 does not name it, and a later one names the same.
	if _, err := trusted.Load(s, kmkDesc, b, trusted.Options{KeyHandle: spk}); err != nil {
		t.Fatal(err)
	}
}

// Never in clear, across a reboot: in the first boot, a trusted master
// and two volume keys made in the kernel (an encrypted key under the
// master, by never-in-clear, and a 64-byte trusted key), stored as blobs;
// two volumes mapped with them by map and written; then everything
// unmapped, detached and unlinked. In the second boot, with the same TPM,
// the master is loaded from its blob, map loads each volume key from its
// blob into its thread, and both volumes read the data. The volumes' images
// live on tmpfs while mapped, and are kept in the boot's directory in
// between.
func TestDMCryptNeverInClear(t *testing.T) {
	needDM(t)
	needTPM2(t)
	boot, state := vmtest.Boot(t)
	bin := keytest.Build(t, ".")
	withTrusted := dmCryptTakesTrusted(t)
	if !withTrusted {
		t.Log("this kernel's dm-crypt takes no trusted keys (a table naming a missing one gets EINVAL, not ENOKEY): only the volume under the encrypted key is mapped")
	}
	if boot == 1 {
		neverInClearWrite(t, bin, state, withTrusted)
	} else {
		neverInClearRead(t, bin, state, withTrusted)
	}
}

// dmCryptTakesTrusted reports whether the kernel's dm-crypt takes trusted
// keys (crypt_set_keyring_key in drivers/md/dm-crypt.c: 6.1's, target
// version 1.24, does; 5.10's, 1.22, knows only logon, user and encrypted
// keys). A table naming a trusted key that does not exist fails with
// ENOKEY where it does (its request_key found nothing), and with EINVAL
// where the key type is unknown to it.
func dmCryptTakesTrusted(t *testing.T) bool {
	t.Helper()
	dev := attachLoop(t, newImage(t, t.TempDir(), 1<<20))
	const name = "kernkeys-probe"
	removeAtEnd(t, name)
	_, err := dmSetup(name, dmTarget{Length: 2048, Type: "crypt",
		Params: "aes-xts-plain64 :64:trusted:kernkeys-test:missing 0 " + dev + " 0"})
	switch {
	case errors.Is(err, unix.ENOKEY):
		return true
	case errors.Is(err, unix.EINVAL):
		return false
	}
	t.Fatalf("a table naming a missing trusted key: %v, want ENOKEY (dm-crypt takes trusted keys) or EINVAL (it does not)", err)
	return false
}

var neverInClearImages = []string{"enc.img", "tr.img"}

// The device-mapper names of the two volumes.
const encName, trName = "kernkeys-enc", "kernkeys-tr"

// neverInClearVolumes maps the two volumes whose images are in dir with
// their keys' blobs in state (the one under the trusted key only when
// withTrusted), and returns their paths ("" for one not mapped).
func neverInClearVolumes(t *testing.T, bin, dir, state string, withTrusted bool) (enc, tr string) {
	t.Helper()
	for _, v := range []struct {
		name, image, ref, flag, blob string
	}{
		{encName, neverInClearImages[0], ":64:encrypted:" + encDesc, "--blob", "enc.blob"},
		{trName, neverInClearImages[1], ":64:trusted:" + trDesc, "--trusted-blob", "tr.blob"},
	} {
		if v.name == trName && !withTrusted {
			continue
		}
		dev := attachLoop(t, filepath.Join(dir, v.image))
		args := []string{"map", "--name", v.name, "--device", dev, "--key-ref", v.ref, v.flag, filepath.Join(state, v.blob)}
		if v.flag == "--trusted-blob" {
			args = append(args, "--keyhandle", fmt.Sprintf("%#x", spk))
		}
		r := runBin(t, bin, nil, false, args...)
		removeAtEnd(t, v.name)
		want(t, r, 0, "into this thread's keyring (@t)", "table: 0 16384 crypt aes-xts-plain64 "+v.ref+" 0 ", "is gone")
		path, _ := mapped(t, v.name)
		if v.image == neverInClearImages[0] {
			enc = path
		} else {
			tr = path
		}
	}
	return enc, tr
}

// copyImages copies the volumes' images from one directory to another.
func copyImages(t *testing.T, from, to string) {
	t.Helper()
	for _, img := range neverInClearImages {
		b, err := os.ReadFile(filepath.Join(from, img))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, img), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func neverInClearWrite(t *testing.T, bin, state string, withTrusted bool) {
	s := keytest.Session(t)
	kmk, err := trusted.New(s, kmkDesc, trusted.Options{KeyHandle: spk})
	if err != nil {
		t.Fatalf("trusted.New: %v (is a storage key persisted at %#x? swtpm_setup --create-spk)", err, spk)
	}
	writeTrustedBlob(t, kmk, state, "kmk.blob")
	r := runBin(t, bin, nil, false, "never-in-clear", "--master", "trusted:"+kmkDesc, "--desc", encDesc,
		"--blob", filepath.Join(state, "enc.blob"))
	want(t, r, 0, "never entered this process")
	tr, err := trusted.New(s, trDesc, trusted.Options{KeyHandle: spk, KeyLen: 64})
	if err != nil {
		t.Fatal(err)
	}
	writeTrustedBlob(t, tr, state, "tr.blob")
	if err := s.Unlink(tr); err != nil {
		t.Fatal(err)
	}
	data := randBytes(t, 128<<10)
	if err := os.WriteFile(filepath.Join(state, "data"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	for _, img := range neverInClearImages {
		newImageFile(t, filepath.Join(tmp, img), 8<<20)
	}
	enc, trp := neverInClearVolumes(t, bin, tmp, state, withTrusted)
	writeDev(t, enc, data)
	names := []string{encName}
	if withTrusted {
		writeDev(t, trp, data)
		names = append(names, trName)
	}
	// Unmapped, the volumes have reached their images, which are kept; the
	// cleanups detach the loop devices and end the session, master key
	// and all.
	for _, name := range names {
		if err := dmRemove(name); err != nil {
			t.Fatal(err)
		}
	}
	copyImages(t, tmp, state)
}

func neverInClearRead(t *testing.T, bin, state string, withTrusted bool) {
	s := keytest.Session(t)
	loadKMK(t, s, state)
	data, err := os.ReadFile(filepath.Join(state, "data"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	copyImages(t, state, tmp)
	enc, tr := neverInClearVolumes(t, bin, tmp, state, withTrusted)
	if !bytes.Equal(readDev(t, enc, len(data)), data) {
		t.Error("the volume keyed by the encrypted key, loaded from its blob, does not read the data")
	}
	if withTrusted && !bytes.Equal(readDev(t, tr, len(data)), data) {
		t.Error("the volume keyed by the trusted key, loaded from its blob, does not read the data")
	}
}

// The migration seed 003 asks for, end to end: data written under a
// volume key that existed in clear (a key file, mapped as a logon key);
// the key brought under a trusted master and the key file destroyed; the
// same data read through the volume mapped with the encrypted key from its
// blob. Two ways: encrypted.Import of the clear key, and encrypted.Migrate
// of a blob that held it under a user master whose key was at hand (the
// data passes through userspace there, and Migrate wipes it). Afterwards
// no copy of the clear key, or of the user master, is left in this
// process's memory (the test holds them only in locked memory outside the
// heap, which the scan skips), in the files the test kept, or in the
// session keyring, which holds only the trusted master.
func TestDMCryptMigrate(t *testing.T) {
	needDM(t)
	needTPM2(t)
	if !keytest.KernelConfig(t, "CONFIG_USER_DECRYPTED_DATA") {
		t.Skip("importing under a trusted master needs CONFIG_USER_DECRYPTED_DATA, which the kernel lacks")
	}
	bin := keytest.Build(t, ".")
	for _, via := range []string{"Import", "Migrate"} {
		t.Run(via, func(t *testing.T) { migrateVolume(t, bin, via) })
	}
}

// lockedRandom returns n random bytes in locked memory outside the heap.
func lockedRandom(t *testing.T, n int) []byte {
	t.Helper()
	b, err := secret.New(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if _, err := rand.Read(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func migrateVolume(t *testing.T, bin, via string) {
	s := keytest.Session(t)
	state := t.TempDir()
	vk := lockedRandom(t, 64)
	// 55 bytes: SHA-256 reads the 64-byte buffer it derives keys from
	// in place, and copies nothing of the master key into its own state.
	umk := lockedRandom(t, 55)
	hexBuf, err := secret.New(128)
	if err != nil {
		t.Fatal(err)
	}
	defer hexBuf.Close()
	hex.Encode(hexBuf.Bytes(), vk)
	locked := [][]byte{vk, umk, hexBuf.Bytes()}
	patterns := [][]byte{vk, umk, hexBuf.Bytes()[:64], hexBuf.Bytes()[64:]}

	// Before: a plain dm-crypt volume under a key file.
	keyFile := writeSecretFile(t, state, "legacy.key", vk)
	dev := attachLoop(t, newImage(t, state, 8<<20))
	const name = "kernkeys-migrate"
	r := runBin(t, bin, nil, false, "map", "--name", name, "--device", dev, "--key-ref", ":64:logon:kernkeys-test:legacy", "--key-file", keyFile)
	removeAtEnd(t, name)
	want(t, r, 0, "is gone")
	path, _ := mapped(t, name)
	data := randBytes(t, 128<<10)
	writeDev(t, path, data)
	if err := dmRemove(name); err != nil {
		t.Fatal(err)
	}

	// The migration: the key under a trusted master, its blob on disk,
	// the key file gone.
	kmk, err := trusted.New(s, kmkDesc, trusted.Options{KeyHandle: spk})
	if err != nil {
		t.Fatal(err)
	}
	to := encrypted.Master{Kind: encrypted.TrustedMaster, Name: kmkDesc}
	const desc = "kernkeys-test:vol-mig"
	var k keyring.Key
	var b *encrypted.Blob
	switch via {
	case "Import":
		k, b, err = encrypted.Import(s, desc, vk, encrypted.ImportOptions{Master: to})
	case "Migrate":
		// The key as it was kept before: sealed under a user master.
		user := encrypted.Master{Kind: encrypted.UserMaster, Name: "kernkeys-test:umk"}
		var uk keyring.Key
		var old *encrypted.Blob
		if uk, err = s.Add("user", user.Name, umk); err != nil {
			t.Fatal(err)
		}
		if old, err = encrypted.Seal(vk, encrypted.SealOptions{MasterKey: umk, Master: user}); err != nil {
			t.Fatal(err)
		}
		if err := old.WriteFile(filepath.Join(state, "old.blob")); err != nil {
			t.Fatal(err)
		}
		if k, b, err = encrypted.Migrate(s, desc, old, encrypted.MigrateOptions{To: to}); err != nil {
			t.Fatal(err)
		}
		if err := uk.Revoke(); err != nil {
			t.Fatal(err)
		}
		if err := s.Unlink(uk); err != nil {
			t.Fatal(err)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(state, "mig.blob")
	if err := b.WriteFile(blob); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlink(k); err != nil {
		t.Fatal(err)
	}
	destroyFile(t, keyFile)

	// After: the same data through the volume keyed by the encrypted key.
	r = runBin(t, bin, nil, false, "map", "--name", name, "--device", dev, "--key-ref", ":64:encrypted:"+desc, "--blob", blob)
	want(t, r, 0, "loaded the volume key as encrypted key", "is gone")
	path, _ = mapped(t, name)
	if !bytes.Equal(readDev(t, path, len(data)), data) {
		t.Fatal("the volume keyed by the migrated encrypted key does not read the data written under the clear key")
	}

	if found := keytest.FindInMemory(t, patterns, locked...); len(found) > 0 {
		t.Errorf("the clear volume key or user master is still in this process's memory: %v", found)
	}
	err = filepath.WalkDir(state, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		content, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		lower := bytes.ToLower(content) // hex in either case
		if bytes.Contains(content, vk) || bytes.Contains(lower, patterns[2]) || bytes.Contains(lower, patterns[3]) {
			t.Errorf("%s holds the clear volume key", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.Links()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != kmk {
		t.Errorf("the session holds %v, want only the trusted master %v", keys, kmk)
	}
}

// destroyFile overwrites a file with zeros, syncs it and removes it.
func destroyFile(t *testing.T, name string) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err == nil {
		_, err = f.WriteAt(make([]byte, fi.Size()), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
}
