package encrypted

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/keyring"
)

// errCase is one failure mode of an exported function, and what its error
// must say.
type errCase struct {
	name    string
	err     error
	op      string // the *keyring.Error's Op
	field   string // its Field, for refused input
	refused bool   // refused before any system call
	is      []error
	isNot   []error
}

// checkErrors: every error is a *keyring.Error with the expected Op,
// Field and Refused, matching the documented sentinels and no others.
func checkErrors(t *testing.T, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		var e *keyring.Error
		if !errors.As(c.err, &e) {
			t.Errorf("%s: %v (%T) is not a *keyring.Error", c.name, c.err, c.err)
			continue
		}
		if e.Op != c.op || e.Refused != c.refused || c.refused && e.Field != c.field {
			t.Errorf("%s: Op %q Field %q Refused %v; want %q %q %v", c.name, e.Op, e.Field, e.Refused, c.op, c.field, c.refused)
		}
		if e.Refused && !errors.Is(c.err, keyring.ErrInvalid) {
			t.Errorf("%s: refused input does not match keyring.ErrInvalid", c.name)
		}
		for _, s := range c.is {
			if !errors.Is(c.err, s) {
				t.Errorf("%s: %v does not match %v", c.name, c.err, s)
			}
		}
		for _, s := range c.isNot {
			if errors.Is(c.err, s) {
				t.Errorf("%s: %v matches %v", c.name, c.err, s)
			}
		}
		if !strings.HasPrefix(c.err.Error(), c.op+": ") && !strings.HasPrefix(c.err.Error(), "keyring: "+c.op) {
			t.Errorf("%s: message %q does not start with the operation", c.name, c.err)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

// TestErrorsRefused walks the failure modes of every exported function
// that works in userspace.
func TestErrorsRefused(t *testing.T) {
	good, err := Seal(plain32, SealOptions{MasterKey: testKMK, Master: userKMK, IV: testIV})
	if err != nil {
		t.Fatal(err)
	}
	inv := []error{keyring.ErrInvalid}
	bad := []error{keyring.ErrInvalid, ErrBadHMAC}
	var u Blob
	dir := t.TempDir()
	checkErrors(t, []errCase{
		{name: "ParseMaster", err: errOf(ParseMaster("logon:x")), op: "encrypted.ParseMaster", field: "master", refused: true, is: inv, isNot: []error{ErrBadHMAC}},
		{name: "ParseFormat", err: errOf(ParseFormat("Default")), op: "encrypted.ParseFormat", field: "format", refused: true, is: inv},
		{name: "ValidateDescription", err: ValidateDescription(Ecryptfs, "x"), op: "encrypted.ValidateDescription", field: "description", refused: true, is: inv},
		{name: "NewPayload, no master", err: errOf(NewPayload(Options{})), op: "encrypted.NewPayload", field: "master", refused: true, is: inv},
		{name: "NewPayload, length", err: errOf(NewPayload(Options{Master: userKMK, Length: 19})), op: "encrypted.NewPayload", field: "datalen", refused: true, is: inv},
		{name: "NewPayloadWithData, Length", err: errOf(NewPayloadWithData(plain32, Options{Master: userKMK, Length: 20})), op: "encrypted.NewPayloadWithData", field: "Options.Length", refused: true, is: inv},
		{name: "LoadPayload, nil", err: errOf(LoadPayload(nil)), op: "encrypted.LoadPayload", field: "blob", refused: true, is: inv},
		{name: "UpdatePayload, kind", err: errOf(UpdatePayload(UpdateOptions{From: userKMK, To: Master{Kind: TrustedMaster, Name: "t"}})), op: "encrypted.UpdatePayload", field: "master", refused: true, is: inv},
		{name: "ParseBlob", err: errOf(ParseBlob([]byte("default user:kmk 32 00"))), op: "encrypted.ParseBlob", field: "hex", refused: true, is: inv},
		{name: "Blob.UnmarshalText", err: u.UnmarshalText([]byte("enc32")), op: "encrypted.Blob.UnmarshalText", field: "master", refused: true, is: inv},
		{name: "Blob.MarshalText", err: errOf(u.MarshalText()), op: "encrypted.Blob.MarshalText", field: "master", refused: true, is: inv},
		{name: "Blob.AppendText", err: errOf(u.AppendText(nil)), op: "encrypted.Blob.AppendText", field: "master", refused: true, is: inv},
		{name: "Seal, no master key", err: errOf(Seal(plain32, SealOptions{Master: userKMK})), op: "encrypted.Seal", field: "master key", refused: true, is: inv},
		{name: "Seal, IV", err: errOf(Seal(plain32, SealOptions{MasterKey: testKMK, Master: userKMK, IV: testIV[:8]})), op: "encrypted.Seal", field: "iv", refused: true, is: inv},
		{name: "Open, wrong key", err: errOf(Open(good, kmk2)), op: "encrypted.Open", field: "hmac", refused: true, is: bad},
		{name: "Open, nil blob", err: errOf(Open(nil, testKMK)), op: "encrypted.Open", field: "blob", refused: true, is: inv, isNot: []error{ErrBadHMAC}},
		{name: "Rewrap, wrong key", err: errOf(Rewrap(good, RewrapOptions{OldMasterKey: kmk2, NewMasterKey: kmk2, NewMaster: userKMK})), op: "encrypted.Rewrap", field: "hmac", refused: true, is: bad},
		{name: "Rewrap, no new master", err: errOf(Rewrap(good, RewrapOptions{OldMasterKey: testKMK, NewMasterKey: kmk2})), op: "encrypted.Rewrap", field: "master", refused: true, is: inv},
		{name: "EcryptfsAuthTok", err: errOf(EcryptfsAuthTok("0123456789abcdef", plain32)), op: "encrypted.EcryptfsAuthTok", field: "datalen", refused: true, is: inv},
		{name: "ReadFile, absent", err: errOf(ReadFile(filepath.Join(dir, "absent"))), op: "encrypted.ReadFile", is: []error{fs.ErrNotExist}, isNot: inv},
		{name: "Blob.WriteFile, no directory", err: good.WriteFile(filepath.Join(dir, "no", "blob")), op: "encrypted.Blob.WriteFile", is: []error{fs.ErrNotExist}, isNot: inv},
	})
}
