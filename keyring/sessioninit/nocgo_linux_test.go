//go:build linux && !cgo

package sessioninit_test

// cgo is true when this test binary links cgo, and so the constructor.
const cgo = false
