// Command luks-keyring walks through cryptsetup's two uses of the kernel key
// retention service (cryptsetup's docs/Keyring.txt), and the
// volume key that never sits in clear in userspace:
//
//	luks-keyring passphrase-add    --desc my:key [--keyring @u]     < passphrase
//	luks-keyring passphrase-read   --desc my:key [--print]
//	luks-keyring passphrase-remove --desc my:key [--keyring @u] [--revoke]
//	luks-keyring volume-key        --desc cryptsetup:UUID-d0 [--size 64] [--key-file FILE|-]
//	luks-keyring possession-demo
//	luks-keyring never-in-clear    --master user:NAME --desc DESC --blob FILE [--size 64] [--load] [--keyring @t]
//	luks-keyring map   --name NAME --device DEV --key-ref :SIZE:TYPE:DESC [--key-file FILE|- | --blob FILE | --trusted-blob FILE [--keyhandle HANDLE]]
//	                   [--cipher aes-xts-plain64] [--offset SECTORS] [--sectors N]
//	luks-keyring table --name NAME
//	luks-keyring unmap --name NAME
//
// passphrase-add stores a keyslot passphrase, read from standard input
// exactly as given (as `keyctl padd user my:key @u` does; never from the
// command line), as a "user" key in the user keyring. passphrase-read finds
// it as cryptsetup does, with request_key(2) from the process's thread,
// process and session keyrings and no upcall, and reads it; it prints only
// its length unless --print asks it to write the passphrase, and nothing
// else, to standard output (its narration then goes to standard error).
// passphrase-remove unlinks the key from the keyring, or revokes it (and
// then unlinks it).
//
// volume-key loads a volume key (random, or exactly --size bytes from
// --key-file) as a "logon" key into the thread keyring of a locked OS
// thread, as cryptsetup does before it hands dm-crypt the key reference
// ":<size>:logon:<description>": userspace cannot read a logon key back,
// and the key dies with the thread. It shows both.
//
// possession-demo shows the rule that trips users: a key in @u is found by
// request_key and readable only by a process that possesses it, which
// means its session keyring links @u. It adds a demo key to @u, fails to
// find and read it from a fresh session, shows three fixes, and removes
// the key.
//
// never-in-clear asks the kernel for a new "encrypted" key under a user
// master key (on a host) or a trusted one (TPM, in a VM) and writes only its
// blob to FILE (atomically, mode 0600); --load loads it back from the blob.
// The clear key is generated and decrypted in the kernel and never enters
// the process. dm-crypt takes it as ":<size>:encrypted:<description>"
// (Linux 5.9 and later).
//
// map does for real what cryptsetup does to activate a volume: on a
// goroutine locked to its own OS thread it loads the volume key into that
// thread's keyring (a logon or user key from --key-file, an encrypted key
// from its blob with --blob, a trusted key from its blob with
// --trusted-blob, and with --keyhandle the TPM parent key it was sealed
// under, which a TPM 2.0 blob made before Linux 5.13 needs because it does
// not name it; with none of them the key must already be reachable from
// the process's keyrings), and from the same thread creates the
// device-mapper device NAME with one dm-crypt target whose key is the
// reference --key-ref, ":<size>:<type>:<description>", and activates it.
// dm-crypt looks the key up with request_key(2) from the thread that loads
// the table, copies it into the kernel's crypto layer, and keeps only the
// reference: the table (the table command, `dmsetup table`) shows it, never
// the key. The thread then exits, its keyring and the key with it, and the
// volume stays mapped at /dev/dm-<minor>. unmap removes the device. These
// three need CAP_SYS_ADMIN and a kernel with device-mapper and dm-crypt;
// the device-mapper ioctls are in dm_linux.go.
//
// Everything that touches @t runs on a goroutine locked to its own OS
// thread (keyring.OnThread), which exits afterwards. Key material is read
// into byte slices that are wiped after use, and never printed.
package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/kernkeys/kernkeys/encrypted"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/keytypes"
	"github.com/kernkeys/kernkeys/trusted"
)

