package keyring_test

import (
	"fmt"

	"github.com/kernkeys/kernkeys/keyring"
)

func ExampleParsePerm() {
	p, err := keyring.ParsePerm("0x3f010000")
	fmt.Println(p, err)
	p, err = keyring.ParsePerm("alswrvalswrv------------")
	fmt.Printf("%#08x %v\n", uint32(p), err)
	// Output:
	// alswrv-----v------------ <nil>
	// 0x3f3f0000 <nil>
}

func ExampleParseDescription() {
	d, _ := keyring.ParseDescription("user;1000;1000;3f010000;svc;with;semicolons")
	fmt.Println(d.Type, d.UID, d.Description)
	// Output: user 1000 svc;with;semicolons
}
