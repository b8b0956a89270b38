//go:build linux

package main

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

const cKeyctl = "/usr/bin/keyctl"

// result is what one run of a keyctl printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

func run(t *testing.T, bin string, userNS bool, args []string, stdin []byte, env ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if userNS {
		cmd.SysProcAttr = keytest.UserNSAttr()
	}
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", bin, err)
	}
	return result{o.String(), e.String(), code}
}

// serialRE matches what may be a serial number, with the spaces that pad
// it to a width: decimal with five digits or more, or keyutils' 0x%08x
// form.
var serialRE = regexp.MustCompile(` *(0x[0-9a-f]{8}\b|-?\b[0-9]{5,}\b)`)

// normalise replaces each distinct serial-like number with a placeholder
// numbered in order of appearance, so that two runs on different keys of
// the same shape compare equal.
func normalise(s string, seen map[string]string) string {
	return serialRE.ReplaceAllStringFunc(s, func(m string) string {
		m = strings.TrimLeft(m, " ")
		if v, ok := seen[m]; ok {
			return v
		}
		seen[m] = "<" + strconv.Itoa(len(seen)+1) + ">"
		return seen[m]
	})
}

// env names the keys a setup made, for $name in arguments.
type env map[string]string

func (e env) expand(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = os.Expand(a, func(k string) string {
			if v, ok := e[k]; ok {
				return v
			}
			return "$" + k
		})
	}
	return out
}

type testCase struct {
	name  string
	args  []string
	stdin string
	// setup makes the keys for the case in the session; nil means std.
	setup func(t *testing.T, s keyring.Keyring) env
	// env is added to the programs' environment.
	env []string
	// lenOnly compares stdout's length only (random output).
	lenOnly bool
	// sameKeys runs both programs on one setup, for commands that change
	// no key and print serials in binary (a keyring's payload), which
	// normalising cannot match across two setups.
	sameKeys bool
	// userNS runs both programs in a new user namespace each, for
	// commands that leave state outside the session: a persistent keyring
	// lives for days, but a namespace's register of them dies with it.
	userNS bool
	// root skips the case for an ordinary user, saying why.
	root string
	// manyKeys says the setup makes most of an ordinary user's 200 keys:
	// the case takes the quota to itself (keytest.OwnQuota).
	manyKeys bool
}

// mustf returns a function that fails t on an error and returns the key's
// serial as text.
func mustf(t *testing.T) func(keyring.Key, error) string {
	return func(k keyring.Key, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return k.String()
	}
}

// std makes a small tree in s: two user keys, a keyring holding a user key
// and a nested keyring, and a logon key.
func std(t *testing.T, s keyring.Keyring) env {
	must := mustf(t)
	e := env{}
	e["u"] = must(s.Add("user", "u1", []byte("hello")))
	e["b"] = must(s.Add("user", "bin", []byte("\x01\x02abc\xff")))
	r, err := s.AddKeyring("ring1")
	e["r"] = must(r.Key, err)
	e["i"] = must(r.Add("user", "inner", []byte("secret;with;semicolons")))
	sub, err := r.AddKeyring("sub")
	e["sub"] = must(sub.Key, err)
	e["deep"] = must(sub.Add("user", "deep:colon", bytes.Repeat([]byte{'x'}, 70)))
	e["lg"] = must(s.Add("logon", "svc:pw", []byte("pw")))
	return e
}

// revoked is std with the key b revoked and the keyring r invalidated.
func revoked(t *testing.T, s keyring.Keyring) env {
	e := std(t, s)
	id, _ := strconv.Atoi(e["b"])
	if err := keyring.ID(id).Key().Revoke(); err != nil {
		t.Fatal(err)
	}
	return e
}

func big(n int) func(t *testing.T, s keyring.Keyring) env {
	return func(t *testing.T, s keyring.Keyring) env {
		must := mustf(t)
		r, err := s.AddKeyring("big")
		e := env{"r": must(r.Key, err)}
		for i := 0; i < n; i++ {
			must(r.Add("user", "k"+strconv.Itoa(i), []byte("v")))
		}
		return e
	}
}