func main() {
	// request_key and every special ID resolve against the calling thread:
	// the main command runs on one thread, as cryptsetup and keyctl do.
	runtime.LockOSThread()
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "luks-keyring:", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

const usage = `usage:
  luks-keyring passphrase-add    --desc my:key [--keyring @u]     < passphrase
  luks-keyring passphrase-read   --desc my:key [--print]
  luks-keyring passphrase-remove --desc my:key [--keyring @u] [--revoke]
  luks-keyring volume-key        --desc cryptsetup:UUID-d0 [--size 64] [--key-file FILE|-]
  luks-keyring possession-demo
  luks-keyring never-in-clear    --master user:NAME --desc DESC --blob FILE [--size 64] [--load] [--keyring @t]
  luks-keyring map   --name NAME --device DEV --key-ref :SIZE:TYPE:DESC [--key-file FILE|- | --blob FILE | --trusted-blob FILE [--keyhandle HANDLE]]
                     [--cipher aes-xts-plain64] [--offset SECTORS] [--sectors N]
  luks-keyring table --name NAME
  luks-keyring unmap --name NAME

passphrase-add reads the passphrase from standard input exactly as given
(use printf or echo -n), never from the command line. passphrase-read finds
the key as cryptsetup does (request_key from this process's keyrings) and
prints its length; --print writes the passphrase itself, and nothing else,
to standard output. No other command prints key material. map, table and
unmap need CAP_SYS_ADMIN and a kernel with device-mapper and dm-crypt.`

// cmd holds the parsed flags of one command and where it writes.
type cmd struct {
	stdin    io.Reader
	out, log io.Writer // narration goes to log; out is for --print only

	desc, ring, keyFile, master, blob string
	size                              int
	print, revoke, load               bool

	name, device, keyRef, trustedBlob, keyHandle, cipher string
	offset, sectors                                      uint64
	parent                                               uint32 // --keyhandle, parsed
}

// keyringFlag returns the keyring --keyring names (keyring.ParseID's
// syntax); a bad one is a usage error.
func (c *cmd) keyringFlag() (keyring.Keyring, error) {
	id, err := keyring.ParseID(c.ring)
	if err != nil {
		return keyring.Keyring{}, usageError(err.Error())
	}
	return id.Keyring(), nil
}

func (c *cmd) say(format string, args ...any) { fmt.Fprintf(c.log, format+"\n", args...) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, usage)
		if len(args) == 0 {
			return usageError("no command")
		}
		return nil
	}
	c := &cmd{stdin: stdin, out: stdout, log: stdout}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.desc, "desc", "", "the key's description")
	defaultRing := "@u"
	if args[0] == "never-in-clear" {
		defaultRing = "@t"
	}
	fs.StringVar(&c.ring, "keyring", defaultRing, "keyring: @t, @s, @u, @us or a serial")
	fs.StringVar(&c.keyFile, "key-file", "", "volume key file, - for standard input")
	fs.StringVar(&c.master, "master", "", "master key: user:NAME or trusted:NAME")
	fs.StringVar(&c.blob, "blob", "", "blob file")
	fs.IntVar(&c.size, "size", 64, "volume key size in bytes")
	fs.BoolVar(&c.print, "print", false, "write the passphrase to standard output")
	fs.BoolVar(&c.revoke, "revoke", false, "revoke the key instead of unlinking it")
	fs.BoolVar(&c.load, "load", false, "load the key from the blob instead of creating it")
	fs.StringVar(&c.name, "name", "", "device-mapper device name")
	fs.StringVar(&c.device, "device", "", "the block device holding the encrypted data")
	fs.StringVar(&c.keyRef, "key-ref", "", "dm-crypt key reference :SIZE:TYPE:DESC")
	fs.StringVar(&c.trustedBlob, "trusted-blob", "", "trusted key blob file (hex)")
	fs.StringVar(&c.keyHandle, "keyhandle", "", "TPM parent key handle of --trusted-blob, such as 0x81000001")
	fs.StringVar(&c.cipher, "cipher", "aes-xts-plain64", "dm-crypt cipher")
	fs.Uint64Var(&c.offset, "offset", 0, "first sector of the data on --device")
	fs.Uint64Var(&c.sectors, "sectors", 0, "sectors to map; 0: to the end of --device")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(err.Error() + "\n" + usage)
	}
	if fs.NArg() != 0 {
		return usageError("unexpected arguments\n" + usage)
	}
	needDesc := func() error {
		if c.desc == "" {
			return usageError(args[0] + " needs --desc\n" + usage)
		}
		return nil
	}
	switch args[0] {
	case "passphrase-add":
		if err := needDesc(); err != nil {
			return err
		}
		return c.passphraseAdd()
	case "passphrase-read":
		if err := needDesc(); err != nil {
			return err
		}
		if c.print {
			c.log = stderr
		}
		return c.passphraseRead()
	case "passphrase-remove":
		if err := needDesc(); err != nil {
			return err
		}
		return c.passphraseRemove()
	case "volume-key":
		if err := needDesc(); err != nil {
			return err
		}
		if c.size < 1 || c.size > keytypes.MaxUserPayload {
			return usageError("--size must be 1 to " + strconv.Itoa(keytypes.MaxUserPayload) + " bytes")
		}
		return c.volumeKey()
	case "possession-demo":
		return c.possessionDemo()
	case "never-in-clear":
		if c.desc == "" || c.master == "" || c.blob == "" {
			return usageError("never-in-clear needs --master, --desc and --blob\n" + usage)
		}
		return c.neverInClear()
	case "map":
		if c.name == "" || c.device == "" || c.keyRef == "" {
			return usageError("map needs --name, --device and --key-ref\n" + usage)
		}
		return c.mapVolume()
	case "table", "unmap":
		if c.name == "" {
			return usageError(args[0] + " needs --name\n" + usage)
		}
		if args[0] == "table" {
			return c.table()
		}
		if err := dmRemove(c.name); err != nil {
			return err
		}
		c.say("removed device-mapper device %s", c.name)
		return nil
	}
	return usageError("unknown command " + strconv.Quote(args[0]) + "\n" + usage)
}

