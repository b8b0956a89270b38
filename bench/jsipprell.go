//go:build linux && cgo && jsipprell

// This file is the bench's only use of github.com/jsipprell/keyctl, and it
// is built only with -tags jsipprell: the Go module proxy does not serve
// that module, so go.mod does not require it, and the default build runs
// without it (its rows print "–"). README.md says how to point the bench
// at a checkout of it and run the comparison.

package main

import (
	"fmt"
	"runtime/debug"

	jk "github.com/jsipprell/keyctl"
	"github.com/kernkeys/kernkeys/keyring"
)

const jsipprellBuilt = true

// jFixture is jsipprell/keyctl's view of the fixture: the same keyrings,
// and three handles on the same key.
type jFixture struct {
	ring1, ring1000, linkRing, add jk.Keyring
	key, keyRead, keyUpdate        *jk.Key
}

// jsipprellVersion names the module version built and, when go.mod
// replaces it, the directory it came from.
func jsipprellVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "built (version unknown)"
	}
	for _, m := range bi.Deps {
		if m.Path != "github.com/jsipprell/keyctl" {
			continue
		}
		if m.Replace != nil {
			return fmt.Sprintf("%s => %s %s", m.Version, m.Replace.Path, m.Replace.Version)
		}
		return m.Version
	}
	return "built (version unknown)"
}

// setupJsipprell finds the fixture's keyrings and key the only way
// jsipprell/keyctl can: it cannot take a serial, so it opens the keyrings
// by name in the session (@s) and searches for the key.
func setupJsipprell(fx *fixture) (*jFixture, error) {
	j := &jFixture{}
	js, err := jk.SessionKeyring()
	if err != nil {
		return nil, fmt.Errorf("jsipprell/keyctl: session keyring: %w", err)
	}
	open := func(r keyring.Keyring, name string) jk.Keyring {
		if err != nil {
			return nil
		}
		var kr jk.NamedKeyring
		if kr, err = jk.OpenKeyring(js, name); err == nil && keyring.ID(kr.Id()) != r.ID() {
			err = fmt.Errorf("jsipprell/keyctl: OpenKeyring(%q) = %d, want %v", name, kr.Id(), r.ID())
		}
		return kr
	}
	j.ring1 = open(fx.ring1, "kk-bench-ring1")
	j.ring1000 = open(fx.ring1000, "kk-bench-ring1000")
	j.linkRing = open(fx.linkRing, "kk-bench-link")
	j.add = open(fx.addRing, "kk-bench-add")
	if err != nil {
		return nil, err
	}
	// Three handles on the same key: jsipprell's Key caches the payload
	// size (Get) and the timeout that Set renews, so each operation gets a
	// handle that only it uses.
	for _, p := range []**jk.Key{&j.key, &j.keyRead, &j.keyUpdate} {
		if *p, err = j.ring1.Search(desc1); err != nil {
			return nil, fmt.Errorf("jsipprell/keyctl: Search: %w", err)
		}
		if keyring.ID((*p).Id()) != fx.key.ID() {
			return nil, fmt.Errorf("jsipprell/keyctl: Search = %d, want %v", (*p).Id(), fx.key.ID())
		}
	}
	return j, nil
}

// jsipprellOps returns jsipprell/keyctl's batch function for each
// operation it has, by the operation's name (ops.go), each in its API's
// natural form, checking each answer as the other contenders do.
func jsipprellOps(fx *fixture) map[string]func(n int) error {
	j := fx.j
	search := func(ring jk.Keyring, desc string, want keyring.Key) func(int) error {
		return func(n int) error {
			for range n {
				k, err := ring.Search(desc)
				if err != nil {
					return err
				}
				if keyring.ID(k.Id()) != want.ID() {
					return errWrongAnswer
				}
			}
			return nil
		}
	}
	return map[string]func(int) error{
		// jsipprell has no create=0 form: SessionKeyring asks with
		// create=1 (the session exists, so nothing is created) and keeps
		// the special ID instead of the answer.
		opGetKeyringID: func(n int) error {
			for range n {
				if _, err := jk.SessionKeyring(); err != nil {
					return err
				}
			}
			return nil
		},
		opDescribeAlloc: func(n int) error {
			for range n {
				i, err := j.key.Info()
				if err != nil {
					return err
				}
				if i.Name != desc1 {
					return errWrongAnswer
				}
			}
			return nil
		},
		opReadAlloc: func(n int) error {
			for range n {
				p, err := j.keyRead.Get()
				if err != nil {
					return err
				}
				m := len(p)
				keyring.Wipe(p)
				if m != payloadLen {
					return errWrongAnswer
				}
			}
			return nil
		},
		opSearch1:    search(j.ring1, desc1, fx.key),
		opSearch1000: search(j.ring1000, desc1000, fx.find1000),
		opAddUnlink: func(n int) error {
			for range n {
				k, err := j.add.Add(addDesc, fx.payload)
				if err != nil {
					return err
				}
				if err := k.Unlink(); err != nil {
					return err
				}
			}
			return nil
		},
		opLinkUnlink: func(n int) error {
			for range n {
				if err := jk.Link(j.linkRing, j.key); err != nil {
					return err
				}
				if err := jk.Unlink(j.linkRing, j.key); err != nil {
					return err
				}
			}
			return nil
		},
		opSetTimeout: func(n int) error {
			for range n {
				if err := j.key.ExpireAfter(timeoutSeconds); err != nil {
					return err
				}
			}
			return nil
		},
		// A handle that never had a timeout set: otherwise Set renews the
		// timeout with a second system call.
		opUpdate: func(n int) error {
			for range n {
				if err := j.keyUpdate.Set(fx.payload); err != nil {
					return err
				}
			}
			return nil
		},
		opSetPerm: func(n int) error {
			for range n {
				if err := jk.SetPerm(j.key, jk.KeyPerm(fx.perm)); err != nil {
					return err
				}
			}
			return nil
		},
		opChown: func(n int) error {
			for range n {
				if err := jk.Chown(j.key, int(fx.uid)); err != nil {
					return err
				}
			}
			return nil
		},
		opListAlloc: func(n int) error {
			for range n {
				l, err := jk.ListKeyring(j.ring1000)
				if err != nil {
					return err
				}
				if len(l) != nMany {
					return errWrongAnswer
				}
			}
			return nil
		},
	}
}
