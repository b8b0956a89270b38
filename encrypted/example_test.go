package encrypted_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log"

	"github.com/kernkeys/kernkeys/encrypted"
	"github.com/kernkeys/kernkeys/keyring"
)

func ExampleParseMaster() {
	m, err := encrypted.ParseMaster("trusted:nvdimm-master")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Kind, m.Name, m)

	_, err = encrypted.ParseMaster("encrypted:ek1")
	fmt.Println(errors.Is(err, keyring.ErrInvalid))
	// Output:
	// trusted nvdimm-master trusted:nvdimm-master
	// true
}

func ExampleNewPayload() {
	m, err := encrypted.ParseMaster("user:kmk")
	if err != nil {
		log.Fatal(err)
	}
	p, err := encrypted.NewPayload(encrypted.Options{Format: encrypted.Enc32, Master: m, Length: 32})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", p)
	// Output: new enc32 user:kmk 32
}

// Seal existing key material under the user key "kmk" into a blob that the
// kernel loads with "load <blob>", then open it again. The IV is fixed
// here to get a reproducible blob; leave SealOptions.IV nil in real use.
func ExampleSeal() {
	masterKey := make([]byte, 32) // the payload of the user key "kmk"
	key := make([]byte, 32)       // the key material to import
	iv := make([]byte, 16)
	for i := range masterKey {
		masterKey[i], key[i] = byte(i), byte(0x40+i)
	}
	for i := range iv {
		iv[i] = byte(0xa0 + i)
	}
	defer keyring.Wipe(masterKey)
	defer keyring.Wipe(key)

	blob, err := encrypted.Seal(key, encrypted.SealOptions{MasterKey: masterKey,
		Master: encrypted.Master{Kind: encrypted.UserMaster, Name: "kmk"},
		IV:     iv,
	})
	if err != nil {
		log.Fatal(err)
	}
	text, err := blob.MarshalText()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", text)

	parsed, err := encrypted.ParseBlob(text)
	if err != nil {
		log.Fatal(err)
	}
	plain, err := encrypted.Open(parsed, masterKey)
	if err != nil {
		log.Fatal(err)
	}
	defer keyring.Wipe(plain)
	fmt.Printf("%x\n", plain)
	// Output:
	// default user:kmk 32 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf00dd32382528c788a6da9a864c367830a1a26835eedbbecbe11cd13ad9ccab3da950cc32e6988a5ddc45430f583536985b1630d1a92d599d10d6d0f26ab77bfa03
	// 404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f
}

// Have the kernel generate an enc32 key under the user key "kmk", read its
// blob to store, and load the blob again as a second key. Everything lives
// in a private session keyring that dies with the call.
func ExampleNew() {
	err := keyring.InNewSession(func(s keyring.Keyring) error {
		masterKey := make([]byte, 32)
		rand.Read(masterKey)
		defer keyring.Wipe(masterKey)
		if _, err := s.Add("user", "kmk", masterKey); err != nil {
			return err
		}
		kmk := encrypted.Master{Kind: encrypted.UserMaster, Name: "kmk"}
		k, err := encrypted.New(s, "nvdimm:example", encrypted.Options{Master: kmk, Format: encrypted.Enc32})
		if err != nil {
			return err
		}
		b, err := encrypted.ReadBlob(k) // store b with b.WriteFile
		if err != nil {
			return err
		}
		if _, err := encrypted.Load(s, "nvdimm:example-again", b); err != nil {
			return err
		}
		fmt.Println(b.Format, b.Master, b.DataLen)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
}
