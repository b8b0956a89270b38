//go:build linux

// Command keyctl is a drop-in for keyutils 1.6.3's keyctl(1), built on the
// kernkeys keyring package: the same subcommands, the same arguments, the
// same output byte for byte, the same exit codes (0 success, 1 a kernel
// error printed as "label: message", 2 usage errors, 3 an unknown capability
// for supports).
//
// It shows how a whole command-line tool sits on the typed API: key specs
// (@s, %type:desc, numeric IDs) become keyring.ID values, every kernel error
// is a *keyring.Error whose Errno is printed as glibc's strerror would, and
// `show` walks a tree with DescribeInto and ReadInto on reused buffers.
//
// Like the C program it runs its whole life on one OS thread (the main
// thread, locked in init), so the thread, process and session keyrings it
// sees, creates and joins are those of that thread, and a program started by
// `keyctl session` inherits them.
//
//	go run ./examples/keyctl show
//	go run ./examples/keyctl session - keyctl show
package main

import (
	"bufio"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/kernkeys/kernkeys/keyring"
)

// version is this program's version, printed by --version.
const version = "0.1"

func init() {
	// Thread, process and session keyrings belong to an OS thread: keep
	// main on one, as the C program is, and never unlock it.
	runtime.LockOSThread()
}

// out is stdout, buffered like C's stdio when it is not a terminal, and
// flushed by exit.
var out = bufio.NewWriterSize(os.Stdout, 64<<10)

// exit flushes stdout and ends the process with code.
func exit(code int) {
	out.Flush()
	os.Exit(code)
}

// command is one subcommand: its action and the argument format that the
// usage text shows. An entry without action is an extra usage line.
type command struct {
	name, format string
	action       func(args []string)
}

// commands is keyutils' table, in its order: the usage text lists it.
var commands []command

func init() {
	commands = []command{
		{"--version", "", cmdVersion},
		{"add", "[-x] <type> <desc> <data> <keyring>", cmdAdd},
		{"chgrp", "<key> <gid>", cmdChgrp},
		{"chown", "<key> <uid>", cmdChown},
		{"clear", "<keyring>", cmdClear},
		{"describe", "<keyring>", cmdDescribe},
		{"dh_compute", "<private> <prime> <base>", cmdDHCompute},
		{"dh_compute_kdf", "<private> <prime> <base> <len> <hash_name>", cmdDHComputeKDF},
		{"dh_compute_kdf_oi", "[-x] <private> <prime> <base> <len> <hash_name>", cmdDHComputeKDFOI},
		{"get_persistent", "<keyring> [<uid>]", cmdGetPersistent},
		{"id", "<key>", cmdID},
		{"instantiate", "[-x] <key> <data> <keyring>", cmdInstantiate},
		{"invalidate", "<key>", cmdInvalidate},
		{"link", "<key> <keyring>", cmdLink},
		{"list", "<keyring>", cmdList},
		{"move", "[-f] <key> <from_keyring> <to_keyring>", cmdMove},
		{"negate", "<key> <timeout> <keyring>", cmdNegate},
		{"new_session", "[<name>]", cmdNewSession},
		{"newring", "<name> <keyring>", cmdNewring},
		{"padd", "[-x] <type> <desc> <keyring>", cmdPadd},
		{"pinstantiate", "[-x] <key> <keyring>", cmdPinstantiate},
		{"pipe", "<key>", cmdPipe},
		{"pkey_query", "<key> <pass> [k=v]*", cmdPkeyQuery},
		{"pkey_encrypt", "<key> <pass> <datafile> [k=v]*", cmdPkeyEncrypt},
		{"pkey_decrypt", "<key> <pass> <datafile> [k=v]*", cmdPkeyDecrypt},
		{"pkey_sign", "<key> <pass> <datafile> [k=v]*", cmdPkeySign},
		{"pkey_verify", "<key> <pass> <datafile> <sigfile> [k=v]*", cmdPkeyVerify},
		{"prequest2", "<type> <desc> [<dest_keyring>]", cmdPrequest2},
		{"print", "<key>", cmdPrint},
		{"pupdate", "[-x] <key>", cmdPupdate},
		{"purge", "<type>", cmdPurge},
		{"purge", "[-p] [-i] <type> <desc>", nil},
		{"purge", "-s <type> <desc>", nil},
		{"rdescribe", "<keyring> [sep]", cmdRdescribe},
		{"read", "<key>", cmdRead},
		{"reap", "[-v]", cmdReap},
		{"reject", "<key> <timeout> <error> <keyring>", cmdReject},
		{"request", "<type> <desc> [<dest_keyring>]", cmdRequest},
		{"request2", "<type> <desc> <info> [<dest_keyring>]", cmdRequest2},
		{"restrict_keyring", "<keyring> [<type> [<restriction>]]", cmdRestrictKeyring},
		{"revoke", "<key>", cmdRevoke},
		{"rlist", "<keyring>", cmdRlist},
		{"search", "<keyring> <type> <desc> [<dest_keyring>]", cmdSearch},
		{"security", "<key>", cmdSecurity},
		{"session", "", cmdSession},
		{"session", "- [<prog> <arg1> <arg2> ...]", nil},
		{"session", "<name> [<prog> <arg1> <arg2> ...]", nil},
		{"setperm", "<key> <mask>", cmdSetperm},
		{"show", "[-x] [<keyring>]", cmdShow},
		{"supports", "[<cap> | --raw]", cmdSupports},
		{"timeout", "<key> <timeout>", cmdTimeout},
		{"unlink", "<key> [<keyring>]", cmdUnlink},
		{"update", "[-x] <key> <data>", cmdUpdate},
		{"watch", "[-f<filters>] <key>", cmdWatch},
		{"watch_add", "<fd> <key>", cmdWatchAdd},
		{"watch_rm", "<fd> <key>", cmdWatchRm},
		{"watch_session", "[-f<filters>] [-n <name>] <notifylog> <gclog> <fd> <prog> [<arg1> <arg2> ...]", cmdWatchSession},
		{"watch_sync", "<fd>", cmdWatchSync},
		{"--test", "...", cmdTest},
	}
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		usage()
	}
	// keyutils 1.6.3 matches only whole command names: its prefix matching
	// never fires.
	for _, c := range commands {
		if c.action != nil && c.name == args[0] {
			c.action(args)
			exit(0)
		}
	}
	os.Stderr.WriteString("Unknown command\n")
	exit(2)
}

