package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/internal/vmtest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/keytypes"
)

// The dm-crypt tests map real volumes: loop devices over files in a
// temporary directory (tmpfs in the VM), device-mapper devices made with
// the ioctls in dm_linux.go, and cryptsetup for LUKS2. They need a kernel
// with device-mapper and dm-crypt (the VM's; the host kernel has neither)
// and CAP_SYS_ADMIN, which every device-mapper ioctl checks. Each removes
// its mappings and loop devices, and its keys die with its session.

// needDM skips a test where the kernel has no device-mapper or loop
// devices (the host's: CONFIG_BLK_DEV_DM is off, there is no
// /dev/mapper/control), or where this process may not use them (not
// root); on the VM, whose kernel has both, it fails the test instead.
// dm-crypt itself is checked by the first table load.
func needDM(t *testing.T) {
	t.Helper()
	vmtest.NeedDeviceMapper(t)
	vmtest.NeedLoop(t)
}

func randBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// newImage makes a sparse file of size bytes, dir/volume.img.
func newImage(t *testing.T, dir string, size int64) string {
	t.Helper()
	return newImageFile(t, filepath.Join(dir, "volume.img"), size)
}

// newImageFile makes a sparse file of size bytes.
func newImageFile(t *testing.T, name string, size int64) string {
	t.Helper()
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return name
}

// attachLoop backs a free loop device with file and returns the device's
// path. Cleanup detaches it, and fails the test if it is still bound.
func attachLoop(t *testing.T, file string) string {
	t.Helper()
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("loop devices (CONFIG_BLK_DEV_LOOP): %v", err)
	}
	defer ctl.Close()
	back, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	for try := 0; ; try++ {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			t.Fatalf("LOOP_CTL_GET_FREE: %v", err)
		}
		path := "/dev/loop" + strconv.Itoa(n)
		dev, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Autoclear: the device detaches itself at its last close, even
		// if a mapping still held it when the test let go.
		cfg := unix.LoopConfig{Fd: uint32(back.Fd()), Info: unix.LoopInfo64{Flags: unix.LO_FLAGS_AUTOCLEAR}}
		err = unix.IoctlLoopConfigure(int(dev.Fd()), &cfg)
		if errors.Is(err, unix.EBUSY) && try < 10 { // taken since GET_FREE
			dev.Close()
			continue
		}
		if err != nil {
			dev.Close()
			t.Fatalf("LOOP_CONFIGURE %s: %v", path, err)
		}
		t.Cleanup(func() {
			if err := unix.IoctlSetInt(int(dev.Fd()), unix.LOOP_CLR_FD, 0); err != nil {
				t.Errorf("LOOP_CLR_FD %s: %v", path, err)
			}
			dev.Close()
			if _, err := os.Stat("/sys/block/loop" + strconv.Itoa(n) + "/loop"); err == nil {
				t.Errorf("%s is still bound to a file after the test", path)
			}
		})
		return path
	}
}

// devNumber returns a block device's "major:minor", as a table shows it.
func devNumber(t *testing.T, path string) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
}

// removeAtEnd removes the device-mapper device name when the test ends,
// if it is still there.
func removeAtEnd(t *testing.T, name string) {
	t.Cleanup(func() {
		if err := dmRemove(name); err != nil && !errors.Is(err, unix.ENXIO) {
			t.Errorf("removing %s: %v", name, err)
		}
	})
}

