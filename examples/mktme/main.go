// Command mktme tries the two kinds of memory-encryption key that Intel's
// MKTME RFCs proposed for the kernel's key service, a user key (a key and
// tweak the caller supplies) and a CPU-generated key, in a private session
// keyring, and prints what the running kernel answers.
//
//	mktme [--grammar v2|v1]
//
// The "mktme" key type was proposed in 2018 and 2019 and never merged into
// mainline Linux, so a mainline kernel answers that it is not supported:
// the command says so and exits 0. Without CAP_SYS_RESOURCE or
// CAP_SYS_ADMIN the library refuses before the system call, and the
// command reports that instead. On a kernel built with the RFC patches it
// creates both keys, shows that update, timeout, invalidate and unlink are
// refused, and revokes them. The user key's key and tweak are random and
// never printed; the payloads are shown with the key material left out.
// encrypt_mprotect(), the system call that would have encrypted memory
// with such a key, is not in mainline either and has no number.
//
// Threads: everything runs inside keyring.InNewSession, a private session
// keyring on a locked OS thread that exits afterwards, so the keys it tries
// die with the thread and never touch the caller's keyrings.
//
// Exit status: 0 when every answer is one the RFCs define (created, not
// supported, missing capability, no free KeyID); 1 otherwise; 2 on a usage
// error.
package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/mktme"
)

const usage = `usage: mktme [--grammar v2|v1]

Tries an MKTME user key and a CPU-generated key in a private session
keyring and prints what the running kernel answers. --grammar selects the
payload grammar: v2 (RFC v2, 2018-12, type=user|cpu) or v1 (RFC v1,
2018-09, userkey=/entropy=).`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mktme", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	grammar := fs.String("grammar", "v2", "payload grammar: v2 or v1")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintln(stdout, usage)
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "mktme: %v\n%s\n", err, usage)
		return 2
	case fs.NArg() != 0:
		fmt.Fprintf(stderr, "mktme: unexpected argument %q\n%s\n", fs.Arg(0), usage)
		return 2
	case *grammar != "v1" && *grammar != "v2":
		fmt.Fprintf(stderr, "mktme: --grammar must be v1 or v2\n%s\n", usage)
		return 2
	}

	if err := mktme.Probe(); err != nil {
		fmt.Fprintf(stdout, "kernel: %v\n", err)
	} else {
		fmt.Fprintln(stdout, `kernel: has the "mktme" key type`)
	}
	switch ok, err := mktme.HasCapability(); {
	case err != nil:
		fmt.Fprintf(stdout, "capability: cannot tell: %v\n", err)
	case ok:
		fmt.Fprintln(stdout, "capability: this thread has CAP_SYS_RESOURCE or CAP_SYS_ADMIN")
	default:
		fmt.Fprintln(stdout, "capability: this thread has neither CAP_SYS_RESOURCE nor CAP_SYS_ADMIN")
	}

	user, cpu, err := options(*grammar)
	if err != nil {
		fmt.Fprintf(stderr, "mktme: %v\n", err)
		return 1
	}
	defer user.Wipe()
	defer cpu.Wipe()

	failed := false
	err = keyring.InNewSession(func(s keyring.Keyring) error {
		for _, c := range []struct {
			name string
			o    mktme.Options
		}{{"user key", user}, {"cpu key", cpu}} {
			if !try(stdout, s, c.name, c.o) {
				failed = true
			}
		}
		return nil
	})
	if err != nil {
		fmt.Fprintf(stderr, "mktme: a private session keyring: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "encrypt_mprotect: not in mainline Linux and has no system call number: memory cannot be encrypted with an MKTME key")
	if failed {
		return 1
	}
	return 0
}

// options returns a user key with a random key and tweak, and a CPU key,
// in the grammar asked for.
func options(grammar string) (user, cpu mktme.Options, err error) {
	if grammar == "v1" {
		b := make([]byte, 2*mktme.KeySizeV1)
		if _, err := rand.Read(b); err != nil {
			return user, cpu, err
		}
		entropy := make([]byte, mktme.KeySizeV1)
		if _, err := rand.Read(entropy); err != nil {
			return user, cpu, err
		}
		user.Payload = mktme.V1{UserKey: b[:mktme.KeySizeV1], Tweak: b[mktme.KeySizeV1:]}
		cpu.Payload = mktme.V1{Entropy: entropy}
		return user, cpu, nil
	}
	b := make([]byte, 2*mktme.KeySize)
	if _, err := rand.Read(b); err != nil {
		return user, cpu, err
	}
	// The zero cpu Options is a CPU-generated key in the RFC v2 grammar.
	user.Payload = mktme.V2{Type: mktme.UserSupplied, Key: b[:mktme.KeySize], Tweak: b[mktme.KeySize:]}
	return user, cpu, nil
}

// try adds one key to s and prints the kernel's answer. It reports whether
// the answer is one the RFCs define.
func try(w io.Writer, s keyring.Keyring, name string, o mktme.Options) bool {
	fmt.Fprintf(w, "%s: payload %v\n", name, o)
	k, err := mktme.New(s, "kernkeys-example:"+name, o)
	switch {
	case errors.Is(err, mktme.ErrPoolExhausted):
		fmt.Fprintf(w, "%s: no free KeyID: %v\n", name, err)
		return true
	case errors.Is(err, keyring.ErrNotSupported):
		fmt.Fprintf(w, "%s: not supported: %v\n", name, err)
		return true
	case errors.Is(err, keyring.ErrPermission):
		fmt.Fprintf(w, "%s: permission denied: %v\n", name, err)
		return true
	case err != nil:
		fmt.Fprintf(w, "%s: unexpected error: %v\n", name, err)
		return false
	}
	fmt.Fprintf(w, "%s: created\n", name)
	for _, op := range []struct {
		name string
		err  error
	}{
		{"update", mktme.Update(k, mktme.Options{Payload: mktme.V2{Type: mktme.Clear}})},
		{"set timeout", mktme.SetTimeout(k, time.Minute)},
		{"invalidate", mktme.Invalidate(k)},
		{"unlink", mktme.Unlink(k, s)},
	} {
		fmt.Fprintf(w, "%s: %s refused: %v\n", name, op.name, errors.Is(op.err, mktme.ErrForbidden))
	}
	if err := k.Revoke(); err != nil {
		fmt.Fprintf(w, "%s: revoke: %v\n", name, err)
		return false
	}
	fmt.Fprintf(w, "%s: revoked\n", name)
	if err := s.Unlink(k); err != nil { // allowed once revoked
		fmt.Fprintf(w, "%s: unlink after revoke: %v\n", name, err)
		return false
	}
	return true
}