// ---- use II: the keyslot passphrase, a user key ----

func (c *cmd) passphraseAdd() error {
	ring, err := c.keyringFlag()
	if err != nil {
		return err
	}
	pass, err := readSecret("standard input", c.stdin, keytypes.MaxUserPayload)
	if err != nil {
		return err
	}
	defer keyring.Wipe(pass)
	k, err := keytypes.New(ring, c.desc, keytypes.Options{Type: keytypes.TypeUser, Payload: pass})
	if err != nil {
		return err
	}
	c.say("added the passphrase (%d bytes) as user key %v %q in %v, as `keyctl padd user %s %v` does", len(pass), k, c.desc, ring, c.desc, ring)
	switch f, err := keyring.Request("user", c.desc, keyring.RequestOptions{}); {
	case err == nil && f == k:
		c.say("request_key from this session finds it: cryptsetup run from this session will use it")
	case err == nil:
		c.say("note: request_key from this session finds another user key %v %q first; cryptsetup would use that one", f, c.desc)
	case errors.Is(err, keyring.ErrNotFound) && ring == keyring.User():
		c.say("note: this session keyring does not link @u, so request_key from this session does not find the key,")
		c.say("and cryptsetup run from it would ask for the passphrase. Link @u into the session (keyctl link @u @s)")
		c.say("or see `luks-keyring possession-demo`.")
	default:
		c.say("note: request_key from this session does not find it (%v): cryptsetup run from here would not either", err)
	}
	return nil
}

func (c *cmd) passphraseRead() error {
	// libcryptsetup's keyring_get_passphrase: request_key(2) with no
	// callout info, then keyctl_read.
	k, err := keyring.Request("user", c.desc, keyring.RequestOptions{})
	if errors.Is(err, keyring.ErrNotFound) {
		return c.notPossessed(err)
	}
	if err != nil {
		return err
	}
	pass, err := k.Read()
	if err != nil {
		return err
	}
	defer keyring.Wipe(pass)
	c.say("found user key %v %q with request_key from this process's keyrings, as cryptsetup does; it holds %d bytes", k, c.desc, len(pass))
	if !c.print {
		c.say("(not shown: --print writes the passphrase to standard output)")
		return nil
	}
	_, err = c.out.Write(pass)
	return err
}

// notPossessed explains a request_key miss: either there is no such key,
// or it is in @u but this process's keyrings do not reach @u. A search
// through @u named by its special ID finds it then (and counts as
// possession for that one call).
func (c *cmd) notPossessed(miss error) error {
	k, err := keyring.User().Search("user", c.desc)
	if err != nil {
		return fmt.Errorf("no user key %q is reachable from this process's keyrings: %w", c.desc, miss)
	}
	c.say("request_key does not find user key %q, but your user keyring @u holds it (key %v):", c.desc, k)
	c.say("this process does not possess it. request_key, as cryptsetup calls it, searches only the thread,")
	c.say("process and session keyrings, and this session keyring does not link @u.")
	if _, rerr := k.Read(); rerr != nil {
		c.say("reading it by serial fails too: %v", rerr)
	}
	c.say("fix: link @u into the session (keyctl link @u @s), or see `luks-keyring possession-demo`")
	return fmt.Errorf("user key %q is in @u but not possessed: %w", c.desc, miss)
}

