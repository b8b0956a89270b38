package encrypted

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/kernkeys/kernkeys/keyring"
)

// FuzzParseBlob: ParseBlob never panics, rejects only with keyring.ErrInvalid, and
// whatever it accepts marshals, re-parses to the same Blob and marshals
// to the same bytes. Open of an accepted blob does not panic either.
func FuzzParseBlob(f *testing.F) {
	for _, v := range formatVectors(f) {
		// Large seeds make the fuzzer spend its time minimising them.
		if len(v.Blob) < 512 {
			f.Add([]byte(v.Blob))
			f.Add([]byte(v.AfterUpdate.Blob))
		}
	}
	legacy, err := Seal(plain32, SealOptions{MasterKey: testKMK, Master: userKMK, DataLen: "032\n", IV: testIV})
	if err != nil {
		f.Fatal(err)
	}
	legacy.Legacy = true
	text, err := legacy.MarshalText()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(text)
	f.Add([]byte("ecryptfs\ttrusted:x\t+64\t00 junk\x00"))
	f.Fuzz(func(t *testing.T, text []byte) {
		b, err := ParseBlob(text)
		if err != nil {
			if b != nil || !errors.Is(err, keyring.ErrInvalid) {
				t.Fatalf("ParseBlob = %v, %v; want nil and an keyring.ErrInvalid", b, err)
			}
			return
		}
		m1, err := b.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText of a parsed blob: %v", err)
		}
		b2, err := ParseBlob(m1)
		if err != nil {
			t.Fatalf("ParseBlob(MarshalText()) = %v", err)
		}
		if !reflect.DeepEqual(b, b2) {
			t.Fatalf("re-parse differs:\n %+v\n %+v", b, b2)
		}
		m2, err := b2.MarshalText()
		if err != nil || !bytes.Equal(m1, m2) {
			t.Fatalf("marshal not stable: %q, %v", m2, err)
		}
		if pt, err := Open(b, testKMK); err != nil && pt != nil {
			t.Fatalf("Open returned plaintext with an error")
		}
	})
}

// FuzzSealOpen: Seal either rejects its input with keyring.ErrInvalid or makes a
// blob that survives marshal and parse, opens to the plaintext under the
// same master key, and fails with ErrBadHMAC under a different one.
func FuzzSealOpen(f *testing.F) {
	f.Add(plain32, testKMK, testIV, uint8(Default), "kmk", "")
	f.Add(plain32, testKMK, testIV, uint8(Enc32), "kmk", "+32\n")
	f.Add(seq(0, 64), []byte("Sesame!"), []byte{}, uint8(Ecryptfs), "kmk2", "064")
	f.Add(seq(0, 20), []byte{0}, []byte{}, uint8(Default), "k:k", "")
	f.Fuzz(func(t *testing.T, pt, mk, iv []byte, format uint8, name, datalen string) {
		p := SealOptions{MasterKey: mk, Format: Format(format % 4), Master: Master{Kind: UserMaster, Name: name}, DataLen: datalen}
		if len(iv) >= ivSize {
			p.IV = iv[:ivSize] // otherwise random
		}
		b, err := Seal(pt, p)
		if err != nil {
			if !errors.Is(err, keyring.ErrInvalid) {
				t.Fatalf("Seal: %v, want an keyring.ErrInvalid", err)
			}
			return
		}
		text, err := b.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText: %v", err)
		}
		b2, err := ParseBlob(text)
		if err != nil {
			t.Fatalf("ParseBlob of a sealed blob: %v", err)
		}
		got, err := Open(b2, mk)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Open = %x, %v; want %x", got, err, pt)
		}
		wrong := slices.Clone(mk)
		wrong[0] ^= 1
		if got, err := Open(b2, wrong); got != nil || !errors.Is(err, ErrBadHMAC) {
			t.Fatalf("Open under another key = %x, %v; want nil, ErrBadHMAC", got, err)
		}
	})
}