func cases() []testCase {
	c := func(name string, args ...string) testCase { return testCase{name: name, args: args} }
	return []testCase{
		// usage, unknown commands, argument parsing
		c("no args"),
		c("unknown", "bogus"),
		c("prefix is not a command", "desc", "@s"),
		c("add usage", "add", "user"),
		c("pipe usage", "pipe"),
		c("bad special", "id", "@q"),
		c("bad key", "id", "12x"),
		c("empty key", "id", ""),
		c("hex key", "id", "0x7fffffff"),
		c("octal key", "id", "010"),
		c("negative key", "describe", "-9"),
		c("zero key", "describe", "0"),
		c("by name", "id", "%user:u1"),
		c("by name keyring", "id", "%:ring1"),
		c("by name nested", "describe", "%user:deep:colon"),
		c("by name missing", "id", "%user:nope"),
		c("by name empty", "id", "%user:"),
		c("by name no colon", "id", "%user"),
		c("by name bare", "id", "%"),
		// id, describe, rdescribe
		c("id session", "id", "@s"),
		c("id thread", "id", "@t"),
		c("id group", "id", "@g"),
		c("describe", "describe", "$u"),
		c("describe session", "describe", "@s"),
		c("describe semicolons", "describe", "$i"),
		c("rdescribe", "rdescribe", "$u"),
		c("rdescribe sep", "rdescribe", "$r", ":"),
		c("rdescribe long sep", "rdescribe", "$u", "xyz"),
		c("rdescribe empty sep", "rdescribe", "$u", ""),
		c("rdescribe missing", "rdescribe", "12345"),
		// list, rlist, show
		c("list", "list", "@s"),
		c("list ring", "list", "$r"),
		c("list empty", "list", "$sub"),
		c("list user key", "list", "$u"),
		c("rlist", "rlist", "@s"),
		c("rlist ring", "rlist", "$r"),
		c("rlist missing", "rlist", "99999"),
		c("show", "show"),
		c("show x", "show", "-x"),
		c("show ring", "show", "$r"),
		c("show x ring", "show", "-x", "$r"),
		c("show user key", "show", "$u"),
		c("show thread", "show", "@t"),
		c("show too many", "show", "@s", "@s"),
		{name: "show revoked", args: []string{"show"}, setup: revoked},
		{name: "list revoked", args: []string{"list", "@s"}, setup: revoked},
		{name: "show 120", args: []string{"show", "$r"}, setup: big(120), manyKeys: true},
		// read, pipe, print
		c("read", "read", "$u"),
		c("read binary", "read", "$b"),
		c("read long", "read", "$deep"),
		{name: "read keyring", args: []string{"read", "$r"}, sameKeys: true},
		c("read logon", "read", "$lg"),
		c("read missing", "read", "99999"),
		{name: "read revoked", args: []string{"read", "$b"}, setup: revoked},
		c("pipe", "pipe", "$i"),
		c("pipe binary", "pipe", "$b"),
		c("print", "print", "$u"),
		c("print binary", "print", "$b"),
		{name: "print keyring", args: []string{"print", "$r"}, sameKeys: true},
		// add, padd, newring, update, pupdate
		c("add", "add", "user", "new", "data", "@s"),
		c("add x", "add", "-x", "user", "new", "64 61 74 61", "@s"),
		c("add x short", "add", "-x", "user", "new", "646", "@s"),
		c("add x bad", "add", "-x", "user", "new", "zz", "@s"),
		c("add replaces", "add", "user", "u1", "other", "@s"),
		c("add dot type", "add", ".x", "d", "data", "@s"),
		c("add empty data", "add", "user", "new", "", "@s"),
		c("add keyring data", "add", "keyring", "kr", "data", "@s"),
		c("add keyring", "add", "keyring", "kr", "", "@s"),
		c("add no type", "add", "nosuchtype", "d", "data", "@s"),
		c("add not keyring", "add", "user", "d", "data", "$u"),
		c("add bad dest", "add", "user", "d", "data", "@q"),
		c("add zero dest", "add", "user", "d", "data", "0"),
		{name: "padd", args: []string{"padd", "user", "piped", "@s"}, stdin: "from stdin\n"},
		{name: "padd x", args: []string{"padd", "-x", "user", "piped", "@s"}, stdin: "0102 0304\n"},
		{name: "padd empty", args: []string{"padd", "user", "piped", "@s"}, stdin: ""},
		c("newring", "newring", "nr", "@s"),
		c("newring dot", "newring", ".nr", "@s"),
		c("newring in user key", "newring", "nr", "$u"),
		c("update", "update", "$u", "changed"),
		c("update x", "update", "-x", "$u", "6869"),
		c("update keyring", "update", "$r", "x"),
		{name: "pupdate", args: []string{"pupdate", "$u"}, stdin: "piped update"},
		{name: "pupdate x", args: []string{"pupdate", "-x", "$u"}, stdin: "41 42"},
		// request, request2, prequest2, search
		c("request", "request", "user", "u1"),
		c("request dest", "request", "user", "inner", "@s"),
		c("request missing", "request", "user", "nope"),
		c("request dot", "request", ".t", "x"),
		c("request2 missing", "request2", "user", "nope", "info"),
		{name: "prequest2 missing", args: []string{"prequest2", "user", "nope2"}, stdin: "callout"},
		c("search", "search", "@s", "user", "inner"),
		c("search dest", "search", "@s", "user", "inner", "@s"),
		c("search missing", "search", "@s", "user", "nope"),
		c("search not keyring", "search", "$u", "user", "x"),
		c("search dot", "search", "@s", ".x", "x"),
		// revoke, clear, link, unlink, invalidate, move
		c("revoke", "revoke", "$u"),
		c("revoke zero", "revoke", "0"),
		c("clear", "clear", "$r"),
		c("clear user key", "clear", "$u"),
		c("link", "link", "$u", "$r"),
		c("link cycle", "link", "$r", "$sub"),
		c("link into user key", "link", "$u", "$b"),
		c("unlink", "unlink", "$u", "@s"),
		c("unlink not linked", "unlink", "$u", "$r"),
		c("unlink tree", "unlink", "$i"),
		c("unlink tree none", "unlink", "99999"),
		c("invalidate", "invalidate", "$u"),
		c("invalidate missing", "invalidate", "99999"),
		c("move", "move", "$u", "@s", "$r"),
		c("move f", "move", "-f", "$u", "@s", "$r"),
		c("move exists", "move", "$i", "$r", "$sub"),
		c("move not linked", "move", "$u", "$r", "$sub"),
		c("move usage", "move", "-f", "$u", "@s"),
		// permissions, ownership, timeouts, security
		c("setperm", "setperm", "$u", "0x3f3f0000"),
		c("setperm octal", "setperm", "$u", "077000000"),
		c("setperm decimal", "setperm", "$u", "1061093376"),
		c("setperm bad bits", "setperm", "$u", "0xffffffff"),
		c("setperm unparsable", "setperm", "$u", "0x3fz"),
		c("chown same", "chown", "$u", "-1"),
		c("chown unparsable", "chown", "$u", "root"),
		c("chgrp unparsable", "chgrp", "$u", "1x"),
		c("timeout", "timeout", "$u", "100"),
		c("timeout clear", "timeout", "$u", "0"),
		c("timeout unparsable", "timeout", "$u", "0x10"),
		c("timeout missing", "timeout", "99999", "10"),
		{name: "timeout revoked", args: []string{"timeout", "$b", "10"}, setup: revoked},
		c("security", "security", "$u"),
		c("security missing", "security", "99999"),
		// restrict_keyring, get_persistent, supports
		c("restrict", "restrict_keyring", "$sub"),
		c("restrict empty type", "restrict_keyring", "$sub", ""),
		c("restrict bad", "restrict_keyring", "$sub", "asymmetric", "nonsense"),
		c("restrict user key", "restrict_keyring", "$u"),
		{name: "get_persistent", args: []string{"get_persistent", "@s"}, userNS: true},
		{name: "get_persistent self", args: []string{"get_persistent", "@s", "-1"}, userNS: true},
		c("get_persistent bad uid", "get_persistent", "@s", "x"),
		c("supports", "supports"),
		c("supports move", "supports", "move_key"),
		c("supports notify", "supports", "notify"),
		c("supports unknown", "supports", "nonsense"),
		c("supports raw", "supports", "--raw"),
		c("supports usage", "supports", "a", "b"),
		// sessions
		c("session anon", "session", "-", cKeyctl, "rdescribe", "@s"),
		c("session named", "session", "kernkeys-test-sess", cKeyctl, "rdescribe", "@s"),
		c("session missing prog", "session", "-", "/nonexistent/prog"),
		c("session no such prog", "session", "-", "kernkeys-no-such-program"),
		{name: "session empty shell", args: []string{"session"}, env: []string{"SHELL="}},
		{name: "session shell", args: []string{"session"}, env: []string{"SHELL=/bin/true"}},
		c("new_session", "new_session"),
		c("new_session usage", "new_session", "a", "b"),
		// construction outside an upcall
		c("instantiate", "instantiate", "$u", "data", "@s"),
		c("instantiate x bad", "instantiate", "-x", "$u", "zz", "@s"),
		{name: "pinstantiate", args: []string{"pinstantiate", "$u", "@s"}, stdin: "data"},
		c("negate", "negate", "$u", "10", "@s"),
		c("negate bad timeout", "negate", "$u", "ten", "@s"),
		c("reject", "reject", "$u", "10", "rejected", "@s"),
		c("reject errno", "reject", "$u", "10", "61", "@s"),
		c("reject bad error", "reject", "$u", "10", "oops", "@s"),
		// reap, purge
		{name: "reap", args: []string{"reap"}, setup: revoked},
		{name: "reap v", args: []string{"reap", "-v"}, setup: revoked},
		c("purge type", "purge", "user"),
		c("purge literal", "purge", "user", "inner"),
		c("purge prefix", "purge", "-p", "user", "in"),
		c("purge case", "purge", "-i", "user", "U1"),
		c("purge search", "purge", "-s", "user", "deep:colon"),
		c("purge usage", "purge", "-p", "user"),
		c("purge bad option", "purge", "-z", "user"),
		// kernel-feature-dependent: compared as they are on this kernel
		c("dh_compute", "dh_compute", "$u", "$u", "$u"),
		c("dh_compute_kdf", "dh_compute_kdf", "$u", "$u", "$u", "16", "sha256"),
		{name: "dh_compute_kdf_oi", args: []string{"dh_compute_kdf_oi", "$u", "$u", "$u", "16", "sha256"}, stdin: "oi"},
		c("pkey_query user key", "pkey_query", "$u", "0"),
		c("pkey_query password", "pkey_query", "$u", "1"),
		c("pkey_query bad option", "pkey_query", "$u", "0", "enc"),
		c("pkey_encrypt no file", "pkey_encrypt", "$u", "0", "/nonexistent"),
		c("watch bad filter", "watch", "-fz", "@s"),
		c("watch bad option", "watch", "-z", "@s"),
		c("watch_add", "watch_add", "5", "@s"),
		c("watch_rm", "watch_rm", "5", "@s"),
		c("watch zero", "watch", "0"),
		c("watch_add zero", "watch_add", "5", "0"),
		c("watch_rm bad special", "watch_rm", "5", "-20"),
		c("watch_sync bad fd", "watch_sync", "99"),
		c("watch_session bad fd", "watch_session", "a", "b", "2", "true"),
		c("watch_session", "watch_session", "/dev/null", "/dev/null", "5", "true"),
		c("watch filter bad late", "watch", "-fil", "-fx", "@s"),
		c("watch_session filter", "watch_session", "-fcrs", "-n", "x", "/dev/null", "/dev/null", "5", "true"),
		c("watch_session bad filter", "watch_session", "-fq", "/dev/null", "/dev/null", "5", "true"),
		// keyutils' built-in tests
		c("test usage", "--test"),
		c("test unknown", "--test", "bogus"),
		c("test limits usage", "--test", "limits", "x"),
		{name: "test limits", args: []string{"--test", "limits"},
			root: "it adds 8192 keys of up to 4 KiB faster than an ordinary user's 20000-byte quota is released"},
	}
}

