// Command credential-helper is a git credential helper that keeps
// credentials in the kernel's keyrings, through package secretstore,
// instead of in a file (credential-store) or a daemon's memory
// (credential-cache).
//
//	credential-helper [--scope persistent|user|session] [--timeout DURATION] [--prefix PREFIX] get|store|erase|list
//
// Tell git to use it (an absolute path, with any options):
//
//	git config --global credential.helper "/usr/local/bin/credential-helper --timeout 8h"
//
// git runs it with one action and writes the credential's attributes on
// its standard input, "name=value" lines ending with an empty line or EOF
// (gitcredentials(7), "custom helpers"):
//
//   - store: keeps every attribute except protocol, host and path (so
//     username, password, password_expiry_utc, oauth_refresh_token) as one
//     secret named "<protocol>://<host>[/<path>]", replacing the one there.
//   - get: prints the stored attributes for protocol, host and path, or
//     nothing when there are none or when git asks for another username.
//   - erase: deletes them, unless git names another username.
//   - list (not a git action): prints the names of the stored credentials.
//
// Where: --scope persistent (the default) is the user's persistent keyring,
// shared by all the user's sessions and kept while any process asks for it
// within three days (/proc/sys/kernel/keys/persistent_keyring_expiry);
// user is the user keyring (@u), gone when the user's last process exits;
// session is the caller's session keyring, gone with the login session.
// --timeout makes each stored credential expire; --prefix names the store
// ("git-credential" by default), the first part of each key's description:
//
//	keyctl show @u   # with --scope user: ... user: git-credential:https://example.com
//
// Each credential is a "user" key that only the user who stored it can
// read, from any process of theirs; nobody else can, not even a process of
// another user that shares the session (package secretstore says why). The
// password is read from standard input into a buffer that is wiped, kept in
// locked memory (package secret) while it is handled, and never put into a
// Go string, a log line or an error message.
//
// Threads: nothing to do. secretstore runs every operation on a fresh OS
// thread of its own, so this program works in its caller's keyrings
// whatever thread a goroutine runs on.
//
// Exit status: 0 when done, also when get or erase find nothing (git treats
// that as "no credential"); 1 on an error (reported on standard error: a
// kernel without persistent keyrings says to use --scope user); 2 on a
// usage error.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/secret"
	"github.com/kernkeys/kernkeys/secretstore"
)

const usage = `usage: credential-helper [--scope persistent|user|session] [--timeout DURATION] [--prefix PREFIX] get|store|erase|list

A git credential helper that keeps credentials in the kernel's keyrings.
  git config --global credential.helper "/path/to/credential-helper --timeout 8h"

  --scope    persistent (default): the user's persistent keyring;
             user: the user keyring (@u); session: the session keyring
  --timeout  let each stored credential expire after DURATION (e.g. 8h)
  --prefix   the store's name, the start of every key description
             (default git-credential)`

// maxInput bounds what is read from standard input: a credential is a few
// lines, and a user key holds at most 32767 bytes.
const maxInput = 32 << 10

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("credential-helper", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	scopeName := fs.String("scope", "persistent", "persistent, user or session")
	timeout := fs.Duration("timeout", 0, "expiry of stored credentials")
	prefix := fs.String("prefix", "git-credential", "the store's name")
	scopes := map[string]secretstore.Scope{"persistent": secretstore.Persistent, "user": secretstore.User, "session": secretstore.Session}
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintln(stdout, usage)
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "credential-helper: %v\n%s\n", err, usage)
		return 2
	case fs.NArg() != 1:
		fmt.Fprintf(stderr, "credential-helper: want one action\n%s\n", usage)
		return 2
	}
	scope, ok := scopes[*scopeName]
	if !ok {
		fmt.Fprintf(stderr, "credential-helper: unknown scope %q\n%s\n", *scopeName, usage)
		return 2
	}
	action := fs.Arg(0)
	switch action {
	case "get", "store", "erase", "list":
	default:
		// gitcredentials(7): "If a helper receives any other operation, it
		// should silently ignore the request", so that git may add some.
		return 0
	}

	store, err := secretstore.Open(secretstore.Options{Prefix: *prefix, Scope: scope, Expiry: *timeout})
	if err == nil {
		err = do(store, action, stdin, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "credential-helper: %s: %v\n", action, err)
		if errors.Is(err, keyring.ErrNotSupported) && scope == secretstore.Persistent {
			fmt.Fprintln(stderr, "credential-helper: try --scope user")
		}
		return 1
	}
	return 0
}

