//go:build linux

package keyring_test

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// requestKeyConf is where .ci/run routes "user kernkeys-test:*" requests to
// testdata/reqkeyhelper; only root can install it.
const requestKeyConf = "/etc/request-key.d/kernkeys-test.conf"

// The request-key helper side end to end: request_key with callout
// information makes the kernel run /sbin/request-key, which runs
// testdata/reqkeyhelper, which assumes authority over the key and
// instantiates, negates or rejects it through the keyring package.
func TestRequestKeyUpcall(t *testing.T) {
	if _, err := os.Stat(requestKeyConf); err != nil {
		t.Skipf("the request-key helper is not installed (%v); as root, run the request-key step of .ci/run", err)
	}
	s := keytest.Session(t)
	tag := strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	request := func(action string, callout string) (keyring.Key, error) {
		return keyring.Request("user", "kernkeys-test:"+action+":"+tag, keyring.RequestOptions{
			CalloutInfo: []byte(callout), Destination: s,
		})
	}

	for _, action := range []string{"instantiate", "iov"} {
		k, err := request(action, "payload-from-"+action)
		check(t, err)
		if got := must(k.Read())(t); string(got) != "payload-from-"+action {
			t.Errorf("%s: payload %q", action, got)
		}
		d := must(k.Describe())(t)
		if d.UID != uint32(os.Getuid()) || !strings.HasPrefix(d.Description, "kernkeys-test:"+action) {
			t.Errorf("%s: constructed key %+v", action, d)
		}
		// Found again without an upcall.
		if again := must(keyring.Request("user", d.Description, keyring.RequestOptions{}))(t); again != k {
			t.Errorf("%s: a second request found %v, want %v", action, again, k)
		}
	}

	_, err := request("negate", "x")
	wantErr(t, err, keyring.ErrNotFound, syscall.ENOKEY)
	_, err = request("reject", "x")
	wantErr(t, err, keyring.ErrRejected, syscall.EKEYREJECTED)
	// The negative keys are cached: without an upcall the answer is the same.
	_, err = keyring.Request("user", "kernkeys-test:reject:"+tag, keyring.RequestOptions{})
	wantErr(t, err, keyring.ErrRejected)

	// Outside an upcall there is no authority to assume or use.
	k := must(s.Add("user", "not-under-construction", []byte("x")))(t)
	_, err = keyring.AssumeAuthority(k)
	wantErr(t, err, keyring.ErrNotFound, syscall.ENOKEY)
	wantErr(t, k.Instantiate([]byte("y"), keyring.Keyring{}), keyring.ErrPermission)
	wantErr(t, k.Negate(0, keyring.Keyring{}), keyring.ErrPermission)
}

// The default request-key keyring belongs to the thread and reports the
// previous setting.
func TestSetDefaultRequestKeyring(t *testing.T) {
	keytest.Session(t)
	old := must(keyring.SetDefaultRequestKeyring(keyring.RequestKeyringSession))(t)
	if cur := must(keyring.SetDefaultRequestKeyring(keyring.RequestKeyringNoChange))(t); cur != keyring.RequestKeyringSession {
		t.Errorf("after setting session, the default is %v", cur)
	}
	if prev := must(keyring.SetDefaultRequestKeyring(old))(t); prev != keyring.RequestKeyringSession {
		t.Errorf("setting back returned %v", prev)
	}
	_, err := keyring.SetDefaultRequestKeyring(keyring.RequestKeyring(6)) // the group keyring
	wantErr(t, err, keyring.ErrInvalid)
}
