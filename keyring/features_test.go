//go:build linux

package keyring_test

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"math/big"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// capabilities is what the running kernel says it has; a test of a feature
// runs for real where it is present and checks the ErrNotSupported path,
// naming the feature, where it is not. Neither path skips.
func capabilities(t *testing.T) keyring.Capabilities {
	t.Helper()
	return must(keyring.KernelCapabilities())(t)
}

func wantUnsupported(t *testing.T, err error, feature string) {
	t.Helper()
	wantErr(t, err, keyring.ErrNotSupported)
	if !strings.Contains(err.Error(), feature) {
		t.Errorf("error %q does not name %s", err, feature)
	}
}

func TestPkey(t *testing.T) {
	s := keytest.Session(t)
	priv, cert := keytest.SelfSigned(t, "kernkeys test")
	k, err := s.Add("asymmetric", "", cert)
	if !capabilities(t).PublicKey {
		wantErr(t, err, keyring.ErrNotSupported)
		return
	}
	check(t, err)
	d := must(k.Describe())(t)
	if d.Type != "asymmetric" || !strings.Contains(d.Description, "kernkeys test") {
		t.Errorf("the kernel named the certificate's key %+v", d)
	}

	const info = "enc=pkcs1 hash=sha256"
	q := must(k.PkeyQuery(info))(t)
	if q.KeySize != 2048 || q.Supported&(keyring.PkeyEncrypt|keyring.PkeyVerify) != keyring.PkeyEncrypt|keyring.PkeyVerify || q.MaxEncSize != 256 {
		t.Errorf("PkeyQuery = %+v", q)
	}

	// Encrypt in the kernel, decrypt in Go.
	msg := []byte("a secret for the private key")
	out := make([]byte, q.MaxEncSize)
	n := must(k.Encrypt(info, msg, out))(t)
	if got := must(rsa.DecryptPKCS1v15(rand.Reader, priv, out[:n]))(t); !bytes.Equal(got, msg) {
		t.Errorf("Go decrypted %q", got)
	}

	// Sign in Go, verify in the kernel; a tampered signature is refused.
	digest := sha256.Sum256([]byte("signed text"))
	sig := must(rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:]))(t)
	check(t, k.Verify(info, digest[:], sig))
	sig[10] ^= 1
	if err := k.Verify(info, digest[:], sig); err == nil {
		t.Error("a tampered signature verified")
	}

	// A certificate holds no private key: the query says so, and the
	// kernel refuses decrypt and sign with EINVAL (observed on 6.18).
	if q.Supported&(keyring.PkeyDecrypt|keyring.PkeySign) != 0 {
		t.Errorf("a certificate's key claims private operations: %+v", q)
	}
	_, err = k.Decrypt(info, out[:n], make([]byte, 256))
	wantErr(t, err, keyring.ErrInvalid)
	_, err = k.Sign(info, digest[:], make([]byte, 256))
	wantErr(t, err, keyring.ErrInvalid)

	// A key type without public-key operations.
	u := must(s.Add("user", "not-a-pkey", []byte("x")))(t)
	_, err = u.PkeyQuery(info)
	wantUnsupported(t, err, "CONFIG_ASYMMETRIC_KEY_TYPE")

	// An algorithm the kernel's X.509 parser does not know: Ed25519
	// certificates are ENOPKG on every kernel up to 6.18 at least
	// (x509_note_pkey_algo's default), which is ErrNotSupported.
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	check(t, err)
	_, err = s.Add("asymmetric", "", keytest.Certificate(t, "kernkeys ed25519", edPriv).Raw)
	wantErr(t, err, keyring.ErrNotSupported, syscall.ENOPKG)
	if !strings.Contains(err.Error(), "algorithm") {
		t.Errorf("error %q does not say what is missing", err)
	}
}

