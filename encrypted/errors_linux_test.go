//go:build linux

package encrypted

import (
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// TestErrorsKernel walks the failure modes of the functions that call the
// kernel: refused input, and the kernel's errors with what this package
// adds to them.
func TestErrorsKernel(t *testing.T) {
	s := kernelSession(t)
	user := Master{Kind: UserMaster, Name: "kmk"}
	absent := Master{Kind: UserMaster, Name: "absent"}
	good, err := Seal(plain32, SealOptions{MasterKey: kmk, Master: user})
	if err != nil {
		t.Fatal(err)
	}
	tampered := *good
	tampered.HMAC[0] ^= 1
	orphan, err := Seal(plain32, SealOptions{MasterKey: kmk, Master: absent})
	if err != nil {
		t.Fatal(err)
	}
	k, err := New(s, "there", Options{Master: user})
	if err != nil {
		t.Fatal(err)
	}
	orphanKey, err := New(s, "orphan", Options{Master: absent})
	if err != nil {
		t.Fatal(err)
	}
	trustedTo := MigrateOptions{To: Master{Kind: TrustedMaster, Name: "tk"}}
	inv := []error{keyring.ErrInvalid}
	importTrusted := errCase{name: "Import, trusted master", err: errOf2(Import(s, "it", plain32, ImportOptions{Master: trustedTo.To})), op: "add_key"}
	migrateTrusted := errCase{name: "Migrate, to trusted", err: errOf2(Migrate(s, "mt", good, trustedTo)), op: "add_key"}
	if keytest.KernelConfig(t, "CONFIG_USER_DECRYPTED_DATA") {
		importTrusted.op, importTrusted.is = "read", []error{keyring.ErrNotFound}
		migrateTrusted.op, migrateTrusted.is = "read", []error{keyring.ErrNotFound}
	} else {
		importTrusted.is = []error{keyring.ErrNotSupported}
		migrateTrusted.is = []error{keyring.ErrNotSupported}
	}
	checkErrors(t, []errCase{
		{name: "New, no master", err: errOf(New(s, "x", Options{})), op: "encrypted.New", field: "master", refused: true, is: inv},
		{name: "New, ecryptfs description", err: errOf(New(s, "x", Options{Master: user, Format: Ecryptfs})), op: "encrypted.New", field: "description", refused: true, is: inv},
		{name: "New, already there", err: errOf(New(s, "there", Options{Master: user})), op: "add_key", is: inv, isNot: []error{ErrBadHMAC}},
		{name: "Load, nil blob", err: errOf(Load(s, "x", nil)), op: "encrypted.Load", field: "blob", refused: true, is: inv},
		{name: "Load, master absent", err: errOf(Load(s, "x", orphan)), op: "add_key", is: []error{keyring.ErrNotFound}},
		{name: "Load, tampered", err: errOf(Load(s, "x", &tampered)), op: "add_key", is: []error{keyring.ErrInvalid, ErrBadHMAC}},
		{name: "Load, already there", err: errOf(Load(s, "there", good)), op: "add_key", is: inv, isNot: []error{ErrBadHMAC}},
		{name: "ReadBlob, master absent", err: errOf(ReadBlob(orphanKey)), op: "read", is: []error{keyring.ErrNotFound}},
		{name: "Update, kind", err: Update(k, UpdateOptions{From: user, To: trustedTo.To}), op: "encrypted.Update", field: "master", refused: true, is: inv},
		{name: "Import, length", err: errOf2(Import(s, "x", plain32[:19], ImportOptions{Master: user})), op: "encrypted.Import", field: "datalen", refused: true, is: inv},
		{name: "Import, master absent", err: errOf2(Import(s, "x", plain32, ImportOptions{Master: absent})), op: "read", is: []error{keyring.ErrNotFound}},
		importTrusted,
		{name: "Migrate, nil blob", err: errOf2(Migrate(s, "x", nil, MigrateOptions{To: user})), op: "encrypted.Migrate", field: "blob", refused: true, is: inv},
		{name: "Migrate, no master", err: errOf2(Migrate(s, "x", good, MigrateOptions{})), op: "encrypted.Migrate", field: "master", refused: true, is: inv},
		{name: "Migrate, tampered", err: errOf2(Migrate(s, "x", &tampered, MigrateOptions{To: user})), op: "add_key", is: []error{keyring.ErrInvalid, ErrBadHMAC}},
		migrateTrusted,
	})
}

func errOf2[T, U any](_ T, _ U, err error) error { return err }