// refusedCases are TestRefusedInputs' cases.
func refusedCases() []testCase {
	c := func(name string, args ...string) testCase { return testCase{name: name, args: args} }
	long := strings.Repeat("d", 4096) // a description or name one byte too long
	type32 := strings.Repeat("t", 32) // a type one byte too long
	page := strings.Repeat("p", 4097) // an update payload one byte over a page
	return []testCase{
		// Key 0 and negative IDs that are not special: the kernel's
		// answers, EINVAL from the lookup, ENOKEY from read.
		c("id zero", "id", "0"),
		c("id -9", "id", "-9"),
		c("describe -100", "describe", "-100"),
		c("rdescribe zero", "rdescribe", "0"),
		c("read zero", "read", "0"),
		c("read -9", "read", "-9"),
		c("read -100", "read", "-100"),
		c("print zero", "print", "0"),
		c("pipe zero", "pipe", "0"),
		c("list zero", "list", "0"),
		c("list -9", "list", "-9"),
		c("rlist zero", "rlist", "0"),
		c("show zero", "show", "0"),
		c("update zero", "update", "0", "x"),
		c("update -9", "update", "-9", "x"),
		{name: "pupdate zero", args: []string{"pupdate", "0"}, stdin: "x"},
		c("revoke -9", "revoke", "-9"),
		c("clear zero", "clear", "0"),
		c("invalidate zero", "invalidate", "0"),
		c("invalidate -100", "invalidate", "-100"),
		c("link zero", "link", "0", "@s"),
		c("link into zero", "link", "$u", "0"),
		c("link zero into missing", "link", "0", "99999"),
		c("link -9", "link", "-9", "$r"),
		c("unlink zero", "unlink", "0", "@s"),
		c("unlink from zero", "unlink", "$u", "0"),
		c("unlink zero from missing", "unlink", "0", "99999"),
		c("unlink tree -9", "unlink", "-9"),
		c("move zero", "move", "0", "@s", "$r"),
		c("move from zero", "move", "$u", "0", "$r"),
		c("move to zero", "move", "$u", "@s", "0"),
		c("move missing from zero", "move", "99999", "0", "@s"),
		c("move f to -9", "move", "-f", "$u", "@s", "-9"),
		c("search zero", "search", "0", "user", "x"),
		c("search into -9", "search", "@s", "user", "u1", "-9"),
		c("search missing into -9", "search", "99999", "user", "x", "-9"),
		c("setperm zero", "setperm", "0", "0x3f3f0000"),
		c("setperm -9", "setperm", "-9", "0x3f3f0000"),
		c("chown zero unchanged", "chown", "0", "-1"),
		c("chgrp zero unchanged", "chgrp", "0", "-1"),
		c("chown zero", "chown", "0", "0"),
		c("chgrp -9", "chgrp", "-9", "0"),
		c("timeout zero", "timeout", "0", "10"),
		c("timeout -9", "timeout", "-9", "0"),
		c("security zero", "security", "0"),
		c("security -9", "security", "-9"),
		c("restrict zero", "restrict_keyring", "0"),
		c("restrict -9", "restrict_keyring", "-9", "asymmetric", "builtin_trusted"),
		c("get_persistent zero", "get_persistent", "0"),
		c("get_persistent -9", "get_persistent", "-9"),
		c("get_persistent zero other uid", "get_persistent", "0", "12345"),
		c("add to zero", "add", "user", "d", "x", "0"),
		c("add to -9", "add", "user", "d", "x", "-9"),
		{name: "padd to zero", args: []string{"padd", "user", "d", "0"}, stdin: "x"},
		c("newring in zero", "newring", "nr", "0"),
		c("newring in -9", "newring", "nr", "-9"),
		c("request into -9", "request", "user", "u1", "-9"),
		c("request2 into -9", "request2", "user", "nope", "info", "-9"),
		{name: "prequest2 into -9", args: []string{"prequest2", "user", "nope", "-9"}, stdin: "callout"},
		c("instantiate -9", "instantiate", "-9", "x", "@s"),
		c("negate -9", "negate", "-9", "1", "@s"),
		c("reject -9", "reject", "-9", "1", "rejected", "@s"),
		c("dh_compute -9", "dh_compute", "-9", "$u", "$u"),
		c("pkey_query zero", "pkey_query", "0", "0"),
		c("pkey_query -9", "pkey_query", "-9", "0"),
		c("pkey_query zero bad info", "pkey_query", "0", "0", "foo=bar"),
		c("pkey_encrypt zero", "pkey_encrypt", "0", "0", "/dev/null"),
		c("pkey_verify zero", "pkey_verify", "0", "0", "/dev/null", "/dev/null"),
		c("watch_add -9", "watch_add", "5", "-9"),

		// Empty strings.
		c("add empty type", "add", "", "d", "x", "@s"),
		c("add empty type zero dest", "add", "", "d", "x", "0"),
		c("add keyring empty name", "add", "keyring", "", "", "@s"),
		c("request empty type", "request", "", "x"),
		c("search empty type", "search", "@s", "", "x"),
		c("search empty desc into zero", "search", "@s", "user", "", "0"),
		c("request empty desc into zero", "request", "user", "", "0"),
		c("restrict empty type missing ring", "restrict_keyring", "99999", ""),
		c("restrict empty type with rule", "restrict_keyring", "$r", "", "x"),
		c("restrict empty type user key", "restrict_keyring", "$u", ""),
		c("restrict empty rule", "restrict_keyring", "$r", "user", ""),
		c("restrict empty rule keyring type", "restrict_keyring", "$r", "keyring", ""),
		c("restrict empty rule asymmetric", "restrict_keyring", "$r", "asymmetric", ""),
		c("restrict empty rule unknown type", "restrict_keyring", "$r", "nosuch", ""),
		c("restrict empty rule user key", "restrict_keyring", "$u", "user", ""),
		c("restrict empty rule missing ring", "restrict_keyring", "99999", "user", ""),
		c("restrict type without rule", "restrict_keyring", "$r", "user"),
		c("session empty name", "session", "", "true"),
		c("new_session empty name", "new_session", ""),

		// Over-long types, descriptions, names, restrictions, payloads.
		c("add long type", "add", type32, "d", "x", "@s"),
		c("add long type missing dest", "add", type32, "d", "x", "99999"),
		c("add long desc", "add", "user", long, "x", "@s"),
		c("add long desc missing dest", "add", "user", long, "x", "99999"),
		c("add longest desc", "add", "user", long[1:], "x", "@s"),
		c("newring long name missing dest", "newring", long, "99999"),
		{name: "padd user payload over 32767 missing dest", args: []string{"padd", "user", "d", "99999"}, stdin: strings.Repeat("x", 32768)},
		{name: "padd payload of 1 MiB", args: []string{"padd", "user", "d", "99999"}, stdin: strings.Repeat("x", 1<<20)},
		c("request long type", "request", type32, "x"),
		c("request long desc", "request", "user", long),
		c("request2 long callout", "request2", "user", "x", long),
		c("request2 long callout missing dest", "request2", "user", "x", long, "99999"),
		c("search long type", "search", "@s", type32, "x"),
		c("search long desc missing ring", "search", "99999", "user", long),
		c("restrict long type", "restrict_keyring", "$r", type32, "y"),
		c("restrict long type missing ring", "restrict_keyring", "99999", type32, "y"),
		c("restrict long rule", "restrict_keyring", "$r", "user", long),
		c("restrict long rule missing ring", "restrict_keyring", "99999", "user", long),
		c("restrict longest rule", "restrict_keyring", "$r", "asymmetric", long[1:]),
		c("update over a page", "update", "$u", page),
		c("update over a page missing key", "update", "99999", page),
		c("session long name", "session", long, "true"),
		c("new_session long name", "new_session", long),

		// Names starting with '.', which the kernel answers with EPERM.
		c("restrict dot type", "restrict_keyring", "$r", ".x", "y"),
		c("restrict dot type user key", "restrict_keyring", "$u", ".x", "y"),
		c("restrict dot type missing ring", "restrict_keyring", "99999", ".x", "y"),
		c("restrict dot type without rule", "restrict_keyring", "$r", ".x"),
		c("newring dot in zero", "newring", ".nr", "0"),
		c("session dot name", "session", ".kernkeys-test", "true"),
		c("new_session dot name", "new_session", ".kernkeys-test"),
		c("watch_session dot name", "watch_session", "-n", ".kernkeys-test", "/dev/null", "/dev/null", "5", "true"),

		// Bad masks, uids and reasons.
		c("setperm bad bits zero", "setperm", "0", "0xffffffff"),
		c("setperm bad bits missing", "setperm", "99999", "0xc0000000"),
		c("reject zero ERESTARTSYS", "reject", "0", "1", "512", "@s"),
		c("reject zero ERESTART_RESTARTBLOCK", "reject", "0", "1", "516", "@s"),
		c("reject zero 515", "reject", "0", "1", "515", "@s"),
		c("reject zero MAX_ERRNO", "reject", "0", "1", "4095", "@s"),
		c("reject zero minus one", "reject", "0", "1", "-1", "@s"),

		// Input the keyring package refuses before any system call, which
		// the kernel answers after checking other arguments (refused.go).
		c("request empty desc", "request", "user", ""),
		c("request empty desc bad type", "request", "nosuch", ""),
		c("request empty desc revoked dest", "request", "user", "", "$b"),
		c("request empty desc bad dest", "request", "user", "", "-9"),
		c("request2 empty desc", "request2", "user", "", "info"),
		c("request2 empty desc keyring", "request2", "keyring", "", "info"),
		c("request2 empty desc bad type", "request2", "nosuch", "", "info"),
		c("request empty desc asymmetric", "request", "asymmetric", ""),
		{name: "prequest2 empty desc", args: []string{"prequest2", "user", ""}, stdin: "callout"},
		c("search empty desc", "search", "@s", "user", ""),
		c("search empty desc bad type", "search", "@s", "nosuch", ""),
		c("search empty desc not keyring", "search", "$u", "user", ""),
		c("search empty desc missing ring", "search", "99999", "user", ""),
		c("search empty desc asymmetric", "search", "$u", "asymmetric", ""),
		c("search empty desc bad dest", "search", "@s", "user", "", "-9"),
		{name: "search empty desc revoked ring", args: []string{"search", "$b", "user", ""}, setup: revoked},
		c("add empty desc", "add", "user", "", "x", "@s"),
		c("add empty desc bad dest", "add", "user", "", "x", "99999"),
		c("add empty desc bad type", "add", "nosuch", "", "x", "@s"),
		c("add empty desc bad type and dest", "add", "nosuch", "", "x", "99999"),
		c("add empty desc not keyring", "add", "user", "", "x", "$u"),
		c("add empty payload not keyring", "add", "user", "d", "", "$u"),
		c("add empty payload bad dest", "add", "user", "d", "", "99999"),
		c("add keyring payload not keyring", "add", "keyring", "k", "x", "$u"),
		c("add empty desc zero dest", "add", "user", "", "x", "0"),
		c("newring empty", "newring", "", "@s"),
		c("newring empty in user key", "newring", "", "$u"),
		c("instantiate zero", "instantiate", "0", "x", "@s"),
		c("instantiate bad dest", "instantiate", "$u", "x", "-9"),
		{name: "pinstantiate zero", args: []string{"pinstantiate", "0", "@s"}, stdin: "x"},
		c("negate zero", "negate", "0", "1", "@s"),
		c("reject zero", "reject", "0", "1", "rejected", "@s"),
		c("reject zero reason", "reject", "0", "1", "0", "@s"),
		c("dh_compute zero keys", "dh_compute", "0", "0", "0"),
		c("dh_compute_kdf zero len", "dh_compute_kdf", "$u", "$u", "$u", "0", "sha256"),
		c("dh_compute_kdf empty hash", "dh_compute_kdf", "$u", "$u", "$u", "16", ""),
		c("dh_compute_kdf long", "dh_compute_kdf", "$u", "$u", "$u", "2000000", "sha256"),
		c("dh_compute_kdf zero keys", "dh_compute_kdf", "0", "0", "0", "16", "sha256"),
		{name: "dh_compute_kdf_oi zero len", args: []string{"dh_compute_kdf_oi", "$u", "$u", "$u", "0", "sha256"}, stdin: "oi"},
	}
}

