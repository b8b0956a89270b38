//go:build linux && cgo

package main

import (
	"context"
	"time"

	"github.com/kernkeys/kernkeys/keyring"
	"golang.org/x/sys/unix"
)

// The operations' names: the table's rows, and the keys of
// jsipprellOps.
const (
	opGetKeyringID  = "get keyring ID (@s)"
	opDescribeInto  = "describe into 256 B"
	opDescribeAlloc = "describe, allocating"
	opReadInto      = "read 32 B into buffer"
	opReadAlloc     = "read 32 B, allocating"
	opSearch1       = "search, 1 key"
	opSearch1000    = "search, 1000 keys"
	opAddUnlink     = "add 32 B + unlink"
	opLinkUnlink    = "link + unlink"
	opSetTimeout    = "set timeout"
	opUpdate        = "update 32 B"
	opSetPerm       = "setperm"
	opChown         = "chown (same owner)"
	opListInto      = "list 1000 links into 4 KiB"
	opListAlloc     = "list 1000 links, allocating"
	opViaWorker     = "describe into 256 B, on a Worker"
	opViaOnThread   = "describe into 256 B, in OnThread"
)

// contender is one implementation under comparison.
type contender int

const (
	cRaw       contender = iota // C, syscall(2)
	cKeyutils                   // C, libkeyutils
	cXSys                       // Go, golang.org/x/sys/unix
	cKernkeys                   // Go, this library
	cJsipprell                  // Go, github.com/jsipprell/keyctl
	nContenders
)

var contenderNames = [nContenders]string{"C raw syscall", "C libkeyutils", "Go x/sys/unix", "kernkeys", "jsipprell/keyctl"}

func (c contender) String() string { return contenderNames[c] }

// isGo reports whether allocations of c can be counted (Go's heap).
func (c contender) isGo() bool { return c >= cXSys }

// op is one operation and each contender's batch function for it: run(n)
// makes n calls, checking each answer. A nil function: the contender has
// no form of the operation.
type op struct {
	name   string
	target target
	// div divides the batch size, for operations that cost several
	// microseconds.
	div int
	// jsipprell: github.com/jsipprell/keyctl has a form of the operation.
	// Its batch function comes from jsipprellOps (jsipprell.go), built only
	// with -tags jsipprell; without the tag its row prints "–".
	jsipprell bool
	run       [nContenders]func(n int) error
}

// target is what kernkeys must meet on an operation.
type target int

const (
	noTarget target = iota
	// hot: within 1.10x of C raw (hotLimit) with 0 allocs/op.
	hot
	// near: within 1.10x of C raw, allocating as the form must.
	near
	// hop: a thread hand-over adds at most 2 µs a call to C raw's
	// (hopLimit).
	hop
)

