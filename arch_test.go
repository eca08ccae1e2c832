package lodestone_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "lodestone"

// rule says which module packages a package may import (by path prefix,
// relative to the module) and whether it may import modules outside the
// standard library other than those listed in external.
type rule struct {
	pkg      string   // package path relative to the module; a trailing /... matches sub-packages
	internal []string // allowed module imports (prefixes; "x/..." allows x and below)
	external []string // allowed non-std import prefixes; nil means only std
	anyExt   bool     // any third-party import is fine (backends, wiring)
	pure     bool     // an engine: no I/O imports, no wall clock, no mutable globals (TestEnginePurity)
}

// rules mirrors the package table of docs/architecture.md. A package of the
// module that matches no rule fails the test, so a new package has to be
// placed in the map on purpose.
var rules = []rule{
	{pkg: ".", internal: nil},
	{pkg: "twin", internal: nil},
	{pkg: "bulk", internal: []string{"twin"}},
	{pkg: "dtdl/...", internal: []string{"twin", "dtdl/..."}},
	{pkg: "tql/...", internal: []string{"twin", "tql/..."}},
	{pkg: "store/...", internal: []string{"twin", "tql/...", "dtdl/...", "store/..."}, anyExt: true},
	{pkg: "event/...", internal: []string{"twin", "event/...", "internal/jsretry"}, anyExt: true},
	{pkg: "pipeline/...", internal: []string{"twin", "dtdl/...", "store", "event", "trust/auth", "pipeline/..."}},
	{pkg: "process/...", internal: []string{"process/...", "internal/fielderr"}, external: []string{"gonum.org/v1/gonum"}, pure: true},
	{pkg: "plant/...", internal: []string{"process/...", "plant/...", "internal/fielderr"}, external: []string{"gonum.org/v1/gonum"}, pure: true},
	{pkg: "supply/...", internal: []string{"supply/..."}, external: []string{"gonum.org/v1/gonum"}, pure: true},
	{pkg: "org/...", internal: []string{"supply/...", "org/..."}, external: []string{"gonum.org/v1/gonum"}, pure: true},
	{pkg: "trust/tenancy/...", internal: []string{"twin", "tql", "trust/auth", "trust/tenancy/..."}},
	{pkg: "trust/...", internal: []string{"twin", "store", "event", "pipeline", "trust/..."}, external: []string{"golang.org/x/crypto", "golang.org/x/mod", "github.com/golang-jwt/jwt/v5", "github.com/cedar-policy/cedar-go"}},
	{pkg: "connector/...", internal: []string{"twin", "dtdl/...", "store", "event", "pipeline", "plant/...", "trust/auth", "connector/..."}, anyExt: true},
	{pkg: "world/...", internal: []string{"supply/...", "org/...", "process/...", "world/...", "twin", "dtdl/...", "models"}},
	{pkg: "models", internal: nil},
	{pkg: "examples", internal: nil},
	{pkg: "worker/...", internal: []string{"twin", "store", "event/...", "supply/...", "org/...", "scenario", "world/...", "worker/...", "internal/jsretry"}, anyExt: true},
	{pkg: "scenario", internal: []string{"twin", "store", "models", "supply/...", "world/..."}},
	{pkg: "api/...", internal: []string{"twin", "dtdl/...", "tql/...", "store", "event", "process/...", "plant/...", "supply/...", "org/...", "trust/...", "connector/...", "world/...", "models", "examples", "web", "bulk", "pipeline", "scenario", "ops/...", "api/..."}, anyExt: true},
	{pkg: "web", internal: nil},
	{pkg: "ops", internal: nil, external: []string{"github.com/prometheus/client_golang"}},
	{pkg: "ops/tracing", internal: nil, external: []string{"go.opentelemetry.io/otel"}},
	{pkg: "backup", internal: []string{"store/..."}},
	{pkg: "loadtest", internal: nil},
	{pkg: "server/...", internal: []string{"..."}, anyExt: true},
	{pkg: "client/...", internal: []string{"api", "twin", "bulk", "client/..."}},
	{pkg: "cmd/...", internal: []string{"..."}, anyExt: true},
	{pkg: "internal/fielderr", internal: nil, pure: true},                                      // the engines' field-path errors and strict JSON decode
	{pkg: "internal/jsretry", internal: nil, external: []string{"github.com/nats-io/nats.go"}}, // JetStream set-up that waits for a forming cluster
	{pkg: "internal/...", internal: []string{"..."}, anyExt: true},
}

