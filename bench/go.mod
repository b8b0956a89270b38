module github.com/kernkeys/kernkeys/bench

go 1.26.0

require (
	github.com/kernkeys/kernkeys v0.0.0
	golang.org/x/sys v0.49.0
)

// The library under test: this working tree, never a published version.
replace github.com/kernkeys/kernkeys => ../
