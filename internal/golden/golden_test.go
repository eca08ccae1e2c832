package golden_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/internal/golden"
)

func TestHeaderRoundTrip(t *testing.T) {
	long := strings.Repeat("word ", 60) + "end"
	tests := []struct {
		name string
		p    golden.Provenance
		kind string
	}{
		{"snapshot", golden.Snapshot("pins the encoder"), "snapshot"},
		{"snapshot without note", golden.Provenance{}, "snapshot"},
		{"partly independent", golden.Provenance{Sources: []string{"a: PrOMMiS test_x.py", long}, Note: long}, "partly independent"},
		{"independent", golden.Provenance{Sources: []string{"every number: Kremser (1930)"}, Complete: true}, "independent"},
		{"unbreakable word", golden.Provenance{Sources: []string{strings.Repeat("x", 150)}}, "partly independent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.p.Header()
			// Lines after the first fit in 100 columns unless they hold one word.
			for _, l := range strings.Split(strings.TrimSuffix(string(h), "\n"), "\n")[1:] {
				text := l
				for _, pre := range []string{"// source: ", "// note: ", "//   "} {
					text = strings.TrimPrefix(text, pre)
				}
				if len(l) > 100 && strings.Contains(text, " ") {
					t.Errorf("line of %d columns: %q", len(l), l)
				}
			}
			body := []byte("{\n  \"x\": 1\n}\n")
			got, rest, err := golden.Parse(append(h, body...))
			if err != nil {
				t.Fatalf("Parse(Header()) = %v\n%s", err, h)
			}
			if got.Kind() != tt.kind {
				t.Errorf("Kind() = %q, want %q", got.Kind(), tt.kind)
			}
			if d := cmp.Diff(string(h), string(got.Header())); d != "" {
				t.Errorf("Header(Parse(Header())) (-want +got):\n%s", d)
			}
			if d := cmp.Diff(string(body), string(rest)); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	snap := string(golden.Snapshot("").Header())
	partial := string(golden.Provenance{Sources: []string{"s"}}.Header())
	tests := []struct{ name, in, want string }{
		{"no header", "{\"x\": 1}\n", "no provenance header"},
		{"empty", "", "no provenance header"},
		{"unknown first line", "// provenance: trust me\n{}\n", "not a provenance line"},
		{"comment without provenance", "// source: x\n{}\n", "not a provenance line"},
		{"snapshot with a source", snap + "// source: a paper\n{}\n", "lists 1 sources"},
		{"partial without a source", strings.Replace(partial, "// source: s\n", "", 1) + "{}\n", "lists 0 sources"},
		{"unknown line", partial + "// by the way\n{}\n", "not a source, a note or a continuation"},
		{"two notes", snap + "// note: a\n// note: b\n{}\n", "not a source, a note or a continuation"},
		{"continuation first", snap + "//   more\n{}\n", "not a source, a note or a continuation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := golden.Parse([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) = %v, want an error containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	p := golden.Provenance{Sources: []string{"x: hand calculation 1+1"}, Note: "a test"}
	path := filepath.Join(t.TempDir(), "x.golden.json")
	body := []byte("{\n  \"x\": 2.0000000001\n}\n")
	if err := os.WriteFile(path, append(p.Header(), body...), 0o644); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, path, p, body)
	golden.CheckJSON(t, path, p, []byte(`{"x": 2}`), 1e-9, 0)
}

// TestRepositoryGoldens reads every golden file of the repository (a file
// under a testdata directory whose name contains ".golden") and fails on
// one without a valid provenance header, so that no golden file escapes the
// header by being compared outside this package.
func TestRepositoryGoldens(t *testing.T) {
	root := filepath.Join("..", "..")
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.Contains(d.Name(), ".golden") || !strings.Contains(filepath.ToSlash(path), "/testdata/") {
			return nil
		}
		n++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, _, err := golden.Parse(data); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 15 {
		t.Errorf("found %d golden files, want the repository's (>= 15)", n)
	}
}
