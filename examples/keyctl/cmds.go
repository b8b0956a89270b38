//go:build linux

package main

import (
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/kernkeys/kernkeys/keyring"
)

func cmdVersion(args []string) {
	out.WriteString("keyctl from kernkeys " + version + " (keyutils-1.6.3 compatible)\n")
}

func cmdID(args []string) {
	if len(args) != 2 {
		usage()
	}
	id, err := keyID(args[1]).Key().Resolve()
	if err != nil {
		fail("keyctl_get_keyring_ID", err)
	}
	printID(id)
}

// addKey is add_key as the kernel orders its checks: a type, or a keyring
// name, starting with '.' is EPERM before anything else, where the library
// would refuse it as invalid; for other refused input see addAnswer.
func addKey(typ, desc string, data []byte, dest keyring.ID) (keyring.Key, error) {
	if typ != "" && len(typ) < 32 && typ[0] == '.' ||
		len(desc) < 4096 && strings.HasPrefix(desc, ".") && strings.HasPrefix(typ, "keyring") {
		return keyring.Key{}, syscall.EPERM
	}
	k, err := dest.Keyring().Add(typ, desc, data)
	if refused(err) {
		err = addAnswer(typ, desc, data, dest)
	}
	return k, err
}

func cmdAdd(args []string) {
	args, asHex := dashX(args)
	if len(args) != 5 {
		usage()
	}
	data := []byte(args[3])
	if asHex {
		data = hex2bin(data)
	}
	dest := keyID(args[4])
	k, err := addKey(args[1], args[2], data, dest)
	keyring.Wipe(data)
	if err != nil {
		fail("add_key", err)
	}
	printID(k.ID())
}

func cmdPadd(args []string) {
	args, asHex := dashX(args)
	if len(args) != 4 {
		usage()
	}
	data := grabStdin()
	if asHex {
		data = hex2bin(data)
	}
	dest := keyID(args[3])
	k, err := addKey(args[1], args[2], data, dest)
	keyring.Wipe(data)
	if err != nil {
		fail("add_key", err)
	}
	printID(k.ID())
}

// request is request_key(2), with the kernel's EPERM for a '.' type.
func request(typ, desc string, callout []byte, dest keyring.ID) {
	var k keyring.Key
	var err error
	if typ != "" && len(typ) < 32 && typ[0] == '.' {
		err = syscall.EPERM
	} else {
		k, err = keyring.Request(typ, desc, keyring.RequestOptions{CalloutInfo: callout, Destination: dest.Keyring()})
		if desc == "" && refused(err) {
			err = requestAnswer(typ, callout, dest)
		}
	}
	if err != nil {
		fail("request_key", err)
	}
	printID(k.ID())
}

func cmdRequest(args []string) {
	if len(args) != 3 && len(args) != 4 {
		usage()
	}
	var dest keyring.ID
	if len(args) == 4 {
		dest = keyID(args[3])
	}
	request(args[1], args[2], nil, dest)
}

func cmdRequest2(args []string) {
	if len(args) != 4 && len(args) != 5 {
		usage()
	}
	var dest keyring.ID
	if len(args) == 5 {
		dest = keyID(args[4])
	}
	request(args[1], args[2], []byte(args[3]), dest)
}

func cmdPrequest2(args []string) {
	if len(args) != 3 && len(args) != 4 {
		usage()
	}
	info := grabStdin()
	// C passes the data as a string: it ends at the first NUL.
	if i := strings.IndexByte(string(info), 0); i >= 0 {
		info = info[:i]
	}
	var dest keyring.ID
	if len(args) == 4 {
		dest = keyID(args[3])
	}
	request(args[1], args[2], info, dest)
}

func cmdUpdate(args []string) {
	args, asHex := dashX(args)
	if len(args) != 3 {
		usage()
	}
	data := []byte(args[2])
	if asHex {
		data = hex2bin(data)
	}
	err := keyID(args[1]).Key().Update(data)
	keyring.Wipe(data)
	if err != nil {
		fail("keyctl_update", err)
	}
}

func cmdPupdate(args []string) {
	args, asHex := dashX(args)
	if len(args) != 2 {
		usage()
	}
	k := keyID(args[1]).Key()
	data := grabStdin()
	if asHex {
		data = hex2bin(data)
	}
	err := k.Update(data)
	keyring.Wipe(data)
	if err != nil {
		fail("keyctl_update", err)
	}
}

func cmdNewring(args []string) {
	if len(args) != 3 {
		usage()
	}
	dest := keyID(args[2])
	k, err := addKey("keyring", args[1], nil, dest)
	if err != nil {
		fail("add_key", err)
	}
	printID(k.ID())
}

