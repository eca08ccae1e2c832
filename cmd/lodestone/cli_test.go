package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/api"
	"lodestone/twin"
)

// runLodestone runs the CLI in-process and returns its exit code and streams.
func runLodestone(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), &cliEnv{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader(stdin)}, args)
	return code, stdout.String(), stderr.String()
}

func TestHelpAndUsageErrors(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		code        int
		stdout      string // substring of stdout
		stderr      string // substring of stderr
		stderrLines int    // when > 0, the number of lines of stderr
	}{
		{name: "help lists commands", args: []string{"help"}, stdout: "lodestone help COMMAND"},
		{name: "help command", args: []string{"help", "twin"}, stdout: "usage: lodestone twin <command>"},
		{name: "help subcommand", args: []string{"help", "twin", "get"}, stdout: "usage: lodestone twin get ID"},
		{name: "help subcommand flags", args: []string{"help", "twin", "get"}, stdout: "-as-of"},
		{name: "help rel put", args: []string{"help", "rel", "put"}, stdout: "--target TARGET"},
		{name: "help unknown command", args: []string{"help", "twn"}, code: 2, stderr: `did you mean "twin"?`, stderrLines: 2},
		{name: "help unknown subcommand", args: []string{"help", "twin", "gte"}, code: 2, stderr: `did you mean "get"?`, stderrLines: 2},
		{name: "unknown command", args: []string{"twn"}, code: 2, stderr: `unknown command "twn" (did you mean "twin"?)`, stderrLines: 2},
		{name: "unknown command far from any", args: []string{"frobnicate"}, code: 2, stderr: "'lodestone help' lists the commands", stderrLines: 2},
		{name: "unknown subcommand", args: []string{"twin", "lst"}, code: 2, stderr: `did you mean "list"?`, stderrLines: 2},
		{name: "unknown flag", args: []string{"twin", "list", "--modle", "x"}, code: 2, stderr: "unknown flag --modle (did you mean --model?)", stderrLines: 2},
		{name: "unknown flag usage line", args: []string{"twin", "list", "--modle", "x"}, code: 2, stderr: "usage: lodestone twin list [--model DTMI]", stderrLines: 2},
		{name: "command usage error", args: []string{"twin", "get"}, code: 2, stderr: "usage: lodestone twin get ID", stderrLines: 2},
		{name: "rel usage error", args: []string{"rel", "delete", "a"}, code: 2, stderr: "lodestone rel list SOURCE shows them", stderrLines: 2},
		{name: "dash h still helps", args: []string{"twin", "get", "-h"}, stderr: "usage: lodestone twin get"},
		{name: "version", args: []string{"version"}, stdout: "lodestone"},
		{name: "version go", args: []string{"version"}, stdout: " go1."},
		{name: "version json", args: []string{"version", "--json"}, stdout: `"go": "go1.`},
		{name: "version extra", args: []string{"version", "x"}, code: 2, stderr: "unexpected argument"},
		{name: "patch without slash", args: []string{"twin", "patch", "mine-br", "capacityTonnesPerYear=25"}, code: 2, stderr: "did you mean /capacityTonnesPerYear=25?"},
		{name: "patch pair without slash", args: []string{"twin", "patch", "mine-br", "/a=1", "b=2"}, code: 2, stderr: "did you mean /b=2?"},
		{name: "bad as-of", args: []string{"twin", "get", "x", "--as-of", "yesterday"}, code: 2, stderr: "want a date (YYYY-MM-DD) or an RFC 3339 time"},
		{name: "bad export as-of", args: []string{"export", "--as-of", "2025-13-01"}, code: 2, stderr: "want a date (YYYY-MM-DD)"},
		{name: "rel put needs name and target", args: []string{"rel", "put", "a", "b"}, code: 2, stderr: "--name and --target are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runLodestone(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("run(%q) = %d, want %d; stderr:\n%s", tt.args, code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("run(%q) stdout lacks %q:\n%s", tt.args, tt.stdout, stdout)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("run(%q) stderr lacks %q:\n%s", tt.args, tt.stderr, stderr)
			}
			if n := strings.Count(stderr, "\n"); tt.stderrLines > 0 && n != tt.stderrLines {
				t.Errorf("run(%q) stderr has %d lines, want %d (the error, then one usage line):\n%s", tt.args, n, tt.stderrLines, stderr)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	names := []string{"get", "put", "patch", "delete", "list", "history", "model", "server", "json"}
	tests := []struct{ in, want string }{
		{"lst", "list"},
		{"modle", "model"},  // a swap is one edit
		{"hist", "history"}, // a prefix of one name
		{"histroy", "history"},
		{"dleete", "delete"},
		{"xyz", ""},
		{"p", ""}, // too short to guess between put and patch
		{"JSON", "json"},
	}
	for _, tt := range tests {
		if got := closest(tt.in, names); got != tt.want {
			t.Errorf("closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	dist := []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {"model", "modle", 1}}
	for _, tt := range dist {
		if got := editDistance(tt.a, tt.b); got != tt.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}

func TestParseAsOf(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: ""},
		{in: "2025-04-01", want: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)},
		{in: "2025-04-01T12:30:00Z", want: time.Date(2025, 4, 1, 12, 30, 0, 0, time.UTC)},
		{in: "2025-04-01T12:30:00+02:00", want: time.Date(2025, 4, 1, 10, 30, 0, 0, time.UTC)},
		{in: "2025-4-1", bad: true},
		{in: "yesterday", bad: true},
		{in: "2025-02-30", bad: true},
	}
	for _, tt := range tests {
		got, err := parseAsOf(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("parseAsOf(%q) error = %v, want error %v", tt.in, err, tt.bad)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("parseAsOf(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestJSONErrorLineColumn(t *testing.T) {
	tests := []struct {
		name, data string
		into       any
		want       string
	}{
		{name: "syntax", data: "{\n  \"a\": 1,\n  oops\n}", into: &map[string]any{}, want: "f.json:3:3: invalid character 'o'"},
		{name: "first line", data: `{"a" 1}`, into: &map[string]any{}, want: "f.json:1:6:"},
		{name: "type", data: "{\n \"n\": \"x\"\n}", into: &struct{ N int }{}, want: "f.json:2:9: N: JSON string where int is expected"},
		{name: "truncated", data: "{\n\"a\": [1,", into: &map[string]any{}, want: "f.json:2:8: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		err := decodeJSONFile("f.json", []byte(tt.data), tt.into)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: decodeJSONFile = %v, want %q", tt.name, err, tt.want)
		}
	}
	if err := decodeJSONFile("f.json", []byte(`{"a":1}`), &map[string]any{}); err != nil {
		t.Errorf("valid JSON: %v", err)
	}
}

func FuzzLineCol(f *testing.F) {
	f.Add([]byte("{\n\"a\":\n1}"), int64(5))
	f.Add([]byte(""), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, off int64) {
		if len(data) == 0 {
			return
		}
		line, col := lineCol(data, off)
		if line < 1 || col < 1 || line > bytes.Count(data, []byte("\n"))+1 || col > len(data) {
			t.Fatalf("lineCol(%q, %d) = %d:%d", data, off, line, col)
		}
	})
}

func FuzzParseAsOf(f *testing.F) {
	for _, s := range []string{"", "2025-04-01", "2025-04-01T12:30:00Z", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := parseAsOf(s)
		if err == nil && s != "" && at.IsZero() && !strings.HasPrefix(s, "0001-01-01") {
			t.Fatalf("parseAsOf(%q) = zero time without an error", s)
		}
	})
}

func TestPatchArgs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.json")
	os.WriteFile(file, []byte(`[{"op":"replace","path":"/a","value":1}]`), 0o644)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("[\n{\"op\": \"add\",,}]"), 0o644)
	eqFile := filepath.Join(dir, "x=y.json")
	os.WriteFile(eqFile, []byte(`[{"op":"remove","path":"/b"}]`), 0o644)
	tests := []struct {
		name string
		args []string
		want twin.Patch
		err  string
	}{
		{name: "pairs", args: []string{"/a=1", "/b=x", "/c="}, want: twin.Patch{{Op: "add", Path: "/a", Value: float64(1)}, {Op: "add", Path: "/b", Value: "x"}, {Op: "remove", Path: "/c"}}},
		{name: "file", args: []string{file}, want: twin.Patch{{Op: "replace", Path: "/a", Value: float64(1)}}},
		{name: "file with = in its name", args: []string{eqFile}, want: twin.Patch{{Op: "remove", Path: "/b"}}},
		{name: "missing slash", args: []string{"a=1"}, err: "did you mean /a=1?"},
		{name: "not a pair", args: []string{"/a=1", "b"}, err: `"b" is not /path=value`},
		{name: "bad file", args: []string{bad}, err: "bad.json:2:14: invalid character ','"},
		{name: "no file", args: []string{filepath.Join(dir, "none.json")}, err: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := patchArgs(&cliEnv{stdin: strings.NewReader("")}, tt.args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("patchArgs(%q) error = %v, want %q", tt.args, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tt.want)
			if !bytes.Equal(gb, wb) {
				t.Errorf("patchArgs(%q) = %s, want %s", tt.args, gb, wb)
			}
		})
	}
}