func matches(pattern, pkg string) bool {
	switch {
	case pattern == "...":
		return true
	case strings.HasSuffix(pattern, "/..."):
		base := strings.TrimSuffix(pattern, "/...")
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	default:
		return pkg == pattern
	}
}

func ruleFor(pkg string) (rule, bool) {
	for _, r := range rules {
		if matches(r.pkg, pkg) {
			return r, true
		}
	}
	return rule{}, false
}

// isStd reports whether an import path belongs to the standard library: its
// first element has no dot.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".") && first != module
}

// packageImports returns, for every package directory of the module, the
// imports of its non-test Go files.
func packageImports(t *testing.T) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if out[dir] == nil {
			out[dir] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[dir][p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImportRules enforces the package map of docs/architecture.md: engines
// stay pure (no store, event, api or server), twin is a leaf, and only the
// binary imports server.
func TestImportRules(t *testing.T) {
	for dir, imps := range packageImports(t) {
		r, ok := ruleFor(dir)
		if !ok {
			t.Errorf("package %q is not in the import rules of arch_test.go; add it there and to docs/architecture.md", dir)
			continue
		}
		for imp := range imps {
			switch {
			case imp == module || strings.HasPrefix(imp, module+"/"):
				rel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
				if rel == dir || strings.HasPrefix(rel, dir+"/") && strings.HasSuffix(r.pkg, "/...") {
					continue
				}
				ok := false
				for _, a := range r.internal {
					if matches(a, rel) {
						ok = true
						break
					}
				}
				if !ok {
					t.Errorf("%s imports %s: not allowed by the package map", dir, imp)
				}
			case isStd(imp):
			case r.anyExt:
			default:
				ok := false
				for _, e := range r.external {
					if imp == e || strings.HasPrefix(imp, e+"/") {
						ok = true
						break
					}
				}
				if !ok {
					t.Errorf("%s imports third-party %s: engines use the standard library and gonum only", dir, imp)
				}
			}
		}
	}
}

// TestPackageDocs checks that every package has its package comment in doc.go
// and only there.
func TestPackageDocs(t *testing.T) {
	fset := token.NewFileSet()
	for dir := range packageImports(t) {
		docFile := filepath.Join(dir, "doc.go")
		if _, err := os.Stat(docFile); err != nil {
			t.Errorf("package %s has no doc.go", dir)
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			hasDoc := f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != ""
			switch {
			case name == "doc.go" && !hasDoc:
				t.Errorf("%s/doc.go has no package comment", dir)
			case name == "doc.go" && !strings.HasPrefix(f.Doc.Text(), "Package "+f.Name.Name+" ") && !strings.HasPrefix(f.Doc.Text(), "Command "):
				t.Errorf("%s/doc.go: package comment should start with %q", dir, "Package "+f.Name.Name)
			case name != "doc.go" && hasDoc:
				t.Errorf("%s/%s has a package comment; keep it in doc.go only", dir, name)
			}
		}
	}
}

// Engine purity (STYLE.md §9: no I/O, no globals, no wall clock). The rules
// are checked on the syntax of each engine package (the rules with pure set),
// test files excepted:
//
//   - no import of forbiddenImports;
//   - no reference to time.Now, time.Since or time.Until (they read the wall
//     clock; pass a clock or a simulation time instead);
//   - every package-level var is one of: the blank name (`var _ I = T{}`, a
//     compile-time check); a sentinel error (its value is an errors.New or
//     fmt.Errorf call); an unexported, documented table whose comment carries
//     the line `//lodestone:readonly` (the package never writes it after
//     initialisation); or an unexported, documented sync.Pool whose comment
//     carries `//lodestone:scratch` (buffers handed back cleared, so nothing
//     in it reaches a result). An exported non-error var is refused because
//     any importer could write it: make it a const or a function;
//   - no function assigns to a package-level var, of its own package or of an
//     imported one, nor writes into one (x[i] = v, x.f = v, x++, delete,
//     clear, copy into it). Method calls on a var are not seen: that is what
//     the two markers vouch for.

// forbiddenImports are the packages an engine may not import ("x/..." is x
// and below): the file system, the network and the operating system.
var forbiddenImports = []string{"os/...", "net/...", "io/fs", "io/ioutil", "syscall", "log/..."}

// wallClock are the functions of package time that read the wall clock.
var wallClock = []string{"Now", "Since", "Until"}

const (
	readonlyMarker = "//lodestone:readonly"
	scratchMarker  = "//lodestone:scratch"
)

// enginePackage is one parsed and (as far as the syntax allows) type-checked
// package. Imports are not loaded: the checker resolves the package's own
// identifiers, which is all the rules need.
type enginePackage struct {
	fset  *token.FileSet
	files []*ast.File
	pkg   *types.Package
	info  *types.Info
}

func newEnginePackage(fset *token.FileSet, files []*ast.File) *enginePackage {
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Defs: map[*ast.Ident]types.Object{}}
	conf := types.Config{
		Importer: noImporter{},
		Error:    func(error) {}, // unresolved imports are expected; keep going
	}
	pkg, _ := conf.Check(files[0].Name.Name, fset, files, info)
	return &enginePackage{fset: fset, files: files, pkg: pkg, info: info}
}

// noImporter fails every import; go/types then declares a fake package for
// each, so identifiers of the package itself still resolve.
type noImporter struct{}

func (noImporter) Import(path string) (*types.Package, error) {
	return nil, errors.New("imports are not loaded")
}

func (p *enginePackage) pos(n ast.Node) string {
	pos := p.fset.Position(n.Pos())
	return fmt.Sprintf("%s:%d", filepath.ToSlash(pos.Filename), pos.Line)
}

// importViolations reports imports of forbiddenImports.
func (p *enginePackage) importViolations() []string {
	var out []string
	for _, f := range p.files {
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbiddenImports {
				if matches(bad, path) {
					out = append(out, fmt.Sprintf("%s: imports %s (engines do no I/O)", p.pos(imp), path))
				}
			}
		}
	}
	return out
}

