//go:build linux

package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/kernkeys/kernkeys/keyring"
)

func dhParams(args []string) keyring.DHParams {
	return keyring.DHParams{
		Private: keyID(args[1]).Key(),
		Prime:   keyID(args[2]).Key(),
		Base:    keyID(args[3]).Key(),
	}
}

func printResult(b []byte) {
	out.WriteString(strconv.FormatUint(uint64(len(b)), 10) + " bytes of data in result:\n")
	hexdump(b)
	keyring.Wipe(b)
}

func cmdDHCompute(args []string) {
	if len(args) != 4 {
		usage()
	}
	p := dhParams(args)
	b, err := keyring.DHCompute(p)
	if err != nil {
		fail("keyctl_dh_compute_alloc", err)
	}
	printResult(b)
}

// kdfLen parses the output length as keyutils does: strtoul base 10,
// nothing checked but ULONG_MAX.
func kdfLen(s string) int {
	v, _ := strtoul(s, 10)
	if v == ^uint64(0) {
		fail("dh_compute: cannot convert generated length value", syscall.ERANGE)
	}
	if v > 1<<31 {
		v = 1 << 31 // the library refuses it; malloc would have failed
	}
	return int(v)
}

func cmdDHComputeKDF(args []string) {
	if len(args) != 6 {
		usage()
	}
	dhKDF(dhParams(args), keyring.KDF{Hash: args[5]}, kdfLen(args[4]))
}

// dhKDF prints the n bytes derived with kdf, and wipes kdf.OtherInfo.
func dhKDF(p keyring.DHParams, kdf keyring.KDF, n int) {
	b, err := keyring.DHComputeKDF(p, kdf, n)
	empty := false
	if refused(err) {
		err = dhAnswer(p, kdf, n)
		empty = err == nil
	}
	keyring.Wipe(kdf.OtherInfo)
	if err != nil {
		fail("keyctl_dh_compute_kdf", err)
	}
	if empty {
		// The kernel derives 0 bytes; keyutils' dump loop prints one byte
		// of its malloc(0) buffer all the same, which glibc hands out
		// zeroed.
		out.WriteString("0 bytes of data in result:\n00\n")
		return
	}
	printResult(b)
}

func cmdDHComputeKDFOI(args []string) {
	args, asHex := dashX(args)
	if len(args) != 6 {
		usage()
	}
	p := dhParams(args)
	n := kdfLen(args[4])
	oi := grabStdin()
	if asHex {
		oi = hex2bin(oi)
	}
	dhKDF(p, keyring.KDF{Hash: args[5], OtherInfo: oi}, n)
}

// pkeyInfo joins the k=v arguments with spaces, as keyutils'
// pkey_parse_info does.
func pkeyInfo(args []string) string {
	var b strings.Builder
	for _, a := range args {
		if !strings.Contains(a, "=") {
			usageErr("Option not in key=val form")
		}
		if len(a)+1 > 4096-1-b.Len() {
			usageErr("Too many info options")
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a)
	}
	return b.String()
}

// pkeyKey parses the key and the password argument, which must be "0".
func pkeyKey(args []string) keyring.Key {
	k := keyID(args[1]).Key()
	if args[2] != "0" {
		usageErr("Password passing is not yet supported")
	}
	return k
}

// readFile reads a whole file with one read of its size, as keyutils does.
func readFile(name string) []byte {
	f, err := os.Open(name)
	if err != nil {
		fail(name, err)
	}
	st, err := f.Stat()
	if err != nil {
		fail(name, err)
	}
	buf := make([]byte, st.Size())
	n := 0
	if len(buf) > 0 {
		n, err = syscall.Read(int(f.Fd()), buf)
		if err != nil {
			fail(name, err)
		}
	}
	if n != len(buf) {
		out.Flush()
		os.Stderr.WriteString(name + ": Short read\n")
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fail(name, err)
	}
	return buf
}

func pkeyQuery(k keyring.Key, info string) keyring.PkeyInfo {
	q, err := k.PkeyQuery(info)
	if err != nil {
		fail("keyctl_pkey_query", err)
	}
	return q
}

func cmdPkeyQuery(args []string) {
	if len(args) < 3 {
		usage()
	}
	info := pkeyInfo(args[3:])
	q := pkeyQuery(pkeyKey(args), info)
	yn := func(op keyring.PkeyOps) string {
		if q.Supported&op != 0 {
			return "y"
		}
		return "n"
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	out.WriteString("key_size=" + u(uint64(q.KeySize)) + "\n" +
		"max_data_size=" + u(uint64(q.MaxDataSize)) + "\n" +
		"max_sig_size=" + u(uint64(q.MaxSigSize)) + "\n" +
		"max_enc_size=" + u(uint64(q.MaxEncSize)) + "\n" +
		"max_dec_size=" + u(uint64(q.MaxDecSize)) + "\n" +
		"encrypt=" + yn(keyring.PkeyEncrypt) + "\n" +
		"decrypt=" + yn(keyring.PkeyDecrypt) + "\n" +
		"sign=" + yn(keyring.PkeySign) + "\n" +
		"verify=" + yn(keyring.PkeyVerify) + "\n")
}

// pkeyOp runs encrypt, decrypt or sign with an output buffer of the size
// keyutils picks, and writes the result raw to stdout.
func pkeyOp(args []string, label string, size func(keyring.PkeyInfo) uint16,
	op func(k keyring.Key, info string, in, out []byte) (int, error)) {
	if len(args) < 4 {
		usage()
	}
	info := pkeyInfo(args[4:])
	k := pkeyKey(args)
	in := readFile(args[3])
	q := pkeyQuery(k, info)
	buf := make([]byte, size(q))
	n, err := op(k, info, in, buf)
	if err != nil {
		fail(label, err)
	}
	if n == 0 {
		fail("stdout", syscall.Errno(0)) // fwrite of nothing "fails"
	}
	out.Write(buf[:n])
}

func cmdPkeyEncrypt(args []string) {
	// sic: keyutils sizes the output by max_dec_size.
	pkeyOp(args, "keyctl_pkey_encrypt", func(q keyring.PkeyInfo) uint16 { return q.MaxDecSize }, keyring.Key.Encrypt)
}

func cmdPkeyDecrypt(args []string) {
	pkeyOp(args, "keyctl_pkey_decrypt", func(q keyring.PkeyInfo) uint16 { return q.MaxEncSize }, keyring.Key.Decrypt)
}

func cmdPkeySign(args []string) {
	pkeyOp(args, "keyctl_pkey_sign", func(q keyring.PkeyInfo) uint16 { return q.MaxSigSize }, keyring.Key.Sign)
}

func cmdPkeyVerify(args []string) {
	if len(args) < 5 {
		usage()
	}
	info := pkeyInfo(args[5:])
	k := pkeyKey(args)
	data := readFile(args[3])
	sig := readFile(args[4])
	if err := k.Verify(info, data, sig); err != nil {
		fail("keyctl_pkey_verify", err)
	}
}
