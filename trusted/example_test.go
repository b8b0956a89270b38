package trusted_test

import (
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/trusted"
)

// A new 32-byte key sealed by a TPM 2.0 under the storage key that
// swtpm_setup --create-spk persists at 0x81000001, with a password.
func ExampleNewPayload() {
	p, err := trusted.NewPayload(trusted.TPM2, trusted.Options{
		KeyLen:    32, // the default
		KeyHandle: 0x81000001,
		BlobAuth:  []byte("hunter2"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer keyring.Wipe(p)
	fmt.Printf("%d bytes: new 32 keyhandle=0x81000001 blobauth=...\n", len(p))
	// Output: 44 bytes: new 32 keyhandle=0x81000001 blobauth=...
}

// A payload is checked against the backend's rules, as the kernel's
// parser would; errors name the option, never its value.
func ExampleParsePayload() {
	for _, text := range []string{
		"new 32 keyhandle=0x81000001 hash=sha384",
		"new 32 hash=sha256",
		"new 32 keyhandle=1 policydigest=" + strings.Repeat("00", 32) + " hash=sha256",
	} {
		p, err := trusted.ParsePayload(trusted.TPM2, []byte(text))
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(p)
	}
	_, err := trusted.ParsePayload(trusted.TPM1, []byte("new 32 hash=sha256"))
	var e *keyring.Error
	fmt.Println(errors.Is(err, keyring.ErrInvalid), errors.As(err, &e) && e.Refused, e.Field)
	// Output:
	// new 32 keyhandle=0x81000001 hash=sha384
	// trusted.ParsePayload: keyhandle: TPM 2.0 needs the parent key's handle (keyhandle=) to seal: invalid argument
	// trusted.ParsePayload: hash: must come before policydigest=, whose length the kernel checks against the hash in effect: invalid argument
	// true true hash
}

// A TPM 2.0 blob, as ReadBlob returns it, names its parent key and says
// how the key was sealed.
func ExampleParseBlob() {
	blob := trusted.Blob{
		0x30, 0x2c, // TPMKey
		0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x05, // 2.23.133.10.1.5
		0xa0, 0x03, 0x01, 0x01, 0x01, // emptyAuth TRUE, as the kernel writes it
		0x02, 0x05, 0x00, 0x81, 0x00, 0x00, 0x01, // parent 0x81000001
		0x04, 0x10, 0x00, 0x0e, 0x00, 0x08, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, // pubkey
		0x04, 0x04, 0x00, 0x02, 0xaa, 0xbb, // privkey (shortened)
	}
	k, err := trusted.ParseBlob(blob)
	if err != nil {
		log.Fatal(err)
	}
	pub, err := k.PublicArea()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("parent %#x, emptyAuth %v, hash %s, migratable %v, policy %d bytes\n",
		k.Parent, k.EmptyAuth, pub.Hash(), pub.Migratable(), len(pub.AuthPolicy))
	// Output: parent 0x81000001, emptyAuth true, hash sha256, migratable true, policy 0 bytes
}

// Which trust source the running kernel uses. Without trusted keys the
// error says which kernel option is missing.
func ExampleKernelBackend() {
	b, err := trusted.KernelBackend()
	switch {
	case errors.Is(err, keyring.ErrNotSupported):
		fmt.Println("no trusted keys:", err)
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println("trusted keys are sealed by the", b, "backend")
	}
}

// Create a key, keep its blob, and load it again: on TPM 2.0 the same
// key comes back. In a private session keyring that dies with the
// function.
func ExampleNew() {
	err := keyring.InNewSession(func(s keyring.Keyring) error {
		k, err := trusted.New(s, "kmk", trusted.Options{KeyHandle: 0x81000001}) // a 32-byte key
		if err != nil {
			return err
		}
		blob, err := trusted.ReadBlob(k) // store it, e.g. blob.MarshalText() in a file
		if err != nil {
			return err
		}
		if err := s.Unlink(k); err != nil {
			return err
		}
		_, err = trusted.Load(s, "kmk", blob, trusted.Options{})
		return err
	})
	if errors.Is(err, keyring.ErrNotSupported) {
		fmt.Println("this kernel has no trusted keys")
	} else if err != nil {
		log.Fatal(err)
	}
}

// A blob's text form is the kernel's: hex, as KEYCTL_READ returns it and
// "load" takes it.
func ExampleBlob_UnmarshalText() {
	var b trusted.Blob
	if err := b.UnmarshalText([]byte("3081E906")); err != nil {
		log.Fatal(err)
	}
	text, _ := b.MarshalText()
	fmt.Printf("%d bytes, % x, %s\n", len(b), []byte(b), text)
	err := b.UnmarshalText([]byte("abc"))
	fmt.Println(errors.Is(err, keyring.ErrInvalid), err)
	// Output:
	// 4 bytes, 30 81 e9 06, 3081e906
	// true trusted.Blob.UnmarshalText: blob: has an odd number of hex digits (the kernel would drop the last one): invalid argument
}
