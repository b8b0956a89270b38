//go:build linux

package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
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

// watchFilter is keyutils' -f option: the key notification types to
// deliver, one bit per type, as IOC_WATCH_QUEUE_SET_FILTER takes them. With
// no -f everything is delivered; each -f adds its types, so "-f ”" lets
// none through.
type watchFilter struct {
	set   bool
	types uint32
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
		f.types |= 1 << t
	}
	return 0, true
}

// passes reports whether notifications of type t get through.
func (f watchFilter) passes(t keyring.NotificationType) bool {
	return !f.set || t < 32 && f.types&(1<<t) != 0
}

// parseFilter adds a -f option to f, exiting as keyutils does on an
// unknown character.
func parseFilter(f *watchFilter, s string) {
	if c, ok := f.add(s); !ok {
		usageErr("Unknown filter character '" + string(rune(c)) + "'")
	}
}

// openWatch opens a watch queue for 256 notifications, with keyutils'
// error labels. The library reports pipe2's ENOPKG (no watch queues in the
// kernel) as EOPNOTSUPP: print what pipe2 said.
func openWatch() *keyring.WatchQueue {
	q, err := keyring.NewWatchQueue(256)
	if err != nil {
		if errors.Is(err, syscall.EOPNOTSUPP) {
			fail("pipe2", syscall.Errno(0x41)) // ENOPKG
		}
		fail("/dev/watch_queue(size)", err)
	}
	return q
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
	q := openWatch()
	if err := k.Watch(q, 1); err != nil {
		fail("keyctl_watch_key", err)
	}
	c := &consumer{log: os.Stdout, gc: os.Stdout, filter: f, watched: map[uint8]keyring.Key{1: k}}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		<-sig
		c.terminate()
		exit(0)
	}()
	exit(c.run(q))
}

// consumer prints notifications as keyutils' consumer does: key changes
// to log, removals to gc, a line at a time. Apart from the -f filter,
// which it applies to what it reads (the package cannot set a queue's
// kernel filter), and -d, it is keyutils' consumer.
type consumer struct {
	mu      sync.Mutex
	stopped bool // terminate has run: print nothing more
	log, gc *os.File
	filter  watchFilter
	// watched names the key behind each watch ID: the package does not
	// decode the key of a removal record, but each ID here watches one key.
	watched map[uint8]keyring.Key
}

var notificationNames = [...]string{
	keyring.KeyInstantiated: "inst", keyring.KeyUpdated: "upd", keyring.KeyLinked: "link",
	keyring.KeyUnlinked: "unlk", keyring.KeyCleared: "clr", keyring.KeyRevoked: "rev",
	keyring.KeyInvalidated: "inv", keyring.KeySetattr: "attr",
}

func (c *consumer) line(f *os.File, s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped {
		f.WriteString(s + "\n")
	}
}

// serial formats a key ID as keyutils' %u does.
func serial(k keyring.Key) string { return strconv.FormatUint(uint64(uint32(k.ID())), 10) }

// run reads and prints notifications until watch 1 is removed, and
// returns the exit code.
func (c *consumer) run(q *keyring.WatchQueue) int {
	for {
		ns, err := q.Read()
		if err != nil {
			fail("read", err)
		}
		if len(ns) == 0 {
			c.line(os.Stdout, "-- END --")
			return 0
		}
		for _, n := range ns {
			switch {
			case n.Type == keyring.WatchRemoved:
				c.line(c.gc, serial(c.watched[n.WatchID])+" gc")
				if n.WatchID == 1 {
					return 0
				}
			case n.Type == keyring.WatchLoss:
				c.line(c.log, "-- LOSS --")
			case int(n.Type) < len(notificationNames) && c.filter.passes(n.Type):
				s := serial(n.Key) + " " + notificationNames[n.Type]
				if n.Type == keyring.KeyLinked || n.Type == keyring.KeyUnlinked {
					s += " " + serial(n.Aux)
				}
				c.line(c.log, s)
			}
		}
	}
}

// terminate prints what keyutils' consumer prints on SIGTERM.
func (c *consumer) terminate() {
	c.line(c.log, "Monitoring terminated")
	if c.gc != c.log {
		c.line(c.gc, "Monitoring terminated")
	}
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
}

// watchFD is watch_add and watch_rm: KEYCTL_WATCH_KEY on a queue that
// another process opened and passed down as a file descriptor.
func watchFD(args []string) {
	if len(args) != 3 {
		usage()
	}
	_, _ = strconv.Atoi(args[1]) // atoi: anything goes
	keyID(args[2])
	// The keyring package cannot adopt a queue's file descriptor, so the
	// call can only be made where the kernel has no notifications, where
	// the answer is known.
	c, err := keyring.KernelCapabilities()
	if err == nil && !c.Notifications {
		fail("keyctl_watch_key", syscall.EOPNOTSUPP)
	}
	out.Flush()
	os.Stderr.WriteString("keyctl: " + args[0] + " needs a watch queue file descriptor, which the keyring package cannot adopt\n")
	os.Exit(1)
}

func cmdWatchAdd(args []string) { watchFD(args) }
func cmdWatchRm(args []string)  { watchFD(args) }

// cmdWatchSession joins a new session keyring, watches it, and runs a
// program in it while a consumer logs the notifications. keyutils forks
// the consumer; here it is a goroutine, and the program's end ends it as
// keyutils' SIGTERM does. The program's $KEYCTL_WATCH_FD names no queue:
// the package cannot hand out the queue's descriptor (see README).
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
	q := openWatch()
	c := &consumer{log: openLog(rest[0]), gc: openLog(rest[1]), filter: f}
	s, err := joinSession(name, anon)
	if err != nil {
		fail("keyctl_join_session_keyring", err)
	}
	c.watched = map[uint8]keyring.Key{1: s.Key}
	done := make(chan int, 1)
	go func() { done <- c.run(q) }()
	if err := s.Watch(q, 1); err != nil {
		fail("keyctl_watch_key/session", err)
	}
	os.Stderr.WriteString("Joined session keyring: " + itoa(int(s.ID())) + "\n")
	cmd := shellCommand(rest[3:])
	cmd.Env = append(os.Environ(), "KEYCTL_WATCH_FD="+itoa(tfd))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		// keyutils' child fails to exec: it says so and exits with 1.
		e := errnoOf(err)
		if errors.Is(err, exec.ErrNotFound) {
			e = syscall.ENOENT
		}
		os.Stderr.WriteString(cmd.Args[0] + ": " + strerror(e) + "\n")
		c.terminate()
		exit(1)
	}
	exited := make(chan int, 1)
	go func() {
		cmd.Wait()
		exited <- waitCode(cmd.ProcessState)
	}()
	select {
	case code := <-exited:
		c.terminate()
		exit(code)
	case code := <-done:
		cmd.Process.Signal(syscall.SIGTERM)
		if code == 0 {
			code = <-exited
		}
		exit(code)
	}
}

// shellCommand is the program watch_session runs: args, or $SHELL (or
// /bin/sh) with no arguments.
func shellCommand(args []string) *exec.Cmd {
	if len(args) == 0 {
		sh, ok := os.LookupEnv("SHELL")
		if !ok {
			sh = "/bin/sh"
		}
		args = []string{sh}
	}
	return exec.Command(args[0], args[1:]...)
}

// waitCode is the exit code keyutils derives from a child's wait status.
func waitCode(ps *os.ProcessState) int {
	ws := ps.Sys().(syscall.WaitStatus)
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
