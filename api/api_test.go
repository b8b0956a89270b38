// Package api holds the committed listing of kernkeys' exported API, one
// file per package, and TestAPI, which fails when the exported API of the
// code differs from it. A change to the API is then a change to these
// files too, seen and reviewed in the same commit:
//
//	go test ./api -update   # rewrite the listing after a deliberate change
//
// Each line is one exported identifier with its signature, as the code
// declares it for linux/amd64; parameter names are left out (renaming one
// does not change the API), constant values are kept.
package api

import (
	"bytes"
	"flag"
	"go/ast"
	"go/build"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the api/*.txt listing from the code")

// packages are the importable packages of the module, relative to its
// root: everything outside internal/, examples/ (programs) and bench/ (its
// own module).
var packages = []string{"keyring", "keyring/processinit", "keyring/sessioninit", "keytypes", "encrypted", "trusted", "mktme", "secret", "secretstore", "asymmetric", "requestkey"}

func TestAPI(t *testing.T) {
	for _, pkg := range packages {
		t.Run(pkg, func(t *testing.T) {
			got := listing(t, filepath.Join("..", pkg))
			file := strings.ReplaceAll(pkg, "/", "_") + ".txt"
			if *update {
				if err := os.WriteFile(file, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("no listing for %s: %v (go test ./api -update writes it)", pkg, err)
			}
			want := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("the exported API of %s differs from api/%s (-listing +code):\n%s\n"+
					"If the change is deliberate, run go test ./api -update, commit the listing and record the change in CHANGES.md.",
					pkg, file, diff)
			}
		})
	}
}

// TestAPIPackages keeps the list of packages whole: every directory of the
// module with an importable, non-main, non-internal package is listed.
func TestAPIPackages(t *testing.T) {
	var found []string
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("..", path)
		switch base := d.Name(); {
		case rel == ".":
			return nil
		case base == "internal" || base == "testdata" || base == "examples" || base == "api" || strings.HasPrefix(base, "."):
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
			return filepath.SkipDir // another module (bench)
		}
		p, err := linux.ImportDir(path, 0)
		if err == nil && p.Name != "main" {
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(packages)
	sort.Strings(want)
	if diff := cmp.Diff(want, found); diff != "" {
		t.Errorf("importable packages differ from api's list (-list +found):\n%s", diff)
	}
}

var linux = func() build.Context {
	c := build.Default
	c.GOOS, c.GOARCH, c.CgoEnabled = "linux", "amd64", false
	return c
}()

// listing returns the sorted API lines of the package in dir.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	p, err := linux.ImportDir(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var lines []string
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			lines = append(lines, declLines(fset, decl)...)
		}
	}
	sort.Strings(lines)
	return lines
}

func declLines(fset *token.FileSet, decl ast.Decl) []string {
	str := func(n ast.Node) string {
		var b bytes.Buffer
		printer.Fprint(&b, fset, n)
		return strings.Join(strings.Fields(b.String()), " ")
	}
	var lines []string
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() {
			return nil
		}
		head := "func "
		if d.Recv != nil {
			recv := d.Recv.List[0].Type
			base := recv
			if s, ok := base.(*ast.StarExpr); ok {
				base = s.X
			}
			if id, ok := base.(*ast.Ident); !ok || !id.IsExported() {
				return nil
			}
			head += "(" + str(recv) + ") "
		}
		return []string{head + d.Name.Name + signature(str, d.Type)}
	case *ast.GenDecl:
		var typ ast.Expr // a const group's type carries over implicit specs
		for _, spec := range d.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				if !s.Name.IsExported() {
					continue
				}
				lines = append(lines, typeLines(str, s)...)
			case *ast.ValueSpec:
				if s.Type != nil || len(s.Values) > 0 {
					typ = s.Type
				}
				for i, n := range s.Names {
					if !n.IsExported() {
						continue
					}
					line := d.Tok.String() + " " + n.Name
					if typ != nil {
						line += " " + str(typ)
					}
					if d.Tok == token.CONST && i < len(s.Values) {
						line += " = " + str(s.Values[i])
					}
					lines = append(lines, line)
				}
			}
		}
	}
	return lines
}

func typeLines(str func(ast.Node) string, s *ast.TypeSpec) []string {
	name := "type " + s.Name.Name
	if s.TypeParams != nil {
		name += "[" + str(s.TypeParams) + "]"
	}
	if s.Assign != 0 {
		return []string{name + " = " + str(s.Type)}
	}
	switch t := s.Type.(type) {
	case *ast.StructType:
		lines := []string{name + " struct"}
		for _, f := range t.Fields.List {
			if len(f.Names) == 0 {
				lines = append(lines, name+", embedded "+str(f.Type))
			}
			for _, n := range f.Names {
				if n.IsExported() {
					lines = append(lines, name+", "+n.Name+" "+str(f.Type))
				}
			}
		}
		return lines
	case *ast.InterfaceType:
		lines := []string{name + " interface"}
		for _, m := range t.Methods.List {
			if len(m.Names) == 0 {
				lines = append(lines, name+", embedded "+str(m.Type))
			}
			for _, n := range m.Names {
				if ft, ok := m.Type.(*ast.FuncType); ok {
					lines = append(lines, name+", "+n.Name+signature(str, ft))
				} else {
					lines = append(lines, name+", "+n.Name)
				}
			}
		}
		return lines
	}
	return []string{name + " " + str(s.Type)}
}

// signature prints a function type without parameter names.
func signature(str func(ast.Node) string, ft *ast.FuncType) string {
	list := func(fl *ast.FieldList) []string {
		var types []string
		if fl == nil {
			return nil
		}
		for _, f := range fl.List {
			n := max(len(f.Names), 1)
			for range n {
				types = append(types, str(f.Type))
			}
		}
		return types
	}
	s := "(" + strings.Join(list(ft.Params), ", ") + ")"
	switch res := list(ft.Results); len(res) {
	case 0:
	case 1:
		s += " " + res[0]
	default:
		s += " (" + strings.Join(res, ", ") + ")"
	}
	return s
}