func (c *cmd) passphraseRemove() error {
	ring, err := c.keyringFlag()
	if err != nil {
		return err
	}
	// A search through a keyring named by its special ID possesses what
	// it finds, and linking the result into this thread's keyring makes it
	// possessed by serial too, which revoke needs (the user class of a
	// key made with the default permissions has only view). The thread,
	// and that link, end with the function.
	return keyring.OnThread(func() error {
		k, err := ring.SearchAndLink("user", c.desc, keyring.Thread())
		if err != nil {
			return fmt.Errorf("searching %v for user key %q: %w", ring, c.desc, err)
		}
		if c.revoke {
			if err := k.Revoke(); err != nil {
				return err
			}
			c.say("revoked user key %v %q, as `keyctl revoke %%user:%s` does: every use of it now fails, wherever it is linked", k, c.desc, c.desc)
			// A revoked key stays linked until the garbage collector runs
			// (key_gc_delay, five minutes by default): unlink it now.
			if err := ring.Unlink(k); err != nil {
				return fmt.Errorf("unlinking the revoked key %v from %v: %w", k, ring, err)
			}
			c.say("and unlinked it from %v", ring)
			return nil
		}
		if err := ring.Unlink(k); err != nil {
			return fmt.Errorf("unlinking user key %v from %v: %w", k, ring, err)
		}
		c.say("unlinked user key %v %q from %v, as `keyctl unlink %%user:%s %v` does", k, c.desc, ring, c.desc, ring)
		return nil
	})
}

// ---- use I: the volume key, a logon key in the thread keyring ----

func (c *cmd) volumeKey() error {
	var vk []byte
	if c.keyFile != "" {
		var err error
		if vk, err = c.readVolumeKey(c.size); err != nil {
			return err
		}
	} else {
		vk = make([]byte, c.size)
		if _, err := rand.Read(vk); err != nil {
			return err
		}
	}
	defer keyring.Wipe(vk)
	spec := keytypes.Options{Type: keytypes.TypeLogon, Payload: vk}
	if err := spec.Validate(c.desc); err != nil {
		return err
	}
	ref := keyRef{size: c.size, typ: "logon", desc: c.desc}

	var k keyring.Key
	err := keyring.OnThread(func() error {
		c.say("on a goroutine locked to its own OS thread:")
		var err error
		if k, err = keytypes.New(keyring.Thread(), c.desc, spec); err != nil {
			return err
		}
		keyring.Wipe(vk) // the kernel holds its own copy now
		c.say("  loaded the %d-byte volume key as logon key %v %q into this thread's keyring (@t)", c.size, k, c.desc)
		c.say("  dm-crypt key reference: %s", ref)
		c.say("  a table line would read: 0 <sectors> crypt aes-xts-plain64 %s 0 /dev/<device> 0", ref)
		switch f, err := keyring.Request("logon", c.desc, keyring.RequestOptions{}); {
		case err != nil:
			return fmt.Errorf("request_key from the loading thread: %w", err)
		case f != k:
			return fmt.Errorf("request_key from the loading thread found key %v, not %v", f, k)
		}
		c.say("  request_key from this thread finds it, as dm-crypt does when cryptsetup loads the table")
		_, err = k.Read()
		if !errors.Is(err, keyring.ErrNotSupported) {
			return fmt.Errorf("reading the logon key back: got %v, want an error matching ErrNotSupported", err)
		}
		c.say("  reading it back from userspace fails, errors.Is(err, keyring.ErrNotSupported):")
		c.say("    %v", err)
		return keyring.OnThread(func() error {
			f, err := keyring.Request("logon", c.desc, keyring.RequestOptions{})
			if err == nil && f == k {
				return fmt.Errorf("another thread found the thread keyring's key %v", k)
			}
			c.say("  another thread of this process cannot find it: %v", err)
			return nil
		})
	})
	if err != nil {
		return err
	}
	c.say("the loading thread has exited, and its thread keyring with it:")
	err = waitGone(k, 10*time.Second)
	if err != nil {
		return err
	}
	c.say("  logon key %v is gone (describe: key not found), as cryptsetup's volume key is once it exits;", k)
	c.say("  dm-crypt keeps its own copy in the kernel crypto layer")
	return nil
}

