// Package redact lets the types that hold key material print without it
// under every fmt verb.
package redact

import (
	"fmt"
	"io"
)

// Value is a type that describes itself without its secrets.
type Value interface {
	String() string
	GoString() string
}

// Format is the body of a fmt.Formatter for v: GoString for %#v, String
// for every other verb. A Format method takes precedence over String and
// GoString for every verb, so %d, %x or %v of a struct holding v, which
// fmt would otherwise print field by field, cannot print the secret
// bytes.
func Format(f fmt.State, verb rune, v Value) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, v.GoString())
		return
	}
	_, _ = io.WriteString(f, v.String())
}
