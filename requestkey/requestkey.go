package requestkey

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/kernkeys/kernkeys/internal/kerr"
	"github.com/kernkeys/kernkeys/internal/keyctl"
	"github.com/kernkeys/kernkeys/keyring"
)

// Request is a key construction request, as a Handler receives it.
type Request struct {
	// Key is the key under construction.
	Key keyring.Key
	// Type and Description are the key's, as request_key(2) named it.
	Type, Description string
	// CalloutInfo is request_key(2)'s callout information.
	CalloutInfo []byte
	// UID and GID are the requester's filesystem user and group IDs.
	UID, GID uint32
	// ThreadKeyring, ProcessKeyring and SessionKeyring are the requester's
	// keyrings, the zero Keyring where it has none.
	ThreadKeyring, ProcessKeyring, SessionKeyring keyring.Keyring
}

// A Handler constructs the key r asks for and returns its payload, which
// Serve instantiates the key with and then wipes (the handler must not
// keep it). To answer with a negative key it returns a *Rejection; any
// other error negates the key for a minute.
//
// It runs on the OS thread that holds the authority over r.Key, so it may
// use that authority itself: request_key(2) then searches the requester's
// keyrings, and r.Key.SetTimeout gives the key an expiry that the
// instantiation keeps (the kernel allows it on a key under construction to
// the holder of its authorisation, as nfsidmap uses it). Goroutines it
// starts run on other threads, without it.
type Handler func(ctx context.Context, r *Request) (payload []byte, err error)

// Rejection is the error by which a Handler answers with a negative key:
// requests for the key fail with Reason until Timeout (rounded up to whole
// seconds; 0 for ever) has passed. Reason ENOKEY is keyctl negate
// (KEYCTL_NEGATE); any other errno is keyctl reject (KEYCTL_REJECT), such
// as EKEYREJECTED, EKEYREVOKED or EKEYEXPIRED. A handler may return it
// wrapped.
type Rejection struct {
	Reason  syscall.Errno
	Timeout time.Duration
}

func (r *Rejection) Error() string {
	return "requestkey: rejected for " + r.Timeout.String() + ": " + r.Reason.Error()
}

// failureTimeout is how long a key stays negative when its handler failed:
// the kernel's own key_negative_timeout.
const failureTimeout = time.Minute

// ParseArgs parses request-key's arguments (without the program name):
// "create", then the key's ID, the requester's uid and gid, and its thread,
// process and session keyrings, in decimal as the kernel writes them. The
// Request it returns has no Type, Description or CalloutInfo yet: Serve
// reads those from the kernel.
//
// Errors: keyring.ErrInvalid for anything else.
func ParseArgs(args []string) (*Request, error) {
	if len(args) != 7 {
		return nil, kerr.Refuse("requestkey.ParseArgs", "args", "want 7 arguments: create <key> <uid> <gid> <thread-keyring> <process-keyring> <session-keyring>, got "+strconv.Itoa(len(args)))
	}
	if args[0] != "create" {
		return nil, kerr.Refuse("requestkey.ParseArgs", "args[0]", "operation "+strconv.Quote(args[0])+" is not create, the only one the kernel asks for")
	}
	var r Request
	var err error
	var id keyring.ID
	if id, err = parseSerial(args, 1, false); err != nil {
		return nil, err
	}
	r.Key = id.Key()
	if r.UID, err = parseUID(args, 2); err != nil {
		return nil, err
	}
	if r.GID, err = parseUID(args, 3); err != nil {
		return nil, err
	}
	for i, dst := range []*keyring.Keyring{&r.ThreadKeyring, &r.ProcessKeyring, &r.SessionKeyring} {
		if id, err = parseSerial(args, 4+i, true); err != nil {
			return nil, err
		}
		*dst = id.Keyring()
	}
	return &r, nil
}