// usage prints the format of every command and exits with 2.
func usage() {
	var b strings.Builder
	b.WriteString("Format:\n")
	for _, c := range commands {
		b.WriteString("  keyctl " + c.name + " " + c.format + "\n")
	}
	b.WriteString(keySpecHelp)
	out.Flush()
	os.Stderr.WriteString(b.String())
	os.Exit(2)
}

// keySpecHelp ends keyutils' usage texts.
const keySpecHelp = "\nKey/keyring ID:\n" +
	"  <nnn>   numeric keyring ID\n" +
	"  @t      thread keyring\n" +
	"  @p      process keyring\n" +
	"  @s      session keyring\n" +
	"  @u      user keyring\n" +
	"  @us     user default session keyring\n" +
	"  @g      group keyring\n" +
	"  @a      assumed request_key authorisation key\n" +
	"\n" +
	"<type> can be \"user\" for a user-defined keyring\n" +
	"If you do this, prefix the description with \"<subtype>:\"\n"

// usageErr prints msg on stderr and exits with 2.
func usageErr(msg string) {
	out.Flush()
	os.Stderr.WriteString(msg + "\n")
	os.Exit(2)
}

// fail prints "label: <strerror>" as perror(3) does and exits with 1.
func fail(label string, err error) {
	out.Flush()
	if label != "" {
		label += ": "
	}
	os.Stderr.WriteString(label + strerror(errnoOf(err)) + "\n")
	os.Exit(1)
}