// readVolumeKey reads a volume key of exactly size bytes from --key-file.
// The caller wipes it.
func (c *cmd) readVolumeKey(size int) ([]byte, error) {
	vk, err := readSecretFile(c.keyFile, c.stdin, keytypes.MaxUserPayload)
	if err != nil {
		return nil, err
	}
	if len(vk) != size {
		keyring.Wipe(vk)
		return nil, fmt.Errorf("the volume key holds %d bytes, not %d", len(vk), size)
	}
	return vk, nil
}

// waitGone waits until k no longer exists: the kernel's garbage collector
// destroys a key some tens of milliseconds after its last link goes, and a
// dead thread's keyring takes one more pass.
func waitGone(k keyring.Key, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		_, err := k.Describe()
		if errors.Is(err, keyring.ErrNotFound) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("key %v still exists %v after its thread exited (describe: %v)", k, limit, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ---- the possession rule ----

func (c *cmd) possessionDemo() error {
	desc := "luks-keyring:possession-demo:" + strconv.Itoa(os.Getpid())
	secret := make([]byte, 32)
	defer keyring.Wipe(secret)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	return keyring.InNewSession(func(s keyring.Keyring) (err error) {
		c.say("1. This thread joined a new anonymous session keyring. Like a session from `keyctl session -`,")
		c.say("   a service manager or a container, it does not link your user keyring @u.")
		u := keyring.User()
		k, err := u.Add("user", desc, secret)
		if err != nil {
			return err
		}
		defer func() {
			if uerr := u.Unlink(k); uerr != nil && err == nil {
				err = uerr
			}
			if err == nil {
				c.say("7. Removed the demo key from @u.")
			}
		}()
		d, err := k.Describe()
		if err != nil {
			return err
		}
		c.say("2. Added user key %v %q to @u, as `keyctl padd user DESC @u` does.", k, desc)
		c.say("   Its permissions are %#08x (%v): the possessor has every right, the user", uint32(d.Perm), d.Perm)
		c.say("   (you, when you do not possess the key) may only view it.")

		c.say("3. The trap:")
		if f, err := keyring.Request("user", desc, keyring.RequestOptions{}); err == nil {
			return fmt.Errorf("request_key found %v from a session that does not link @u", f)
		} else if !errors.Is(err, keyring.ErrNotFound) {
			return err
		} else {
			c.say("   request_key, which cryptsetup uses, searches only the thread, process and session keyrings:")
			c.say("     %v", err)
		}
		if err := c.expectNoRead(k, "   "); err != nil {
			return err
		}

		c.say("4. Fix 1: link @u into the session keyring (keyctl link @u @s; pam_keyinit does it at login).")
		if err := s.Link(u.Key); err != nil {
			return err
		}
		if err := c.expectRead(k, desc, true); err != nil {
			return err
		}
		if err := s.Unlink(u.Key); err != nil {
			return err
		}
		c.say("   (unlinked @u from the session again)")

		c.say("5. Fix 2: search @u by its special ID and link the result into a keyring this thread possesses")
		c.say("   (keyctl search @u user DESC @s; here into the thread keyring @t, which dies with the thread).")
		f, err := u.SearchAndLink("user", desc, keyring.Thread())
		if err != nil {
			return err
		}
		if f != k {
			return fmt.Errorf("the search of @u found %v, not %v", f, k)
		}
		if err := c.expectRead(k, desc, true); err != nil {
			return err
		}

		c.say("6. Fix 3: give the user class read permission. Changing permissions needs setattr, which only")
		c.say("   the possessor has, so it must be done while the key is possessed (here through @t).")
		perm := keyring.PermAll.Possessor() | (keyring.PermView | keyring.PermRead).User()
		if err := k.SetPerm(perm); err != nil {
			return err
		}
		if err := keyring.Thread().Unlink(k); err != nil {
			return err
		}
		c.say("   Set %#08x (%v) and unlinked the key from @t: it is no longer possessed.", uint32(perm), perm)
		if err := c.expectRead(k, desc, false); err != nil {
			return err
		}
		c.say("   Every process of yours can now read it, possessed or not: prefer fix 1.")
		return nil
	})
}

// expectNoRead shows that reading k by serial fails with a permission error.
func (c *cmd) expectNoRead(k keyring.Key, indent string) error {
	b, err := k.Read()
	keyring.Wipe(b)
	if !errors.Is(err, keyring.ErrPermission) {
		return fmt.Errorf("reading the unpossessed key %v: got %v, want a permission error", k, err)
	}
	c.say("%sreading key %v by serial fails: it is not possessed, and the user class lacks read:", indent, k)
	c.say("%s  %v", indent, err)
	return nil
}

// expectRead shows that k can be read (and, when found is set, found by
// request_key as cryptsetup finds it).
func (c *cmd) expectRead(k keyring.Key, desc string, found bool) error {
	if found {
		f, err := keyring.Request("user", desc, keyring.RequestOptions{})
		if err != nil {
			return fmt.Errorf("request_key after the fix: %w", err)
		}
		if f != k {
			return fmt.Errorf("request_key after the fix found %v, not %v", f, k)
		}
		c.say("   request_key finds key %v now.", k)
	}
	b, err := k.Read()
	if err != nil {
		return fmt.Errorf("reading key %v after the fix: %w", k, err)
	}
	c.say("   Reading it works: %d bytes (not shown).", len(b))
	keyring.Wipe(b)
	return nil
}

// ---- never in clear: the volume key as an encrypted key ----

func (c *cmd) neverInClear() error {
	m, err := encrypted.ParseMaster(c.master)
	if err != nil {
		return usageError(err.Error())
	}
	ring, err := c.keyringFlag()
	if err != nil {
		return err
	}
	// The kernel looks the master key up with request_key from the
	// calling thread's keyrings; @t must belong to that thread too.
	return keyring.OnThread(func() error {
		if _, err := keyring.Request(m.Kind.String(), m.Name, keyring.RequestOptions{}); err != nil {
			hint := "add it to a keyring this process possesses (`keyctl padd user NAME @u` from a session that links @u), or link @u into the session (keyctl link @u @s)"
			if m.Kind == encrypted.TrustedMaster {
				hint = "trusted keys need CONFIG_TRUSTED_KEYS and a TPM or TEE: `keyctl add trusted NAME \"new 32\" @u`, and a session that links @u"
			}
			return fmt.Errorf("master key %v is not reachable from this process's keyrings (%w); %s", m, err, hint)
		}
		c.say("master key %v is reachable from this process's keyrings", m)
		if c.load {
			return c.loadBlob(ring)
		}
		return c.newBlob(ring, m)
	})
}

func (c *cmd) newBlob(ring keyring.Keyring, m encrypted.Master) (err error) {
	p, err := encrypted.NewPayload(encrypted.Options{Format: encrypted.Default, Master: m, Length: c.size})
	if err != nil {
		return usageError(err.Error())
	}
	k, err := ring.Add("encrypted", c.desc, p)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = ring.Unlink(k)
		}
	}()
	c.say("asked the kernel for a new encrypted key %v %q in %v with the payload %q:", k, c.desc, ring, p)
	c.say("  the kernel generated the %d bytes of key data itself", c.size)
	b, err := encrypted.ReadBlob(k)
	if err != nil {
		return err
	}
	if err := b.WriteFile(c.blob); err != nil {
		return err
	}
	c.say("  reading the key gave its blob: the data encrypted (AES-256-CBC, HMAC-SHA256) under %v", b.Master)
	c.say("  wrote the blob, and only the blob, to %s (mode 0600)", c.blob)
	c.say("the clear volume key never entered this process: no call returned it, and none can")
	c.say("dm-crypt key reference (Linux 5.9+): :%d:encrypted:%s", c.size, c.desc)
	c.sayWhere(ring)
	return nil
}

