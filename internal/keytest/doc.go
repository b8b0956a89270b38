// Package keytest holds kernkeys' test helpers: a fresh session keyring per
// test on a locked thread with a check that the test left no key behind, and
// a harness that re-runs a test in a child process, optionally inside a new
// user namespace mapped to a non-root uid. For an ordinary user, whose one
// key quota every test binary of a go test run shares, Session and
// OwnQuota keep tests that fill the quota apart from the rest.
//
// Everything here runs against the real kernel.
package keytest
