//go:build linux

package keyring_test

import (
	"context"
	"fmt"

	"github.com/kernkeys/kernkeys/keyring"
)

// A Worker keeps its thread keyring between calls: a key one call adds to
// @t, a later call finds there. Closing the Worker ends its thread, and
// the key with it.
func ExampleWorker() {
	ctx := context.Background()
	w, err := keyring.NewWorker(ctx, keyring.WorkerOptions{NewSession: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	err = w.Do(ctx, func() error {
		_, err := keyring.Thread().Add("user", "example:token", []byte("s3cret"))
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// A function made once and handed over again and again: a closure
	// made for each call would cost an allocation each time.
	var size int
	lookup := func() error {
		k, err := keyring.Thread().Search("user", "example:token")
		if err != nil {
			return err
		}
		payload, err := k.Read()
		size = len(payload)
		keyring.Wipe(payload)
		return err
	}
	for range 3 {
		if err := w.Do(ctx, lookup); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(size)
	// Output: 6
}
