//go:build linux

package secret_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/encrypted"
	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/keytypes"
	"github.com/kernkeys/kernkeys/mktme"
	"github.com/kernkeys/kernkeys/secret"
)

// The hygiene tests of every package: no secret reaches an error message,
// a String, a fmt verb or a log line (TestCanary), and none of the
// library's own copies of a secret outlives the call that made it
// (TestNoCopyLeftInMemory).

// newCanary returns a Buffer of n random lower-case letters: a secret
// that is unmistakable wherever a copy of it, or of its hex, base64 or
// decimal-byte forms, turns up.
func newCanary(t *testing.T, n int) *secret.Buffer {
	t.Helper()
	b := newBuffer(t, n)
	p := b.Bytes()
	if _, err := rand.Read(p); err != nil {
		t.Fatal(err)
	}
	for i := range p {
		p[i] = 'a' + p[i]%26
	}
	return b
}

// forms returns the ways a secret starting with c's first 8 bytes shows up
// in text: as is, in hex of either case, in base64 (standard and URL
// alphabets), and as fmt prints a []byte ("[107 101 ...").
func forms(c []byte) map[string]string {
	c = c[:8]
	dec := make([]string, len(c))
	for i, x := range c {
		dec[i] = strconv.Itoa(int(x))
	}
	return map[string]string{
		"raw":     string(c),
		"hex":     hex.EncodeToString(c),
		"HEX":     strings.ToUpper(hex.EncodeToString(c)),
		"base64":  base64.StdEncoding.EncodeToString(c[:6]),
		"base64u": base64.URLEncoding.EncodeToString(c[:6]),
		"decimal": strings.Join(dec, " "),
		"hexbyte": fmt.Sprintf("%#x", c[0]) + ", " + fmt.Sprintf("%#x", c[1]),
	}
}

// checkText fails the test if text holds any form of the canary.
func checkText(t *testing.T, what, text string, fs map[string]string) {
	t.Helper()
	for name, f := range fs {
		if strings.Contains(text, f) {
			t.Errorf("%s holds the canary (%s form)", what, name)
		}
	}
}