func (c *cmd) loadBlob(ring keyring.Keyring) error {
	b, err := encrypted.ReadFile(c.blob)
	if err != nil {
		return err
	}
	k, err := encrypted.Load(ring, c.desc, b)
	if err != nil {
		return err
	}
	c.say("loaded %s into encrypted key %v %q in %v: the kernel checked its HMAC and decrypted it", c.blob, k, c.desc, ring)
	c.say("  with master key %v; the clear key stays in the kernel", b.Master)
	if _, err := encrypted.ReadBlob(k); err != nil {
		_ = ring.Unlink(k)
		return err
	}
	c.say("  reading the key back gives a blob again, never the clear key")
	c.say("dm-crypt key reference (Linux 5.9+): :%s:encrypted:%s", b.DataLen, c.desc)
	c.sayWhere(ring)
	return nil
}

func (c *cmd) sayWhere(ring keyring.Keyring) {
	if ring == keyring.Thread() {
		c.say("(the key is in this thread's keyring and dies with it; --load brings it back from the blob)")
	}
}

// ---- dm-crypt for real: map, table, unmap ----

// keyRef is a dm-crypt key reference, ":<size>:<type>:<description>"
// (drivers/md/dm-crypt.c, crypt_set_keyring_key): the key is a size-byte
// key of type logon or user (the payload), encrypted (the decrypted data;
// CONFIG_ENCRYPTED_KEYS, Linux 5.9) or trusted (the unsealed key;
// CONFIG_TRUSTED_KEYS, Linux 5.9).
type keyRef struct {
	size      int
	typ, desc string
}