// TestCompat runs every case with keyutils' keyctl and with this program on
// identical keys, and compares stdout, stderr and the exit code with
// serial numbers normalised.
func TestCompat(t *testing.T) { runCases(t, cases()) }

// TestRefusedInputs is TestCompat for input that the keyring package
// refuses before any system call, or used to: every subcommand given key
// 0, negative IDs that are not special, empty and over-long types,
// descriptions, names and restrictions, bad masks and reasons. Where the
// package refuses, refused.go must give the kernel's answer; elsewhere the
// kernel answers. Features this kernel lacks (DH, notifications) are
// compared as they are: both programs fail alike.
func TestRefusedInputs(t *testing.T) { runCases(t, refusedCases()) }

// runCases runs each case in a fresh session with keyutils' keyctl and
// with this program on identical keys, and compares what they print.
func runCases(t *testing.T, cases []testCase) {
	t.Helper()
	if _, err := os.Stat(cKeyctl); err != nil {
		t.Skipf("keyutils' keyctl is not installed at %s: nothing to compare with", cKeyctl)
	}
	ours := keytest.Build(t, ".")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root != "" && os.Getuid() != 0 {
				t.Skipf("needs root: %s", tc.root)
			}
			// Each subtest runs on its own goroutine: lock it and give it
			// its own session, which the programs inherit. Each setup
			// waits for the quota of the one before: cleared keys are
			// freed some time later.
			room := 30
			if tc.manyKeys {
				keytest.OwnQuota(t)
				room = 150
			}
			s := keytest.Session(t)
			setup := tc.setup
			if setup == nil {
				setup = std
			}
			var res [2]result
			var e env
			for i, bin := range []string{cKeyctl, ours} {
				if i == 0 || !tc.sameKeys {
					if err := s.Clear(); err != nil {
						t.Fatal(err)
					}
					keytest.WaitRoom(t, room)
					e = setup(t, s)
				}
				res[i] = run(t, bin, tc.userNS, e.expand(tc.args), []byte(tc.stdin), tc.env...)
			}
			if err := s.Clear(); err != nil {
				t.Fatal(err)
			}
			compare(t, tc.name, res[0], res[1], tc.lenOnly)
		})
	}
}