// Every operation that fails on a secret, in every package, fails without
// the secret in its error; values that hold a secret print without it
// under every fmt verb; nothing is logged.
func TestCanary(t *testing.T) {
	s := keytest.Session(t)
	var logged bytes.Buffer
	log.SetOutput(&logged)
	defer log.SetOutput(os.Stderr)

	c := newCanary(t, 64).Bytes()
	fs := forms(c)

	logon, err := s.Add("logon", "canary:logon", c)
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := s.Add("user", "canary:revoked", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := revoked.Revoke(); err != nil {
		t.Fatal(err)
	}
	userMaster := encrypted.Master{Kind: encrypted.UserMaster, Name: "canary-master"}
	missingMaster := encrypted.Master{Kind: encrypted.UserMaster, Name: "canary-missing"}
	if _, err := s.Add("user", userMaster.Name, c[32:]); err != nil {
		t.Fatal(err)
	}
	blob, err := encrypted.Seal(c[:32], encrypted.SealOptions{MasterKey: c[32:], Format: encrypted.Enc32, Master: userMaster})
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := encrypted.Seal(c[:32], encrypted.SealOptions{MasterKey: c[32:], Format: encrypted.Enc32, Master: missingMaster})
	if err != nil {
		t.Fatal(err)
	}
	blobText, err := blob.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	// Refused on every kernel, as bad input, with the canary in hex: an
	// enc32 key of 31 bytes (refused by a kernel before 5.19, which ignores
	// the data token and would otherwise make a random key, as 5.10 in the
	// VM did), whose data (65 hex digits) does not match that length
	// either (refused by 5.19 and later, with or without
	// CONFIG_USER_DECRYPTED_DATA, before the format's length). A missing
	// master would not do: the kernel makes the key and looks for the
	// master only when the blob is read, as the VM kernel showed.
	hexPayload := []byte("new enc32 user:" + missingMaster.Name + " 31 " + hex.EncodeToString(c[:32]) + "0")

	for name, op := range map[string]func() error{
		"keyring add, unknown type": func() error { _, err := s.Add("kernkeys-canary", "d", c); return err },
		"keyring add, keyring":      func() error { _, err := s.Add("keyring", "r", c); return err },
		"keyring add, dot type":     func() error { _, err := s.Add(".user", "d", c); return err },
		"keyring add, no desc":      func() error { _, err := s.Add("user", "", c); return err },
		"keyring add, too big":      func() error { _, err := s.Add("user", "d", bytes.Repeat(c, 600)); return err },
		"keyring add, zero ring":    func() error { _, err := keyring.Keyring{}.Add("user", "d", c); return err },
		"keyring add, encrypted":    func() error { _, err := s.Add("encrypted", "d", c); return err },
		"keyring add, hex data":     func() error { _, err := s.Add("encrypted", "d", hexPayload); return err },
		"keyring add, asymmetric":   func() error { _, err := s.Add("asymmetric", "d", c); return err },
		"keyring add, logon desc":   func() error { _, err := s.Add("logon", "nocolon", c); return err },
		"keyring add, big_key":      func() error { _, err := revoked.ID().Keyring().Add("big_key", "d", c); return err },
		"keyring update, keyring":   func() error { return s.Update(c) },
		"keyring update, revoked":   func() error { return revoked.Update(c) },
		"keyring update, too big":   func() error { return logon.Update(bytes.Repeat(c, 100)) },
		"keyring update, logon":     func() error { return logon.Update(c[:0]) },
		"keyring read, logon":       func() error { _, err := logon.Read(); return err },
		"keyring instantiate":       func() error { return logon.Instantiate(c, s) },
		"keyring instantiate iov":   func() error { return logon.InstantiateIOV([][]byte{c, c}, s) },
		"keyring encrypt, user":     func() error { _, err := logon.Encrypt("enc=pkcs1", c, make([]byte, 64)); return err },
		"keyring request, callout": func() error {
			_, err := keyring.Request("user", "canary:missing", keyring.RequestOptions{CalloutInfo: append(c[:8:8], 0)})
			return err
		},
		"secret read, logon": func() error { _, err := secret.ReadKey(logon); return err },

		"keytypes user, no desc": func() error { return keytypes.Options{Type: keytypes.TypeUser, Payload: c}.Validate("") },
		"keytypes logon, no svc": func() error { return keytypes.Options{Type: keytypes.TypeLogon, Payload: c}.Validate("x") },
		"keytypes logon, too big": func() error {
			return keytypes.Options{Type: keytypes.TypeLogon, Payload: bytes.Repeat(c, 600)}.Validate("a:b")
		},
		"keytypes asymmetric": func() error { return keytypes.Options{Type: keytypes.TypeAsymmetric, Payload: c}.Validate("") },
		"keytypes big_key":    func() error { return keytypes.Options{Type: keytypes.TypeBigKey, Payload: c}.Validate("") },
		"keytypes new, refused": func() error {
			_, err := keytypes.New(s, "x", keytypes.Options{Type: keytypes.TypeLogon, Payload: c})
			return err
		},
		"keytypes new, kernel": func() error {
			_, err := keytypes.New(revoked.ID().Keyring(), "d", keytypes.Options{Type: keytypes.TypeUser, Payload: c})
			return err
		},

		"encrypted seal, bad master": func() error { _, err := encrypted.Seal(c[:32], encrypted.SealOptions{MasterKey: c}); return err },
		"encrypted seal, bad length": func() error {
			_, err := encrypted.Seal(c[:17], encrypted.SealOptions{MasterKey: c, Master: userMaster})
			return err
		},
		"encrypted seal, enc32": func() error {
			_, err := encrypted.Seal(c, encrypted.SealOptions{MasterKey: c, Format: encrypted.Enc32, Master: userMaster})
			return err
		},
		"encrypted seal, big master": func() error {
			_, err := encrypted.Seal(c[:32], encrypted.SealOptions{MasterKey: bytes.Repeat(c, 600), Master: userMaster})
			return err
		},
		"encrypted open, wrong": func() error { _, err := encrypted.Open(blob, c[:32]); return err },
		"encrypted rewrap, wrong old": func() error {
			_, err := encrypted.Rewrap(blob, encrypted.RewrapOptions{OldMasterKey: c[:32], NewMasterKey: c, NewMaster: userMaster})
			return err
		},
		"encrypted rewrap, bad new": func() error {
			_, err := encrypted.Rewrap(blob, encrypted.RewrapOptions{OldMasterKey: c[32:], NewMasterKey: c})
			return err
		},
		"encrypted load, no master": func() error { _, err := encrypted.Load(s, "canary-orphan", orphan); return err },
		"encrypted import, trusted": func() error {
			_, _, err := encrypted.Import(s, "canary-t", c[:32], encrypted.ImportOptions{Format: encrypted.Enc32, Master: encrypted.Master{Kind: encrypted.TrustedMaster, Name: "kmk"}})
			return err
		},
		"encrypted import, missing master": func() error {
			_, _, err := encrypted.Import(s, "canary-m", c[:32], encrypted.ImportOptions{Format: encrypted.Enc32, Master: missingMaster})
			return err
		},
		"encrypted import, length": func() error {
			_, _, err := encrypted.Import(s, "canary-l", c[:31], encrypted.ImportOptions{Format: encrypted.Enc32, Master: userMaster})
			return err
		},
		"encrypted new payload": func() error {
			_, err := encrypted.NewPayloadWithData(c, encrypted.Options{Format: encrypted.Enc32, Master: userMaster})
			return err
		},
		"encrypted parse, canary": func() error { _, err := encrypted.ParseBlob(c); return err },
		"encrypted parse, hex":    func() error { _, err := encrypted.ParseBlob(hexPayload[4:]); return err },
		"encrypted parse, tail": func() error {
			_, err := encrypted.ParseBlob(append(append([]byte(nil), blobText...), c...))
			return err
		},
		"encrypted parse, newline": func() error {
			_, err := encrypted.ParseBlob(append(append([]byte(nil), blobText[:len(blobText)-64]...), hex.EncodeToString(c[:32])+"\n"...))
			return err
		},
		"encrypted ecryptfs": func() error { _, err := encrypted.EcryptfsAuthTok("nothex", c); return err },
		"encrypted master":   func() error { _, err := encrypted.ParseMaster("logon:" + string(c[:8])); return err },

		"mktme new v2": func() error {
			_, err := mktme.New(s, "canary", mktme.Options{Payload: mktme.V2{Type: mktme.UserSupplied, Key: c[:16], Tweak: c[16:32]}})
			return err
		},
		"mktme new v1": func() error {
			_, err := mktme.New(s, "canary", mktme.Options{Payload: mktme.V1{UserKey: c[:8], Tweak: c[8:16]}})
			return err
		},
		"mktme v2, length":   func() error { _, err := mktme.V2{Type: mktme.UserSupplied, Key: c, Tweak: c}.MarshalText(); return err },
		"mktme v2, clear":    func() error { return mktme.V2{Type: mktme.Clear, Key: c[:16]}.Validate() },
		"mktme v1, both":     func() error { return mktme.V1{UserKey: c[:8], Tweak: c[:8], Entropy: c[:8]}.Validate() },
		"mktme parse, value": func() error { _, err := mktme.Parse([]byte("type=" + string(c))); return err },
		"mktme parse, key": func() error {
			_, err := mktme.Parse([]byte("type=user algorithm=aes-xts-128 key=" + hex.EncodeToString(c[:17]) + " tweak=" + hex.EncodeToString(c[:16])))
			return err
		},
		"mktme parse, option": func() error { _, err := mktme.Parse([]byte(string(c[:16]) + "=" + string(c[16:32]))); return err },
		"mktme parse v1, key": func() error {
			_, err := mktme.ParseV1([]byte("userkey=" + hex.EncodeToString(c[:8]) + "\n tweak=" + string(c[:16])))
			return err
		},
	} {
		err := op()
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, text := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			checkText(t, name+" error "+strconv.Quote(text), text, fs)
		}
	}

	buf := newCanary(t, 64)
	copy(buf.Bytes(), c)
	opts := keytypes.Options{Type: keytypes.TypeUser, Payload: c}
	for name, v := range map[string]any{
		"keytypes.Options":  opts,
		"*keytypes.Options": &opts,
		"mktme.V2":          mktme.V2{Type: mktme.UserSupplied, Key: c[:16], Tweak: c[16:32]},
		"*mktme.V2":         &mktme.V2{Type: mktme.CPU, Key: c[:16]},
		"mktme.V1":          mktme.V1{UserKey: c[:8], Tweak: c[8:16]},
		"mktme.Options":     []mktme.Options{{Payload: mktme.V1{Entropy: c[:8]}}, {Payload: &mktme.V2{Type: mktme.CPU, Key: c[:16]}}},
		"mktme.Payload":     []mktme.Payload{mktme.V1{Entropy: c[:8]}},
		"*secret.Buffer":    buf,
		"secret.Buffer":     *buf,
		"struct":            struct{ B *secret.Buffer }{buf},
	} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			checkText(t, name+" printed with "+verb, fmt.Sprintf(verb, v), fs)
		}
		if s, ok := v.(fmt.Stringer); ok {
			checkText(t, name+".String()", s.String(), fs)
		}
	}
	checkText(t, "the log", logged.String(), fs)
}