func (r keyRef) String() string { return ":" + strconv.Itoa(r.size) + ":" + r.typ + ":" + r.desc }

// parseKeyRef parses a key reference as dm-crypt does, and refuses what
// it would: whitespace anywhere (a table line is split at it), an empty
// description, another type.
func parseKeyRef(s string) (keyRef, error) {
	bad := func(why string) (keyRef, error) {
		return keyRef{}, usageError("--key-ref " + strconv.Quote(s) + ": " + why)
	}
	rest, ok := strings.CutPrefix(s, ":")
	if !ok {
		return bad("want :SIZE:TYPE:DESC")
	}
	size, rest, _ := strings.Cut(rest, ":")
	typ, desc, _ := strings.Cut(rest, ":")
	n, err := strconv.Atoi(size)
	switch {
	case err != nil || n < 1:
		return bad("SIZE must be a number of bytes")
	case desc == "":
		return bad("want :SIZE:TYPE:DESC")
	case strings.ContainsAny(desc, " \t\n\v\f\r"):
		return bad("dm-crypt refuses whitespace in a key reference")
	}
	switch typ {
	case "logon", "user", "encrypted", "trusted":
		return keyRef{size: n, typ: typ, desc: desc}, nil
	}
	return bad("TYPE must be logon, user, encrypted or trusted")
}

func (c *cmd) mapVolume() error {
	ref, err := parseKeyRef(c.keyRef)
	if err != nil {
		return err
	}
	sources := 0
	for _, f := range []string{c.keyFile, c.blob, c.trustedBlob} {
		if f != "" {
			sources++
		}
	}
	switch {
	case sources > 1:
		return usageError("map takes at most one of --key-file, --blob and --trusted-blob\n" + usage)
	case c.keyFile != "" && ref.typ != "logon" && ref.typ != "user",
		c.blob != "" && ref.typ != "encrypted",
		c.trustedBlob != "" && ref.typ != "trusted":
		return usageError("--key-ref's TYPE must be logon or user with --key-file, encrypted with --blob, trusted with --trusted-blob")
	case c.keyHandle != "" && c.trustedBlob == "":
		return usageError("--keyhandle goes with --trusted-blob\n" + usage)
	}
	if c.keyHandle != "" {
		h, err := strconv.ParseUint(c.keyHandle, 0, 32)
		if err != nil || h == 0 {
			return usageError("--keyhandle must be a TPM handle such as 0x81000001, not " + strconv.Quote(c.keyHandle))
		}
		c.parent = uint32(h)
	}
	sectors := c.sectors
	if sectors == 0 {
		n, err := deviceSectors(c.device)
		if err != nil {
			return err
		}
		if n <= c.offset {
			return fmt.Errorf("%s has %d sectors, none after --offset %d", c.device, n, c.offset)
		}
		sectors = n - c.offset
	}
	// <cipher> <key> <iv_offset> <device> <offset>
	target := dmTarget{Length: sectors, Type: "crypt",
		Params: fmt.Sprintf("%s %v 0 %s %d", c.cipher, ref, c.device, c.offset)}

	var loaded keyring.Key
	var minor uint32
	err = keyring.OnThread(func() error {
		c.say("on a goroutine locked to its own OS thread:")
		var err error
		if loaded, err = c.loadVolumeKey(ref); err != nil {
			return err
		}
		if loaded != (keyring.Key{}) {
			c.say("  loaded the volume key as %s key %v %q into this thread's keyring (@t)", ref.typ, loaded, ref.desc)
		} else if _, err := keyring.Request(ref.typ, ref.desc, keyring.RequestOptions{}); err != nil {
			return fmt.Errorf("no %s key %q is reachable from this process's keyrings, where dm-crypt looks: %w", ref.typ, ref.desc, err)
		}
		c.say("  loading the table from this thread: %v", target)
		if minor, err = dmSetup(c.name, target); err != nil {
			return err
		}
		c.say("  dm-crypt found the key with request_key from this thread and took its own copy")
		return nil
	})
	if err != nil {
		return err
	}
	if err := c.table(); err != nil {
		return err
	}
	if loaded == (keyring.Key{}) {
		return nil
	}
	if err := waitGone(loaded, 10*time.Second); err != nil {
		return err
	}
	c.say("the thread has exited: %s key %v is gone, and /dev/dm-%d still works", ref.typ, loaded, minor)
	return nil
}

