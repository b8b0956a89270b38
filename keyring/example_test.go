//go:build linux

package keyring_test

import (
	"errors"
	"fmt"

	"github.com/kernkeys/kernkeys/keyring"
)

// Add a key to a private session keyring, find it, read it. Keys linked
// only into the session die with the thread.
func ExampleKeyring_Add() {
	err := keyring.InNewSession(func(s keyring.Keyring) error {
		k, err := s.Add("user", "example:token", []byte("s3cret"))
		if err != nil {
			return err
		}
		found, err := s.Search("user", "example:token")
		if err != nil {
			return err
		}
		payload, err := found.Read()
		if err != nil {
			return err
		}
		defer keyring.Wipe(payload)
		fmt.Println(found == k, len(payload))
		return nil
	})
	fmt.Println(err)
	// Output:
	// true 6
	// <nil>
}

func ExampleKey_Describe() {
	_ = keyring.InNewSession(func(s keyring.Keyring) error {
		k, _ := s.Add("user", "example;with;semicolons", []byte("x"))
		d, err := k.Describe()
		fmt.Println(d.Type, d.Perm, d.Description, err)
		return nil
	})
	// Output: user alswrv-----v------------ example;with;semicolons <nil>
}

func ExampleKeyring_Search_notFound() {
	_ = keyring.InNewSession(func(s keyring.Keyring) error {
		_, err := s.Search("user", "absent")
		fmt.Println(errors.Is(err, keyring.ErrNotFound))
		return nil
	})
	// Output: true
}

func ExampleKey_SetPerm() {
	_ = keyring.InNewSession(func(s keyring.Keyring) error {
		k, _ := s.Add("user", "example", []byte("x"))
		p := keyring.PermAll.Possessor() | (keyring.PermView | keyring.PermRead).User()
		_ = k.SetPerm(p)
		d, _ := k.Describe()
		fmt.Println(d.Perm)
		return nil
	})
	// Output: alswrv----rv------------
}

func ExampleKeyring_Walk() {
	_ = keyring.InNewSession(func(s keyring.Keyring) error {
		r, _ := s.AddKeyring("inner")
		_, _ = r.Add("user", "leaf", []byte("x"))
		return s.Walk(func(n keyring.Node) error {
			if n.Depth > 0 {
				fmt.Printf("%*s%s: %s\n", 2*n.Depth, "", n.Description.Type, n.Description.Description)
			}
			return nil
		})
	})
	// Output:
	//   keyring: inner
	//     user: leaf
}

func ExampleKeyring_Add_errors() {
	_ = keyring.InNewSession(func(s keyring.Keyring) error {
		_, err := s.Add("user", "", []byte("x"))
		fmt.Println(errors.Is(err, keyring.ErrInvalid))
		_, err = s.Add("no_such_type", "x", []byte("x"))
		fmt.Println(errors.Is(err, keyring.ErrNotSupported))
		fmt.Println(err.(*keyring.Error).Reason)
		return nil
	})
	// Output:
	// true
	// true
	// key type "no_such_type" is not available in the running kernel
}
