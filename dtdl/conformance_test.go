package dtdl_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"lodestone/dtdl"
)

var verboseConformance = flag.Bool("conformance.v", false, "print every failing conformance case")

// knownWrong lists corpus cases this parser deliberately disagrees with,
// keyed "version/file#index", each with the reason. Keep it tiny; it is
// empty: every case of both versions passes.
var knownWrong = map[string]string{}

// corpusCase is one case of the DTDL conformance corpus.
type corpusCase struct {
	Valid   bool              `json:"valid"`
	Options []string          `json:"options"`
	Input   []json.RawMessage `json:"input"`
	// Expect, when present, says what the parser must report besides
	// accepting or rejecting (see checkExpect).
	Expect map[string]json.RawMessage `json:"expect"`
}

// sharedDir finds ../shared relative to the module root (the directory with
// go.mod), skipping the test when it is absent, or failing under CI=true.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared", "conformance", "dtdl")
	if _, err := os.Stat(shared); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("DTDL corpus missing at %s (required under CI=true)", shared)
		}
		t.Skipf("DTDL corpus not found at %s; skipping (it lives in ../shared beside the checkout)", shared)
	}
	return shared
}

// loadCorpus reads every case file of one version.
func loadCorpus(t testing.TB, version string) map[string][]corpusCase {
	t.Helper()
	dir := filepath.Join(sharedDir(t), version)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files in %s: %v", dir, err)
	}
	out := map[string][]corpusCase{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		var cases []corpusCase
		if err := json.Unmarshal(data, &cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = cases
	}
	return out
}

func caseOptions(c corpusCase) *dtdl.Options {
	opts := &dtdl.Options{}
	for _, o := range c.Options {
		if o == "AllowUndefinedExtensions" {
			opts.AllowUndefinedExtensions = true
		}
	}
	return opts
}

func caseDocs(c corpusCase) []dtdl.Document {
	docs := make([]dtdl.Document, len(c.Input))
	for i, in := range c.Input {
		docs[i] = dtdl.Document{Name: "input" + string(rune('0'+i)) + ".json", Data: in}
	}
	return docs
}

func TestConformance(t *testing.T) {
	for _, version := range []string{"v2", "v3"} {
		t.Run(version, func(t *testing.T) {
			corpus := loadCorpus(t, version)
			type tally struct{ pass, total int }
			families := map[string]*tally{}
			var failures []string
			pass, total := 0, 0
			expectPass, expectTotal := 0, 0
			names := make([]string, 0, len(corpus))
			for f := range corpus {
				names = append(names, f)
			}
			sort.Strings(names)
			for _, f := range names {
				family, _, _ := strings.Cut(f, "-")
				ft := families[family]
				if ft == nil {
					ft = &tally{}
					families[family] = ft
				}
				for i, c := range corpus[f] {
					_, err := dtdl.Parse(caseDocs(c), caseOptions(c))
					var el *dtdl.ErrorList
					if err != nil && !errors.As(err, &el) {
						t.Errorf("%s#%d: Parse returned %T, want *dtdl.ErrorList", f, i, err)
					}
					ok := (err == nil) == c.Valid
					key := version + "/" + f + "#" + itoa(i)
					if _, wrong := knownWrong[key]; wrong {
						ok = true
					}
					if ok && c.Expect != nil {
						if problems := checkExpect(c, err); len(problems) > 0 {
							ok = false
							err = fmt.Errorf("%v; expect: %s", err, strings.Join(problems, "; "))
						} else {
							expectPass++
						}
						expectTotal++
					}
					ft.total++
					total++
					if ok {
						ft.pass++
						pass++
						continue
					}
					msg := key
					if err != nil {
						msg += " rejected: " + err.Error()
					} else {
						msg += " accepted, want rejected"
					}
					if *verboseConformance {
						var buf bytes.Buffer
						if json.Compact(&buf, c.Input[0]) == nil {
							msg += "\n    input: " + buf.String()
						}
					}
					failures = append(failures, msg)
				}
			}
			fams := make([]string, 0, len(families))
			for f := range families {
				fams = append(fams, f)
			}
			sort.Strings(fams)
			for _, f := range fams {
				t.Logf("%s %-15s %5d/%5d", version, f, families[f].pass, families[f].total)
			}
			t.Logf("%s total %d/%d (%.2f%%); expect blocks met %d/%d", version, pass, total, 100*float64(pass)/float64(total), expectPass, expectTotal)
			for _, m := range failures {
				t.Error(m)
			}
		})
	}
}

