// Command migrate moves existing key material under the kernel's
// encrypted-key protection, and blobs between master keys, as a command.
//
//	migrate import --key-file FILE --master TYPE:NAME --desc DESC --out BLOB
//	               [--format default|enc32|ecryptfs] [--keyring @u]
//	migrate move   --in BLOB --master TYPE:NAME --desc DESC --out BLOB [--keyring @u]
//	migrate rewrap --in BLOB --old-key-file FILE --new-key-file FILE --master TYPE:NAME --out BLOB
//
// import loads the key material (read from FILE, or "-" for standard
// input; never from the command line) as an encrypted key under the
// master, through a temporary random master key that is revoked before
// the command ends, and writes the key's blob. move loads a stored blob
// (its master must be reachable) and switches it to another master inside
// the kernel; from a user to a trusted master (TYPE trusted) the data
// passes through this process, as encrypted.Migrate explains. rewrap
// re-encrypts a blob to another master key in userspace, for when both
// master keys are at hand (FILE holds a master key's bytes). Blobs are
// written atomically: a temporary file in the same directory, fsync,
// rename, mode 0600. Key material is wiped after use and never printed.
//
// Threads: the kernel finds master keys from the calling thread's
// keyrings, so main locks the whole command to one OS thread
// (runtime.LockOSThread), as keyctl(1) runs on one.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"

	"github.com/kernkeys/kernkeys/encrypted"
	"github.com/kernkeys/kernkeys/keyring"
)

func main() {
	// The kernel finds master keys from the calling thread's keyrings:
	// the whole command runs on one thread, as keyctl(1) does.
	runtime.LockOSThread()
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

const usage = `usage:
  migrate import --key-file FILE|- --master TYPE:NAME --desc DESC --out BLOB [--format default|enc32|ecryptfs] [--keyring @u]
  migrate move   --in BLOB --master TYPE:NAME --desc DESC --out BLOB [--keyring @u]
  migrate rewrap --in BLOB --old-key-file FILE --new-key-file FILE --master TYPE:NAME --out BLOB`

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, usage)
		if len(args) == 0 {
			return usageError("no command")
		}
		return nil
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	keyFile := fs.String("key-file", "", "file holding the key material to import, - for standard input")
	oldKeyFile := fs.String("old-key-file", "", "file holding the blob's current master key")
	newKeyFile := fs.String("new-key-file", "", "file holding the new master key")
	master := fs.String("master", "", "the master key the result is under: user:NAME or trusted:NAME")
	desc := fs.String("desc", "", "the encrypted key's description")
	format := fs.String("format", "default", "default, enc32 or ecryptfs")
	in := fs.String("in", "", "the blob to read")
	out := fs.String("out", "", "the blob to write")
	ring := fs.String("keyring", "@u", "keyring for the encrypted key: @s, @u, @us or a serial")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(err.Error() + "\n" + usage)
	}
	if fs.NArg() != 0 || *out == "" || *master == "" {
		return usageError("missing or extra arguments\n" + usage)
	}
	m, err := encrypted.ParseMaster(*master)
	if err != nil {
		return err
	}
	switch args[0] {
	case "import":
		f, err := encrypted.ParseFormat(*format)
		if err != nil {
			return err
		}
		dest, err := keyring.ParseID(*ring)
		if err != nil || *keyFile == "" || *desc == "" {
			return usageError("import needs --key-file, --desc and a valid --keyring\n" + usage)
		}
		material, err := readSecret(*keyFile, stdin)
		if err != nil {
			return err
		}
		defer keyring.Wipe(material)
		k, b, err := encrypted.Import(dest.Keyring(), *desc, material, encrypted.ImportOptions{Format: f, Master: m})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "imported %d bytes as encrypted key %v (%s under %s); blob written to %s\n", len(material), k, b.Format, b.Master, *out)
		return b.WriteFile(*out)
	case "move":
		dest, err := keyring.ParseID(*ring)
		if err != nil || *in == "" || *desc == "" {
			return usageError("move needs --in, --desc and a valid --keyring\n" + usage)
		}
		b, err := encrypted.ReadFile(*in)
		if err != nil {
			return err
		}
		k, nb, err := encrypted.Migrate(dest.Keyring(), *desc, b, encrypted.MigrateOptions{To: m})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "moved encrypted key %v from %s to %s; blob written to %s\n", k, b.Master, nb.Master, *out)
		return nb.WriteFile(*out)
	case "rewrap":
		if *in == "" || *oldKeyFile == "" || *newKeyFile == "" {
			return usageError("rewrap needs --in, --old-key-file and --new-key-file\n" + usage)
		}
		b, err := encrypted.ReadFile(*in)
		if err != nil {
			return err
		}
		oldKey, err := readSecret(*oldKeyFile, stdin)
		if err != nil {
			return err
		}
		defer keyring.Wipe(oldKey)
		newKey, err := readSecret(*newKeyFile, stdin)
		if err != nil {
			return err
		}
		defer keyring.Wipe(newKey)
		nb, err := encrypted.Rewrap(b, encrypted.RewrapOptions{OldMasterKey: oldKey, NewMasterKey: newKey, NewMaster: m})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rewrapped %s blob from %s to %s; written to %s\n", nb.Format, b.Master, nb.Master, *out)
		return nb.WriteFile(*out)
	}
	return usageError("unknown command " + strconv.Quote(args[0]) + "\n" + usage)
}

// readSecret reads key material from a file, or standard input for "-".
// The caller wipes the result.
func readSecret(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	// Read into one buffer so no partial copies are left behind.
	buf := make([]byte, 0, 8192)
	for {
		if len(buf) == cap(buf) {
			return nil, fmt.Errorf("%s: key material over %d bytes", name, cap(buf))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			keyring.Wipe(buf)
			return nil, err
		}
	}
}