// A PKCS#8 private key (CONFIG_PKCS8_PRIVATE_KEY_PARSER) does all four
// operations; each is checked against Go's crypto/rsa.
func TestPkeyPrivateKey(t *testing.T) {
	s := keytest.Session(t)
	priv, _ := keytest.SelfSigned(t, "kernkeys pkcs8")
	der := must(x509.MarshalPKCS8PrivateKey(priv))(t)
	k, err := s.Add("asymmetric", "kernkeys-pkcs8", der)
	if !keytest.KernelConfig(t, "CONFIG_PKCS8_PRIVATE_KEY_PARSER") {
		// No parser takes the data: EBADMSG, as for garbage.
		wantErr(t, err, syscall.EBADMSG)
		return
	}
	check(t, err)
	const info = "enc=pkcs1 hash=sha256"
	q := must(k.PkeyQuery(info))(t)
	all := keyring.PkeyEncrypt | keyring.PkeyDecrypt | keyring.PkeySign | keyring.PkeyVerify
	if q.KeySize != 2048 || q.Supported&all != all || q.MaxSigSize != 256 {
		t.Errorf("PkeyQuery = %+v", q)
	}

	// Sign in the kernel, verify in Go and in the kernel.
	digest := sha256.Sum256([]byte("signed by the kernel"))
	sig := make([]byte, q.MaxSigSize)
	n := must(k.Sign(info, digest[:], sig))(t)
	check(t, rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, digest[:], sig[:n]))
	check(t, k.Verify(info, digest[:], sig[:n]))

	// Encrypt in Go, decrypt in the kernel.
	msg := []byte("for the kernel's private key")
	ct := must(rsa.EncryptPKCS1v15(rand.Reader, &priv.PublicKey, msg))(t)
	pt := make([]byte, q.MaxDecSize)
	n = must(k.Decrypt(info, ct, pt))(t)
	if !bytes.Equal(pt[:n], msg) {
		t.Errorf("the kernel decrypted %d bytes that differ from Go's plaintext", n)
	}
}

// The kernel's DH refuses primes under 1536 bits (crypto/dh.c); RFC 3526's
// 1536-bit MODP group (group 5, generator 2) is the smallest it takes.
func TestDHCompute(t *testing.T) {
	s := keytest.Session(t)
	prime, _ := new(big.Int).SetString("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"+
		"29024E088A67CC74020BBEA63B139B22514A08798E3404DD"+
		"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"+
		"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"+
		"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"+
		"C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"+
		"83655D23DCA3AD961C62F356208552BB9ED529077096966D"+
		"670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF", 16)
	size := len(prime.Bytes())
	base := big.NewInt(2)
	private := new(big.Int).SetBytes(bytes.Repeat([]byte{0x5a, 0xc3}, 20))
	add := func(name string, v *big.Int) keyring.Key {
		return must(s.Add("user", name, v.FillBytes(make([]byte, size))))(t)
	}
	p := keyring.DHParams{Private: add("dh-private", private), Prime: add("dh-prime", prime), Base: add("dh-base", base)}
	got, err := keyring.DHCompute(p)
	kdf := keyring.KDF{Hash: "sha256", OtherInfo: []byte("kernkeys other info")}
	derived, kdfErr := keyring.DHComputeKDF(p, kdf, 40)
	if !capabilities(t).DiffieHellman {
		wantUnsupported(t, err, "CONFIG_KEY_DH_OPERATIONS")
		wantUnsupported(t, kdfErr, "CONFIG_KEY_DH_OPERATIONS")
		return
	}
	check(t, err)
	check(t, kdfErr)
	want := new(big.Int).Exp(base, private, prime).FillBytes(make([]byte, size))
	if !bytes.Equal(got, want) {
		t.Errorf("DHCompute = %x, want %x", got, want)
	}
	// SP 800-108 counter mode over the shared secret (as long as the
	// prime) and OtherInfo: block i is sha256(be32(i) || Z || OtherInfo).
	var wantKDF []byte
	for i := uint32(1); len(wantKDF) < 40; i++ {
		h := sha256.New()
		h.Write(binary.BigEndian.AppendUint32(nil, i))
		h.Write(want)
		h.Write(kdf.OtherInfo)
		wantKDF = h.Sum(wantKDF)
	}
	if !bytes.Equal(derived, wantKDF[:40]) {
		t.Errorf("DHComputeKDF = %x, want %x", derived, wantKDF[:40])
	}
}