// errnoOf returns the errno an error carries; keyring errors always do.
func errnoOf(err error) syscall.Errno {
	var ke *keyring.Error
	if errors.As(err, &ke) {
		return ke.Errno
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EINVAL
}

// strerror returns glibc's text for e. Go's syscall table holds the same
// texts with a lower-case first letter, except for the few below.
func strerror(e syscall.Errno) string {
	switch e {
	case 0:
		return "Success"
	case 133: // EHWPOISON
		return "Memory page has hardware error"
	}
	s := e.Error()
	if strings.HasPrefix(s, "errno ") {
		return "Unknown error " + s[len("errno "):]
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// strtoul parses s as C's strtoul(3) does, and returns the value and the
// unparsed rest; with no digits at all the rest is the whole of s.
func strtoul(s string, base int) (uint64, string) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if (base == 0 || base == 16) && i+2 < len(s) && s[i] == '0' &&
		(s[i+1] == 'x' || s[i+1] == 'X') && digitVal(s[i+2]) < 16 {
		i += 2
		base = 16
	} else if base == 0 {
		base = 10
		if i < len(s) && s[i] == '0' {
			base = 8
		}
	}
	start := i
	var v uint64
	overflow := false
	for i < len(s) {
		d := digitVal(s[i])
		if d >= base {
			break
		}
		if v > (^uint64(0)-uint64(d))/uint64(base) {
			overflow = true
		}
		v = v*uint64(base) + uint64(d)
		i++
	}
	if i == start {
		return 0, s
	}
	if overflow {
		return ^uint64(0), s[i:]
	}
	if neg {
		v = -v
	}
	return v, s[i:]
}

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// keyID parses a key spec as keyutils' get_key_id does (see
// parseKeySpec) and looks up a %type:desc spec, exiting as keyctl does on
// a bad spec or a failed lookup.
func keyID(arg string) keyring.ID {
	spec, msg := parseKeySpec(arg)
	if msg != "" {
		usageErr(msg)
	}
	if !spec.byName {
		return spec.id
	}
	id, ok := findKey(spec.typ, spec.desc)
	if !ok {
		out.Flush()
		os.Stderr.WriteString("Can't find '" + spec.typ + ":" + spec.desc + "'\n")
		os.Exit(1)
	}
	return id
}

// keySpec is a parsed key argument: an ID, or a key to find by type and
// description.
type keySpec struct {
	id        keyring.ID
	byName    bool
	typ, desc string
}

// specialKeys are the shorthands keyutils 1.6.3 knows (not @r).
var specialKeys = map[string]keyring.ID{
	"@t": keyring.Thread().ID(), "@p": keyring.Process().ID(), "@s": keyring.Session().ID(),
	"@u": keyring.User().ID(), "@us": keyring.UserSession().ID(), "@g": keyring.Group().ID(),
	"@a": keyring.RequestKeyAuth().ID(),
}

// parseKeySpec parses a key argument without looking anything up: @t @p
// @s @u @us @g @a, %type:desc or %:name (a keyring), or a number in any
// base strtoul(3) takes, cut to 32 bits as C's key_serial_t. A non-empty
// message is the usage error keyutils prints.
func parseKeySpec(arg string) (keySpec, string) {
	if strings.HasPrefix(arg, "@") {
		if id, ok := specialKeys[arg]; ok {
			return keySpec{id: id}, ""
		}
		return keySpec{}, "Unknown special key: '" + arg + "'"
	}
	if strings.HasPrefix(arg, "%") {
		typ, desc, ok := strings.Cut(arg[1:], ":")
		if typ == "" {
			typ = "keyring"
		}
		if !ok || desc == "" {
			return keySpec{}, "Incorrect key-by-name spec"
		}
		return keySpec{byName: true, typ: typ, desc: desc}, ""
	}
	v, rest := strtoul(arg, 0)
	if rest != "" {
		return keySpec{}, "Unparsable key: '" + arg + "'"
	}
	return keySpec{id: keyring.ID(int32(uint32(v)))}, ""
}

// findKey is libkeyutils' find_key_by_type_and_desc: request_key without an
// upcall, then /proc/keys, where the type column is compared whole (it is
// cut at 9 characters) and the description up to a ':' or ' ', confirmed by
// the text after the last ';' of the key's description.
func findKey(typ, desc string) (keyring.ID, bool) {
	if k, err := keyring.Request(typ, desc, keyring.RequestOptions{}); err == nil {
		return k.ID(), true
	}
	keys, err := keyring.ProcKeys()
	if err != nil {
		return 0, false
	}
	var buf [1024]byte
	for _, p := range keys {
		if p.Type != typ || !strings.HasPrefix(p.Summary, desc) {
			continue
		}
		if rest := p.Summary[len(desc):]; rest != "" && rest[0] != ':' && rest[0] != ' ' {
			continue
		}
		n, err := p.ID.Key().DescribeInto(buf[:len(buf)-1])
		if err != nil || n > len(buf)-1 {
			continue
		}
		d := strings.TrimSuffix(string(buf[:n]), "\x00")
		if d[strings.LastIndexByte(d, ';')+1:] == desc {
			return p.ID, true
		}
	}
	return 0, false
}

// hex2bin decodes data as keyutils' -x does: hex doublets, white space
// between them ignored.
func hex2bin(data []byte) []byte {
	if len(data) == 0 {
		return data
	}
	b := make([]byte, 0, len(data)/2+1)
	for i := 0; i < len(data); {
		if isSpace(data[i]) {
			i++
			continue
		}
		if len(data)-i < 2 {
			keyring.Wipe(data)
			out.Flush()
			os.Stderr.WriteString("Short hex doublet\n")
			os.Exit(1)
		}
		h, l := digitVal(data[i]), digitVal(data[i+1])
		if h >= 16 || l >= 16 {
			keyring.Wipe(data)
			out.Flush()
			os.Stderr.WriteString("Bad hex doublet\n")
			os.Exit(1)
		}
		b = append(b, byte(h<<4|l))
		i += 2
	}
	keyring.Wipe(data)
	return b
}

// grabStdin reads all of stdin, up to keyutils' limit of 1 MiB.
func grabStdin() []byte {
	const max = 1024 * 1024
	buf := make([]byte, max+1)
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(0, buf[n:])
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			fail("stdin", err)
		}
		if m == 0 {
			break
		}
		n += m
	}
	if n > max {
		out.Flush()
		os.Stderr.WriteString("Too much data read on stdin\n")
		os.Exit(1)
	}
	return buf[:n]
}

// dashX strips a leading "-x" from args (after the command name).
func dashX(args []string) ([]string, bool) {
	if len(args) > 1 && args[1] == "-x" {
		return append([]string{args[0]}, args[2:]...), true
	}
	return args, false
}

// printID prints a key ID and a newline.
func printID(id keyring.ID) {
	out.WriteString(strconv.Itoa(int(id)))
	out.WriteByte('\n')
}