// importedPath returns the import path of the package that id names, or "".
func (p *enginePackage) importedPath(id *ast.Ident) string {
	if pn, ok := p.info.Uses[id].(*types.PkgName); ok {
		return pn.Imported().Path()
	}
	return ""
}

// clockViolations reports every reference (call or value) to wallClock.
func (p *enginePackage) clockViolations() []string {
	var out []string
	for _, f := range p.files {
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && p.importedPath(x) == "time" && slices.Contains(wallClock, sel.Sel.Name) {
				out = append(out, fmt.Sprintf("%s: time.%s reads the wall clock (pass a clock or a simulation time)", p.pos(sel), sel.Sel.Name))
			}
			return true
		})
	}
	return out
}

// globalViolations reports package-level vars outside the allowed kinds and
// every write to a package-level var.
func (p *enginePackage) globalViolations() []string {
	var out []string
	for _, f := range p.files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					var value ast.Expr
					if i < len(vs.Values) {
						value = vs.Values[i]
					}
					if why := p.varNotAllowed(name, value, vs.Type, gd.Doc, vs.Doc); why != "" {
						out = append(out, fmt.Sprintf("%s: package-level var %s %s", p.pos(name), name.Name, why))
					}
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var targets []ast.Expr
			switch n := n.(type) {
			case *ast.AssignStmt:
				if n.Tok != token.DEFINE {
					targets = n.Lhs
				}
			case *ast.IncDecStmt:
				targets = []ast.Expr{n.X}
			case *ast.RangeStmt:
				if n.Tok == token.ASSIGN {
					targets = []ast.Expr{n.Key, n.Value}
				}
			case *ast.CallExpr:
				if fn, ok := n.Fun.(*ast.Ident); ok && len(n.Args) > 0 {
					if b, ok := p.info.Uses[fn].(*types.Builtin); ok && slices.Contains([]string{"delete", "clear", "copy"}, b.Name()) {
						targets = n.Args[:1]
					}
				}
			}
			for _, t := range targets {
				if t == nil {
					continue
				}
				if name := p.globalRoot(t); name != "" {
					out = append(out, fmt.Sprintf("%s: writes package-level var %s", p.pos(t), name))
				}
			}
			return true
		})
	}
	return out
}

