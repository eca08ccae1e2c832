package world_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/supply"
	"lodestone/world"
)

// bibKeys returns the keys of the bibliography.
func bibKeys(t *testing.T) map[string]world.Reference {
	t.Helper()
	refs, err := world.Bibliography()
	if err != nil {
		t.Fatalf("Bibliography() = %v", err)
	}
	keys := map[string]world.Reference{}
	for _, r := range refs {
		keys[r.Key] = r
	}
	return keys
}

// TestSourcesResolve is the rule of the one bibliography: every "source"
// string of every data file (data/*.json) cites at least one key, every
// bracketed group in it is a citation, and every key is an entry of
// data/bibliography.json; citations in other strings (notes, reasons)
// resolve too; no data file keeps a source list of its own; and the
// sources of supply's built-in export controls, which the world's
// scenarios and twins carry, resolve as well.
func TestSourcesResolve(t *testing.T) {
	bib := bibKeys(t)
	files, err := filepath.Glob(filepath.Join("data", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	cited := map[string]bool{}
	check := func(where, text string, isSource bool) {
		keys, bad := world.Citations(text)
		for _, b := range bad {
			t.Errorf("%s: %s is not a citation ([KEY] or [KEY, place]): %q", where, b, text)
		}
		if isSource && len(keys) == 0 {
			t.Errorf("%s: source cites no key of the bibliography: %q", where, text)
		}
		for _, k := range keys {
			cited[k] = true
			if _, ok := bib[k]; !ok {
				t.Errorf("%s: [%s] is not in data/bibliography.json", where, k)
			}
		}
	}
	for _, f := range files {
		if filepath.Base(f) == "bibliography.json" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, ok := doc["sources"]; ok {
			t.Errorf("%s has a source list of its own; its keys belong in data/bibliography.json", f)
		}
		var walk func(v any, path string)
		walk = func(v any, path string) {
			switch x := v.(type) {
			case map[string]any:
				for k, c := range x {
					if s, ok := c.(string); ok && k == "source" {
						checked++
						check(f+" "+path+".source", s, true)
						continue
					}
					walk(c, path+"."+k)
				}
			case []any:
				for i, c := range x {
					walk(c, fmt.Sprintf("%s[%d]", path, i))
				}
			case string:
				check(f+" "+path, x, false)
			}
		}
		walk(doc, "$")
	}
	for name, c := range supply.BuiltinControls() {
		checked++
		check("supply.BuiltinControls "+name, c.Source, true)
	}
	if checked < 80 {
		t.Errorf("checked %d sources, want every one of the data (>= 80)", checked)
	}
	for _, k := range []string{"S6", "S13", "S70", "NOTE", "WORLDMD"} {
		if !cited[k] {
			t.Errorf("[%s] is cited nowhere: the walk missed the data", k)
		}
	}
}

// TestBibliography checks the entries and that Load hands their citations
// to users (World.Sources, printed by `lodestone world show`).
func TestBibliography(t *testing.T) {
	bib := bibKeys(t)
	for k, r := range bib {
		if s := r.String(); !strings.Contains(s, r.Title) {
			t.Errorf("[%s].String() = %q lacks the title", k, s)
		}
		if r.Kind == "primary" && r.Author == "" {
			t.Errorf("[%s] is primary but has no author", k)
		}
	}
	w := load(t)
	for _, k := range []string{"S6", "S52", "NOTE"} { // data, built-in controls, research note
		if got, want := w.Sources[k], bib[k].String(); got != want {
			t.Errorf("World.Sources[%s] = %q, want %q", k, got, want)
		}
	}
	if _, ok := w.Sources["USGS2011"]; ok {
		t.Errorf("World.Sources has [USGS2011], which only the crisis data cite")
	}
	c, err := world.LoadCrisis2010()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Sources["USGS2011"], bib["USGS2011"].String(); got != want {
		t.Errorf("Crisis2010.Sources[USGS2011] = %q, want %q", got, want)
	}
}

func TestCitations(t *testing.T) {
	tests := []struct {
		in        string
		keys, bad []string
	}{
		{"USGS MCS 2025 [S6] via [S7][S8][S9] (secondary)", []string{"S6", "S7", "S8", "S9"}, nil},
		{"[S6, table 2]; again [S6]", []string{"S6"}, nil},
		{"no citation", nil, nil},
		{"[S29 of the note]", nil, []string{"[S29 of the note]"}},
		{"[] and [6S]", nil, []string{"[]", "[6S]"}},
	}
	for _, tt := range tests {
		keys, bad := world.Citations(tt.in)
		if fmt.Sprint(keys) != fmt.Sprint(tt.keys) || fmt.Sprint(bad) != fmt.Sprint(tt.bad) {
			t.Errorf("Citations(%q) = %v, %v; want %v, %v", tt.in, keys, bad, tt.keys, tt.bad)
		}
	}
}
