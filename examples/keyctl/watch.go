//go:build linux

package main

import (
	"errors"
	"os"
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

// checkFilter validates -f filter characters as keyutils does. The keyring
// package has no watch filters, so a valid filter is then not applied.
func checkFilter(s string) {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("iplncrvs", rune(s[i])) {
			usageErr("Unknown filter character '" + s[i:i+1] + "'")
		}
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
	opts, rest := getopt(args, "f:")
	for _, o := range opts {
		checkFilter(o[1])
	}
	if len(rest) != 1 {
		usage()
	}
	k := keyID(rest[0]).Key()
	q := openWatch()
	if err := k.Watch(q, 1); err != nil {
		fail("keyctl_watch_key", err)
	}
	consume(q)
}

// consume prints notifications as keyutils' consumer does, until the
// watched key goes away.
func consume(q *keyring.WatchQueue) {
	names := map[keyring.NotificationType]string{
		keyring.KeyInstantiated: "inst", keyring.KeyUpdated: "upd", keyring.KeyLinked: "link",
		keyring.KeyUnlinked: "unlk", keyring.KeyCleared: "clr", keyring.KeyRevoked: "rev",
		keyring.KeyInvalidated: "inv", keyring.KeySetattr: "attr",
	}
	for {
		ns, err := q.Read()
		if err != nil {
			fail("read", err)
		}
		for _, n := range ns {
			id := strconv.FormatUint(uint64(uint32(n.Key.ID())), 10)
			switch n.Type {
			case keyring.WatchRemoved:
				out.WriteString(id + " gc\n")
				if n.WatchID == 1 {
					exit(0)
				}
			case keyring.KeyLinked, keyring.KeyUnlinked:
				out.WriteString(id + " " + names[n.Type] + " " + strconv.FormatUint(uint64(uint32(n.Aux.ID())), 10) + "\n")
			default:
				if s, ok := names[n.Type]; ok {
					out.WriteString(id + " " + s + "\n")
				}
			}
		}
		out.Flush()
	}
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

func cmdWatchSession(args []string) {
	opts, rest := getopt(args, "+df:n:")
	for _, o := range opts {
		if o[0] == "f" {
			checkFilter(o[1])
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
	q.Close()
	out.Flush()
	os.Stderr.WriteString("keyctl: watch_session needs to fork a notification consumer, which this program does not do\n")
	os.Exit(1)
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
