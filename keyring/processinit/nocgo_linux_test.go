//go:build linux && !cgo

package processinit_test

// cgo is true when this test binary links cgo, and so the constructor.
const cgo = false
