//go:build linux

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/kernkeys/kernkeys/internal/vmtest"
	"github.com/kernkeys/kernkeys/vm/internal/plan"
)

func TestSecondBoot(t *testing.T) {
	work := t.TempDir()
	first := &plan.Plan{Hostname: "h", Tests: []plan.Test{
		{Package: "example.com/a", Args: testArgs("A", false)},
		{Package: "example.com/b/c", Args: testArgs("", true)},
		{Package: "example.com/d"},
	}}
	for pkg, names := range map[string]string{
		"example.com/a":   "TestTwo\nTestOne\nTestTwo\n", // repeats, from parallel tests
		"example.com/b/c": "TestX.Y\n",                   // a name with regexp syntax
	} {
		dir := stateDir(work, pkg)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, vmtest.SecondBootFile), []byte(names), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	second, err := secondBoot(work, first, options{verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, tt := range second.Tests {
		got = append(got, append([]string{tt.Package}, tt.Args...))
	}
	want := [][]string{
		{"example.com/a", "-test.count=1", "-test.timeout=15m", `-test.run=^(TestOne|TestTwo)$`, "-test.v"},
		{"example.com/b/c", "-test.count=1", "-test.timeout=15m", `-test.run=^(TestX\.Y)$`, "-test.v"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("second boot runs\n%q\nwant\n%q", got, want)
	}
	if second.Hostname != "h" || len(first.Tests) != 3 {
		t.Errorf("secondBoot changed the first plan or lost its settings")
	}
}
