// Command tour is a guided run through the kernkeys keyring API. It prints
// each step in plain words as it goes:
//
//   - it joins a private, anonymous session keyring on a locked OS thread
//     (keyring.InNewSession), so nothing it does touches your own keyrings;
//   - adds a user key, reads it back and describes it;
//   - creates a nested keyring, links the key there and finds it with a
//     search from the session, through the nested keyring;
//   - shows the tree of keys with Walk, indented like `keyctl show`;
//   - changes the key's permissions (shown in keyctl's alswrv form), sets a
//     timeout and lets another key expire;
//   - revokes a key and shows what ErrRevoked and ErrNotFound look like
//     through errors.Is;
//   - moves a key from one keyring to another;
//   - makes an encrypted key under a user master key, opens its blob in
//     userspace, and imports existing key material as an encrypted key;
//   - clears everything, checks that every key it made is destroyed, and
//     that the session keyring itself dies with its thread.
//
// It runs as root or as an ordinary user and leaves no key behind. It never
// prints a payload or a serial number: payloads are key material, and
// serials differ from run to run. Each step is a small function in the list
// returned by inSession or afterSession; add new steps there.
//
//	go run ./examples/tour
package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kernkeys/kernkeys/encrypted"
	"github.com/kernkeys/kernkeys/keyring"
)

// tour is the state the steps share.
type tour struct {
	session keyring.Keyring
	demo    keyring.Key     // the user key most steps work on
	nested  keyring.Keyring // a keyring inside the session
	other   keyring.Keyring // where the move step moves the key to
	master  []byte          // the user master key of the encrypted steps
	made    []keyring.Key   // every key the tour created, to check they are gone
}

// step is one numbered part of the tour.
type step struct {
	title string
	run   func(*tour) error
}

// inSession lists the steps that run on the locked thread, inside the new
// session keyring.
func inSession() []step {
	return []step{
		{"Join a new anonymous session keyring", (*tour).join},
		{"Add a user key", (*tour).add},
		{"Read the payload back", (*tour).read},
		{"Describe the key", (*tour).describe},
		{"Create a nested keyring and link the key there", (*tour).nest},
		{"Search the session for the key", (*tour).search},
		{"Show the tree of keys", (*tour).tree},
		{"Change the key's permissions", (*tour).perm},
		{"Set a timeout", (*tour).timeout},
		{"Let a key expire", (*tour).expire},
		{"Revoke a key and look at the errors", (*tour).revoke},
		{"Move a key to another keyring", (*tour).move},
		{"Make an encrypted key under a user master key", (*tour).encryptedKey},
		{"Import existing key material as an encrypted key", (*tour).importKey},
		{"Clear everything and check nothing is left", (*tour).clear},
	}
}

// afterSession lists the steps that run once the session's thread is gone.
func afterSession() []step {
	return []step{
		{"Check that the session died with its thread", (*tour).sessionGone},
	}
}

func main() {
	t := new(tour)
	n := 0
	run := func(steps []step) error {
		for _, s := range steps {
			n++
			fmt.Printf("\n%d. %s\n", n, s.title)
			if err := s.run(t); err != nil {
				return fmt.Errorf("step %d (%s): %w", n, s.title, err)
			}
		}
		return nil
	}
	fmt.Println("kernkeys tour: the Linux key retention service, step by step.")
	err := keyring.InNewSession(func(s keyring.Keyring) error {
		t.session = s
		return run(inSession())
	})
	if err == nil {
		err = run(afterSession())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tour failed:", err)
		os.Exit(1)
	}
	fmt.Println("\nDone: the tour left no key behind.")
}

// say prints one line of a step's narration.
func say(format string, args ...any) {
	fmt.Printf("   "+format+"\n", args...)
}

// keep records a key the tour created, so that the last step can check it
// was destroyed.
func (t *tour) keep(k keyring.Key) { t.made = append(t.made, k) }

func (t *tour) join() error {
	d, err := t.session.Describe()
	if err != nil {
		return err
	}
	say("This goroutine runs on its own locked OS thread, which has just joined")
	say("a new session keyring: a %s called %q, owned by uid %d.", d.Type, d.Description, d.UID)
	say("Keys linked only here die with the thread; your login session is untouched.")
	return nil
}