// hexInto writes the hex of src into a new locked Buffer, so that the
// pattern searched for is not itself a copy in the heap.
func hexInto(t *testing.T, src []byte) *secret.Buffer {
	t.Helper()
	b := newBuffer(t, hex.EncodedLen(len(src)))
	hex.Encode(b.Bytes(), src)
	return b
}

// The copies of a secret that the library makes for itself (payload text
// in hex, the plaintext between Open and Seal in Rewrap, the stack buffer
// of Key.Read) are wiped before the call returns: afterwards, no copy of
// the secret or its hex is anywhere in the process's writable memory but
// in the test's own locked Buffers and in the buffers that the library
// hands to the caller, which the test wipes. The secrets are random and
// live only in locked memory outside the heap, which the search skips, so
// any copy found was left by the library; remove one of its wipes (say,
// the defer keyring.Wipe(p) in mktme.New or Wipe(plaintext) in Rewrap) and this
// fails. (The master key is 55 bytes so that the 64-byte buffer SHA-256
// hashes to derive keys is one whole block, which the hash reads in
// place: a shorter key would be copied into the hash's own block buffer,
// which the standard library does not wipe.)
func TestNoCopyLeftInMemory(t *testing.T) {
	keytest.Session(t)
	c := newCanary(t, 32)  // the data: payloads, plaintext, MKTME key and tweak
	m1 := newCanary(t, 55) // master keys
	m2 := newCanary(t, 55)
	hx := hexInto(t, c.Bytes()) // the data as payload text writes it
	locked := [][]byte{c.Bytes(), m1.Bytes(), m2.Bytes(), hx.Bytes()}
	patterns := [][]byte{c.Bytes(), hx.Bytes()[:32], hx.Bytes()[32:], m1.Bytes(), m2.Bytes()}
	if found := keytest.FindInMemory(t, patterns, locked...); len(found) > 0 {
		t.Fatalf("the secrets are in memory before the test starts: %v", found)
	}
	master := encrypted.Master{Kind: encrypted.UserMaster, Name: "scan-master"}
	steps := []struct {
		name string
		run  func(s keyring.Keyring) error
	}{
		{"Key.Read", func(s keyring.Keyring) error {
			k, err := s.Add("user", "scan", c.Bytes())
			if err != nil {
				return err
			}
			got, err := k.Read()
			keyring.Wipe(got)
			return err
		}},
		{"mktme.New", func(s keyring.Keyring) error {
			// No mainline kernel has the type, and a non-root caller
			// lacks the capability: either way the payload was built.
			_, err := mktme.New(s, "scan", mktme.Options{Payload: mktme.V2{Type: mktme.UserSupplied, Key: c.Bytes()[:16], Tweak: c.Bytes()[16:]}})
			if err == nil {
				return fmt.Errorf("mktme.New succeeded")
			}
			return nil
		}},
		{"encrypted.Import, trusted", func(s keyring.Keyring) error {
			// "new enc32 trusted:kmk 32 <hex>": refused without
			// user-provided data, or without the trusted type.
			_, _, err := encrypted.Import(s, "scan-t", c.Bytes(), encrypted.ImportOptions{Format: encrypted.Enc32, Master: encrypted.Master{Kind: encrypted.TrustedMaster, Name: "kmk"}})
			if err == nil {
				return fmt.Errorf("importing under a trusted master succeeded")
			}
			return nil
		}},
		{"encrypted.Seal, Open, Rewrap", func(s keyring.Keyring) error {
			b, err := encrypted.Seal(c.Bytes(), encrypted.SealOptions{MasterKey: m1.Bytes(), Format: encrypted.Enc32, Master: master})
			if err != nil {
				return err
			}
			if _, err := encrypted.Rewrap(b, encrypted.RewrapOptions{OldMasterKey: m1.Bytes(), NewMasterKey: m2.Bytes(), NewMaster: master}); err != nil {
				return err
			}
			got, err := encrypted.Open(b, m1.Bytes())
			keyring.Wipe(got)
			return err
		}},
		{"encrypted.Import, user", func(s keyring.Keyring) error {
			if _, err := s.Add("user", master.Name, m1.Bytes()); err != nil {
				return err
			}
			k, _, err := encrypted.Import(s, "scan-u", c.Bytes(), encrypted.ImportOptions{Format: encrypted.Enc32, Master: master})
			if err != nil {
				return err
			}
			return s.Unlink(k)
		}},
	}
	for _, step := range steps {
		// On a thread of its own, in a session of its own, whose stack
		// stays as the step left it while the search runs; its keys die
		// with it.
		done, hold := make(chan error), make(chan struct{})
		go keyring.InNewSession(func(s keyring.Keyring) error {
			done <- step.run(s)
			<-hold
			return nil
		})
		if err := <-done; err != nil {
			close(hold)
			t.Fatalf("%s: %v", step.name, err)
		}
		found := keytest.FindInMemory(t, patterns, locked...)
		close(hold)
		if len(found) > 0 {
			t.Errorf("after %s, copies of the secrets are left (0: data, 1-2: its hex, 3-4: master keys): %v", step.name, found)
		}
	}
}