// varNotAllowed returns why a package-level var is not allowed, or "".
func (p *enginePackage) varNotAllowed(name *ast.Ident, value, typ ast.Expr, docs ...*ast.CommentGroup) string {
	switch {
	case name.Name == "_":
		return "" // compile-time interface check
	case value != nil && p.isErrorCall(value):
		return "" // sentinel error
	case name.IsExported():
		return "is exported and not an error: any importer could write it; make it a const or a function"
	}
	documented := false
	marker := ""
	for _, cg := range docs {
		if cg == nil {
			continue
		}
		documented = documented || strings.TrimSpace(cg.Text()) != ""
		for _, c := range cg.List {
			if c.Text == readonlyMarker || c.Text == scratchMarker {
				marker = c.Text
			}
		}
	}
	switch {
	case marker == "":
		return "is mutable state: make it a const, build it in a function, or document it and mark it " + readonlyMarker
	case !documented:
		return "has " + marker + " but no doc comment saying what it holds and why it is never written"
	case marker == scratchMarker && !p.isSyncPool(typ):
		return "has " + scratchMarker + " but is not a sync.Pool"
	}
	return ""
}

// isErrorCall reports whether e is a call of errors.New or fmt.Errorf.
func (p *enginePackage) isErrorCall(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	if !ok {
		return false
	}
	switch p.importedPath(x) {
	case "errors":
		return sel.Sel.Name == "New"
	case "fmt":
		return sel.Sel.Name == "Errorf"
	}
	return false
}

// isSyncPool reports whether the declared type t is sync.Pool.
func (p *enginePackage) isSyncPool(t ast.Expr) bool {
	sel, ok := t.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && p.importedPath(x) == "sync" && sel.Sel.Name == "Pool"
}

// globalRoot returns the name of the package-level var that a write to e
// writes into (e is x, x[i], x.f, *x, (x) or a chain of them; pkg.X for a
// var of an imported package), or "" if e is local.
func (p *enginePackage) globalRoot(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.Ident:
			if x.Name == "_" {
				return ""
			}
			obj := p.info.Uses[x]
			if v, ok := obj.(*types.Var); ok && p.pkg != nil && v.Parent() == p.pkg.Scope() {
				return x.Name
			}
			return ""
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				if path := p.importedPath(id); path != "" {
					return path + "." + x.Sel.Name
				}
			}
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		default:
			return ""
		}
	}
}

// violations runs every purity rule.
func (p *enginePackage) violations() []string {
	return slices.Concat(p.importViolations(), p.clockViolations(), p.globalViolations())
}

// parsePackages parses the non-test Go files of every package directory of
// the module for which keep returns true.
func parsePackages(t *testing.T, keep func(dir string) bool) (*token.FileSet, map[string][]*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	out := map[string][]*ast.File{}
	for dir := range packageImports(t) {
		if !keep(dir) {
			continue
		}
		paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			out[dir] = append(out[dir], f)
		}
	}
	return fset, out
}

// purityPending lists engine packages that another change owns at the time
// the purity rules were written, with what is left to do. Their violations
// are logged instead of failing; an entry whose package has become clean
// fails, so the list only shrinks.
var purityPending = map[string]string{}