func compare(t *testing.T, name string, c, g result, lenOnly bool) {
	t.Helper()
	seenC, seenG := map[string]string{}, map[string]string{}
	co, go_ := normalise(c.stdout, seenC), normalise(g.stdout, seenG)
	ce, ge := normalise(c.stderr, seenC), normalise(g.stderr, seenG)
	if lenOnly {
		co, go_ = strconv.Itoa(len(c.stdout)), strconv.Itoa(len(g.stdout))
	}
	if co != go_ || ce != ge || c.code != g.code {
		t.Errorf("%s:\nkeyutils: exit %d\nstdout:\n%s\nstderr:\n%s\nkernkeys: exit %d\nstdout:\n%s\nstderr:\n%s",
			name, c.code, co, ce, g.code, go_, ge)
	}
}

// TestPkey compares the public-key subcommands on an X.509 certificate's
// key: query, encrypt (random output: lengths only), verify of a good and
// a bad signature, and the private-key operations this key lacks.
func TestPkey(t *testing.T) {
	if _, err := os.Stat(cKeyctl); err != nil {
		t.Skipf("keyutils' keyctl is not installed at %s", cKeyctl)
	}
	ours := keytest.Build(t, ".")
	s := keytest.Session(t)
	priv, der := keytest.SelfSigned(t, "kernkeys keyctl test")
	k, err := s.Add("asymmetric", "", der)
	if errors.Is(err, keyring.ErrNotSupported) {
		t.Skipf("asymmetric keys: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	digest := sha256.Sum256([]byte("signed data"))
	sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"digest": digest[:], "sig": sig, "bad": append([]byte{sig[0] ^ 1}, sig[1:]...), "msg": []byte("short message")}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := func(n string) string { return filepath.Join(dir, n) }
	id := k.String()
	for _, tc := range []testCase{
		{name: "query", args: []string{"pkey_query", id, "0", "enc=pkcs1", "hash=sha256"}},
		{name: "query bare", args: []string{"pkey_query", id, "0"}},
		{name: "encrypt", args: []string{"pkey_encrypt", id, "0", f("msg"), "enc=pkcs1"}, lenOnly: true},
		{name: "verify", args: []string{"pkey_verify", id, "0", f("digest"), f("sig"), "enc=pkcs1", "hash=sha256"}},
		{name: "verify bad", args: []string{"pkey_verify", id, "0", f("digest"), f("bad"), "enc=pkcs1", "hash=sha256"}},
		{name: "decrypt", args: []string{"pkey_decrypt", id, "0", f("msg"), "enc=pkcs1"}},
		{name: "sign", args: []string{"pkey_sign", id, "0", f("digest"), "enc=pkcs1", "hash=sha256"}},
		{name: "show", args: []string{"show"}},
		{name: "id by name", args: []string{"describe", "%asymmetric:kernkeys keyctl test: " + "x"}},
	} {
		// No t.Run: the programs must start from this locked thread, which
		// possesses the key through its session.
		compare(t, tc.name, run(t, cKeyctl, false, tc.args, nil), run(t, ours, false, tc.args, nil), tc.lenOnly)
	}
}

// TestStrtoul pins the C parsing rules the key specs, masks and timeouts
// follow.
func TestStrtoul(t *testing.T) {
	for _, tc := range []struct {
		in   string
		base int
		v    uint64
		rest string
	}{
		{"", 0, 0, ""},
		{"  12", 0, 12, ""},
		{"0x1f", 0, 31, ""},
		{"0X1F", 16, 31, ""},
		{"0x", 0, 0, "x"},
		{"017", 0, 15, ""},
		{"019", 0, 1, "9"},
		{"-1", 0, ^uint64(0), ""},
		{"+5", 10, 5, ""},
		{"0x10", 10, 0, "x10"},
		{"99999999999999999999", 10, ^uint64(0), ""},
		{"abc", 10, 0, "abc"},
		{" -", 10, 0, " -"},
	} {
		v, rest := strtoul(tc.in, tc.base)
		if v != tc.v || rest != tc.rest {
			t.Errorf("strtoul(%q, %d) = %d, %q; want %d, %q", tc.in, tc.base, v, rest, tc.v, tc.rest)
		}
	}
}

// watchFilters are the -f options TestWatch runs watch with: none
// (everything), an empty one (removals only), several that add up, one.
var watchFilters = [][]string{{}, {"-f", ""}, {"-fil", "-fns"}, {"-filnrvs"}}

// TestWatch compares watch, watch_session, watch_add, watch_rm and
// watch_sync with keyutils' where the kernel delivers key notifications,
// and elsewhere checks that both fail alike.
func TestWatch(t *testing.T) {
	if _, err := os.Stat(cKeyctl); err != nil {
		t.Skipf("keyutils' keyctl is not installed at %s", cKeyctl)
	}
	ours := keytest.Build(t, ".")
	c, err := keyring.KernelCapabilities()
	if err != nil || !c.Notifications {
		s := keytest.Session(t)
		for _, f := range watchFilters {
			for _, args := range [][]string{
				append(append([]string{"watch"}, f...), s.String()),
				append(append([]string{"watch_session"}, f...), "/dev/null", "/dev/null", "5", "true"),
			} {
				compare(t, strings.Join(args, " "), run(t, cKeyctl, false, args, nil), run(t, ours, false, args, nil), false)
			}
		}
		return
	}
	for _, filter := range watchFilters {
		t.Run("watch"+strings.Join(filter, ""), func(t *testing.T) {
			s := keytest.Session(t)
			var res [2]result
			for i, bin := range []string{cKeyctl, ours} {
				res[i] = watchRun(t, s, bin, filter)
			}
			if !strings.HasSuffix(res[0].stdout, " gc\n") {
				t.Errorf("keyutils' watch did not end with the removal of its key:\n%s%s", res[0].stdout, res[0].stderr)
			}
			compare(t, "watch "+strings.Join(filter, " "), res[0], res[1], false)
		})
	}
	for _, filter := range watchFilters {
		t.Run("watch_session"+strings.Join(filter, ""), func(t *testing.T) {
			keytest.Session(t)
			var res [2]result
			for i, bin := range []string{cKeyctl, ours} {
				res[i] = watchSessionRun(t, bin, filter)
			}
			if !strings.Contains(res[0].stdout, "== gc\n") || !strings.Contains(res[0].stdout, " gc\nMonitoring terminated\n") {
				t.Errorf("keyutils' watch_session logged no removal by watch_rm:\n%s%s", res[0].stdout, res[0].stderr)
			}
			compare(t, "watch_session "+strings.Join(filter, " "), res[0], res[1], false)
		})
	}
}

// watchSessionScript is what watchSessionRun's program does in the
// watched session with the keyctl under test ($1) and the inherited queue:
// changes that notify, a second watch added through the queue's descriptor
// and removed, the errors of adding it twice and of removing it twice, and
// watch_sync, which waits until the consumer has read everything, before
// the end of the program ends the watch.
const watchSessionScript = `k=$($1 add user k v @s)
$1 watch_add $KEYCTL_WATCH_FD $k
$1 watch_add $KEYCTL_WATCH_FD $k
$1 update $k v2
$1 setperm $k 0x3f3f0000
$1 watch_rm $KEYCTL_WATCH_FD $k
$1 watch_rm $KEYCTL_WATCH_FD $k
$1 unlink $k @s
$1 watch_sync $KEYCTL_WATCH_FD
echo "fd $KEYCTL_WATCH_FD"`

// watchSessionRun runs bin watch_session with filter and a script doing
// watchSessionScript, and returns what it printed with both logs.
func watchSessionRun(t *testing.T, bin string, filter []string) result {
	t.Helper()
	dir := t.TempDir()
	log, gc := filepath.Join(dir, "log"), filepath.Join(dir, "gc")
	args := append(append([]string{"watch_session"}, filter...), log, gc, "5", "sh", "-c", watchSessionScript, "sh", bin)
	res := run(t, bin, false, args, nil)
	for _, f := range []string{log, gc} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res.stdout += "== " + filepath.Base(f) + "\n" + string(b)
	}
	return res
}