// mapped returns the path and the one target of the live device name.
func mapped(t *testing.T, name string) (string, dmTarget) {
	t.Helper()
	minor, ts, err := dmTable(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 {
		t.Fatalf("%s has %d targets, want 1: %v", name, len(ts), ts)
	}
	return "/dev/dm-" + strconv.FormatUint(uint64(minor), 10), ts[0]
}

func writeDev(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

func readDev(t *testing.T, path string, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

// writeSecretFile writes b to a new file of mode 0600 in dir.
func writeSecretFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// cryptsetupVK is the description cryptsetup 2.6.1 gives a LUKS2 volume
// key in the thread keyring, for the key of digest 0 (lib/setup.c,
// crypt_volume_key_set_description): "cryptsetup:<UUID>-d0".
const cryptsetupVK = "cryptsetup:5b1a7c3e-0d4f-4c8e-9a1b-2f6d8e0c4a17-d0"

// I. cryptsetup's volume-key pattern, for real: map loads the volume key
// as a logon key into its thread's keyring and the table from that
// thread; the table shows the reference; the key dies with the thread,
// and the volume keeps working. Mapped again with the same key it reads
// the same data, with another key it does not.
func TestDMCryptLogonKey(t *testing.T) {
	bin := keytest.Build(t, ".")
	keytest.Session(t)
	dir := t.TempDir()
	vk := randBytes(t, 64)
	keyFile := writeSecretFile(t, dir, "vk", vk)
	if _, err := os.Stat(dmControl); errors.Is(err, fs.ErrNotExist) {
		// A kernel without device-mapper: map says so, and leaves nothing.
		r := runBin(t, bin, nil, false, "map", "--name", "kernkeys-none", "--device", "/dev/null", "--sectors", "8",
			"--key-ref", ":64:logon:"+cryptsetupVK, "--key-file", keyFile)
		want(t, r, 1, "no device-mapper (CONFIG_BLK_DEV_DM)")
	}
	needDM(t)
	dev := attachLoop(t, newImage(t, dir, 8<<20))
	const name = "kernkeys-logon"
	mapIt := func(keyFile string) result {
		t.Helper()
		r := runBin(t, bin, nil, false, "map", "--name", name, "--device", dev, "--key-ref", ":64:logon:"+cryptsetupVK, "--key-file", keyFile)
		removeAtEnd(t, name)
		want(t, r, 0)
		noSecret(t, r, vk)
		return r
	}

	r := mapIt(keyFile)
	want(t, r, 0, "loaded the volume key as logon key", "into this thread's keyring (@t)",
		"table: 0 16384 crypt aes-xts-plain64 :64:logon:"+cryptsetupVK+" 0 ", "is gone, and /dev/dm-")
	path, tt := mapped(t, name)
	if wantT := (dmTarget{Length: 16384, Type: "crypt", Params: "aes-xts-plain64 :64:logon:" + cryptsetupVK + " 0 " + devNumber(t, dev) + " 0"}); tt != wantT {
		t.Errorf("table %v, want %v", tt, wantT)
	}
	if _, err := keyring.Request("logon", cryptsetupVK, keyring.RequestOptions{}); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("request_key for the volume key after map: %v, want ErrNotFound: it lived in map's thread keyring", err)
	}
	data := randBytes(t, 256<<10)
	writeDev(t, path, data)
	if !bytes.Equal(readDev(t, path, len(data)), data) {
		t.Fatal("the mapping does not read back what was written")
	}
	if disk := readDev(t, dev, 8<<20); bytes.Contains(disk, data[:512]) {
		t.Error("the loop device holds the data in clear")
	}
	want(t, runBin(t, bin, nil, false, "table", "--name", name), 0, name+" is "+path, "table: "+tt.String())
	want(t, runBin(t, bin, nil, false, "unmap", "--name", name), 0, "removed device-mapper device "+name)
	want(t, runBin(t, bin, nil, false, "table", "--name", name), 1, "no such device or address")

	mapIt(keyFile)
	path, _ = mapped(t, name)
	if !bytes.Equal(readDev(t, path, len(data)), data) {
		t.Error("mapped again with the same volume key, the volume does not read the data written")
	}
	if err := dmRemove(name); err != nil {
		t.Fatal(err)
	}
	mapIt(writeSecretFile(t, dir, "other", randBytes(t, 64)))
	path, _ = mapped(t, name)
	if bytes.Equal(readDev(t, path, len(data)), data) {
		t.Error("mapped with another key, the volume reads the data in clear")
	}
}

// What dm-crypt refuses, from the ioctl's own errno: a key in another
// thread's keyring (ENOKEY: request_key searches the loading thread's
// keyrings, with no upcall), a key of another size (EINVAL), a revoked
// key (ENOKEY too: the search skips it, and search_cred_keyrings_rcu ranks
// the session keyring's "no key" above the thread keyring's EKEYREVOKED),
// a key of another type (ENOKEY). A refused table leaves no device
// behind. A user key is taken as a logon key is.
func TestDMCryptRefusals(t *testing.T) {
	needDM(t)
	keytest.Session(t)
	dev := attachLoop(t, newImage(t, t.TempDir(), 1<<20))
	const name, desc = "kernkeys-refusal", "kernkeys-test:vk"
	vk := randBytes(t, 64)
	for _, c := range []struct {
		name, ref   string
		typ         keytypes.Type
		revoke      bool
		otherThread bool
		want        error
	}{
		{"another thread", ":64:logon:" + desc, keytypes.TypeLogon, false, true, unix.ENOKEY},
		{"wrong size", ":32:logon:" + desc, keytypes.TypeLogon, false, false, unix.EINVAL},
		{"revoked", ":64:logon:" + desc, keytypes.TypeLogon, true, false, unix.ENOKEY},
		{"another type", ":64:user:" + desc, keytypes.TypeLogon, false, false, unix.ENOKEY},
		{"user key", ":64:user:" + desc, keytypes.TypeUser, false, false, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			removeAtEnd(t, name)
			target := dmTarget{Length: 2048, Type: "crypt", Params: "aes-xts-plain64 " + c.ref + " 0 " + dev + " 0"}
			err := keyring.OnThread(func() error {
				k, err := keytypes.New(keyring.Thread(), desc, keytypes.Options{Type: c.typ, Payload: vk})
				if err != nil {
					return err
				}
				if c.revoke {
					if err := k.Revoke(); err != nil {
						return err
					}
				}
				setup := func() error { _, err := dmSetup(name, target); return err }
				if c.otherThread {
					return keyring.OnThread(setup)
				}
				return setup()
			})
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				mapped(t, name)
				return
			}
			if !errors.Is(err, c.want) {
				t.Errorf("loading the table: %v, want %v", err, c.want)
			}
			if _, _, err := dmTable(name); !errors.Is(err, unix.ENXIO) {
				t.Errorf("after the refusal, the device: %v, want ENXIO (removed)", err)
			}
		})
	}
}

