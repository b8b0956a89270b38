//go:build linux

package main

import (
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/kernkeys/kernkeys/keyring"
)

func itoa(n int) string { return strconv.Itoa(n) }

// pad right-aligns s in width columns, as printf's %*s does.
func pad(s string, width int) string {
	if len(s) >= width {
		return s
	}
	return strings.Repeat(" ", width-len(s)) + s
}

// readKey is keyutils' keyctl_read_alloc.
func readKey(id keyring.ID) []byte {
	b, err := id.Key().Read()
	if err != nil {
		fail("keyctl_read_alloc", err)
	}
	return b
}

// hexdump prints b as keyutils' read does: 4-byte groups, 32 bytes a line.
func hexdump(b []byte) {
	const hexd = "0123456789abcdef"
	for i, c := range b {
		if i > 0 {
			switch {
			case i%32 == 0:
				out.WriteByte('\n')
			case i%4 == 0:
				out.WriteByte(' ')
			}
		}
		out.WriteByte(hexd[c>>4])
		out.WriteByte(hexd[c&15])
	}
	out.WriteByte('\n')
}

func cmdRead(args []string) {
	if len(args) != 2 {
		usage()
	}
	b := readKey(keyID(args[1]))
	defer keyring.Wipe(b)
	if len(b) == 0 {
		out.WriteString("No data in key\n")
		return
	}
	out.WriteString(strconv.FormatUint(uint64(len(b)), 10) + " bytes of data in key:\n")
	hexdump(b)
}

func cmdPipe(args []string) {
	if len(args) != 2 {
		usage()
	}
	b := readKey(keyID(args[1]))
	defer keyring.Wipe(b)
	if len(b) > 0 {
		out.Flush()
		if _, err := os.Stdout.Write(b); err != nil {
			fail("write", err)
		}
	}
}

func cmdPrint(args []string) {
	if len(args) != 2 {
		usage()
	}
	b := readKey(keyID(args[1]))
	defer keyring.Wipe(b)
	printable := true
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			printable = false
			break
		}
	}
	if printable {
		out.Write(b)
		out.WriteByte('\n')
		return
	}
	out.WriteString(":hex:")
	const hexd = "0123456789abcdef"
	for _, c := range b {
		out.WriteByte(hexd[c>>4])
		out.WriteByte(hexd[c&15])
	}
	out.WriteByte('\n')
}

// serials decodes a keyring's payload; like keyutils, it does not check
// that the key is a keyring.
func serials(b []byte) []keyring.ID {
	ids := make([]keyring.ID, len(b)/4)
	for i := range ids {
		ids[i] = keyring.ID(int32(binary.NativeEndian.Uint32(b[4*i:])))
	}
	return ids
}

// describer fetches raw descriptions into a reused buffer, as
// keyctl_describe_alloc does.
type describer struct{ buf []byte }

// describe returns the key's description without its NUL.
func (d *describer) describe(id keyring.ID) (string, error) {
	if d.buf == nil {
		d.buf = make([]byte, 512)
	}
	for {
		n, err := id.Key().DescribeInto(d.buf)
		if err != nil {
			return "", err
		}
		if n <= len(d.buf) {
			if n > 0 && d.buf[n-1] == 0 {
				n--
			}
			return string(d.buf[:n]), nil
		}
		d.buf = make([]byte, n)
	}
}

// desc is a parsed "type;uid;gid;perm;description".
type desc struct {
	typ      string
	uid, gid int32
	perm     uint32
	rest     string
}

// parseDesc parses a raw description as keyutils' sscanf
// "%[^;];%d;%d;%x;%n" does.
func parseDesc(raw string) (desc, bool) {
	f := strings.SplitN(raw, ";", 5)
	if len(f) < 5 || f[0] == "" {
		return desc{}, false
	}
	uid, err1 := strconv.ParseInt(f[1], 10, 64)
	gid, err2 := strconv.ParseInt(f[2], 10, 64)
	perm, err3 := strconv.ParseUint(f[3], 16, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return desc{}, false
	}
	return desc{typ: f[0], uid: int32(uid), gid: int32(gid), perm: uint32(perm), rest: f[4]}, true
}