// TestEnginePurity enforces the purity rules above on every engine package.
func TestEnginePurity(t *testing.T) {
	fset, pkgs := parsePackages(t, func(dir string) bool {
		r, ok := ruleFor(dir)
		return ok && r.pure
	})
	if len(pkgs) == 0 {
		t.Fatal("no engine packages found")
	}
	for _, dir := range slices.Sorted(maps.Keys(pkgs)) {
		vs := newEnginePackage(fset, pkgs[dir]).violations()
		todo, pending := purityPending[dir]
		switch {
		case pending && len(vs) == 0:
			t.Errorf("%s is clean: remove it from purityPending", dir)
		case pending:
			t.Logf("%s: %d purity violations pending (%s):\n\t%s", dir, len(vs), todo, strings.Join(vs, "\n\t"))
		default:
			for _, v := range vs {
				t.Error(v)
			}
		}
	}
}

// TestPurityRulesDetect shows that each purity rule can fail: every snippet
// is one engine file, and want lists the substrings of the violations it
// must produce (none for a clean file).
func TestPurityRulesDetect(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"clean", `package e
import ("errors"; "fmt"; "sync"; "time")
var ErrX = errors.New("e: x")
var errY = fmt.Errorf("e: y %d", 1)
var _ fmt.Stringer = T{}
// table holds the fixed factors.
//lodestone:readonly
var table = map[string]float64{"a": 1}
// pool recycles scratch buffers, handed back cleared.
//lodestone:scratch
var pool sync.Pool
type T struct{}
func (T) String() string { return "" }
func f(d time.Duration) float64 { table := map[string]float64{}; table["a"] = 2; x := table["a"]; return x + d.Seconds() }
`, nil},
		{"os import", `package e
import "os"
func f() { _ = os.Args }
`, []string{"imports os"}},
		{"net/http import", `package e
import _ "net/http"
`, []string{"imports net/http"}},
		{"io/fs import", `package e
import "io/fs"
var _ fs.FS
`, []string{"imports io/fs"}},
		{"time.Now call", `package e
import "time"
func f() time.Time { return time.Now() }
`, []string{"time.Now reads the wall clock"}},
		{"time.Since under another name", `package e
import clock "time"
func f(t clock.Time) clock.Duration { return clock.Since(t) }
`, []string{"time.Since reads the wall clock"}},
		{"time.Now as a value", `package e
import "time"
type S struct{ now func() time.Time }
func f() S { return S{now: time.Now} }
`, []string{"time.Now reads the wall clock"}},
		{"local named time is not the clock", `package e
type c struct{}
func (c) Now() int { return 0 }
func f() int { time := c{}; return time.Now() }
`, nil},
		{"mutable global", `package e
var counter int
`, []string{"var counter is mutable state"}},
		{"exported table", `package e
// Factor is a constant factor.
//lodestone:readonly
var Factor = 2.5
`, []string{"var Factor is exported"}},
		{"marker without a doc comment", `package e
//lodestone:readonly
var table = []int{1}
`, []string{"no doc comment"}},
		{"scratch on a non-pool", `package e
// buf is scratch.
//lodestone:scratch
var buf []byte
`, []string{"not a sync.Pool"}},
		{"write to a read-only table", `package e
// table holds factors.
//lodestone:readonly
var table = map[string]int{}
func set(k string) { table[k] = 1 }
`, []string{"writes package-level var table"}},
		{"writes of every kind", `package e
// table holds factors.
//lodestone:readonly
var table = []struct{ n int }{{1}}
func f(src []struct{ n int }) {
	table[0].n++
	table = nil
	copy(table, src)
	clear(table)
	for _, table[0] = range src {}
}
`, []string{"writes package-level var table", "writes package-level var table", "writes package-level var table", "writes package-level var table", "writes package-level var table"}},
		{"write to another package's var", `package e
import "lodestone/process/sx"
func f() { sx.DefaultKa2 = 1 }
`, []string{"writes package-level var lodestone/process/sx.DefaultKa2"}},
		{"a local shadowing a table is no write", `package e
// table holds factors.
//lodestone:readonly
var table = []int{1}
func f() int { table := []int{2}; table[0] = 3; return table[0] }
`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "e.go", tt.src, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			got := newEnginePackage(fset, []*ast.File{f}).violations()
			if len(got) != len(tt.want) {
				t.Fatalf("violations = %q, want %d matching %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("violation %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
