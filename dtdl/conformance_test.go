package dtdl_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
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
			t.Logf("%s total %d/%d (%.2f%%)", version, pass, total, 100*float64(pass)/float64(total))
			for _, m := range failures {
				t.Error(m)
			}
		})
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