// demoPayload returns a new copy of the demo key's payload. It is a demo
// value; a real secret would never be a literal in the source.
func demoPayload() []byte { return []byte("demo value, not a secret") }

func (t *tour) add() error {
	payload := demoPayload()
	defer keyring.Wipe(payload) // the caller owns payload buffers: wipe them
	k, err := t.session.Add("user", "tour:demo", payload)
	if err != nil {
		return err
	}
	t.demo = k
	t.keep(k)
	say("Added a %q key described %q with a %d-byte payload to the session.", "user", "tour:demo", len(payload))
	say("The kernel copied the payload; the tour wipes its own buffer and never prints it.")
	return nil
}

func (t *tour) read() error {
	got, err := t.demo.Read()
	if err != nil {
		return err
	}
	defer keyring.Wipe(got)
	want := demoPayload()
	defer keyring.Wipe(want)
	say("Read returned %d bytes; they match what was added: %v.", len(got), bytes.Equal(got, want))
	return nil
}

func (t *tour) describe() error {
	d, err := t.demo.Describe()
	if err != nil {
		return err
	}
	say("type:        %s", d.Type)
	say("description: %s", d.Description)
	say("owner:       uid %d, gid %d", d.UID, d.GID)
	say("permissions: %v (possessor, user, group, other; each alswrv)", d.Perm)
	return nil
}

func (t *tour) nest() error {
	r, err := t.session.AddKeyring("tour:nested")
	if err != nil {
		return err
	}
	t.nested = r
	t.keep(r.Key)
	if err := r.Link(t.demo); err != nil {
		return err
	}
	say("Created the keyring %q in the session and linked the key into it.", "tour:nested")
	if err := t.session.Unlink(t.demo); err != nil {
		return err
	}
	say("Unlinked the key from the session: it is now reachable only through %q.", "tour:nested")
	return t.listLinks(t.session, t.nested)
}

// listLinks prints, for each keyring, the descriptions of the keys it links.
func (t *tour) listLinks(rings ...keyring.Keyring) error {
	for _, r := range rings {
		name, err := r.Describe()
		if err != nil {
			return err
		}
		links, err := r.Links()
		if err != nil {
			return err
		}
		var names []string
		for _, k := range links {
			d, err := k.Describe()
			if err != nil {
				return err
			}
			names = append(names, d.Type+":"+d.Description)
		}
		switch len(names) {
		case 0:
			say("%q links nothing.", name.Description)
		case 1:
			say("%q links 1 key: %s", name.Description, names[0])
		default:
			say("%q links %d keys: %s", name.Description, len(names), strings.Join(names, ", "))
		}
	}
	return nil
}

func (t *tour) search() error {
	k, err := t.session.Search("user", "tour:demo")
	if err != nil {
		return err
	}
	say("Search(%q, %q) from the session found the key: same key as added: %v.", "user", "tour:demo", k == t.demo)
	say("The search went down into %q, which the session links.", "tour:nested")
	_, err = t.session.Search("user", "tour:absent")
	if !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("searching for an absent key: got %v, want ErrNotFound", err)
	}
	say("Search(%q, %q) fails: errors.Is(err, keyring.ErrNotFound) = true.", "user", "tour:absent")
	return nil
}

func (t *tour) tree() error {
	say("Walk visits the session and everything below it, depth first:")
	return t.session.Walk(func(n keyring.Node) error {
		indent := ""
		if n.Depth > 0 {
			indent = strings.Repeat("    ", n.Depth-1) + " \\_ "
		}
		if n.Err != nil {
			say("  %-24s  %s(cannot describe: %v)", "?", indent, errno(n.Err))
			return nil
		}
		say("  %v  %s%s: %s", n.Description.Perm, indent, n.Description.Type, n.Description.Description)
		return nil
	})
}

func (t *tour) perm() error {
	before, err := t.demo.Describe()
	if err != nil {
		return err
	}
	// Keep every right for a possessor and let the owner view and read
	// the key even without possessing it.
	p := keyring.PermAll.Possessor() | (keyring.PermView | keyring.PermRead).User()
	if err := t.demo.SetPerm(p); err != nil {
		return err
	}
	after, err := t.demo.Describe()
	if err != nil {
		return err
	}
	parsed, err := keyring.ParsePerm(after.Perm.String())
	if err != nil {
		return err
	}
	say("before: %v", before.Perm)
	say("after:  %v  (PermAll.Possessor() | (PermView|PermRead).User())", after.Perm)
	say("ParsePerm reads the alswrv form back to the same mask: %v.", parsed == after.Perm)
	return nil
}

