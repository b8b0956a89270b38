//go:build linux

package encrypted

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// kernelSession is a fresh session holding the user masters kmk and kmk2.
func kernelSession(t *testing.T) keyring.Keyring {
	t.Helper()
	s := keytest.Session(t)
	for name, mk := range map[string][]byte{"kmk": kmk, "kmk2": kmk2} {
		if _, err := s.Add("user", name, mk); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func add(t *testing.T, r keyring.Keyring, desc string, payload []byte) keyring.Key {
	t.Helper()
	k, err := r.Add("encrypted", desc, payload)
	if err != nil {
		t.Fatalf("add_key encrypted %q: %v", desc, err)
	}
	return k
}

func readBlob(t *testing.T, k keyring.Key) *Blob {
	t.Helper()
	b, err := ReadBlob(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type kernelFormat struct {
	format Format
	size   int
	desc   string
}

var kernelFormats = []kernelFormat{
	{Default, 32, "ek-default"},
	{Default, 20, "ek-default20"},
	{Default, 4096, "ek-default4096"},
	{Enc32, 32, "ek-enc32"},
	{Ecryptfs, 64, "0123456789abcdef"},
}

// Blobs the kernel creates open with Open, and the plaintext is the
// kernel's: after the kernel moves the key to kmk2, its new blob opens to
// the same bytes and equals our Rewrap of the first blob.
func TestKernelMadeBlobsOpen(t *testing.T) {
	s := kernelSession(t)
	user := Master{Kind: UserMaster, Name: "kmk"}
	user2 := Master{Kind: UserMaster, Name: "kmk2"}
	for _, c := range kernelFormats {
		p, err := NewPayload(Options{Format: c.format, Master: user, Length: c.size})
		if err != nil {
			t.Fatal(err)
		}
		k := add(t, s, c.desc, p)
		b1 := readBlob(t, k)
		plain := mustOpen(t, b1, kmk)
		if len(plain) != c.size {
			t.Errorf("%v/%d: opened %d bytes", c.format, c.size, len(plain))
		}
		up, _ := UpdatePayload(UpdateOptions{From: user, To: user2})
		if err := k.Update(up); err != nil {
			t.Fatal(err)
		}
		b2 := readBlob(t, k)
		if got := mustOpen(t, b2, kmk2); !bytes.Equal(got, plain) {
			t.Errorf("%v/%d: the kernel's blob under kmk2 opens to other bytes", c.format, c.size)
		}
		re, err := Rewrap(b1, RewrapOptions{OldMasterKey: kmk, NewMasterKey: kmk2, NewMaster: user2})
		if err != nil {
			t.Fatal(err)
		}
		if mustMarshal(t, re) != mustMarshal(t, b2) {
			t.Errorf("%v/%d: Rewrap differs from the kernel's update", c.format, c.size)
		}
	}
}

// New makes keys the kernel generates, of the size Options asks for (zero:
// the format's default), and Update moves them to another master keeping
// their data.
func TestNewAndUpdate(t *testing.T) {
	s := kernelSession(t)
	user := Master{Kind: UserMaster, Name: "kmk"}
	user2 := Master{Kind: UserMaster, Name: "kmk2"}
	cases := append(slices.Clone(kernelFormats),
		kernelFormat{Default, 0, "ek-zero"}, kernelFormat{Ecryptfs, 0, "fedcba9876543210"})
	for _, c := range cases {
		k, err := New(s, c.desc, Options{Master: user, Format: c.format, Length: c.size})
		if err != nil {
			t.Fatalf("%v/%d: %v", c.format, c.size, err)
		}
		want := c.size
		if want == 0 {
			want = map[Format]int{Default: 32, Ecryptfs: 64}[c.format]
		}
		b := readBlob(t, k)
		plain := mustOpen(t, b, kmk)
		if len(plain) != want || b.Format != c.format || b.Master != user {
			t.Errorf("%v/%d: %d bytes, %v under %v", c.format, c.size, len(plain), b.Format, b.Master)
		}
		if err := Update(k, UpdateOptions{From: user, To: user2}); err != nil {
			t.Fatal(err)
		}
		if got := mustOpen(t, readBlob(t, k), kmk2); !bytes.Equal(got, plain) {
			t.Errorf("%v/%d: after Update the key holds other bytes", c.format, c.size)
		}
	}
}

// Blobs that Seal makes load in the kernel and read back byte-identical,
// and the kernel holds exactly the sealed bytes.
func TestSealedBlobsLoad(t *testing.T) {
	s := kernelSession(t)
	for _, c := range kernelFormats {
		plain := make([]byte, c.size)
		rand.Read(plain)
		b, err := Seal(plain, SealOptions{MasterKey: kmk, Format: c.format, Master: Master{Kind: UserMaster, Name: "kmk"}})
		if err != nil {
			t.Fatal(err)
		}
		k, err := Load(s, c.desc, b)
		if err != nil {
			t.Fatalf("%v/%d: the kernel refused our blob: %v", c.format, c.size, err)
		}
		if got := readBlob(t, k); mustMarshal(t, got) != mustMarshal(t, b) {
			t.Errorf("%v/%d: read back a different blob", c.format, c.size)
		}
		up, _ := UpdatePayload(UpdateOptions{From: Master{Kind: UserMaster, Name: "kmk"}, To: Master{Kind: UserMaster, Name: "kmk2"}})
		if err := k.Update(up); err != nil {
			t.Fatal(err)
		}
		if got := mustOpen(t, readBlob(t, k), kmk2); !bytes.Equal(got, plain) {
			t.Errorf("%v/%d: the kernel holds other bytes than we sealed", c.format, c.size)
		}
	}
	// A blob that does not verify is refused.
	b, _ := Seal(make([]byte, 32), SealOptions{MasterKey: kmk, Master: Master{Kind: UserMaster, Name: "kmk"}})
	b.HMAC[0] ^= 1
	_, err := Load(s, "tampered", b)
	if !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("a tampered blob: %v, want keyring.ErrInvalid", err)
	}
}

// linksOf lists r's links sorted by ID (the kernel's order is its own),
// failing the test on error.
func linksOf(t *testing.T, r keyring.Keyring) []keyring.Key {
	t.Helper()
	l, err := r.Links()
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(l, func(a, b keyring.Key) int { return int(a.ID()) - int(b.ID()) })
	return l
}

// Import makes an encrypted key holding our bytes under the target master
// and leaves no temporary master behind.
func TestImport(t *testing.T) {
	s := kernelSession(t)
	before := linksOf(t, s)
	for _, c := range kernelFormats {
		plain := make([]byte, c.size)
		rand.Read(plain)
		orig := slices.Clone(plain)
		k, b, err := Import(s, c.desc, plain, ImportOptions{Format: c.format, Master: Master{Kind: UserMaster, Name: "kmk2"}})
		if err != nil {
			t.Fatalf("%v/%d: %v", c.format, c.size, err)
		}
		if !bytes.Equal(plain, orig) {
			t.Errorf("Import changed the caller's plaintext")
		}
		if b.Master.Name != "kmk2" || b.Format != c.format {
			t.Errorf("blob is %v under %v", b.Format, b.Master)
		}
		if got := mustOpen(t, b, kmk2); !bytes.Equal(got, plain) {
			t.Errorf("%v/%d: the imported key holds other bytes", c.format, c.size)
		}
		if again := readBlob(t, k); mustMarshal(t, again) != mustMarshal(t, b) {
			t.Errorf("the key reads back another blob than Import returned")
		}
		if err := s.Unlink(k); err != nil {
			t.Fatal(err)
		}
	}
	if after := linksOf(t, s); !slices.Equal(before, after) {
		t.Errorf("session links %v after imports, %v before: a temporary key was left", after, before)
	}
}

// A failing import leaves nothing behind.
func TestImportFailureLeavesNothing(t *testing.T) {
	s := kernelSession(t)
	before := linksOf(t, s)
	plain := make([]byte, 32)

	// The target master is absent: the final read fails.
	_, _, err := Import(s, "ek", plain, ImportOptions{Master: Master{Kind: UserMaster, Name: "absent"}})
	if !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("import under an absent master: %v, want ErrNotFound", err)
	}
	if after := linksOf(t, s); !slices.Equal(before, after) {
		t.Errorf("session links %v after an import under an absent master, %v before", after, before)
	}
	// The destination refuses new links: the load fails.
	locked, err := s.AddKeyring("locked")
	if err != nil {
		t.Fatal(err)
	}
	before = linksOf(t, s)
	if err := locked.Restrict("", ""); err != nil {
		t.Fatal(err)
	}
	_, _, err = Import(locked, "ek", plain, ImportOptions{Master: Master{Kind: UserMaster, Name: "kmk"}})
	if !errors.Is(err, keyring.ErrPermission) {
		t.Errorf("import into a locked keyring: %v, want ErrPermission", err)
	}
	// Refused before any system call.
	_, _, err = Import(s, "not-hex", make([]byte, 64), ImportOptions{Format: Ecryptfs, Master: Master{Kind: UserMaster, Name: "kmk"}})
	if !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("ecryptfs import with a bad description: %v", err)
	}
	if after := linksOf(t, s); !slices.Equal(before, after) {
		t.Errorf("session links %v after failed imports, %v before", after, before)
	}
	if l := linksOf(t, locked); len(l) != 0 {
		t.Errorf("the locked keyring links %v", l)
	}
}

// A trusted master needs user-provided data, which the kernel may refuse
// or, before 5.19, ignore: ErrNotSupported, naming the option; where it
// accepts it, a missing master is ErrNotFound. Either way nothing is left
// behind, the probe for a kernel that ignores the data included.
func TestImportTrustedMaster(t *testing.T) {
	s := kernelSession(t)
	before := linksOf(t, s)
	userData.Store(0) // probe again, into s
	t.Cleanup(func() { userData.Store(0) })
	_, _, err := Import(s, "ek", make([]byte, 32), ImportOptions{Master: Master{Kind: TrustedMaster, Name: "tk"}})
	if keytest.KernelConfig(t, "CONFIG_USER_DECRYPTED_DATA") {
		// The import is possible; the master is missing.
		if !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("an import under a trusted master that does not exist: %v, want ErrNotFound", err)
		}
	} else if !errors.Is(err, keyring.ErrNotSupported) || !strings.Contains(err.Error(), "CONFIG_USER_DECRYPTED_DATA") {
		t.Errorf("an import under a trusted master: %v, want ErrNotSupported naming CONFIG_USER_DECRYPTED_DATA", err)
	}
	if after := linksOf(t, s); !slices.Equal(before, after) {
		t.Errorf("session links %v after the import, %v before", after, before)
	}
}

