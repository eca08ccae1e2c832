package golden

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata (with their provenance header)")

// Provenance says where the numbers of a golden file come from. The zero
// value (no Sources) declares a snapshot of this code's output.
type Provenance struct {
	// Sources names the numbers of the file that have a source independent
	// of this code, one entry per group: which numbers, the source (paper and
	// table, PrOMMiS test, textbook formula) and the test that checks them
	// against it.
	Sources []string
	// Complete says that every number of the file has one of Sources;
	// otherwise the numbers not named there are a snapshot.
	Complete bool
	// Note is anything else a reviewer needs: where the inputs come from,
	// what is left out, which inputs are synthetic.
	Note string
}

// Snapshot returns the provenance of a file whose numbers are only this
// code's output, with note saying what it pins.
func Snapshot(note string) Provenance { return Provenance{Note: note} }

// The three first lines of a header.
const (
	lineSnapshot    = "// provenance: snapshot (this code's output; no number has an independent source)"
	linePartial     = "// provenance: partly independent (the numbers named under source have one; the rest are this code's output)"
	lineIndependent = "// provenance: independent (every number has the source named below)"

	width = 100 // wrap header lines at this many columns
)

// Kind returns "snapshot", "partly independent" or "independent".
func (p Provenance) Kind() string {
	switch {
	case len(p.Sources) == 0:
		return "snapshot"
	case p.Complete:
		return "independent"
	}
	return "partly independent"
}

// validate reports a provenance that cannot be written: a complete one
// without sources, or empty or multi-line entries.
func (p Provenance) validate() error {
	if p.Complete && len(p.Sources) == 0 {
		return errors.New("golden: Complete provenance names no source")
	}
	for _, s := range p.Sources {
		if strings.TrimSpace(s) == "" {
			return errors.New("golden: empty source")
		}
	}
	for _, s := range append([]string{p.Note}, p.Sources...) {
		if strings.ContainsAny(s, "\r\n") {
			return fmt.Errorf("golden: provenance text %q has a line break", s)
		}
	}
	return nil
}

// Header returns the header lines of p, each ending in a newline.
func (p Provenance) Header() []byte {
	var b bytes.Buffer
	switch p.Kind() {
	case "snapshot":
		b.WriteString(lineSnapshot + "\n")
	case "independent":
		b.WriteString(lineIndependent + "\n")
	default:
		b.WriteString(linePartial + "\n")
	}
	for _, s := range p.Sources {
		wrap(&b, "// source: ", s)
	}
	if p.Note != "" {
		wrap(&b, "// note: ", p.Note)
	}
	return b.Bytes()
}

// wrap writes text after prefix, broken at spaces into lines of at most
// width columns (a longer word stays whole), continued with "//   ".
func wrap(b *bytes.Buffer, prefix, text string) {
	line, empty := prefix, true // empty: line holds only its prefix
	for _, w := range strings.Fields(text) {
		if !empty && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line, empty = "//   ", true
		}
		if !empty {
			line += " "
		}
		line += w
		empty = false
	}
	b.WriteString(line + "\n")
}

// Parse splits a golden file into its provenance and its body. It fails on
// a file without a header, an unknown first line, a snapshot with sources,
// another kind without them, or a header line it does not know.
func Parse(data []byte) (Provenance, []byte, error) {
	var p Provenance
	rest := data
	var lines []string
	for bytes.HasPrefix(rest, []byte("//")) {
		line, after, _ := bytes.Cut(rest, []byte("\n"))
		lines = append(lines, string(line))
		rest = after
	}
	if len(lines) == 0 {
		return p, nil, errors.New("golden: no provenance header (the file must start with \"// provenance: \")")
	}
	kind := ""
	switch lines[0] {
	case lineSnapshot:
		kind = "snapshot"
	case linePartial:
		kind = "partly independent"
	case lineIndependent:
		kind, p.Complete = "independent", true
	default:
		return p, nil, fmt.Errorf("golden: first line %q is not a provenance line", lines[0])
	}
	var cur *string
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(l, "// source: "):
			p.Sources = append(p.Sources, strings.TrimPrefix(l, "// source: "))
			cur = &p.Sources[len(p.Sources)-1]
		case strings.HasPrefix(l, "// note: ") && p.Note == "":
			p.Note = strings.TrimPrefix(l, "// note: ")
			cur = &p.Note
		case strings.HasPrefix(l, "//   ") && cur != nil:
			*cur += " " + strings.TrimPrefix(l, "//   ")
		default:
			return p, nil, fmt.Errorf("golden: header line %q is not a source, a note or a continuation", l)
		}
	}
	if got := p.Kind(); got != kind {
		return p, nil, fmt.Errorf("golden: header says %s but lists %d sources", kind, len(p.Sources))
	}
	return p, rest, nil
}

// RoundJSON encodes v as indented JSON with every number rounded to nine
// significant digits (and magnitudes below 1e-30 written as 0).
func RoundJSON(t testing.TB, v any) []byte {
	t.Helper()
	return RoundJSONDigits(t, v, 9)
}

// RoundJSONDigits is RoundJSON with digits significant digits.
func RoundJSONDigits(t testing.TB, v any, digits int) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	var walk func(any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case float64:
			if x == 0 || math.Abs(x) < 1e-30 {
				return 0.0
			}
			r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', digits, 64), 64)
			return r
		case map[string]any:
			for k, v := range x {
				x[k] = walk(v)
			}
		case []any:
			for i, v := range x {
				x[i] = walk(v)
			}
		}
		return x
	}
	out, err := json.MarshalIndent(walk(tree), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// Check compares got with the body of the golden file at path byte for
// byte, and the file's header with p. With -update it first rewrites the
// file as p's header followed by got.
func Check(t testing.TB, path string, p Provenance, got []byte) {
	t.Helper()
	want := read(t, path, p, got)
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("result differs from %s (-want +got):\n%s", path, d)
	}
}

// CheckJSON is Check for JSON output compared as values: numbers are equal
// within relative tolerance rel or absolute tolerance abs (for output that
// is not rounded, whose last digits follow a solver's iterations).
func CheckJSON(t testing.TB, path string, p Provenance, got []byte, rel, abs float64) {
	t.Helper()
	want := read(t, path, p, got)
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if d := cmp.Diff(w, g, cmpopts.EquateApprox(rel, abs)); d != "" {
		t.Errorf("result differs from %s (-want +got):\n%s", path, d)
	}
}

// read rewrites the golden file when -update is set, checks its header
// against p and returns its body.
func read(t testing.TB, path string, p Provenance, got []byte) []byte {
	t.Helper()
	if err := p.validate(); err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(got, []byte("//")) {
		t.Fatalf("golden: output for %s starts with // and would be read as header", path)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(p.Header(), got...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	have, body, err := Parse(data)
	if err != nil {
		t.Fatalf("%s: %v (run with -update to write the header the test declares)", path, err)
	}
	if d := cmp.Diff(string(p.Header()), string(have.Header())); d != "" {
		t.Errorf("%s: provenance header differs from the test's (-file +test; run with -update):\n%s", path, d)
	}
	return body
}