func (t *tour) timeout() error {
	if err := t.demo.SetTimeout(90 * time.Second); err != nil {
		return err
	}
	say("SetTimeout(90s): the key now expires in a minute and a half.")
	if left, ok := procTimeout(t.demo); ok {
		say("/proc/keys shows the time left as %q.", left)
	}
	if err := t.demo.SetTimeout(0); err != nil {
		return err
	}
	say("SetTimeout(0) removes the timeout again.")
	if left, ok := procTimeout(t.demo); ok {
		say("/proc/keys shows %q: permanent.", left)
	}
	return nil
}

// procTimeout returns the timeout column of k's line in /proc/keys.
func procTimeout(k keyring.Key) (string, bool) {
	keys, err := keyring.ProcKeys()
	if err != nil {
		return "", false
	}
	for _, p := range keys {
		if p.ID == k.ID() {
			return p.Timeout, true
		}
	}
	return "", false
}

func (t *tour) expire() error {
	payload := []byte("short-lived")
	k, err := t.session.Add("user", "tour:short-lived", payload)
	keyring.Wipe(payload)
	if err != nil {
		return err
	}
	t.keep(k)
	if err := k.SetTimeout(time.Second); err != nil {
		return err
	}
	say("Added %q with a timeout of one second; waiting for it to expire...", "tour:short-lived")
	deadline := time.Now().Add(3 * time.Second)
	for {
		b, err := k.Read()
		keyring.Wipe(b)
		if errors.Is(err, keyring.ErrExpired) {
			say("Read now fails: errors.Is(err, keyring.ErrExpired) = true (errno: %v).", errno(err))
			say("An expired key stays linked until the garbage collector removes it; unlinking it now.")
			return t.session.Unlink(k)
		}
		if err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("the key did not expire within three seconds")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (t *tour) revoke() error {
	payload := []byte("revoke me")
	k, err := t.session.Add("user", "tour:revoked", payload)
	keyring.Wipe(payload)
	if err != nil {
		return err
	}
	t.keep(k)
	if err := k.Revoke(); err != nil {
		return err
	}
	say("Added %q and revoked it. Every operation but unlink now fails:", "tour:revoked")
	_, err = k.Read()
	if !errors.Is(err, keyring.ErrRevoked) {
		return fmt.Errorf("reading a revoked key: got %v, want ErrRevoked", err)
	}
	say("  Read:   errors.Is(err, keyring.ErrRevoked) = true, errors.Is(err, keyring.ErrNotFound) = %v (errno: %v)",
		errors.Is(err, keyring.ErrNotFound), errno(err))
	_, err = t.session.Search("user", "tour:revoked")
	if !errors.Is(err, keyring.ErrRevoked) {
		return fmt.Errorf("searching for a revoked key: got %v, want ErrRevoked", err)
	}
	say("  Search: errors.Is(err, keyring.ErrRevoked) = true: the search found it, revoked.")
	if err := t.session.Unlink(k); err != nil {
		return err
	}
	_, err = t.session.Search("user", "tour:revoked")
	if !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("searching for an unlinked key: got %v, want ErrNotFound", err)
	}
	say("After Unlink, Search: errors.Is(err, keyring.ErrNotFound) = true (errno: %v).", errno(err))
	var e *keyring.Error
	if errors.As(err, &e) {
		say("errors.As gives the *keyring.Error: Op %q, ID the session's: %v, Errno %q.",
			e.Op, e.ID == t.session.ID(), e.Errno.Error())
	}
	return nil
}

func (t *tour) move() error {
	r, err := t.session.AddKeyring("tour:other")
	if err != nil {
		return err
	}
	t.other = r
	t.keep(r.Key)
	err = t.nested.Move(t.demo, r)
	if errors.Is(err, keyring.ErrNotSupported) {
		say("This kernel has no KEYCTL_MOVE (Linux 5.3): linking, then unlinking.")
		if err = r.Link(t.demo); err == nil {
			err = t.nested.Unlink(t.demo)
		}
	}
	if err != nil {
		return err
	}
	say("Moved the key from %q to %q in one call.", "tour:nested", "tour:other")
	if err := t.listLinks(t.nested, t.other); err != nil {
		return err
	}
	return t.tree()
}

func (t *tour) encryptedKey() error {
	// A master key: any user key. Its bytes are the tour's to wipe.
	t.master = make([]byte, 32)
	if _, err := rand.Read(t.master); err != nil {
		return err
	}
	mk, err := t.session.Add("user", "tour:kmk", t.master)
	if err != nil {
		return err
	}
	t.keep(mk)
	master := encrypted.Master{Kind: encrypted.UserMaster, Name: "tour:kmk"}
	p, err := encrypted.NewPayload(encrypted.Options{Format: encrypted.Enc32, Master: master, Length: 32})
	if err != nil {
		return err
	}
	say("Added a random 32-byte master key as the user key %q.", master.Name)
	say("Asking the kernel for a new encrypted key: %q.", p)
	k, err := t.session.Add("encrypted", "tour:enc32", p)
	if err != nil {
		return err
	}
	t.keep(k)
	b, err := encrypted.ReadBlob(k)
	if err != nil {
		return err
	}
	say("The kernel made 32 random bytes; userspace only ever sees them encrypted:")
	say("reading the key returns a blob: format %s, master %s, %d bytes of ciphertext.", b.Format, b.Master, len(b.Ciphertext))
	plain, err := encrypted.Open(b, t.master)
	if err != nil {
		return err
	}
	defer keyring.Wipe(plain)
	say("encrypted.Open, with the master key's bytes, verifies the HMAC and decrypts it:")
	say("%d bytes, the key the kernel holds (not printed).", len(plain))
	return nil
}

func (t *tour) importKey() error {
	defer keyring.Wipe(t.master)
	material := make([]byte, 64) // stands for a key that already protects data
	defer keyring.Wipe(material)
	if _, err := rand.Read(material); err != nil {
		return err
	}
	master := encrypted.Master{Kind: encrypted.UserMaster, Name: "tour:kmk"}
	k, b, err := encrypted.Import(t.session, "tour:imported", material,
		encrypted.ImportOptions{Format: encrypted.Default, Master: master})
	if err != nil {
		return err
	}
	t.keep(k)
	say("encrypted.Import sealed %d bytes of existing key material under a temporary", len(material))
	say("random master, loaded the blob into the kernel, revoked the temporary master and")
	say("switched the key to %s: the kernel cannot take chosen key data any other way here.", master)
	plain, err := encrypted.Open(b, t.master)
	if err != nil {
		return err
	}
	defer keyring.Wipe(plain)
	say("The blob to store is %s under %s; it opens to the imported bytes: %v.", b.Format, b.Master, bytes.Equal(plain, material))
	return nil
}

func (t *tour) clear() error {
	if err := t.session.Clear(); err != nil {
		return err
	}
	links, err := t.session.Links()
	if err != nil {
		return err
	}
	if len(links) != 0 {
		return fmt.Errorf("the session still links %d key(s) after Clear", len(links))
	}
	say("Clear unlinked everything from the session; it now links %d keys.", len(links))
	say("Waiting for the kernel's garbage collector to destroy the %d keys the tour made...", len(t.made))
	if err := waitGone(t.made...); err != nil {
		return err
	}
	say("All %d are gone: describing any of them gives keyring.ErrNotFound.", len(t.made))
	return nil
}

func (t *tour) sessionGone() error {
	say("The thread has exited, and with it the only reference to its session keyring.")
	if err := waitGone(t.session.Key); err != nil {
		return err
	}
	say("Describing the session keyring now gives keyring.ErrNotFound: it is gone too.")
	return nil
}

// waitGone waits until every key in keys has been destroyed. The kernel
// destroys a key in its garbage collector, some tens of milliseconds after
// the last reference goes.
func waitGone(keys ...keyring.Key) error {
	deadline := time.Now().Add(5 * time.Second)
	for _, k := range keys {
		for {
			_, err := k.Describe()
			if errors.Is(err, keyring.ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				if err == nil {
					return fmt.Errorf("key %v still exists", k)
				}
				return fmt.Errorf("key %v still exists: %w", k, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// errno returns the kernel's errno in err, or err itself: the errno's text
// names no key, where the full message names the key's serial.
func errno(err error) error {
	var e *keyring.Error
	if errors.As(err, &e) {
		return e.Errno
	}
	return err
}
