package keytest

import (
	"encoding/binary"
	"errors"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SeccompRule makes a seccomp filter answer a system call with an errno
// instead of running it.
type SeccompRule struct {
	// Syscall is the system call's number on this architecture
	// (unix.SYS_KEYCTL; see KeySyscalls).
	Syscall uintptr
	// Ops, when not empty, limits the rule to calls whose first argument,
	// as the int the kernel reads from it, is one of these: keyctl's
	// operation numbers.
	Ops []uint32
	// Errno is the answer.
	Errno syscall.Errno
}

// KeySyscalls are add_key(2), keyctl(2) and request_key(2), the key
// retention service's system calls.
var KeySyscalls = [...]uintptr{unix.SYS_ADD_KEY, unix.SYS_KEYCTL, unix.SYS_REQUEST_KEY}

// BlockKeySyscalls is the rules of a filter that refuses all three key
// system calls with errno: EPERM as Docker's default profile does, ENOSYS
// as LXC's does.
func BlockKeySyscalls(errno syscall.Errno) []SeccompRule {
	rules := make([]SeccompRule, len(KeySyscalls))
	for i, nr := range KeySyscalls {
		rules[i] = SeccompRule{Syscall: nr, Errno: errno}
	}
	return rules
}

// Seccomp installs a seccomp filter made of rules on every thread of the
// process (seccomp(2), SECCOMP_SET_MODE_FILTER with
// SECCOMP_FILTER_FLAG_TSYNC), after setting no_new_privs (prctl(2)
// PR_SET_NO_NEW_PRIVS), which lets an unprivileged process install one and
// which TSYNC extends to the other threads. Threads started later inherit
// it. A filter is never removed: Seccomp runs only in a child process of
// RunChild and fails the test elsewhere. On a kernel without
// CONFIG_SECCOMP_FILTER it skips the test. A system call made through
// another architecture's entry (a 32-bit compat call on a 64-bit kernel)
// kills the process; Go makes none.
func Seccomp(t testing.TB, rules ...SeccompRule) {
	t.Helper()
	if !IsChild(t) {
		t.Fatal("keytest.Seccomp outside a child process: the filter would outlive the test")
	}
	prog, err := seccompProgram(rules)
	if err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatalf("prctl(PR_SET_NO_NEW_PRIVS): %v", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	switch {
	case (e == unix.ENOSYS || e == unix.EINVAL) && !KernelConfig(t, "CONFIG_SECCOMP_FILTER"):
		// ENOSYS without CONFIG_SECCOMP, EINVAL without its filter mode.
		t.Skipf("the kernel has no seccomp filters (CONFIG_SECCOMP_FILTER): %v", e)
	case e != 0:
		t.Fatalf("seccomp(SECCOMP_SET_MODE_FILTER): %v", e)
	case r != 0:
		t.Fatalf("seccomp(SECCOMP_FILTER_FLAG_TSYNC): thread %d cannot take the filter", r)
	}
}

// Offsets into struct seccomp_data (<linux/seccomp.h>), which a filter
// reads: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
const (
	seccompNr   = 0
	seccompArch = 4
	seccompArg0 = 16
)

// seccompProgram compiles rules to classic BPF: check the architecture,
// load the system call number, and for each rule compare it, then the
// first argument's low word against each of Ops.
func seccompProgram(rules []SeccompRule) ([]unix.SockFilter, error) {
	arch, ok := auditArch[runtime.GOARCH]
	if !ok {
		return nil, errors.New("keytest.Seccomp: no AUDIT_ARCH value for GOARCH " + runtime.GOARCH)
	}
	// The low 32 bits of a 64-bit argument: the int keyctl takes.
	arg0 := uint32(seccompArg0)
	if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 {
		arg0 += 4 // big endian
	}
	ld := func(off uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}
	}
	// jne jumps over skip instructions unless the accumulator equals k.
	jne := func(k uint32, skip int) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: k, Jf: uint8(skip)}
	}
	ret := func(k uint32) unix.SockFilter { return unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k} }
	allow := ret(unix.SECCOMP_RET_ALLOW)

	prog := []unix.SockFilter{
		ld(seccompArch),
		jne(arch, 1),
		{Code: unix.BPF_JMP | unix.BPF_JA, K: 1},
		ret(unix.SECCOMP_RET_KILL_PROCESS),
	}
	for _, r := range rules {
		answer := ret(unix.SECCOMP_RET_ERRNO | uint32(r.Errno)&unix.SECCOMP_RET_DATA)
		// Each rule reloads the number; a rule that does not match
		// jumps to the next one.
		var body []unix.SockFilter
		if len(r.Ops) == 0 {
			body = []unix.SockFilter{answer}
		} else {
			body = append(body, ld(arg0))
			for i, op := range r.Ops {
				// Match: fall through to the answer at the end of
				// the block; no match: try the next op.
				rest := len(r.Ops) - 1 - i
				body = append(body, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: op, Jt: uint8(rest + 1)})
			}
			// No op matched: skip the answer.
			body = append(body, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA, K: 1}, answer)
		}
		prog = append(prog, ld(seccompNr), jne(uint32(r.Syscall), len(body)))
		prog = append(prog, body...)
	}
	prog = append(prog, allow)
	if len(prog) > 255 {
		return nil, errors.New("keytest.Seccomp: too many rules for 8-bit jumps")
	}
	return prog, nil
}

// auditArch is each GOARCH's AUDIT_ARCH_* value, seccomp_data's arch.
var auditArch = map[string]uint32{
	"386":     unix.AUDIT_ARCH_I386,
	"amd64":   unix.AUDIT_ARCH_X86_64,
	"arm":     unix.AUDIT_ARCH_ARM,
	"arm64":   unix.AUDIT_ARCH_AARCH64,
	"loong64": unix.AUDIT_ARCH_LOONGARCH64,
	"ppc64le": unix.AUDIT_ARCH_PPC64LE,
	"riscv64": unix.AUDIT_ARCH_RISCV64,
	"s390x":   unix.AUDIT_ARCH_S390X,
}
