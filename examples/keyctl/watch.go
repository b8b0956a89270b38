//go:build linux

package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/kernkeys/kernkeys/keyring"
)

// getopt parses args (args[0] the command) as GNU getopt(3) does for
// optstring: options may follow operands unless optstring starts with '+'.
// It returns the options in order and the operands.
func getopt(args []string, optstring string) (opts [][2]string, operands []string) {
	inOrder := strings.HasPrefix(optstring, "+")
	optstring = strings.TrimPrefix(optstring, "+")
	bad := func(msg string) {
		out.Flush()
		os.Stderr.WriteString(args[0] + ": " + msg + "\n" + "Unknown option\n")
		os.Exit(2)
	}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return opts, append(operands, args[i+1:]...)
		}
		if len(a) < 2 || a[0] != '-' {
			if inOrder {
				return opts, append(operands, args[i:]...)
			}
			operands = append(operands, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			k := strings.IndexByte(optstring, c)
			if k < 0 || c == ':' {
				bad("invalid option -- '" + string(c) + "'")
			}
			if k+1 < len(optstring) && optstring[k+1] == ':' {
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						bad("option requires an argument -- '" + string(c) + "'")
					}
					i++
					v = args[i]
				}
				opts = append(opts, [2]string{string(c), v})
				break
			}
			opts = append(opts, [2]string{string(c), ""})
		}
	}
	return opts, operands
}

// watchFilter is keyutils' -f option: the key notification types the
// queue's kernel filter lets through. With no -f everything is delivered;
// each -f adds its types, so an empty -f lets none through (removals
// always pass).
type watchFilter struct {
	set   bool
	types []keyring.NotificationType
}

// filterChars maps a -f character to its notification type, by position.
const filterChars = "iplncrvs"

// add adds the types s names; it returns the first character that names
// none, and false.
func (f *watchFilter) add(s string) (byte, bool) {
	f.set = true
	for i := 0; i < len(s); i++ {
		t := strings.IndexByte(filterChars, s[i])
		if t < 0 || s[i] == 0 {
			return s[i], false
		}
		f.types = append(f.types, keyring.NotificationType(t))
	}
	return 0, true
}

// parseFilter adds a -f option to f, exiting as keyutils does on an
// unknown character.
func parseFilter(f *watchFilter, s string) {
	if c, ok := f.add(s); !ok {
		usageErr("Unknown filter character '" + string(rune(c)) + "'")
	}
}

// openWatch opens a watch queue for 256 notifications with f as its kernel
// filter, with keyutils' error labels. The library reports pipe2's ENOPKG
// (no watch queues in the kernel) as EOPNOTSUPP: print what pipe2 said.
func openWatch(f watchFilter) *keyring.WatchQueue {
	q, err := keyring.NewWatchQueue(256)
	if err != nil {
		if errors.Is(err, syscall.EOPNOTSUPP) {
			fail("pipe2", syscall.Errno(0x41)) // ENOPKG
		}
		fail("/dev/watch_queue(size)", err)
	}
	if f.set {
		if err := q.SetFilter(f.types...); err != nil {
			fail("/dev/watch_queue(filter)", err)
		}
	}
	return q
}

// watchKey is KEYCTL_WATCH_KEY for k on q (watchID -1 removes the watch),
// failing as keyutils' keyctl_watch_key does.
func watchKey(k keyring.Key, q *keyring.WatchQueue, watchID int) {
	var err error
	if watchID < 0 {
		err = k.Unwatch(q)
	} else {
		err = k.Watch(q, uint8(watchID))
	}
	if err != nil {
		fail("keyctl_watch_key", err)
	}
}

func cmdWatch(args []string) {
	var f watchFilter
	opts, rest := getopt(args, "f:")
	for _, o := range opts {
		parseFilter(&f, o[1])
	}
	if len(rest) != 1 {
		usage()
	}
	k := keyID(rest[0]).Key()
	q := openWatch(f)
	watchKey(k, q, 1)
	c := newConsumer(q, os.Stdout, os.Stdout)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		<-sig
		c.stop()
	}()
	exit(c.run())
}