// loadVolumeKey loads the volume key that --key-file, --blob or
// --trusted-blob names into the calling thread's keyring, and returns it;
// with none of them, the zero Key.
func (c *cmd) loadVolumeKey(ref keyRef) (keyring.Key, error) {
	t := keyring.Thread()
	switch {
	case c.keyFile != "":
		vk, err := c.readVolumeKey(ref.size)
		if err != nil {
			return keyring.Key{}, err
		}
		defer keyring.Wipe(vk)
		typ := keytypes.TypeLogon
		if ref.typ == "user" {
			typ = keytypes.TypeUser
		}
		return keytypes.New(t, ref.desc, keytypes.Options{Type: typ, Payload: vk})
	case c.blob != "":
		b, err := encrypted.ReadFile(c.blob)
		if err != nil {
			return keyring.Key{}, err
		}
		if b.DataLen != strconv.Itoa(ref.size) {
			return keyring.Key{}, fmt.Errorf("%s holds a %s-byte key, not %d", c.blob, b.DataLen, ref.size)
		}
		return encrypted.Load(t, ref.desc, b)
	case c.trustedBlob != "":
		text, err := os.ReadFile(c.trustedBlob)
		if err != nil {
			return keyring.Key{}, err
		}
		var b trusted.Blob
		if err := b.UnmarshalText(bytes.TrimSpace(text)); err != nil {
			return keyring.Key{}, err
		}
		// A TPM 2.0 blob made by Linux 5.13 or later names its parent key,
		// and the kernel takes --keyhandle only if it is that key; one made
		// before names none and needs --keyhandle. Nothing else is needed to
		// unseal one sealed without authorization or policy.
		k, err := trusted.Load(t, ref.desc, b, trusted.Options{KeyHandle: c.parent})
		var ke *keyring.Error
		if errors.As(err, &ke) && ke.Refused && ke.Field == "keyhandle" {
			return keyring.Key{}, fmt.Errorf("%s: %w (--keyhandle gives the parent key's handle, the keyhandle= it was sealed with)", c.trustedBlob, err)
		}
		return k, err
	}
	return keyring.Key{}, nil
}

// table prints the live table of the device --name: a key reference
// shows as it was given, the key itself never.
func (c *cmd) table() error {
	minor, ts, err := dmTable(c.name)
	if err != nil {
		return err
	}
	c.say("%s is /dev/dm-%d", c.name, minor)
	for _, t := range ts {
		c.say("table: %v", t)
	}
	return nil
}

// ---- files and secrets ----

// readSecret reads at most max bytes from r into one buffer, so that no
// partial copy is left behind. The caller wipes the result.
func readSecret(name string, r io.Reader, max int) ([]byte, error) {
	buf := make([]byte, 0, max+1)
	for {
		if len(buf) == cap(buf) {
			keyring.Wipe(buf)
			return nil, fmt.Errorf("%s holds more than %d bytes", name, max)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			if len(buf) == 0 {
				return nil, fmt.Errorf("%s is empty", name)
			}
			return buf, nil
		}
		if err != nil {
			keyring.Wipe(buf)
			return nil, err
		}
	}
}

// readSecretFile is readSecret from a file, or standard input for "-".
func readSecretFile(name string, stdin io.Reader, max int) ([]byte, error) {
	if name == "-" {
		return readSecret("standard input", stdin, max)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readSecret(name, f, max)
}