// With CONFIG_USER_DECRYPTED_DATA the kernel makes an encrypted key from
// data the caller chooses ("new ... <hex>"); the blob it makes is what Seal
// makes from the same data and IV, byte for byte. Without the option Linux
// 5.19 and later refuse the payload with EINVAL; an older kernel ignores
// the data and makes the key from random bytes (why Import probes).
func TestUserDecryptedData(t *testing.T) {
	s := kernelSession(t)
	has := keytest.KernelConfig(t, "CONFIG_USER_DECRYPTED_DATA")
	ignores := keytest.KernelBefore(t, 5, 19)
	m := Master{Kind: UserMaster, Name: "kmk"}
	for _, c := range []struct {
		format Format
		desc   string
		n      int
	}{{Default, "ud-default", 48}, {Enc32, "ud-enc32", 32}, {Ecryptfs, "0123456789abcdef", 64}} {
		plain := make([]byte, c.n)
		rand.Read(plain)
		payload, err := NewPayloadWithData(plain, Options{Format: c.format, Master: m})
		if err != nil {
			t.Fatal(err)
		}
		k, err := s.Add("encrypted", c.desc, payload)
		if ignores {
			if err != nil {
				t.Fatalf("%v: a kernel before 5.19 refused a payload with data: %v", c.format, err)
			}
			got := mustOpen(t, readBlob(t, k), kmk)
			if len(got) != c.n || bytes.Equal(got, plain) {
				t.Errorf("%v: a kernel before 5.19 made %d bytes, the caller's %v; want %d random bytes", c.format, len(got), bytes.Equal(got, plain), c.n)
			}
			if err := s.Unlink(k); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !has {
			if !errors.Is(err, keyring.ErrInvalid) {
				t.Errorf("%v: user-provided data on a kernel without CONFIG_USER_DECRYPTED_DATA: %v, want keyring.ErrInvalid", c.format, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", c.format, err)
		}
		kb := readBlob(t, k)
		ours, err := Seal(plain, SealOptions{MasterKey: kmk, Format: c.format, Master: m, IV: kb.IV[:]})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := kb.MarshalText()
		got, _ := ours.MarshalText()
		if !bytes.Equal(got, want) {
			t.Errorf("%v: Seal made another blob than the kernel from the same data and IV", c.format)
		}
		if err := s.Unlink(k); err != nil {
			t.Fatal(err)
		}
	}
}

// Migrate moves a stored blob to another master inside the kernel.
func TestMigrate(t *testing.T) {
	s := kernelSession(t)
	plain := make([]byte, 32)
	rand.Read(plain)
	b, _ := Seal(plain, SealOptions{MasterKey: kmk, Format: Enc32, Master: Master{Kind: UserMaster, Name: "kmk"}})
	k, nb, err := Migrate(s, "nvdimm:test", b, MigrateOptions{To: Master{Kind: UserMaster, Name: "kmk2"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustOpen(t, nb, kmk2); !bytes.Equal(got, plain) || nb.Format != Enc32 || nb.IV != b.IV {
		t.Errorf("migrated blob: format %v, same IV %v, same data %v", nb.Format, nb.IV == b.IV, bytes.Equal(got, plain))
	}
	if err := s.Unlink(k); err != nil {
		t.Fatal(err)
	}
	before := linksOf(t, s)
	// User to trusted goes through userspace and Import: refused without
	// CONFIG_USER_DECRYPTED_DATA, and here the trusted master is missing
	// (trusted/'s TestKernelMigrateToTrusted does it for real).
	_, _, err = Migrate(s, "x", b, MigrateOptions{To: Master{Kind: TrustedMaster, Name: "tk"}})
	if keytest.KernelConfig(t, "CONFIG_USER_DECRYPTED_DATA") {
		if !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("migrating user to a missing trusted master: %v, want ErrNotFound", err)
		}
	} else if !errors.Is(err, keyring.ErrNotSupported) {
		t.Errorf("migrating user to trusted: %v, want ErrNotSupported", err)
	}
	tb := *b
	tb.Master = Master{Kind: TrustedMaster, Name: "tk"}
	if _, _, err := Migrate(s, "x", &tb, MigrateOptions{To: Master{Kind: UserMaster, Name: "kmk2"}}); !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("migrating trusted to user: %v, want keyring.ErrInvalid", err)
	}
	b.HMAC[3] ^= 1
	if _, _, err := Migrate(s, "x", b, MigrateOptions{To: Master{Kind: UserMaster, Name: "kmk2"}}); !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("migrating a tampered blob: %v, want keyring.ErrInvalid", err)
	}
	if after := linksOf(t, s); !slices.Equal(before, after) {
		t.Errorf("session links %v after failed migrations, %v before", after, before)
	}
}

// keyutils interop: `keyctl pipe` output opens, and `keyctl add encrypted
// NAME "load ..."` accepts our blobs.
func TestKeyctlInterop(t *testing.T) {
	path, err := exec.LookPath("keyctl")
	if err != nil {
		t.Skip("keyutils' keyctl is not installed (apt-get install keyutils); CI installs it")
	}
	kernelSession(t)
	keyctl := func(args ...string) string {
		out, err := exec.Command(path, args...).Output()
		if err != nil {
			t.Fatalf("keyctl %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	id := keyctl("add", "encrypted", "cli-made", "new enc32 user:kmk 32", "@s")
	if _, err := Open(mustParse(t, keyctl("pipe", id)), kmk); err != nil {
		t.Errorf("keyctl pipe output does not open: %v", err)
	}
	plain := make([]byte, 64)
	rand.Read(plain)
	for _, c := range kernelFormats {
		if c.size > len(plain) {
			continue
		}
		b, _ := Seal(plain[:c.size], SealOptions{MasterKey: kmk, Format: c.format, Master: Master{Kind: UserMaster, Name: "kmk"}})
		id := keyctl("add", "encrypted", c.desc, "load "+mustMarshal(t, b), "@s")
		if got := keyctl("pipe", id); got != mustMarshal(t, b) {
			t.Errorf("%v: keyctl pipe of our loaded blob differs", c.format)
		}
	}
}

// The edge cases of edge_cases.md that depend on kernel state, against the
// running kernel.
func TestKernelStateEdgeCases(t *testing.T) {
	s := kernelSession(t)
	user := Master{Kind: UserMaster, Name: "kmk"}
	b, _ := Seal(make([]byte, 32), SealOptions{MasterKey: kmk, Master: user})

	b.Master.Name = "absent"
	missing, _ := Seal(make([]byte, 32), SealOptions{MasterKey: kmk, Master: b.Master})
	if _, err := Load(s, "load-missing", missing); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("load, master missing: %v, want ErrNotFound", err)
	}

	p, _ := NewPayload(Options{Format: Default, Master: user, Length: 32})
	k := add(t, s, "twice", p)
	if _, err := s.Add("encrypted", "twice", p); !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("add_key twice with the same description: %v, want keyring.ErrInvalid ('new' becomes an update)", err)
	}
	up, _ := UpdatePayload(UpdateOptions{From: user, To: Master{Kind: UserMaster, Name: "absent"}})
	if err := k.Update(up); err != nil {
		t.Errorf("update to a missing master: %v (the kernel does not look it up)", err)
	}
	if _, err := k.Read(); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("read after update to a missing master: %v, want ErrNotFound", err)
	}

	rm, err := s.Add("user", "revoked-master", kmk)
	if err != nil {
		t.Fatal(err)
	}
	if err := rm.Revoke(); err != nil {
		t.Fatal(err)
	}
	revoked, _ := Seal(make([]byte, 32), SealOptions{MasterKey: kmk, Master: Master{Kind: UserMaster, Name: "revoked-master"}})
	if _, err := Load(s, "load-revoked", revoked); !errors.Is(err, keyring.ErrRevoked) {
		t.Errorf("load, master revoked: %v, want ErrRevoked", err)
	}
}
