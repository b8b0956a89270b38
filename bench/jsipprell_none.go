//go:build linux && cgo && !jsipprell

package main

// Without -tags jsipprell the bench does not build github.com/jsipprell/keyctl
// (jsipprell.go): its rows print "–" and its target is not judged. See
// README.md for running with it.

const jsipprellBuilt = false

type jFixture struct{}

func jsipprellVersion() string { return "not built (go run -tags jsipprell, see README.md)" }

func setupJsipprell(*fixture) (*jFixture, error) { return nil, nil }

func jsipprellOps(*fixture) map[string]func(n int) error { return nil }