// checkExpect checks a case's expect block against the error Parse
// returned and lists what does not match. The corpus states, for a model
// that refers to identifiers no document defines, the identifiers
// ("unresolvedIdentifiers", all of them and only them) and optionally where
// each is referred to ("unresolvedIdentifierReferences": the identifier and
// the referring element's DTMI or the document's index; the line is not
// checked, errors locate by JSON path instead). For every unresolved
// identifier one "unresolved-reference" error must name it in its message,
// its path must lead in the input document to that identifier, and its id
// must be the nearest element with an @id on that path. An expectation of
// another kind fails the case until this function learns to check it.
func checkExpect(c corpusCase, err error) []string {
	var el *dtdl.ErrorList
	if !errors.As(err, &el) {
		return []string{fmt.Sprintf("want a *dtdl.ErrorList, got %v", err)}
	}
	var problems []string
	for key := range c.Expect {
		if key != "unresolvedIdentifiers" && key != "unresolvedIdentifierReferences" {
			problems = append(problems, fmt.Sprintf("expectation %q is not checked by this test", key))
		}
	}
	var want []string
	if raw, ok := c.Expect["unresolvedIdentifiers"]; ok {
		if err := json.Unmarshal(raw, &want); err != nil {
			return append(problems, fmt.Sprintf("unresolvedIdentifiers: %v", err))
		}
		sorted := append([]string(nil), want...)
		sort.Strings(sorted)
		got := append([]string(nil), el.Unresolved...)
		sort.Strings(got)
		if strings.Join(sorted, " ") != strings.Join(got, " ") {
			problems = append(problems, fmt.Sprintf("ErrorList.Unresolved = %v, want %v", got, sorted))
		}
	}
	// The unresolved-reference errors, checked against the input.
	named := map[string][]*dtdl.Error{} // identifier → errors that name it
	for _, e := range el.Errors {
		if e.Rule != "unresolved-reference" {
			continue
		}
		id := ""
		for _, w := range want {
			if strings.Contains(e.Message, w) {
				id = w
			}
		}
		if id == "" {
			problems = append(problems, fmt.Sprintf("error %q names no expected unresolved identifier", e.Error()))
			continue
		}
		doc := -1
		for i := range c.Input {
			if e.File == "input"+string(rune('0'+i))+".json" {
				doc = i
			}
		}
		if doc < 0 {
			problems = append(problems, fmt.Sprintf("error %q: file %q is not an input document", e.Error(), e.File))
			continue
		}
		val, owner, ok := followPath(c.Input[doc], e.Path)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("error %q: path %s is not in the input", e.Error(), e.Path))
		case val != id:
			problems = append(problems, fmt.Sprintf("error %q: path %s leads to %v, not to %s", e.Error(), e.Path, val, id))
		case e.ID != owner:
			problems = append(problems, fmt.Sprintf("error %q: id %q, want the referring element %q", e.Error(), e.ID, owner))
		}
		named[id] = append(named[id], e)
	}
	for _, w := range want {
		if len(named[w]) == 0 {
			problems = append(problems, fmt.Sprintf("no unresolved-reference error names %s", w))
		}
	}
	if raw, ok := c.Expect["unresolvedIdentifierReferences"]; ok {
		var refs []struct {
			ID    string `json:"ID"`
			Dtmi  string `json:"Dtmi"`
			Index *int   `json:"Index"`
		}
		if err := json.Unmarshal(raw, &refs); err != nil {
			return append(problems, fmt.Sprintf("unresolvedIdentifierReferences: %v", err))
		}
		for _, r := range refs {
			found := false
			for _, e := range named[r.ID] {
				if (r.Dtmi != "" && e.ID == r.Dtmi) || (r.Index != nil && e.File == "input"+string(rune('0'+*r.Index))+".json") {
					found = true
				}
			}
			if !found {
				problems = append(problems, fmt.Sprintf("no unresolved-reference error for %s from %s (index %v)", r.ID, r.Dtmi, r.Index))
			}
		}
	}
	return problems
}

// followPath evaluates a JSON path of the parser's errors ("$.a.b[2].c")
// in doc. It returns the string at the path (empty for a non-string), the
// @id of the innermost object on the way that has one, and whether the
// path exists.
func followPath(doc json.RawMessage, path string) (val, owner string, ok bool) {
	var cur any
	if json.Unmarshal(doc, &cur) != nil || !strings.HasPrefix(path, "$") {
		return "", "", false
	}
	rest := path[1:]
	for {
		if m, isObj := cur.(map[string]any); isObj {
			if id, isStr := m["@id"].(string); isStr {
				owner = id
			}
		}
		if rest == "" {
			break
		}
		switch rest[0] {
		case '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			key := rest[1 : end+1]
			rest = rest[end+1:]
			m, isObj := cur.(map[string]any)
			if !isObj {
				return "", "", false
			}
			if cur, ok = m[key]; !ok {
				return "", "", false
			}
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return "", "", false
			}
			var i int
			if _, err := fmt.Sscanf(rest[1:end], "%d", &i); err != nil {
				return "", "", false
			}
			rest = rest[end+1:]
			a, isArr := cur.([]any)
			if !isArr || i < 0 || i >= len(a) {
				return "", "", false
			}
			cur = a[i]
		default:
			return "", "", false
		}
	}
	val, _ = cur.(string)
	return val, owner, true
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
