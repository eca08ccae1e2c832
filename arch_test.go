package lodestone_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
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
	{pkg: "event/...", internal: []string{"twin", "event/..."}, anyExt: true},
	{pkg: "process/...", internal: []string{"process/..."}, external: []string{"gonum.org/v1/gonum"}},
	{pkg: "plant/...", internal: []string{"process/...", "plant/..."}, external: []string{"gonum.org/v1/gonum"}},
	{pkg: "supply/...", internal: []string{"supply/..."}, external: []string{"gonum.org/v1/gonum"}},
	{pkg: "org/...", internal: []string{"supply/...", "org/..."}, external: []string{"gonum.org/v1/gonum"}},
	{pkg: "trust/...", internal: []string{"twin", "trust/..."}, external: []string{"golang.org/x/crypto"}},
	{pkg: "world/...", internal: []string{"supply/...", "process/...", "world/...", "twin", "dtdl/...", "models"}},
	{pkg: "models", internal: nil},
	{pkg: "api/...", internal: []string{"twin", "dtdl/...", "tql/...", "store", "event", "process/...", "plant/...", "supply/...", "org/...", "trust/...", "world/...", "models", "web", "bulk", "api/..."}, anyExt: true},
	{pkg: "web", internal: nil},
	{pkg: "server/...", internal: []string{"..."}, anyExt: true},
	{pkg: "client/...", internal: []string{"api", "twin", "bulk", "client/..."}},
	{pkg: "cmd/...", internal: []string{"..."}, anyExt: true},
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