func TestHistoryChanges(t *testing.T) {
	at := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	v1 := &twin.Twin{ID: "m", ETag: "1", Metadata: twin.Metadata{Model: "dtmi:x:Mine;1"}, Properties: map[string]any{
		"capacity": 20.0, "name": "Mine", "sources": map[string]any{"capacity": "USGS 2024", "name": "x"}}}
	v2 := &twin.Twin{ID: "m", ETag: "2", Metadata: twin.Metadata{Model: "dtmi:x:Mine;1"}, Properties: map[string]any{
		"capacity": 25.0, "status": "open", "sources": map[string]any{"capacity": "manual edit", "name": "x"}}}
	h := []api.HistoryEntry{
		{Sequence: 1, Time: at, Kind: "create", Twin: v1},
		{Sequence: 2, Time: at.Add(time.Hour), Kind: "update", Twin: v2},
		{Sequence: 3, Time: at.Add(2 * time.Hour), Kind: "update", Patch: twin.Patch{{Op: "add", Path: "/capacity", Value: 30.0}}},
		{Sequence: 4, Time: at.Add(3 * time.Hour), Kind: "delete"},
	}
	out := historyWithChanges(h)
	want := [][]change{
		{{Op: "add", Path: "/$metadata/$model", New: "dtmi:x:Mine;1"}, {Op: "add", Path: "/capacity", New: 20.0}, {Op: "add", Path: "/name", New: "Mine"}, {Op: "add", Path: "/sources", New: map[string]any{"capacity": "USGS 2024", "name": "x"}}},
		{{Op: "replace", Path: "/capacity", Old: 20.0, New: 25.0}, {Op: "remove", Path: "/name", Old: "Mine"}, {Op: "replace", Path: "/sources/capacity", Old: "USGS 2024", New: "manual edit"}, {Op: "add", Path: "/status", New: "open"}},
		{{Op: "replace", Path: "/capacity", New: 30.0}},
		{{Op: "remove", Path: "/$metadata/$model", Old: "dtmi:x:Mine;1"}, {Op: "remove", Path: "/capacity", Old: 25.0}, {Op: "remove", Path: "/sources", Old: map[string]any{"capacity": "manual edit", "name": "x"}}, {Op: "remove", Path: "/status", Old: "open"}},
	}
	for i, e := range out.Value {
		gb, _ := json.Marshal(e.Changes)
		wb, _ := json.Marshal(want[i])
		if !bytes.Equal(gb, wb) {
			t.Errorf("entry %d changes:\n got %s\nwant %s", i+1, gb, wb)
		}
	}
	// --json keeps the API's fields and adds changes.
	b, _ := json.Marshal(out)
	for _, field := range []string{`"sequence":2`, `"kind":"update"`, `"time":"2025-04-01T01:00:00Z"`, `"twin":{`, `"patch":[`, `"changes":[`} {
		if !bytes.Contains(b, []byte(field)) {
			t.Errorf("history --json lacks %s: %s", field, b)
		}
	}
	var text bytes.Buffer
	printHistory(&text, h)
	for _, s := range []string{"#2  2025-04-01T01:00:00Z  update  etag 2", "~ /capacity: 20 → 25", "- /name (was \"Mine\")", "+ /status: \"open\"", "~ /sources/capacity: \"USGS 2024\" → \"manual edit\"", "deleted"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("history text lacks %q:\n%s", s, text.String())
		}
	}
}