// cryptsetup runs cryptsetup with args from the calling thread, which
// gives it this test's session keyring. It needs nothing for the VM's
// guest, which runs no udev (cryptsetup --debug there: "Udev is not
// running. Not using udev synchronisation code.", and libdevmapper makes
// /dev/mapper/NAME itself, with no DM_DISABLE_UDEV) and has an empty /run
// (cryptsetup creates its lock directory, /run/cryptsetup; no
// --disable-locks).
func cryptsetup(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command("cryptsetup", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cryptsetup %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// II and I together, with cryptsetup 2.6.1: a LUKS2 volume whose keyslot
// passphrase passphrase-add put in the session keyring opens through the
// LUKS2 keyring token alone (open --token-only); cryptsetup's table
// references its volume key as :64:logon:cryptsetup:<UUID>-d0; data
// written through cryptsetup's mapping reads back through map's, given the
// same volume key, and the reverse.
func TestDMCryptLUKS2Token(t *testing.T) {
	needDM(t)
	if _, err := exec.LookPath("cryptsetup"); err != nil {
		t.Skipf("cryptsetup is not installed: %v", err)
	}
	bin := keytest.Build(t, ".")
	s := keytest.Session(t)
	dir := t.TempDir()
	dev := attachLoop(t, newImage(t, dir, 20<<20))
	vk := randBytes(t, 64)
	vkFile := writeSecretFile(t, dir, "vk", vk)
	pass := []byte("kernkeys luks2 token test")
	const desc = "kernkeys-test:luks"
	const csName, ourName = "kernkeys-luks-cs", "kernkeys-luks-ours"

	// PBKDF2 with few iterations: the VM emulates its CPU.
	cryptsetup(t, pass, "luksFormat", "--type", "luks2", "--batch-mode", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
		"--cipher", "aes-xts-plain64", "--key-size", "512", "--sector-size", "512", "--volume-key-file", vkFile, "--key-file", "-", dev)
	uuid := strings.TrimSpace(cryptsetup(t, nil, "luksUUID", dev))
	cryptsetup(t, nil, "token", "add", "--key-description", desc, "--key-slot", "0", dev)
	r := runBin(t, bin, pass, false, "passphrase-add", "--desc", desc, "--keyring", "@s")
	want(t, r, 0, "request_key from this session finds it")
	t.Cleanup(func() {
		if k, err := s.Search("user", desc); err == nil {
			_ = s.Unlink(k)
		}
	})

	openCS := func() string {
		t.Helper()
		cryptsetup(t, nil, "open", "--token-only", dev, csName)
		removeAtEnd(t, csName)
		path, tt := mapped(t, csName)
		ref := ":64:logon:cryptsetup:" + uuid + "-d0"
		if !strings.HasPrefix(tt.Params, "aes-xts-plain64 "+ref+" 0 "+devNumber(t, dev)+" ") {
			t.Errorf("cryptsetup's table: %v, want its volume key as %s", tt, ref)
		}
		if strings.Contains(strings.ToLower(tt.Params), hex.EncodeToString(vk)[:16]) {
			t.Error("cryptsetup's table shows the volume key")
		}
		return path
	}
	path := openCS()
	_, tt := mapped(t, csName)
	f := strings.Fields(tt.Params)
	offset := f[len(f)-1]
	data := randBytes(t, 128<<10)
	writeDev(t, path, data)
	cryptsetup(t, nil, "close", csName)

	mapOurs := func() string {
		t.Helper()
		r := runBin(t, bin, nil, false, "map", "--name", ourName, "--device", dev, "--offset", offset,
			"--key-ref", ":64:logon:cryptsetup:"+uuid+"-d0", "--key-file", vkFile)
		removeAtEnd(t, ourName)
		want(t, r, 0, "is gone")
		noSecret(t, r, vk)
		path, _ := mapped(t, ourName)
		return path
	}
	path = mapOurs()
	if !bytes.Equal(readDev(t, path, len(data)), data) {
		t.Fatal("map, given the LUKS2 volume key, does not read what cryptsetup's mapping wrote")
	}
	data = randBytes(t, 128<<10)
	writeDev(t, path, data)
	if err := dmRemove(ourName); err != nil {
		t.Fatal(err)
	}
	path = openCS()
	if !bytes.Equal(readDev(t, path, len(data)), data) {
		t.Fatal("cryptsetup's mapping does not read what map's wrote")
	}
	cryptsetup(t, nil, "close", csName)
	if _, err := keyring.Request("logon", "cryptsetup:"+uuid+"-d0", keyring.RequestOptions{}); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("cryptsetup's volume key after open: %v, want ErrNotFound (it lived in cryptsetup's thread keyring)", err)
	}
}