// parseSerial parses args[i], a key serial number as the kernel's "%d"
// writes it: positive, or 0 where zero is allowed.
func parseSerial(args []string, i int, zero bool) (keyring.ID, error) {
	n, err := strconv.ParseInt(args[i], 10, 32)
	if err != nil || n < 0 || n == 0 && !zero {
		return 0, kerr.Refuse("requestkey.ParseArgs", "args["+strconv.Itoa(i)+"]", strconv.Quote(args[i])+" is not a key serial number")
	}
	return keyring.ID(n), nil
}

// parseUID parses args[i], a uid or gid as the kernel's "%d" writes it:
// those over 2^31-1 come out negative.
func parseUID(args []string, i int) (uint32, error) {
	n, err := strconv.ParseInt(args[i], 10, 64)
	if err != nil || n < -1<<31 || n > 1<<32-1 {
		return 0, kerr.Refuse("requestkey.ParseArgs", "args["+strconv.Itoa(i)+"]", strconv.Quote(args[i])+" is not a user or group ID")
	}
	return uint32(n), nil
}

// Serve constructs the key that args, request-key's arguments without the
// program name, name: it parses them (see ParseArgs), and on a locked OS
// thread of its own assumes the authority over the key, reads the request
// and answers it with h's answer (see Handler). It returns nil once the key
// is instantiated or negative as h asked.
//
// Where h fails, or the key's type refuses the payload, Serve still negates
// the key before it returns the error. Where the authority cannot be
// assumed (the key is not under construction for this process: ErrNotFound)
// nothing can answer the request, and Serve returns that error. A panic in
// h ends the program, as in any goroutine; the kernel then negates the key
// for 60 seconds.
func Serve(ctx context.Context, args []string, h Handler) error {
	r, err := ParseArgs(args)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine, and the
		// authority it assumed with it.
		runtime.LockOSThread()
		done <- r.construct(ctx, h)
	}()
	return <-done
}

// construct answers r on the calling thread, which it gives the authority
// over r.Key.
func (r *Request) construct(ctx context.Context, h Handler) error {
	if _, err := keyring.AssumeAuthority(r.Key); err != nil {
		return err
	}
	if err := r.read(); err != nil {
		return r.negate(err)
	}
	payload, err := h(ctx, r)
	defer clear(payload)
	var rej *Rejection
	switch {
	case err == nil:
		if err := r.Key.Instantiate(payload, keyring.Keyring{}); err != nil {
			return r.negate(err)
		}
		return nil
	case errors.As(err, &rej):
		return r.Key.Reject(rej.Timeout, rej.Reason, keyring.Keyring{})
	}
	return r.negate(&keyring.Error{Op: "requestkey.Serve", ID: r.Key.ID(), Errno: keyctl.ENOKEY,
		Reason: "the handler failed; the key is negated", Err: err})
}

// read fills in the key's type and description, and the callout
// information, the payload of the authorisation key that the thread has
// assumed (@a).
func (r *Request) read() error {
	d, err := r.Key.Describe()
	if err != nil {
		return err
	}
	r.Type, r.Description = d.Type, d.Description
	r.CalloutInfo, err = keyring.RequestKeyAuth().Read()
	return err
}

// negate negates r.Key for failureTimeout because of err, and returns err
// (with the negation's own error, if that failed too).
func (r *Request) negate(err error) error {
	if nerr := r.Key.Negate(failureTimeout, keyring.Keyring{}); nerr != nil {
		return errors.Join(err, nerr)
	}
	return err
}

// Main is the main function of a handler program: it serves the request
// that the program's arguments name with h, as Serve does, with a context
// that SIGTERM or an interrupt cancels, and exits: 0 once the request is
// answered as h asked, 1 after printing the error to standard error
// otherwise.
func Main(h Handler) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := Serve(ctx, os.Args[1:], h)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, filepath.Base(os.Args[0])+":", err)
		os.Exit(1)
	}
	os.Exit(0)
}