func TestModelValidateSkipsTestdata(t *testing.T) {
	dir := t.TempDir()
	good := `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:t:A;1","@type":"Interface"}`
	os.MkdirAll(filepath.Join(dir, "testdata"), 0o755)
	os.WriteFile(filepath.Join(dir, "a.json"), []byte(good), 0o644)
	os.WriteFile(filepath.Join(dir, "testdata", "bad.json"), []byte(`{"@id":"nope"}`), 0o644)
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"model", "validate", dir}, 0},
		{[]string{"model", "validate", filepath.Join(dir, "testdata")}, 1},
		{[]string{"model", "validate", dir, filepath.Join(dir, "testdata")}, 1},
		{[]string{"model", "validate", filepath.Join(dir, "testdata", "bad.json")}, 1},
	}
	for _, tt := range tests {
		if code, _, stderr := runLodestone(t, "", tt.args...); code != tt.code {
			t.Errorf("run(%q) = %d, want %d; stderr: %s", tt.args, code, tt.code, stderr)
		}
	}
}

func TestSectionOfAndSameModel(t *testing.T) {
	sections := []struct {
		line string
		want string
		ok   bool
	}{
		{`{"Section": "Models"}`, "Models", true},
		{`{"Section":"Twins"}`, "Twins", true},
		{"\xef\xbb\xbf{\"Section\":\"Header\"}", "Header", true},
		{`{"Section":"Models","x":1}`, "", false},
		{`{"$dtId":"Section"}`, "", false},
		{`not json "Section"`, "", false},
	}
	for _, tt := range sections {
		got, ok := sectionOf([]byte(tt.line))
		if got != tt.want || ok != tt.ok {
			t.Errorf("sectionOf(%q) = %q, %v; want %q, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
	have := map[string]any{"dtmi:a;1": map[string]any{"@id": "dtmi:a;1", "@type": "Interface", "contents": []any{}}}
	models := []struct {
		line string
		same bool
	}{
		{`{"@type":"Interface","@id":"dtmi:a;1","contents":[]}`, true}, // key order does not matter
		{`{"@id":"dtmi:a;1","@type":"Interface","contents":[{"@type":"Property"}]}`, false},
		{`{"@id":"dtmi:b;1","@type":"Interface","contents":[]}`, false},
		{`[1]`, false},
	}
	for _, tt := range models {
		if _, same := sameModel([]byte(tt.line), have); same != tt.same {
			t.Errorf("sameModel(%s) = %v, want %v", tt.line, same, tt.same)
		}
	}
}

func FuzzSectionOf(f *testing.F) {
	f.Add([]byte(`{"Section": "Models"}`))
	f.Add([]byte(`{"Section": ""}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if s, ok := sectionOf(line); ok && s == "" {
			t.Fatalf("sectionOf(%q) = empty section", line)
		}
	})
}

func TestTourLines(t *testing.T) {
	readme := "# x\n\n## A short tour of the CLI\n\ntext\n\n```sh\n# a comment\nlodestone version   # trailing comment\n\nlodestone query \"A \\\n  B\"\n```\n\n```\nlodestone world shares\n```\n\n## Development\n\n```\nnot me\n```\n"
	got, err := tourLines(readme)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"lodestone version   # trailing comment", "lodestone query \"A \\\n  B\"", "lodestone world shares"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("tourLines = %q, want %q", got, want)
	}
	if _, err := tourLines("## A short tour of the CLI\n```\nx \\\n"); err == nil {
		t.Error("unterminated block: no error")
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines, err := tourLines(string(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"go install ./cmd/lodestone", "'dtmi:lodestone:Mine;1'", "lodestone rel "} {
		found := false
		for _, l := range lines {
			found = found || strings.Contains(l, must)
		}
		if !found {
			t.Errorf("README tour has no line with %q", must)
		}
	}
}

func TestModelValidateJSONLineColumn(t *testing.T) {
	f := filepath.Join(t.TempDir(), "m.json")
	os.WriteFile(f, []byte("{\n \"@id\": \"dtmi:a;1\",\n oops }"), 0o644)
	code, stdout, _ := runLodestone(t, "", "model", "validate", f)
	if code != 1 || !strings.Contains(stdout, "invalid JSON at line 3, column 2") {
		t.Errorf("model validate of broken JSON: code %d, stdout %q", code, stdout)
	}
}
