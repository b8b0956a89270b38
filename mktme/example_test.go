package mktme_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/mktme"
)

// A CPU-generated key in the RFC v2 grammar, the payload of the RFC's own
// demonstration program.
func ExampleV2_MarshalText() {
	p, err := mktme.V2{Type: mktme.CPU}.MarshalText()
	if err != nil {
		log.Fatal(err)
	}
	defer keyring.Wipe(p)
	fmt.Printf("%s\n", p)
	// Output: type=cpu algorithm=aes-xts-128
}

// Parse checks a payload written for the RFC v2 kernel. String leaves the
// key material out.
func ExampleParse() {
	o, err := mktme.Parse([]byte("type=user algorithm=aes-xts-128 " +
		"key=12345678912345671234567891234567 tweak=12345678912345671234567891234567"))
	if err != nil {
		log.Fatal(err)
	}
	defer o.Wipe()
	fmt.Println(o)
	// Output: type=user algorithm=aes-xts-128 key=<16 bytes> tweak=<16 bytes>
}

// Errors name the field and the rule, never the value.
func ExampleParse_invalid() {
	for _, p := range []string{
		"type=clear algorithm=aes-xts-128",
		"type=cpu algorithm=aes-xts-128\n",
		"type=cpu algorithm=aes-xts-128 key=0011",
	} {
		_, err := mktme.Parse([]byte(p))
		fmt.Println(errors.Is(err, keyring.ErrInvalid), err)
	}
	// Output:
	// true mktme.Parse: algorithm: is not allowed with type=clear (the RFC v2 documentation forbids it; its code ignores it): invalid argument
	// true mktme.Parse: algorithm: must be aes-xts-128 (a newline is not a separator; the value includes it): invalid argument
	// true mktme.Parse: key: must be exactly 32 hex digits, not 4 characters: invalid argument
}

// The RFC v1 grammar: a CPU-generated key takes 16 hex digits of entropy,
// 8 bytes.
func ExampleV1_MarshalText() {
	entropy := []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	p, err := mktme.V1{Entropy: entropy}.MarshalText()
	if err != nil {
		log.Fatal(err)
	}
	defer keyring.Wipe(p)
	fmt.Printf("%s\n", p)

	_, err = mktme.V1{Entropy: entropy, Tweak: entropy}.MarshalText()
	fmt.Println(err)
	// Output:
	// algorithm=aes_xts_128 entropy=0123456789abcdef
	// mktme.MarshalText: tweak: is not allowed for a CPU-generated key (no userkey=): invalid argument
}

// The operations MKTME keys do not allow are refused without a system
// call.
func ExampleUpdate() {
	var k keyring.Key
	err := mktme.Update(k, mktme.Options{Payload: mktme.V2{Type: mktme.Clear}})
	fmt.Println(errors.Is(err, mktme.ErrForbidden), errors.Is(err, keyring.ErrNotSupported))
	// Output: true true
}

// Create a CPU-generated key, the zero Options, in a private session
// keyring. On a mainline kernel the answer is ErrNotSupported: the type
// was never merged.
func ExampleNew() {
	err := keyring.InNewSession(func(s keyring.Keyring) error {
		k, err := mktme.New(s, "vm1", mktme.Options{})
		switch {
		case errors.Is(err, keyring.ErrNotSupported):
			fmt.Println("this kernel has no MKTME keys")
			return nil
		case errors.Is(err, keyring.ErrPermission):
			fmt.Println("MKTME keys need CAP_SYS_RESOURCE or CAP_SYS_ADMIN")
			return nil
		case errors.Is(err, mktme.ErrPoolExhausted):
			fmt.Println("no free hardware KeyID")
			return nil
		case err != nil:
			return err
		}
		fmt.Println("created an MKTME key")
		return k.Revoke() // MKTME keys are retired by revoking them
	})
	if err != nil {
		log.Fatal(err)
	}
}