// consumer prints notifications as keyutils' consumer does: key changes
// to log, removals to gc, a line at a time, until watch 1 is removed or
// it is stopped. It is keyutils' consumer but for -d, which prints no
// debugging here.
type consumer struct {
	// q is the queue. The library opens it non-blocking (as keyutils
	// does; the programs watch_session starts see that too) and reads it
	// through the runtime's poller, so that stop can end a read as
	// keyutils' SIGTERM interrupts its poll.
	q       *keyring.WatchQueue
	ctx     context.Context
	stop    context.CancelFunc // makes run return, as keyutils' SIGTERM does its consumer
	log, gc *os.File
}

func newConsumer(q *keyring.WatchQueue, log, gc *os.File) *consumer {
	ctx, stop := context.WithCancel(context.Background())
	return &consumer{q: q, ctx: ctx, stop: stop, log: log, gc: gc}
}

var notificationNames = [...]string{
	keyring.KeyInstantiated: "inst", keyring.KeyUpdated: "upd", keyring.KeyLinked: "link",
	keyring.KeyUnlinked: "unlk", keyring.KeyCleared: "clr", keyring.KeyRevoked: "rev",
	keyring.KeyInvalidated: "inv", keyring.KeySetattr: "attr",
}

// serial formats a key ID as keyutils' %u does.
func serial(k keyring.Key) string { return strconv.FormatUint(uint64(uint32(k.ID())), 10) }

// run reads and prints notifications until watch 1 is removed, the queue
// ends or stop is called, and returns the exit code. Like keyutils', a
// stopped consumer prints the whole of what it has read first: the
// iterator yields what one read returned before it reads again.
func (c *consumer) run() int {
	for n, err := range c.q.Notifications(c.ctx) {
		switch {
		case errors.Is(err, context.Canceled):
			c.log.WriteString("Monitoring terminated\n")
			if c.gc != c.log {
				c.gc.WriteString("Monitoring terminated\n")
			}
			return 0
		case errors.Is(err, io.EOF):
			os.Stdout.WriteString("-- END --\n")
			return 0
		case err != nil:
			fail("read", err)
		}
		if c.print(n) {
			return 0
		}
	}
	return 0 // not reached: the sequence ends with its error
}

// print prints a notification; it reports whether it is the removal of
// watch 1, which ends the consumer.
func (c *consumer) print(n keyring.Notification) (done bool) {
	switch {
	case n.Type == keyring.WatchRemoved:
		c.gc.WriteString(serial(n.Key) + " gc\n")
		return n.WatchID == 1
	case n.Type == keyring.WatchLoss:
		c.log.WriteString("-- LOSS --\n")
	case int(n.Type) < len(notificationNames):
		s := serial(n.Key) + " " + notificationNames[n.Type]
		if n.Type == keyring.KeyLinked || n.Type == keyring.KeyUnlinked {
			s += " " + serial(n.Aux)
		}
		c.log.WriteString(s + "\n")
	}
	return false
}

// watchFD is watch_add (watch ID 2) and watch_rm (-1): KEYCTL_WATCH_KEY on
// a queue another process opened and passed down as a file descriptor, as
// watch_session does in $KEYCTL_WATCH_FD.
func watchFD(args []string, watchID int) {
	if len(args) != 3 {
		usage()
	}
	q := keyring.WatchQueueFromFD(atoi(args[1]))
	watchKey(keyID(args[2]).Key(), q, watchID)
	exit(0)
}

func cmdWatchAdd(args []string) { watchFD(args, 2) }
func cmdWatchRm(args []string)  { watchFD(args, -1) }