// oneKey runs op on the key that the only argument names.
func oneKey(args []string, label string, op func(keyring.ID) error) {
	if len(args) != 2 {
		usage()
	}
	if err := op(keyID(args[1])); err != nil {
		fail(label, err)
	}
}

func cmdRevoke(args []string) {
	oneKey(args, "keyctl_revoke", func(id keyring.ID) error { return id.Key().Revoke() })
}

func cmdClear(args []string) {
	oneKey(args, "keyctl_clear", func(id keyring.ID) error { return id.Keyring().Clear() })
}

func cmdInvalidate(args []string) {
	oneKey(args, "keyctl_invalidate", func(id keyring.ID) error { return id.Key().Invalidate() })
}

func cmdLink(args []string) {
	if len(args) != 3 {
		usage()
	}
	k := keyID(args[1])
	r := keyID(args[2])
	if err := r.Keyring().Link(k.Key()); err != nil {
		fail("keyctl_link", err)
	}
}

func cmdUnlink(args []string) {
	if len(args) != 2 && len(args) != 3 {
		usage()
	}
	k := keyID(args[1])
	if len(args) == 3 {
		r := keyID(args[2])
		if err := r.Keyring().Unlink(k.Key()); err != nil {
			fail("keyctl_unlink", err)
		}
		return
	}
	n := scanSession(func(parent, key keyring.ID, raw []byte, errno syscall.Errno) int {
		if key == k && parent.Keyring().Unlink(key.Key()) == nil {
			return 1
		}
		return 0
	})
	out.WriteString(itoa(n) + " links removed\n")
}

func cmdSearch(args []string) {
	if len(args) != 4 && len(args) != 5 {
		usage()
	}
	r := keyID(args[1])
	var dest keyring.ID
	if len(args) == 5 {
		dest = keyID(args[4])
	}
	var k keyring.Key
	var err error
	if args[2] != "" && len(args[2]) < 32 && args[2][0] == '.' {
		err = syscall.EPERM // the kernel's answer, before the library's EINVAL
	} else {
		k, err = r.Keyring().SearchAndLink(args[2], args[3], dest.Keyring())
		if args[3] == "" && refused(err) {
			err = searchAnswer(r, args[2], dest)
		}
	}
	if err != nil {
		fail("keyctl_search", err)
	}
	printID(k.ID())
}

func cmdChown(args []string) {
	if len(args) != 3 {
		usage()
	}
	k := keyID(args[1])
	v, rest := strtoul(args[2], 0)
	if rest != "" {
		usageErr("Unparsable uid: '" + args[2] + "'")
	}
	if err := k.Key().Chown(cid(v), keyring.Unchanged); err != nil {
		fail("keyctl_chown", err)
	}
}

func cmdChgrp(args []string) {
	if len(args) != 3 {
		usage()
	}
	k := keyID(args[1])
	v, rest := strtoul(args[2], 0)
	if rest != "" {
		usageErr("Unparsable gid: '" + args[2] + "'")
	}
	if err := k.Key().Chown(keyring.Unchanged, cid(v)); err != nil {
		fail("keyctl_chown", err)
	}
}

// cid converts a parsed uid or gid as C's uid_t does: (uid_t)-1 leaves
// the ID unchanged.
func cid(v uint64) int {
	if uint32(v) == ^uint32(0) {
		return keyring.Unchanged
	}
	return int(uint32(v))
}

func cmdSetperm(args []string) {
	if len(args) != 3 {
		usage()
	}
	k := keyID(args[1])
	v, rest := strtoul(args[2], 0)
	if rest != "" {
		usageErr("Unparsable permissions: '" + args[2] + "'")
	}
	if err := k.Key().SetPerm(keyring.Perm(uint32(v))); err != nil {
		fail("keyctl_setperm", err)
	}
}

// timeout parses a timeout in seconds as keyutils does (strtoul, base 10,
// passed on as an unsigned int).
func timeout(s string) time.Duration {
	d, ok := parseTimeout(s)
	if !ok {
		usageErr("Unparsable timeout: '" + s + "'")
	}
	return d
}

// parseTimeout is timeout without the exit.
func parseTimeout(s string) (time.Duration, bool) {
	v, rest := strtoul(s, 10)
	return time.Duration(uint32(v)) * time.Second, rest == ""
}

func cmdTimeout(args []string) {
	if len(args) != 3 {
		usage()
	}
	k := keyID(args[1])
	d := timeout(args[2])
	if err := k.Key().SetTimeout(d); err != nil {
		fail("keyctl_set_timeout", err)
	}
}

