// Command reqkeyhelper constructs keys for request_key(2) through the
// keyring package: the helper side of TestRequestKeyUpcall. /sbin/request-key
// runs it, as root, for user keys described "kernkeys-test:<action>:<tag>",
// from this line that .ci/run installs in /etc/request-key.d/kernkeys-test.conf:
//
//	create user kernkeys-test:* * /usr/local/libexec/kernkeys-reqkey %k %d %c %S
//
// What it does is fixed by the action in the description; the callout
// information is only ever used as the key's payload.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kernkeys/kernkeys/keyring"
)

func main() {
	runtime.LockOSThread() // the assumed authority belongs to this thread
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kernkeys-reqkey:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("usage: kernkeys-reqkey <key> <description> <callout> <session>")
	}
	id, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	k := keyring.ID(id).Key()
	if _, err := keyring.AssumeAuthority(k); err != nil {
		return err
	}
	// The authorisation key (@a) describes the request.
	d, err := keyring.RequestKeyAuth().Describe()
	if err != nil {
		return err
	}
	if d.Type != ".request_key_auth" {
		return fmt.Errorf("@a is a %q key", d.Type)
	}
	action, _, _ := strings.Cut(strings.TrimPrefix(args[1], "kernkeys-test:"), ":")
	payload := []byte(args[2])
	dest := keyring.Requestor()
	switch action {
	case "instantiate":
		err = k.Instantiate(payload, dest)
	case "iov":
		half := len(payload) / 2
		err = k.InstantiateIOV([][]byte{payload[:half], nil, payload[half:]}, dest)
	case "negate":
		err = k.Negate(time.Minute, dest)
	case "reject":
		err = k.Reject(time.Minute, syscall.EKEYREJECTED, dest)
	default:
		err = k.Reject(time.Minute, syscall.EINVAL, dest)
	}
	if err != nil {
		return err
	}
	_, err = keyring.AssumeAuthority(keyring.Key{})
	return err
}
