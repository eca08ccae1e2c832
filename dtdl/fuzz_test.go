package dtdl_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"lodestone/dtdl"
)

// corpusInputs returns every input of the shared DTDL corpus, or nil when
// the corpus is absent (fuzz seeding is best effort; TestConformance is the
// test that insists on the corpus under CI).
func corpusInputs(tb testing.TB, versions ...string) [][]byte {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		return nil
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
	var out [][]byte
	for _, v := range versions {
		files, _ := filepath.Glob(filepath.Join(dir, "..", "shared", "conformance", "dtdl", v, "*.json"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			var cases []corpusCase
			if json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &cases) != nil {
				continue
			}
			for _, c := range cases {
				for _, in := range c.Input {
					out = append(out, in)
				}
			}
		}
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, in := range corpusInputs(f, "v2", "v3") {
		f.Add([]byte(in), false)
	}
	for _, s := range []string{
		``, `null`, `[]`, `{}`, "\xef\xbb\xbf{}", `[[[[[[[[[[`, `"\ud800"`,
		`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:a:A;1","@type":"Interface","extends":"dtmi:a:A;1"}`,
		`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:a:A;1","@type":"Interface","schemas":{"@id":"dtmi:a:S;1","@type":"Array","elementSchema":"dtmi:a:S;1"}}`,
	} {
		f.Add([]byte(s), true)
	}
	data, err := os.ReadFile("testdata/plant.json")
	if err == nil {
		f.Add(data, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, allow bool) {
		ms, err := dtdl.Parse([]dtdl.Document{{Name: "fuzz.json", Data: data}}, &dtdl.Options{AllowUndefinedExtensions: allow})
		if (ms == nil) == (err == nil) {
			t.Fatalf("Parse returned ms=%v err=%v; want exactly one", ms, err)
		}
		if ms == nil {
			return
		}
		// A parsed model must be usable: walk it and validate an empty twin.
		for _, i := range ms.Interfaces() {
			for _, n := range i.ContentNames() {
				_ = i.Content(n).Kind()
			}
			_ = i.ValidateTwin(map[string]any{})
			_, _ = i.SchemaAt("/x/y")
		}
	})
}