func TestWatch(t *testing.T) {
	s := keytest.Session(t)
	c := capabilities(t)
	q, err := keyring.NewWatchQueue(16)
	if err != nil {
		if c.Notifications {
			t.Fatalf("the kernel has key notifications but no watch queue: %v", err)
		}
		wantUnsupported(t, err, "CONFIG_WATCH_QUEUE")
		return
	}
	defer q.Close()
	// adopted is q seen through a duplicate of its descriptor, as a child
	// process that inherited it sees it.
	adopted := keyring.WatchQueueFromFD(must(syscall.Dup(q.Fd()))(t))
	defer adopted.Close()
	err = s.Watch(q, 7)
	if !c.Notifications {
		wantUnsupported(t, err, "CONFIG_KEY_NOTIFICATIONS")
		wantUnsupported(t, s.Watch(adopted, 7), "CONFIG_KEY_NOTIFICATIONS")
		return
	}
	check(t, err)
	wantErr(t, s.Watch(keyring.WatchQueueFromFD(-1), 1), keyring.ErrInvalid) // get_watch_queue: no queue
	wantErr(t, s.Watch(adopted, 1), syscall.EBUSY)                           // the same queue
	// Every step posts its notifications synchronously; one read at the
	// end collects them all, in order.
	k := must(s.Add("user", "watched", []byte("x")))(t) // s: linked
	check(t, k.Watch(q, 8))
	check(t, k.Update([]byte("y"))) // k: updated
	check(t, q.SetFilter(keyring.KeyRevoked))
	check(t, k.Update([]byte("z"))) // filtered out by the kernel
	check(t, k.Revoke())            // k: revoked
	check(t, q.ClearFilter())
	check(t, s.Unlink(k)) // s: unlinked
	got := must(q.Read())(t)
	want := []keyring.Notification{
		{Type: keyring.KeyLinked, WatchID: 7, Key: s.Key, Aux: k},
		{Type: keyring.KeyUpdated, WatchID: 8, Key: k},
		{Type: keyring.KeyRevoked, WatchID: 8, Key: k},
		{Type: keyring.KeyUnlinked, WatchID: 7, Key: s.Key, Aux: k},
	}
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Errorf("notifications\n %+v\nwant first\n %+v", got, want)
	}
	// No types: only meta notifications pass. A watch added and removed
	// through the adopted descriptor, and the removals name their keys.
	check(t, q.SetFilter())
	k2 := must(s.Add("user", "watched2", []byte("x")))(t) // filtered out
	check(t, k2.Watch(adopted, 9))
	check(t, k2.Update([]byte("y"))) // filtered out
	check(t, k2.Unwatch(adopted))
	check(t, s.Unwatch(q))
	check(t, s.Unlink(k2))
	// k's watch ends whenever the collector destroys k: ignore it.
	notK := func(ns []keyring.Notification) []keyring.Notification {
		return slices.DeleteFunc(ns, func(n keyring.Notification) bool { return n.WatchID == 8 })
	}
	got = notK(got[min(len(got), len(want)):])
	want = []keyring.Notification{
		{Type: keyring.WatchRemoved, WatchID: 9, Key: k2},
		{Type: keyring.WatchRemoved, WatchID: 7, Key: s.Key},
	}
	for len(got) < len(want) {
		got = append(got, notK(must(adopted.Read())(t))...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("filtered notifications\n %+v\nwant\n %+v", got, want)
	}
	if err := q.SetFilter(keyring.WatchRemoved); !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("SetFilter(WatchRemoved) = %v, want ErrInvalid: meta notifications always pass", err)
	}
}

// Watch-queue records as the kernel lays them out (native endian).
func TestParseNotifications(t *testing.T) {
	rec := func(typ, sub uint32, length, id uint32, key, aux uint32) []byte {
		b := make([]byte, 16)
		ne.PutUint32(b, typ|sub<<24)
		ne.PutUint32(b[4:], length|id<<8)
		ne.PutUint32(b[8:], key)
		ne.PutUint32(b[12:], aux)
		return b[:length]
	}
	in := append(rec(1, 2, 16, 3, 100, 200), rec(0, 1, 8, 4, 0, 0)...)
	in = append(in, rec(9, 0, 16, 0, 1, 1)...) // another watch type: skipped
	// struct watch_notification_removal: a u64 id, the key's serial; none
	// in the short form.
	removal := rec(0, 0, 16, 5, 0, 0)
	ne.PutUint64(removal[8:], 300)
	in = append(in, removal...)
	in = append(in, rec(0, 0, 8, 6, 0, 0)...)
	got, err := keyring.ParseNotifications(in)
	check(t, err)
	want := []keyring.Notification{
		{Type: keyring.KeyLinked, WatchID: 3, Key: keyring.ID(100).Key(), Aux: keyring.ID(200).Key()},
		{Type: keyring.WatchLoss, WatchID: 4},
		{Type: keyring.WatchRemoved, WatchID: 5, Key: keyring.ID(300).Key()},
		{Type: keyring.WatchRemoved, WatchID: 6},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ParseNotifications = %+v, want %+v", got, want)
	}
	for _, bad := range [][]byte{{1, 2, 3}, rec(1, 0, 0, 0, 0, 0)[:0:0], append(rec(1, 0, 16, 0, 0, 0)[:4], 32, 0, 0, 0)} {
		if len(bad) == 0 {
			bad = []byte{1, 0, 0, 0, 0, 0, 0, 0} // length 0
		}
		if _, err := keyring.ParseNotifications(bad); err == nil {
			t.Errorf("ParseNotifications(%x) accepted a bad record", bad)
		}
	}
}

var ne = binary.NativeEndian
