package secretstore

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kernkeys/kernkeys/internal/kerr"
	"github.com/kernkeys/kernkeys/internal/keyctl"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/secret"
)

// Scope is the keyring a Store keeps its secrets in.
type Scope int

const (
	// Persistent is the calling user's persistent keyring
	// (KEYCTL_GET_PERSISTENT, CONFIG_PERSISTENT_KEYRINGS): it outlives
	// sessions and logins, is shared by every process of the user, and
	// expires after /proc/sys/kernel/keys/persistent_keyring_expiry seconds
	// (3 days by default) in which no process asks for it. It is the zero
	// Scope.
	Persistent Scope = iota
	// User is the user keyring (@u): shared by every process of the user
	// while any of them runs or any key holds it.
	User
	// Session is the session keyring that the process's threads share,
	// resolved once by Open: the one the process inherited, or one that
	// package keyring/sessioninit or keyring.JoinProcessSession gave every
	// thread. Processes that share the session share the secrets; they die
	// with the session.
	Session
)

// String returns "persistent", "user" or "session".
func (s Scope) String() string {
	switch s {
	case Persistent:
		return "persistent"
	case User:
		return "user"
	case Session:
		return "session"
	}
	return "Scope(" + strconv.Itoa(int(s)) + ")"
}

// Perm is the permission mask of every secret a Store sets: every right
// for the owning user, none for the possessor, the group or others. The
// owner reaches the secret from any thread and any process through the
// user class; nobody else does, not even a process of another user that
// possesses it (possession crosses uids: a process started under another
// uid from the owner's session possesses what the session links).
const Perm = keyring.PermAll << 16 // keyring.PermAll.User(), as a constant

// Options configure Open. The zero value is not usable: Prefix is
// required.
type Options struct {
	// Prefix names the store: a secret called name is the "user" key
	// described "<Prefix>:<name>" in the scope's keyring. Use the
	// program's name ("git-credential"), so that stores of different
	// programs do not meet.
	Prefix string
	// Scope is the keyring the secrets live in; the zero value is
	// Persistent.
	Scope Scope
	// Expiry, when positive, makes each secret expire that long after Set
	// stored it (KEYCTL_SET_TIMEOUT, rounded up to whole seconds); an
	// expired secret is not found. Zero means no expiry. The kernel sets
	// the expiry to the wall clock's current second plus the timeout
	// (key_set_timeout in security/keys/key.c), so a secret may expire up
	// to a second before Expiry has passed.
	Expiry time.Duration
}

// Store is a set of named secrets in one keyring. It holds no kernel
// resource (nothing to Close) and is safe for concurrent use from any
// goroutine: every operation but reading the User scope runs on a
// short-lived OS thread of its own (keyring.OnThread).
type Store struct {
	prefix  string
	scope   Scope
	session keyring.ID // the serial of the Session scope's keyring
	expiry  time.Duration
}

