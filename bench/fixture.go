//go:build linux && cgo

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/kernkeys/kernkeys/keyring"
)

// The keys every contender works on. Descriptions are not secret; the
// payload is not either, but like any payload it is never printed.
const (
	desc1          = "kk-bench-0000" // the key of the single-key operations
	desc1000       = "kk-bench-0500" // the key searched for among 1000
	addDesc        = "kk-bench-add"  // add+unlink
	nMany          = 1000            // keys in ring1000
	payloadLen     = 32
	timeoutSeconds = 86400 // set_timeout's argument: a day, never reached
)

var errWrongAnswer = errors.New("a call succeeded with the wrong answer")

// fixture holds the keyrings and keys of one run, all inside the calling
// thread's fresh anonymous session keyring:
//
//	session
//	├── kk-bench-ring1      one user key, key (desc1)
//	├── kk-bench-ring1000   1000 user keys kk-bench-0000..0999, find1000 among them
//	├── kk-bench-link       empty; link+unlink links key here
//	└── kk-bench-add        empty; add+unlink adds here
//
// Every contender searches, links and adds by the same serials; only
// "get keyring ID" names the session by its special ID, @s.
type fixture struct {
	session                            keyring.Keyring
	ring1, ring1000, linkRing, addRing keyring.Keyring
	key, find1000                      keyring.Key
	perm                               keyring.Perm
	uid                                uint32
	payload                            []byte
	j                                  *jFixture // jsipprell/keyctl's handles, with -tags jsipprell
	c                                  *cFixture
	// worker is a long-lived locked thread, and describeInto the
	// function handed to it (and to OnThread): made once, as a daemon
	// serving the same call would.
	worker       *keyring.Worker
	describeInto func() error
}

// setup builds the fixture in s. It must run on the locked thread that
// joined s. On error, the caller's teardown removes what was made.
func setup(s keyring.Keyring) (*fixture, error) {
	fx := &fixture{session: s, payload: bytes.Repeat([]byte{0xa5}, payloadLen)}
	var err error
	mk := func(name string) keyring.Keyring {
		var r keyring.Keyring
		if err == nil {
			r, err = s.AddKeyring(name)
		}
		return r
	}
	fx.ring1 = mk("kk-bench-ring1")
	fx.ring1000 = mk("kk-bench-ring1000")
	fx.linkRing = mk("kk-bench-link")
	fx.addRing = mk("kk-bench-add")
	if err != nil {
		return fx, err
	}
	if fx.key, err = fx.ring1.Add("user", desc1, fx.payload); err != nil {
		return fx, err
	}
	for i := range nMany {
		desc := fmt.Sprintf("kk-bench-%04d", i)
		k, err := fx.ring1000.Add("user", desc, fx.payload)
		if errors.Is(err, keyring.ErrQuota) {
			return fx, fmt.Errorf("adding key %d of %d: %w (an ordinary user's quota is 200 keys: run as root)", i+1, nMany, err)
		}
		if err != nil {
			return fx, err
		}
		if desc == desc1000 {
			fx.find1000 = k
		}
	}
	d, err := fx.key.Describe()
	if err != nil {
		return fx, err
	}
	fx.perm, fx.uid = d.Perm, d.UID
	if int(fx.uid) != os.Geteuid() {
		return fx, fmt.Errorf("the key's owner is %d, not the caller (%d)", fx.uid, os.Geteuid())
	}

	var dbuf [256]byte
	fx.describeInto = func() error {
		m, err := fx.key.DescribeInto(dbuf[:])
		if err == nil && m > len(dbuf) {
			err = errWrongAnswer
		}
		return err
	}
	if fx.worker, err = keyring.NewWorker(context.Background(), keyring.WorkerOptions{}); err != nil {
		return fx, err
	}

	if fx.j, err = setupJsipprell(fx); err != nil {
		return fx, err
	}
	fx.c = newCFixture(fx)
	return fx, nil
}

// teardown removes every key and keyring setup made and wipes the payload.
// The session itself dies with the thread.
func (fx *fixture) teardown() error {
	if fx.c != nil {
		fx.c.free()
	}
	if fx.worker != nil {
		fx.worker.Close()
	}
	keyring.Wipe(fx.payload)
	var errs []error
	for _, r := range []keyring.Keyring{fx.ring1, fx.ring1000, fx.linkRing, fx.addRing} {
		if r.ID() == 0 {
			continue
		}
		if err := r.Clear(); err != nil {
			errs = append(errs, err)
		}
		if err := fx.session.Unlink(r.Key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