// creds are the caller's IDs, for the rights keyutils shows as granted.
type creds struct {
	loaded bool
	uid    uint32
	gid    uint32
	groups []int
}

var me creds

// grantedPerms renders the rights the caller holds, as keyutils'
// calc_perms: possessor rights, plus those of the one class that applies.
func grantedPerms(perm uint32, uid, gid int32) string {
	if !me.loaded {
		me.loaded = true
		me.uid, me.gid = uint32(os.Geteuid()), uint32(os.Getegid())
		me.groups, _ = os.Getgroups()
	}
	p := perm >> 24 & 0x3f
	switch {
	case uint32(uid) == me.uid:
		p |= perm >> 16 & 0x3f
	case gid != -1 && (uint32(gid) == me.gid || inGroups(uint32(gid))):
		p |= perm >> 8 & 0x3f
	default:
		p |= perm & 0x3f
	}
	return "--" + keyring.Perm(p).String()[18:]
}

func inGroups(gid uint32) bool {
	for _, g := range me.groups {
		if uint32(g) == gid {
			return true
		}
	}
	return false
}

func unparsable(id keyring.ID) {
	out.Flush()
	os.Stderr.WriteString("Unparsable description obtained for key " + itoa(int(id)) + "\n")
	os.Exit(3)
}

func cmdList(args []string) {
	if len(args) != 2 {
		usage()
	}
	ids := serials(readKey(keyID(args[1])))
	switch len(ids) {
	case 0:
		out.WriteString("keyring is empty\n")
		return
	case 1:
		out.WriteString("1 key in keyring:\n")
	default:
		out.WriteString(itoa(len(ids)) + " keys in keyring:\n")
	}
	var d describer
	for _, id := range ids {
		raw, err := d.describe(id)
		if err != nil {
			out.WriteString(pad(itoa(int(id)), 9) + ": key inaccessible (" + strerror(errnoOf(err)) + ")\n")
			continue
		}
		p, ok := parseDesc(raw)
		if !ok {
			unparsable(id)
		}
		out.WriteString(pad(itoa(int(id)), 9) + ": " + grantedPerms(p.perm, p.uid, p.gid) + " " +
			pad(itoa(int(p.uid)), 5) + " " + pad(itoa(int(p.gid)), 5) + " " + p.typ + ": " + p.rest + "\n")
	}
}

func cmdRlist(args []string) {
	if len(args) != 2 {
		usage()
	}
	ids := serials(readKey(keyID(args[1])))
	if len(ids) == 0 {
		out.WriteString("\n")
		return
	}
	var b []byte
	for i, id := range ids {
		b = strconv.AppendInt(b, int64(id), 10)
		if i == len(ids)-1 {
			b = append(b, '\n')
		} else {
			b = append(b, ' ')
		}
	}
	out.Write(b)
}

func cmdDescribe(args []string) {
	if len(args) != 2 {
		usage()
	}
	id := keyID(args[1])
	var d describer
	raw, err := d.describe(id)
	if err != nil {
		fail("keyctl_describe_alloc", err)
	}
	p, ok := parseDesc(raw)
	if !ok {
		unparsable(id)
	}
	out.WriteString(pad(itoa(int(id)), 9) + ": " + keyring.Perm(p.perm).String() + " " +
		pad(itoa(int(p.uid)), 5) + " " + pad(itoa(int(p.gid)), 5) + " " + p.typ + ": " + p.rest + "\n")
}