// cmdWatchSession joins a new session keyring, watches it, and runs a
// program in it with the watch queue on descriptor <fd> ($KEYCTL_WATCH_FD),
// while a consumer logs the notifications. keyutils forks the consumer;
// here it is a goroutine, and the program's end stops it as keyutils'
// SIGTERM does.
func cmdWatchSession(args []string) {
	var f watchFilter
	name, anon := "", true
	opts, rest := getopt(args, "+df:n:")
	for _, o := range opts {
		switch o[0] {
		case "f":
			parseFilter(&f, o[1])
		case "n":
			name, anon = o[1], false
		}
	}
	if len(rest) < 4 {
		usage()
	}
	tfd := atoi(rest[2])
	if tfd < 3 || tfd > 9 {
		usageErr("The target fd must be between 3 and 9")
	}
	q := openWatch(f)
	c := newConsumer(q, openLog(rest[0]), openLog(rest[1]))
	s, err := joinSession(name, anon)
	if err != nil {
		fail("keyctl_join_session_keyring", err)
	}
	done := make(chan int, 1)
	go func() { done <- c.run() }()
	if err := s.Watch(q, 1); err != nil {
		fail("keyctl_watch_key/session", err)
	}
	os.Stderr.WriteString("Joined session keyring: " + itoa(int(s.ID())) + "\n")
	pid, prog, err := startProgram(rest[3:], q.Fd(), tfd)
	if err != nil {
		// keyutils' child fails to exec: it says so and exits with 1.
		os.Stderr.WriteString(prog + ": " + strerror(errnoOf(err)) + "\n")
		c.stop()
		<-done
		exit(1)
	}
	exited := make(chan int, 1)
	go func() { exited <- waitCode(pid) }()
	select {
	case code := <-exited:
		c.stop()
		if e := <-done; e != 0 {
			code = e
		}
		exit(code)
	case code := <-done:
		syscall.Kill(pid, syscall.SIGTERM)
		if e := <-exited; code == 0 {
			code = e
		}
		exit(code)
	}
}

// startProgram starts watch_session's program as keyutils' child does:
// args found as execvp(3) finds them, or $SHELL (or /bin/sh) with no
// arguments, with stdin, stdout and stderr, the queue qfd on descriptor
// tfd, and $KEYCTL_WATCH_FD naming it. It returns the child's pid and the
// name keyutils reports an exec failure under.
func startProgram(args []string, qfd, tfd int) (pid int, prog string, err error) {
	const envName = "KEYCTL_WATCH_FD="
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, envName) {
			env = append(env, e)
		}
	}
	files := make([]uintptr, tfd+1)
	for i := range files {
		files[i] = uintptr(i) // 0, 1, 2
		if i > 2 {
			files[i] = ^uintptr(0) // closed
		}
	}
	files[tfd] = uintptr(qfd)
	attr := &syscall.ProcAttr{Env: append(env, envName+itoa(tfd)), Files: files}
	if len(args) == 0 {
		sh, ok := os.LookupEnv("SHELL")
		if !ok {
			sh = "/bin/sh"
		}
		pid, err = syscall.ForkExec(sh, []string{sh}, attr)
		return pid, sh, err
	}
	err = execvp(args[0], func(path string) error {
		pid, err = syscall.ForkExec(path, args, attr)
		return err
	})
	return pid, args[0], err
}

// waitCode waits for process pid and returns the exit code keyutils
// derives from its wait status.
func waitCode(pid int) int {
	var ws syscall.WaitStatus
	for {
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != syscall.EINTR {
			break
		}
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// openLog opens a log file for appending, as fopen(3) "a" does.
func openLog(name string) *os.File {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o666)
	if err != nil {
		fail(name, err)
	}
	return f
}

// atoi is C's atoi: leading digits, 0 when there are none.
func atoi(s string) int {
	v, _ := strtoul(s, 10)
	if strings.HasPrefix(strings.TrimLeft(s, " \t\n\v\f\r"), "-") {
		return -int(int32(-v))
	}
	return int(int32(v))
}

func cmdWatchSync(args []string) {
	if len(args) != 2 {
		usage()
	}
	fd := atoi(args[1])
	const pipeIOCSync = 0x5762 // _IO('W', 0x62)
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), pipeIOCSync, 0)
	if e == 0 {
		exit(0)
	}
	if e != syscall.ENOTTY {
		fail("ioctl(PIPE_IOC_SYNC)", e)
	}
	for {
		var count int32
		_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCINQ, uintptr(unsafe.Pointer(&count)))
		if e != 0 {
			fail("ioctl(FIONREAD)", e)
		}
		if count == 0 {
			break
		}
		syscall.Nanosleep(&syscall.Timespec{Nsec: 200e6}, nil)
	}
}
