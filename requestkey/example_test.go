//go:build linux

package requestkey_test

import (
	"context"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kernkeys/kernkeys/requestkey"
)

// A handler program for "user myapp:*" keys, installed as
// /usr/local/libexec/myapp-keys and routed to by the request-key.conf line
//
//	create user myapp:* * /usr/local/libexec/myapp-keys %o %k %u %g %T %P %S
//
// It gives "myapp:token:<name>" keys a payload built from the callout
// information, and rejects anything else for ten minutes.
func Example() {
	requestkey.Main(func(ctx context.Context, r *requestkey.Request) ([]byte, error) {
		name, ok := strings.CutPrefix(r.Description, "myapp:token:")
		if !ok || len(r.CalloutInfo) == 0 {
			return nil, &requestkey.Rejection{Reason: unix.EKEYREJECTED, Timeout: 10 * time.Minute}
		}
		return append([]byte(name+"="), r.CalloutInfo...), nil
	})
}