// Open checks o and the scope's keyring and returns the Store. For
// Persistent it asks the kernel for the persistent keyring once, so that
// a kernel without them fails here; for Session it resolves the session
// keyring of the process's threads to its serial.
//
// Errors: keyring.ErrInvalid (refused input, Field naming the option),
// keyring.ErrNotSupported (the kernel lacks persistent keyrings: use User
// or Session; or this is not Linux), keyring.ErrPermission,
// keyring.ErrQuota.
func Open(o Options) (*Store, error) {
	const op = "secretstore.Open"
	switch {
	case o.Prefix == "":
		return nil, kerr.Refuse(op, "Options.Prefix", "empty prefix")
	case o.Scope < Persistent || o.Scope > Session:
		return nil, kerr.Refuse(op, "Options.Scope", "unknown scope "+o.Scope.String())
	case o.Expiry < 0:
		return nil, kerr.Refuse(op, "Options.Expiry", "negative expiry")
	}
	if err := checkName(op, "Options.Prefix", o.Prefix, len(":x")); err != nil {
		return nil, err
	}
	s := &Store{prefix: o.Prefix + ":", scope: o.Scope, expiry: o.Expiry}
	if s.scope == Session {
		err := keyring.OnThread(func() (err error) {
			s.session, err = keyring.Session().Resolve()
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	// Reach the scope's keyring as every operation will.
	if err := s.do(op, false, func(keyring.Keyring) error { return nil }); err != nil {
		return nil, err
	}
	return s, nil
}

// persistent links the caller's persistent keyring into the calling
// thread's keyring, which it creates: the thread then possesses the
// persistent keyring, whose user class grants only view and read
// (security/keys/persistent.c), until the thread exits.
func persistent() (keyring.Keyring, error) {
	p, err := keyring.Persistent(-1, keyring.Thread())
	return p, noPersistent(err)
}

// noPersistent gives the error of a kernel without persistent keyrings
// the advice to use another scope; other errors pass unchanged.
func noPersistent(err error) error {
	var e *keyring.Error
	if errors.Is(err, keyring.ErrNotSupported) && errors.As(err, &e) {
		return kerr.WithReason(e, "the kernel lacks persistent keyrings (CONFIG_PERSISTENT_KEYRINGS); use the User or Session scope")
	}
	return err
}

// checkName refuses a name (or prefix) that cannot be part of a key
// description. extra is the length the rest of the description adds.
func checkName(op, field, name string, extra int) error {
	switch {
	case name == "":
		return kerr.Refuse(op, field, "empty name")
	case strings.IndexByte(name, 0) >= 0:
		return kerr.Refuse(op, field, "name contains a NUL byte")
	case len(name)+extra > keyring.MaxDescription:
		return kerr.Refuse(op, field, "name makes a description longer than "+strconv.Itoa(keyring.MaxDescription)+" bytes")
	}
	return nil
}

// desc returns the key description of the secret name, or the refusal.
func (s *Store) desc(op, name string) (string, error) {
	if err := checkName(op, "name", name, len(s.prefix)); err != nil {
		return "", err
	}
	return s.prefix + name, nil
}

// do runs fn, for op, with the scope's keyring as target, on a new locked
// OS thread. The thread's own keyring (@t), where Set stages a new secret
// (stage) and where the persistent keyring is linked to be possessed, dies
// with the thread, and with it anything left there by a step that failed.
// Reading @u needs neither: its user class grants the user everything, on
// every thread, so that runs on the caller's thread, saving the thread's
// start and exit (some 100 to 200 microseconds).
func (s *Store) do(op string, stage bool, fn func(target keyring.Keyring) error) error {
	if s.scope == User && !stage {
		return fn(keyring.User())
	}
	return keyring.OnThread(func() error {
		switch s.scope {
		case Persistent:
			p, err := persistent()
			if err != nil {
				return err
			}
			return fn(p)
		case Session:
			// The thread needs the session as its own to possess it: a
			// session keyring grants its user class only view and read.
			id, err := keyring.Session().Resolve()
			if err != nil {
				return err
			}
			if id != s.session {
				return &keyring.Error{Op: op, ID: s.session, Errno: syscall.EACCES,
					Reason: "the store's session keyring is not the session of this process's threads (" + id.String() + "): open the store where every thread shares one session"}
			}
			return fn(s.session.Keyring())
		}
		return fn(keyring.User())
	})
}

// find returns the secret desc that target links directly, for op.
// KEYCTL_SEARCH also looks into the keyrings target links (a session
// usually links @u), but it examines target's own keys before descending:
// when target links a searchable match, that is the one found. A key found
// deeper belongs to another scope and counts as not found. A key of the
// name that another user owns is refused: anyone who may write to the
// keyring (every process that shares a session possesses it) can link a
// key there, and its payload is not the caller's secret.
func (s *Store) find(op string, target keyring.Keyring, name, desc string) (keyring.Key, error) {
	k, err := target.Search("user", desc)
	if err == nil {
		var links []keyring.Key
		if links, err = target.Links(); err == nil && !slices.Contains(links, k) {
			err = &keyring.Error{Op: "search", ID: target.ID(), Errno: keyctl.ENOKEY}
		}
	}
	var d keyring.Description
	if err == nil {
		d, err = k.Describe()
	}
	switch {
	case errors.Is(err, keyring.ErrNotFound) || errors.Is(err, keyring.ErrExpired) || errors.Is(err, keyring.ErrRevoked):
		return keyring.Key{}, notFound(err, s, name)
	case err != nil:
		return keyring.Key{}, err
	case !ours(d):
		return keyring.Key{}, &keyring.Error{Op: op, ID: k.ID(), Errno: syscall.EACCES,
			Reason: "the key of secret " + strconv.Quote(name) + " belongs to uid " + strconv.FormatUint(uint64(d.UID), 10) + ", not to this process's user: someone else linked it there"}
	}
	return k, nil
}

// ours reports whether the key d describes is the caller's: owned by the
// effective uid, against which the kernel checks key permissions.
func ours(d keyring.Description) bool { return int64(d.UID) == int64(os.Geteuid()) }

// notFound is the error for a secret that is missing, expired, or deleted
// and not yet collected: it names the secret and matches
// keyring.ErrNotFound whatever the errno.
func notFound(err error, s *Store, name string) error {
	var e *keyring.Error
	if !errors.As(err, &e) {
		return err
	}
	return kerr.WithErr(e, "no secret "+strconv.Quote(name)+" in the "+s.scope.String()+" keyring", keyring.ErrNotFound)
}

// Get reads the secret name straight into locked memory (secret.ReadKey);
// the caller must Close the Buffer.
//
// Errors: keyring.ErrNotFound (no such secret, or it expired or was
// deleted; an expired one also matches keyring.ErrExpired),
// keyring.ErrPermission (the key of that name is another user's, or the
// Session scope's keyring is not this process's session), keyring.ErrInvalid
// (a bad name, refused), secret.ErrLockLimit, keyring.ErrNotSupported.
func (s *Store) Get(name string) (*secret.Buffer, error) {
	const op = "secretstore.Get"
	desc, err := s.desc(op, name)
	if err != nil {
		return nil, err
	}
	var b *secret.Buffer
	err = s.do(op, false, func(target keyring.Keyring) error {
		k, err := s.find(op, target, name, desc)
		if err != nil {
			return err
		}
		b, err = secret.ReadKey(k)
		if errors.Is(err, keyring.ErrNotFound) || errors.Is(err, keyring.ErrExpired) || errors.Is(err, keyring.ErrRevoked) {
			return notFound(err, s, name) // deleted or expired since the search
		}
		return err
	})
	return b, err
}

// Set stores value as the secret name, replacing any secret of that name
// at once: a reader sees the old value or the new, never neither. The
// kernel copies value; the caller still owns it and should wipe it.
//
// The new key is made where nobody else can see it, the calling thread's
// own keyring, given its timeout and the permissions Perm there, and only
// then linked into the scope's keyring, which replaces the old key in one
// step (KEYCTL_LINK displaces a key of the same type and description).
// Between add_key and KEYCTL_SETPERM it has the kernel's default
// permissions (key_create_or_update in security/keys/key.c: all the
// possessor needs, view for the user, nothing for group and other), in a
// keyring only that thread possesses: the owner's other processes could at
// most see that it exists, and nobody else anything. If a step fails, the
// old secret is untouched and the new key dies with the thread.
// Updating the old key in place (KEYCTL_UPDATE) would be atomic too, but
// could not change the payload and the timeout in one step, and would keep
// whatever permissions the old key had.
//
// Errors: keyring.ErrInvalid (a bad name, or an empty value or one over
// 32767 bytes, refused), keyring.ErrQuota (the user's key quota: 200 keys
// and 20000 bytes by default; replacing a secret needs room for both
// values for a moment), keyring.ErrPermission, keyring.ErrNotSupported.
func (s *Store) Set(name string, value []byte) error {
	const op = "secretstore.Set"
	desc, err := s.desc(op, name)
	if err != nil {
		return err
	}
	return s.do(op, true, func(target keyring.Keyring) error {
		k, err := keyring.Thread().Add("user", desc, value)
		if err != nil {
			return err
		}
		if s.expiry > 0 {
			if err := k.SetTimeout(s.expiry); err != nil {
				return err
			}
		}
		if err := k.SetPerm(Perm); err != nil {
			return err
		}
		return target.Link(k)
	})
}

// Delete removes the secret name: it is invalidated (KEYCTL_INVALIDATE),
// so that it leaves every keyring that links it at once and its payload
// is destroyed.
//
// Errors: keyring.ErrNotFound (no such secret), keyring.ErrPermission,
// keyring.ErrInvalid (a bad name, refused).
func (s *Store) Delete(name string) error {
	const op = "secretstore.Delete"
	desc, err := s.desc(op, name)
	if err != nil {
		return err
	}
	return s.do(op, false, func(target keyring.Keyring) error {
		k, err := s.find(op, target, name, desc)
		if err != nil {
			return err
		}
		err = k.Invalidate()
		if errors.Is(err, keyring.ErrNotFound) || errors.Is(err, keyring.ErrRevoked) {
			return notFound(err, s, name) // deleted since the search
		}
		return err
	})
}

// List returns the names of the store's secrets, sorted. Keys of the
// scope's keyring that are not the store's, that another user owns or
// that the caller may not see, expired ones and ones deleted meanwhile,
// are left out.
//
// Errors: keyring.ErrPermission, keyring.ErrNotSupported.
func (s *Store) List() ([]string, error) {
	var names []string
	err := s.do("secretstore.List", false, func(target keyring.Keyring) error {
		links, err := target.Links()
		if err != nil {
			return err
		}
		for _, k := range links {
			d, err := k.Describe()
			if err != nil {
				continue // gone, expired, or not ours to see
			}
			if name, ok := strings.CutPrefix(d.Description, s.prefix); ok && d.Type == "user" && name != "" && ours(d) {
				names = append(names, name)
			}
		}
		return nil
	})
	slices.Sort(names)
	return names, err
}
