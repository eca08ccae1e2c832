package lodestone_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// maxFuncLines is the longest a function may be, from its func keyword to
// its closing brace, in the packages of funcLenDirs. STYLE.md §14: the
// section comments of a long function are its helpers.
const maxFuncLines = 120

// funcLenDirs are the package trees whose functions are held to
// maxFuncLines. Test code is exempt: _test.go files, and functions that
// take a *testing.T, *testing.B, *testing.F or testing.TB, which are tests
// wherever they live (the conformance suite store/storetest is a package of
// them).
var funcLenDirs = []string{"supply/...", "process/...", "store/..."}

// longFuncs returns "file:line: name is n lines" for every function
// declaration in files longer than max lines, tests excepted.
func longFuncs(fset *token.FileSet, files []*ast.File, max int) []string {
	var out []string
	for _, f := range files {
		tname := importName(f, "testing")
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil || tname != "" && takesTestingT(fn, tname) {
				continue
			}
			start, end := fset.Position(fn.Pos()), fset.Position(fn.End())
			if n := end.Line - start.Line + 1; n > max {
				name := fn.Name.Name
				if fn.Recv != nil && len(fn.Recv.List) == 1 {
					name = recvName(fn.Recv.List[0].Type) + "." + name
				}
				out = append(out, fmt.Sprintf("%s:%d: %s is %d lines (max %d)", start.Filename, start.Line, name, n, max))
			}
		}
	}
	return out
}

// importName returns the name under which f imports path, or "".
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return path[strings.LastIndex(path, "/")+1:]
		}
	}
	return ""
}

// takesTestingT reports whether fn has a parameter of type *testing.T,
// *testing.B, *testing.F or testing.TB (testing imported as name).
func takesTestingT(fn *ast.FuncDecl, name string) bool {
	for _, p := range fn.Type.Params.List {
		t := p.Type
		if st, ok := t.(*ast.StarExpr); ok {
			t = st.X
		}
		sel, ok := t.(*ast.SelectorExpr)
		if !ok {
			continue
		}
		if x, ok := sel.X.(*ast.Ident); ok && x.Name == name && slices.Contains([]string{"T", "B", "F", "TB"}, sel.Sel.Name) {
			return true
		}
	}
	return false
}

// recvName returns the type name of a receiver: T for T, *T, T[P] and *T[P].
func recvName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return "?"
		}
	}
}

// TestFuncLength fails on every function over maxFuncLines lines.
func TestFuncLength(t *testing.T) {
	fset, pkgs := parsePackages(t, func(dir string) bool {
		for _, p := range funcLenDirs {
			if matches(p, dir) {
				return true
			}
		}
		return false
	})
	for _, dir := range slices.Sorted(maps.Keys(pkgs)) {
		for _, v := range longFuncs(fset, pkgs[dir], maxFuncLines) {
			t.Error(v)
		}
	}
}

// TestLongFuncsDetects shows that the rule can fail, and where it stops.
func TestLongFuncsDetects(t *testing.T) {
	body := func(lines int) string { // a function of exactly lines lines
		return "{\n" + strings.Repeat("\t_ = 0\n", lines-2) + "}\n"
	}
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"at the limit", "package p\nfunc f() " + body(maxFuncLines), nil},
		{"one over", "package p\nfunc f() " + body(maxFuncLines+1), []string{"e.go:2: f is 121 lines"}},
		{"a method", "package p\ntype T[P any] struct{}\nfunc (*T[P]) m() " + body(200), []string{"e.go:3: T.m is 200 lines"}},
		{"a test elsewhere", "package p\nimport \"testing\"\nfunc testX(t *testing.T) " + body(200), nil},
		{"a benchmark under another name", "package p\nimport tt \"testing\"\nfunc b(n int, b tt.TB) " + body(200), nil},
		{"a T of another package", "package p\nimport \"other/testing2\"\nfunc f(t *testing2.T) " + body(200), []string{"f is 200 lines"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "e.go", tt.src, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			got := longFuncs(fset, []*ast.File{f}, maxFuncLines)
			if len(got) != len(tt.want) {
				t.Fatalf("longFuncs = %q, want %d matching %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("longFuncs[%d] = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