func cmdSecurity(args []string) {
	if len(args) != 2 {
		usage()
	}
	s, err := keyID(args[1]).Key().Security()
	if err != nil {
		fail("keyctl_getsecurity", err)
	}
	out.WriteString(s + "\n")
}

func cmdMove(args []string) {
	excl := true
	if len(args) > 4 && args[1] == "-f" {
		excl = false
		args = append([]string{args[0]}, args[2:]...)
	}
	if len(args) != 4 {
		usage()
	}
	k := keyID(args[1])
	from := keyID(args[2]).Keyring()
	to := keyID(args[3]).Keyring()
	var err error
	if excl {
		err = from.MoveExclusive(k.Key(), to)
	} else {
		err = from.Move(k.Key(), to)
	}
	if err != nil {
		fail("keyctl_move", err)
	}
}

func cmdGetPersistent(args []string) {
	if len(args) != 2 && len(args) != 3 {
		usage()
	}
	dest := keyID(args[1])
	uid := -1
	if len(args) > 2 {
		v, rest := strtoul(args[2], 0)
		if rest != "" {
			usageErr("Unparsable uid: '" + args[2] + "'")
		}
		uid = cid(v)
	}
	r, err := keyring.Persistent(uid, dest.Keyring())
	if err != nil {
		fail("keyctl_get_persistent", err)
	}
	printID(r.ID())
}

func cmdRestrictKeyring(args []string) {
	if len(args) < 2 || len(args) > 4 {
		usage()
	}
	r := keyID(args[1])
	var typ string
	var restriction *string // nil: none given, a NULL pointer to the kernel
	if len(args) > 2 {
		typ = args[2]
	}
	if len(args) == 4 {
		restriction = &args[3]
	}
	var err error
	if len(args) > 2 && typ == "" || restriction != nil && *restriction == "" {
		// To the library an empty type or restriction means none (a full
		// restriction, or a type without a rule); to the kernel it is a
		// string like any other.
		err = restrictAnswer(r, typ, restriction)
	} else {
		var rule string
		if restriction != nil {
			rule = *restriction
		}
		err = r.Keyring().Restrict(typ, rule)
		if refused(err) {
			err = restrictAnswer(r, typ, restriction)
		}
	}
	if err != nil {
		fail("keyctl_restrict_keyring", err)
	}
}

// Capabilities in keyutils' order: name, byte, mask.
var capabilities = []struct {
	name  string
	index int
	mask  byte
}{
	{"capabilities", 0, 0x01},
	{"persistent_keyrings", 0, 0x02},
	{"dh_compute", 0, 0x04},
	{"public_key", 0, 0x08},
	{"big_key_type", 0, 0x10},
	{"key_invalidate", 0, 0x20},
	{"restrict_keyring", 0, 0x40},
	{"move_key", 0, 0x80},
	{"ns_keyring_name", 1, 0x01},
	{"ns_key_tag", 1, 0x02},
	{"notify", 1, 0x04},
}

func cmdSupports(args []string) {
	if len(args) > 2 {
		usage()
	}
	var caps [256]byte
	c, err := keyring.KernelCapabilities()
	n := copy(caps[:], c.Raw)
	if err != nil {
		n = 1 // libkeyutils' emulation answers one byte
	}
	if len(args) == 1 {
		for _, p := range capabilities {
			v := "0"
			if caps[p.index]&p.mask != 0 {
				v = "1"
			}
			out.WriteString("have_" + p.name + "=" + v + "\n")
		}
		exit(0)
	}
	if args[1] == "--raw" {
		const hexd = "0123456789abcdef"
		for _, b := range caps[:n] {
			out.WriteByte(hexd[b>>4])
			out.WriteByte(hexd[b&15])
		}
		out.WriteByte('\n')
	}
	for _, p := range capabilities {
		if args[1] == p.name {
			if caps[p.index]&p.mask != 0 {
				exit(0)
			}
			exit(1)
		}
	}
	exit(3)
}

// joinSession joins a session keyring: a new anonymous one, or the one
// called name.
func joinSession(name string, anonymous bool) (keyring.Keyring, error) {
	if anonymous {
		return keyring.JoinAnonymousSession()
	}
	s, err := keyring.JoinSession(name)
	if refused(err) {
		err = sessionAnswer(name, err)
	}
	return s, err
}