// watchRun runs `bin watch [filter] R` on a fresh keyring R in s, changes R
// in ways that notify, destroys it, which ends the watch, and returns what
// bin printed, less the attribute changes made until it was listening.
// Where the filter hides attribute changes nothing shows that the watcher
// is listening: watchRun gives it time, and starts again with more when
// it was not yet (the watch failed: the key was gone).
func watchRun(t *testing.T, s keyring.Keyring, bin string, filter []string) result {
	t.Helper()
	args := strings.Join(filter, " ")
	if len(filter) == 0 || strings.Contains(strings.ReplaceAll(args, "-f", ""), "s") {
		return watchOnce(t, s, bin, filter, 0)
	}
	for wait := 50 * time.Millisecond; ; wait *= 2 {
		if res := watchOnce(t, s, bin, filter, wait); res.code == 0 || wait > 3*time.Second {
			return res
		}
	}
}

// watchOnce is one run of watchRun: it waits for the watcher for the time
// wait or, when wait is 0, until it prints an attribute change of R.
func watchOnce(t *testing.T, s keyring.Keyring, bin string, filter []string, wait time.Duration) result {
	t.Helper()
	r, err := s.AddKeyring("watched")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append(append([]string{"watch"}, filter...), r.String())...)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = pw, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		b := make([]byte, 4096)
		var acc []byte
		for {
			n, err := pr.Read(b)
			acc = append(acc, b[:n]...)
			for i := bytes.IndexByte(acc, '\n'); i >= 0; i = bytes.IndexByte(acc, '\n') {
				lines <- string(acc[:i+1])
				acc = acc[i+1:]
			}
			if err != nil {
				return
			}
		}
	}()
	// Until the watcher shows it is listening, change R's attributes.
	sync := r.String() + " attr\n"
	for listening := wait != 0; !listening; {
		if err := r.SetPerm(0x3f3f0000); err != nil {
			t.Fatal(err)
		}
		select {
		case l := <-lines:
			listening = l == sync
		case <-time.After(100 * time.Millisecond):
		}
	}
	time.Sleep(wait)
	k, err := r.Add("user", "k", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { return r.Unlink(k) },
		func() error { _, err := r.Add("user", "k2", []byte("v")); return err },
		r.Clear,
		func() error { return r.SetTimeout(time.Hour) },
		r.Revoke,
		func() error { return s.Unlink(r.Key) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	for l := range lines {
		if out.Len() == 0 && l == sync {
			continue // more synchronisation
		}
		out.WriteString(l)
	}
	res := result{stdout: out.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	if err := cmd.Wait(); errors.As(err, &exit) {
		res.code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return res
}