// do runs action on store with git's attributes from stdin.
func do(store *secretstore.Store, action string, stdin io.Reader, stdout io.Writer) error {
	if action == "list" {
		names, err := store.List()
		for _, n := range names {
			fmt.Fprintln(stdout, n)
		}
		return err
	}
	// The input holds the password on store: read it straight into locked
	// memory, which Close wipes.
	buf, err := secret.New(maxInput + 1)
	if err != nil {
		return err
	}
	defer buf.Close()
	n, err := readAll(stdin, buf.Bytes())
	if err != nil {
		return err
	}
	if n > maxInput {
		return fmt.Errorf("more than %d bytes of attributes on standard input", maxInput)
	}
	c := parse(buf.Bytes()[:n])
	if c.name == "" {
		if action == "get" {
			return nil // nothing to look up: no answer
		}
		return errors.New("git gave no protocol and host")
	}
	switch action {
	case "store":
		return storeCredential(store, c)
	case "get":
		b, err := stored(store, c)
		if b == nil || err != nil {
			return err
		}
		defer b.Close()
		_, err = stdout.Write(b.Bytes())
		return err
	}
	b, err := stored(store, c) // erase
	if b == nil || err != nil {
		return err
	}
	b.Close()
	if err := store.Delete(c.name); !errors.Is(err, keyring.ErrNotFound) {
		return err
	}
	return nil
}

// readAll reads r into buf until EOF or until buf is full, and returns the
// number of bytes read. Unlike io.ReadAll it never grows a buffer, which
// would leave copies behind.
func readAll(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// credential is what git wrote: the secret's name, the username it asks
// for, and the lines to store, slices of the input.
type credential struct {
	name     string
	username []byte
	lines    [][]byte
}

// parse reads git's "name=value" lines up to an empty line. protocol, host
// and path make the name; capability[], wwwauth[] and state[] describe
// this request only and are not stored.
func parse(in []byte) credential {
	var c credential
	var protocol, host, path string
	for _, line := range bytes.Split(in, []byte("\n")) {
		if len(line) == 0 {
			break
		}
		key, value, ok := bytes.Cut(line, []byte("="))
		if !ok {
			continue
		}
		switch string(key) {
		case "protocol":
			protocol = string(value)
		case "host":
			host = string(value)
		case "path":
			path = string(value)
		case "capability[]", "wwwauth[]", "state[]":
		case "username":
			c.username = value
			c.lines = append(c.lines, line)
		default:
			c.lines = append(c.lines, line)
		}
	}
	if protocol != "" && host != "" {
		c.name = protocol + "://" + host
		if path != "" {
			c.name += "/" + path
		}
	}
	return c
}

// storeCredential stores c's lines, built in locked memory.
func storeCredential(store *secretstore.Store, c credential) error {
	n := 0
	for _, l := range c.lines {
		n += len(l) + 1
	}
	if n == 0 {
		return errors.New("git gave nothing to store")
	}
	b, err := secret.New(n)
	if err != nil {
		return err
	}
	defer b.Close()
	p := b.Bytes()[:0]
	for _, l := range c.lines {
		p = append(append(p, l...), '\n') // within b's capacity: no copy elsewhere
	}
	return store.Set(c.name, p)
}

// stored returns the credential stored for c's name, or nil when there is
// none or when c asks for another username than the stored one.
func stored(store *secretstore.Store, c credential) (*secret.Buffer, error) {
	b, err := store.Get(c.name)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.username == nil {
		return b, nil
	}
	for _, line := range bytes.Split(b.Bytes(), []byte("\n")) { // slices of b, no copies
		if u, ok := bytes.CutPrefix(line, []byte("username=")); ok && bytes.Equal(u, c.username) {
			return b, nil
		}
	}
	b.Close()
	return nil, nil
}