func cmdSession(args []string) {
	args = args[1:]
	name, anon := "", true
	if len(args) != 0 {
		if args[0] != "-" {
			name, anon = args[0], false
		}
		args = args[1:]
	}
	s, err := joinSession(name, anon)
	if err != nil {
		fail("keyctl_join_session_keyring", err)
	}
	os.Stderr.WriteString("Joined session keyring: " + itoa(int(s.ID())) + "\n")
	out.Flush()
	if len(args) == 0 {
		sh := os.Getenv("SHELL")
		if _, ok := os.LookupEnv("SHELL"); !ok {
			sh = "/bin/sh"
		}
		err := syscall.Exec(sh, []string{sh}, os.Environ())
		fail(sh, err)
	}
	env := os.Environ()
	fail(args[0], execvp(args[0], func(path string) error { return syscall.Exec(path, args, env) }))
}

// execvp finds the program name as execvp(3) does and calls exec, which
// runs it (syscall.Exec or ForkExec), with each candidate path until one
// runs: a name with '/' is the path; otherwise it is tried in each $PATH
// directory in turn (default "/bin:/usr/bin"), and if none runs, the
// answer is EACCES when one refused, else the last error.
func execvp(name string, exec func(path string) error) error {
	if strings.Contains(name, "/") {
		return exec(name)
	}
	dirs, ok := os.LookupEnv("PATH")
	if !ok {
		dirs = "/bin:/usr/bin"
	}
	var err error = syscall.ENOENT
	denied := false
	for _, dir := range strings.Split(dirs, ":") {
		if dir == "" {
			dir = "."
		}
		err = exec(dir + "/" + name)
		switch err {
		case nil:
			return nil
		case syscall.EACCES:
			denied = true
		case syscall.ENOENT, syscall.ENOTDIR, syscall.ENODEV, syscall.ETIMEDOUT, syscall.ESTALE:
		default:
			return err
		}
	}
	if denied {
		return syscall.EACCES
	}
	return err
}

func cmdNewSession(args []string) {
	if len(args) != 1 && len(args) != 2 {
		usage()
	}
	var err error
	if len(args) == 2 {
		_, err = joinSession(args[1], false)
	} else {
		_, err = joinSession("", true)
	}
	if err != nil {
		fail("keyctl_join_session_keyring", err)
	}
	if err := keyring.SessionToParent(); err != nil {
		fail("keyctl_session_to_parent", err)
	}
	id, err := keyring.Session().Resolve()
	if err != nil {
		fail("keyctl_get_keyring_ID", err)
	}
	printID(id)
}

func cmdInstantiate(args []string) {
	args, asHex := dashX(args)
	if len(args) != 4 {
		usage()
	}
	k := keyID(args[1])
	dest := keyID(args[3])
	data := []byte(args[2])
	if asHex {
		data = hex2bin(data)
	}
	instantiate(k, data, dest)
}

// instantiate gives k the payload data, which it wipes.
func instantiate(k keyring.ID, data []byte, dest keyring.ID) {
	err := k.Key().Instantiate(data, dest.Keyring())
	if refused(err) {
		err = constructAnswer(k, dest, len(data), -1)
	}
	keyring.Wipe(data)
	if err != nil {
		fail("keyctl_instantiate", err)
	}
}

func cmdPinstantiate(args []string) {
	args, asHex := dashX(args)
	if len(args) != 3 {
		usage()
	}
	k := keyID(args[1])
	dest := keyID(args[2])
	data := grabStdin()
	if asHex {
		data = hex2bin(data)
	}
	instantiate(k, data, dest)
}

func cmdNegate(args []string) {
	if len(args) != 4 {
		usage()
	}
	k := keyID(args[1])
	d := timeout(args[2])
	dest := keyID(args[3])
	err := k.Key().Negate(d, dest.Keyring())
	if refused(err) {
		err = constructAnswer(k, dest, 0, -1)
	}
	if err != nil {
		fail("keyctl_negate", err)
	}
}

func cmdReject(args []string) {
	if len(args) != 5 {
		usage()
	}
	k := keyID(args[1])
	d := timeout(args[2])
	var reason syscall.Errno
	switch args[3] {
	case "rejected":
		reason = syscall.EKEYREJECTED
	case "revoked":
		reason = syscall.EKEYREVOKED
	case "expired":
		reason = syscall.EKEYEXPIRED
	default:
		v, rest := strtoul(args[3], 10)
		if rest != "" {
			usageErr("Unparsable error: '" + args[3] + "'")
		}
		reason = syscall.Errno(uint32(v))
	}
	dest := keyID(args[4])
	err := k.Key().Reject(d, reason, dest.Keyring())
	if refused(err) {
		err = constructAnswer(k, dest, 0, int64(reason))
	}
	if err != nil {
		fail("keyctl_negate", err) // sic: keyutils says negate
	}
}