func cmdRdescribe(args []string) {
	if len(args) != 2 && len(args) != 3 {
		usage()
	}
	if len(args) == 3 && args[2] == "" {
		usage()
	}
	id := keyID(args[1])
	var d describer
	raw, err := d.describe(id)
	if err != nil {
		fail("keyctl_describe", err)
	}
	if len(args) == 3 {
		raw = strings.ReplaceAll(raw, ";", args[2][:1])
	}
	out.WriteString(raw + "\n")
}

func cmdShow(args []string) {
	hex := false
	if len(args) >= 2 && args[1] == "-x" {
		hex = true
		args = args[1:]
	}
	if len(args) > 2 {
		usage()
	}
	id, name := keyring.Session().ID(), "Session Keyring"
	if len(args) == 2 {
		id, name = keyID(args[1]), "Keyring"
	}
	out.WriteString(name + "\n")
	r, err := id.Key().Resolve()
	if err != nil {
		fail("Unable to dump key", err)
	}
	t := tree{hex: hex}
	t.dump(r, 0, false)
}

// tree prints a key tree exactly as keyutils' dump_key_tree_aux, indent
// quirks included.
type tree struct {
	hex    bool
	indent [64]byte // a C string
	d      describer
	line   []byte
}

func (t *tree) dump(id keyring.ID, depth int, more bool) {
	if depth > 8*4 {
		return
	}
	raw, err := t.d.describe(id)
	if err != nil {
		out.WriteString(itoa(int(id)) + ": key inaccessible (" + strerror(errnoOf(err)) + ")\n")
		return
	}
	p, ok := parseDesc(raw)
	if !ok {
		unparsable(id)
	}
	b := t.line[:0]
	if t.hex {
		s := strconv.FormatUint(uint64(uint32(id)), 16)
		b = append(b, "0x"...)
		for i := len(s); i < 8; i++ {
			b = append(b, '0')
		}
		b = append(b, s...)
	} else {
		b = appendPadded(b, int64(id), 10)
	}
	b = append(b, ' ')
	b = append(b, grantedPerms(p.perm, p.uid, p.gid)...)
	b = append(b, "  "...)
	b = appendPadded(b, int64(p.uid), 5)
	b = append(b, ' ')
	b = appendPadded(b, int64(p.gid), 5)
	b = append(b, "  "...)
	for _, c := range t.indent {
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	if depth > 0 {
		b = append(b, "\\_ "...)
	}
	b = append(b, p.typ...)
	b = append(b, ": "...)
	b = append(b, p.rest...)
	b = append(b, '\n')
	out.Write(b)
	t.line = b
	if p.typ != "keyring" {
		return
	}
	ids := serials(readKey(id))
	for i, c := range ids {
		rdepth := depth
		if depth == 0 {
			t.indent[rdepth] = ' '
			rdepth++
		} else {
			for j := 0; j < 4; j++ {
				t.indent[rdepth] = ' '
				rdepth++
			}
		}
		t.indent[rdepth] = 0
		if more {
			t.indent[depth] = '|'
		}
		t.dump(c, rdepth, len(ids)-i >= 2)
	}
}

func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [24]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

// scanFunc is called for every key of a tree after its children, with the
// keyring that links it (0 for the top) and its raw description, or nil and
// the errno when it could not be described.
type scanFunc func(parent, key keyring.ID, raw []byte, errno syscall.Errno) int

// scanSession applies fn depth first to the session keyring's tree, as
// libkeyutils' recursive_session_key_scan does, and sums its results.
func scanSession(fn scanFunc) int {
	s, err := keyring.Session().Resolve()
	if err != nil || s <= 0 {
		return 0
	}
	var d describer
	return scan(&d, 0, s, 0, fn)
}

func scan(d *describer, parent, id keyring.ID, depth int, fn scanFunc) int {
	if depth > 800 {
		return 0
	}
	n := 0
	var raw []byte
	var errno syscall.Errno
	s, err := d.describe(id)
	if err != nil {
		errno = errnoOf(err)
	} else if p, ok := parseDesc(s); !ok {
		errno = syscall.EINVAL // keyutils sets -EINVAL; only "not EACCES" matters
	} else {
		raw = []byte(s)
		if p.typ == "keyring" {
			if b, err := id.Key().Read(); err == nil {
				for _, c := range serials(b) {
					n += scan(d, id, c, depth+1, fn)
				}
			}
		}
	}
	return n + fn(parent, id, raw, errno)
}

func cmdReap(args []string) {
	verbose := false
	if len(args) > 1 && args[1] == "-v" {
		verbose = true
		args = args[1:]
	}
	if len(args) != 1 {
		usage()
	}
	n := scanSession(func(parent, key keyring.ID, raw []byte, errno syscall.Errno) int {
		if raw != nil || errno == syscall.EACCES {
			return 0
		}
		if verbose {
			out.WriteString("Reap " + itoa(int(key)))
		}
		if err := parent.Keyring().Unlink(key.Key()); err != nil {
			if verbose {
				out.WriteString("... failed " + strerror(errnoOf(err)) + "\n")
			}
			return 0
		}
		if verbose {
			out.WriteString("\n")
		}
		return 1
	})
	out.WriteString(itoa(n) + " keys reaped\n")
}

func cmdPurge(args []string) {
	args = args[1:]
	search, prefix, fold := false, false, false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch {
		case len(args[0]) > 1 && args[0][1] == 's':
			search = true
		case len(args[0]) > 1 && args[0][1] == 'p':
			prefix = true
		case len(args[0]) > 1 && args[0][1] == 'i':
			fold = true
		default:
			usage()
		}
		args = args[1:]
	}
	if len(args) < 1 {
		usage()
	}
	typ := args[0]
	var fn scanFunc
	switch {
	case search:
		if len(args) != 2 || prefix || fold {
			usage()
		}
		want := args[1]
		fn = func(parent, key keyring.ID, raw []byte, errno syscall.Errno) int {
			if raw == nil || !strings.HasPrefix(string(raw), "keyring;") {
				return 0
			}
			n := 0
			for {
				k, err := key.Keyring().Search(typ, want)
				if err != nil {
					k = keyring.ID(-1).Key() // keyctl_search's -1
				}
				if key.Keyring().Unlink(k) != nil {
					return n
				}
				n++
			}
		}
	case len(args) == 1:
		if prefix || fold {
			usage()
		}
		fn = func(parent, key keyring.ID, raw []byte, errno syscall.Errno) int {
			if parent == 0 || raw == nil {
				return 0
			}
			i := strings.IndexByte(string(raw), ';')
			if i < 0 || string(raw[:i]) != typ {
				return 0
			}
			if parent.Keyring().Unlink(key.Key()) != nil {
				return 0
			}
			return 1
		}
	case len(args) == 2:
		want := args[1]
		fn = func(parent, key keyring.ID, raw []byte, errno syscall.Errno) int {
			if parent == 0 || raw == nil {
				return 0
			}
			s := string(raw)
			i := strings.IndexByte(s, ';')
			if i < 0 || s[:i] != typ {
				return 0
			}
			j := strings.LastIndexByte(s[i+1:], ';')
			if j < 0 {
				return 0
			}
			d := s[i+1+j+1:]
			if prefix && len(d) < len(want) || !prefix && len(d) != len(want) {
				return 0
			}
			if fold && asciiLower(d[:len(want)]) != asciiLower(want) ||
				!fold && d[:len(want)] != want {
				return 0
			}
			out.WriteString(typ + " '" + d + "'\n")
			if parent.Keyring().Unlink(key.Key()) != nil {
				return 0
			}
			return 1
		}
	default:
		usage()
	}
	n := scanSession(fn)
	out.WriteString("purged " + itoa(n) + " keys\n")
}

// asciiLower lowers ASCII letters only, as strncasecmp in the C locale.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
