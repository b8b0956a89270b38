// Command reqkeyhelper constructs keys for request_key(2) with package
// requestkey: the helper side of TestRequestKeyUpcall. /sbin/request-key
// runs it, as root, for user keys described "kernkeys-test:<action>:<tag>",
// from this line that .ci/run installs in /etc/request-key.d/kernkeys-test.conf:
//
//	create user kernkeys-test:* * /usr/local/libexec/kernkeys-reqkey %o %k %u %g %T %P %S
//
// The action says how it answers:
//
//	negate    a negative key for a minute (ENOKEY)
//	reject    a negative key for a minute that fails with EKEYREJECTED
//	fail      a handler error: requestkey negates the key
//	expire    the key instantiated with the callout information, with a
//	          timeout of two hours that the handler sets first
//	request   the request as the handler sees it, as the payload:
//	          "<type> <uid> <gid> <thread keyring> <session keyring>
//	          <type of @a> <callout information>", where @a, the
//	          authorisation key, is found through the authority that the
//	          handler's thread holds
//
// and any other action instantiates the key with the callout information.
package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/requestkey"
)

func main() { requestkey.Main(construct) }

func construct(ctx context.Context, r *requestkey.Request) ([]byte, error) {
	action, _, _ := strings.Cut(strings.TrimPrefix(r.Description, "kernkeys-test:"), ":")
	switch action {
	case "negate":
		return nil, &requestkey.Rejection{Reason: unix.ENOKEY, Timeout: time.Minute}
	case "reject":
		return nil, &requestkey.Rejection{Reason: unix.EKEYREJECTED, Timeout: time.Minute}
	case "fail":
		return nil, errors.New("failing as asked")
	case "expire":
		if err := r.Key.SetTimeout(2 * time.Hour); err != nil {
			return nil, err
		}
	case "request":
		auth, err := keyring.RequestKeyAuth().Describe()
		if err != nil {
			return nil, err
		}
		return fmt.Appendf(nil, "%s %d %d %d %d %s %s", r.Type, r.UID, r.GID,
			r.ThreadKeyring.ID(), r.SessionKeyring.ID(), auth.Type, r.CalloutInfo), nil
	}
	return r.CalloutInfo, nil
}