// ops returns the operations, each contender using its own API's natural
// form. C raw is every row's reference: for the allocating rows it is the
// same system call into a buffer, the floor that any form pays.
func ops(fx *fixture) []*op {
	key, ring1, ring1000 := fx.key, fx.ring1, fx.ring1000
	ik, ir1000 := int(key.ID()), int(ring1000.ID())
	ilink, iadd, isess := int(fx.linkRing.ID()), int(fx.addRing.ID()), int(fx.session.ID())
	payload := fx.payload
	var buf [256]byte
	var list [4096]byte
	c := fx.c

	all := []*op{
		{name: opGetKeyringID, target: hot, div: 1, jsipprell: true, run: [nContenders]func(int) error{
			c.run(cResolve, false), c.run(cResolve, true),
			func(n int) error {
				for range n {
					id, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
					if err != nil {
						return err
					}
					if id != isess {
						return errWrongAnswer
					}
				}
				return nil
			},
			func(n int) error {
				s := keyring.Session()
				for range n {
					id, err := s.Resolve()
					if err != nil {
						return err
					}
					if id != fx.session.ID() {
						return errWrongAnswer
					}
				}
				return nil
			},
		}},
		{name: opDescribeInto, target: hot, div: 1, run: [nContenders]func(int) error{
			c.run(cDescribeInto, false), c.run(cDescribeInto, true),
			func(n int) error {
				for range n {
					m, err := unix.KeyctlBuffer(unix.KEYCTL_DESCRIBE, ik, buf[:], 0)
					if err != nil {
						return err
					}
					if m > len(buf) {
						return errWrongAnswer
					}
				}
				return nil
			},
			func(n int) error {
				for range n {
					m, err := key.DescribeInto(buf[:])
					if err != nil {
						return err
					}
					if m > len(buf) {
						return errWrongAnswer
					}
				}
				return nil
			},
		}},
		{name: opDescribeAlloc, target: near, div: 1, jsipprell: true, run: [nContenders]func(int) error{
			c.run(cDescribeAlloc, false), c.run(cDescribeAlloc, true),
			func(n int) error {
				for range n {
					if _, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, ik); err != nil {
						return err
					}
				}
				return nil
			},
			func(n int) error {
				for range n {
					d, err := key.Describe()
					if err != nil {
						return err
					}
					if d.Description != desc1 {
						return errWrongAnswer
					}
				}
				return nil
			},
		}},
		{name: opReadInto, target: hot, div: 1, run: [nContenders]func(int) error{
			c.run(cReadInto, false), c.run(cReadInto, true),
			func(n int) error {
				defer clear(buf[:])
				for range n {
					m, err := unix.KeyctlBuffer(unix.KEYCTL_READ, ik, buf[:payloadLen], 0)
					if err != nil {
						return err
					}
					if m != payloadLen {
						return errWrongAnswer
					}
				}
				return nil
			},
			func(n int) error {
				defer keyring.Wipe(buf[:])
				for range n {
					m, err := key.ReadInto(buf[:payloadLen])
					if err != nil {
						return err
					}
					if m != payloadLen {
						return errWrongAnswer
					}
				}
				return nil
			},
		}},
		{name: opReadAlloc, target: near, div: 1, jsipprell: true, run: [nContenders]func(int) error{
			c.run(cReadAlloc, false), c.run(cReadAlloc, true),
			nil,
			func(n int) error {
				for range n {
					p, err := key.Read()
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
		}},
		searchOp(opSearch1, cSearch1, fx, ring1, desc1, key),
		searchOp(opSearch1000, cSearch1000, fx, ring1000, desc1000, fx.find1000),
		{name: opAddUnlink, div: 4, jsipprell: true, run: [nContenders]func(int) error{
			c.run(cAddUnlink, false), c.run(cAddUnlink, true),
			func(n int) error {
				for range n {
					id, err := unix.AddKey("user", addDesc, payload, iadd)
					if err != nil {
						return err
					}
					if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, iadd, 0, 0); err != nil {
						return err
					}
				}
				return nil
			},
			func(n int) error {
				for range n {
					k, err := fx.addRing.Add("user", addDesc, payload)
					if err != nil {
						return err
					}
					if err := fx.addRing.Unlink(k); err != nil {
						return err
					}
				}
				return nil
			},
		}},
		{name: opLinkUnlink, div: 2, jsipprell: true, run: [nContenders]func(int) error{
			c.run(cLinkUnlink, false), c.run(cLinkUnlink, true),
			func(n int) error {
				for range n {
					if _, err := unix.KeyctlInt(unix.KEYCTL_LINK, ik, ilink, 0, 0); err != nil {
						return err
					}
					if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, ik, ilink, 0, 0); err != nil {
						return err
					}
				}
				return nil
			},
			func(n int) error {
				for range n {
					if err := fx.linkRing.Link(key); err != nil {
						return err
					}
					if err := fx.linkRing.Unlink(key); err != nil {
						return err
					}
				}
				return nil
			},
		}},
		{name: opSetTimeout, div: 1, jsipprell: true, run: [nContenders]func(int) error{
			c.run(cSetTimeout, false), c.run(cSetTimeout, true),
			func(n int) error {
				for range n {
					if _, err := unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, ik, timeoutSeconds, 0, 0); err != nil {
						return err
					}
				}
				return nil
			},
			func(n int) error {
				for range n {
					if err := key.SetTimeout(timeoutSeconds * time.Second); err != nil {
						return err
					}
				}
				return nil
			},
		}},
		{name: opUpdate, div: 2, jsipprell: true, run: [nContenders]func(int) error{
			c.run(cUpdate, false), c.run(cUpdate, true),
			func(n int) error {
				for range n {
					if _, err := unix.KeyctlBuffer(unix.KEYCTL_UPDATE, ik, payload, 0); err != nil {
						return err
					}
				}
				return nil
			},
			func(n int) error {
				for range n {
					if err := key.Update(payload); err != nil {
						return err
					}
				}
				return nil
			},
		}},
		{name: opSetPerm, div: 1, jsipprell: true, run: [nContenders]func(int) error{
			c.run(cSetPerm, false), c.run(cSetPerm, true),
			func(n int) error {
				for range n {
					if err := unix.KeyctlSetperm(ik, uint32(fx.perm)); err != nil {
						return err
					}
				}
				return nil
			},
			func(n int) error {
				for range n {
					if err := key.SetPerm(fx.perm); err != nil {
						return err
					}
				}
				return nil
			},
		}},
		{name: opChown, div: 1, jsipprell: true, run: [nContenders]func(int) error{
			c.run(cChown, false), c.run(cChown, true),
			func(n int) error {
				for range n {
					if _, err := unix.KeyctlInt(unix.KEYCTL_CHOWN, ik, int(fx.uid), -1, 0); err != nil {
						return err
					}
				}
				return nil
			},
			func(n int) error {
				for range n {
					if err := key.Chown(int(fx.uid), keyring.Unchanged); err != nil {
						return err
					}
				}
				return nil
			},
		}},
		{name: opListInto, div: 2, run: [nContenders]func(int) error{
			c.run(cListInto, false), c.run(cListInto, true),
			func(n int) error {
				for range n {
					m, err := unix.KeyctlBuffer(unix.KEYCTL_READ, ir1000, list[:], 0)
					if err != nil {
						return err
					}
					if m != 4*nMany {
						return errWrongAnswer
					}
				}
				return nil
			},
			func(n int) error {
				for range n {
					m, err := ring1000.ReadInto(list[:])
					if err != nil {
						return err
					}
					if m != 4*nMany {
						return errWrongAnswer
					}
				}
				return nil
			},
		}},
		{name: opListAlloc, target: near, div: 2, jsipprell: true, run: [nContenders]func(int) error{
			c.run(cListAlloc, false), c.run(cListAlloc, true),
			nil,
			func(n int) error {
				for range n {
					l, err := ring1000.Links()
					if err != nil {
						return err
					}
					if len(l) != nMany {
						return errWrongAnswer
					}
				}
				return nil
			},
		}},
		// The same describe as opDescribeInto, handed to a long-lived
		// locked thread, and to a new thread for each call. C raw is the
		// call made directly, the floor; kernkeys' direct call is the
		// describe-into row.
		{name: opViaWorker, target: hop, div: 1, run: [nContenders]func(int) error{
			cRaw: c.run(cDescribeInto, false),
			cKernkeys: func(n int) error {
				for range n {
					if err := fx.worker.Do(context.Background(), fx.describeInto); err != nil {
						return err
					}
				}
				return nil
			},
		}},
		{name: opViaOnThread, div: 50, run: [nContenders]func(int) error{
			cRaw: c.run(cDescribeInto, false),
			cKernkeys: func(n int) error {
				for range n {
					if err := keyring.OnThread(fx.describeInto); err != nil {
						return err
					}
				}
				return nil
			},
		}},
	}
	// jsipprell/keyctl's column, when built (jsipprell.go): the operations
	// flagged jsipprell, and only they, must have a function.
	jops := jsipprellOps(fx)
	for _, o := range all {
		f, ok := jops[o.name]
		if ok != (jsipprellBuilt && o.jsipprell) || ok && f == nil {
			panic("bench: jsipprellOps and the ops' jsipprell flags disagree on " + o.name)
		}
		o.run[cJsipprell] = f
		delete(jops, o.name)
	}
	if len(jops) > 0 {
		panic("bench: jsipprellOps names an operation that ops does not have")
	}
	return all
}

// searchOp searches ring for the user key desc, which must be want. No
// contender links the result anywhere.
func searchOp(name string, cop int, fx *fixture, ring keyring.Keyring, desc string, want keyring.Key) *op {
	iring, iwant := int(ring.ID()), int(want.ID())
	return &op{name: name, target: hot, div: 1, jsipprell: true, run: [nContenders]func(int) error{
		fx.c.run(cop, false), fx.c.run(cop, true),
		func(n int) error {
			for range n {
				id, err := unix.KeyctlSearch(iring, "user", desc, 0)
				if err != nil {
					return err
				}
				if id != iwant {
					return errWrongAnswer
				}
			}
			return nil
		},
		func(n int) error {
			for range n {
				k, err := ring.Search("user", desc)
				if err != nil {
					return err
				}
				if k != want {
					return errWrongAnswer
				}
			}
			return nil
		},
	}}
}
