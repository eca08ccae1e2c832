package tqltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"lodestone/tql"
)

// Dataset is the data a script has loaded so far.
type Dataset struct {
	Models []tql.Model
	// ModelJSON holds the model lines as written (DTDL interfaces), in the
	// order of Models, for engines that store and validate DTDL.
	ModelJSON [][]byte
	Changes   []Change // in script order; times need not ascend
}

// Change is one load line: a put of a twin or relationship, or a delete.
type Change struct {
	At  time.Time // zero: the beginning of time
	Doc tql.Doc   // the twin or relationship put; nil for a delete
	// For deletes: the twin ID, or the relationship ID and its source.
	DeleteID     string
	DeleteSource string // non-empty for a relationship
}

// Engine is a query engine under test.
type Engine interface {
	// Load replaces the engine's contents with ds.
	Load(ctx context.Context, ds *Dataset) error
	// Query runs a query and returns one page.
	Query(ctx context.Context, query string, opts *tql.Options, token string) (*tql.Result, error)
}

// NewMemEngine returns the reference engine: tql.Run over a tql.MemGraph.
func NewMemEngine() Engine { return &memEngine{} }

type memEngine struct{ g *tql.MemGraph }

// Load implements Engine with a fresh tql.MemGraph.
func (e *memEngine) Load(_ context.Context, ds *Dataset) error {
	e.g = tql.NewMemGraph()
	for _, m := range ds.Models {
		e.g.AddModel(m)
	}
	for _, c := range ds.Changes {
		switch {
		case c.Doc != nil:
			if err := e.g.Put(c.At, c.Doc); err != nil {
				return err
			}
		case c.DeleteSource != "":
			e.g.DeleteRelationship(c.At, c.DeleteSource, c.DeleteID)
		default:
			e.g.DeleteTwin(c.At, c.DeleteID)
		}
	}
	return nil
}

// Query implements Engine with tql.Run.
func (e *memEngine) Query(ctx context.Context, query string, opts *tql.Options, token string) (*tql.Result, error) {
	return tql.Run(ctx, e.g, query, opts, token)
}

// Files returns the script files under dir (testdata/*.test).
func Files(dir string) ([]string, error) {
	return filepath.Glob(filepath.Join(dir, "*.test"))
}

// Queries returns the query of every eval and eval_fail in the scripts under
// dir, for seeding fuzz tests.
func Queries(dir string) ([]string, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	var qs []string
	for _, f := range files {
		s, err := parseFile(f)
		if err != nil {
			return nil, err
		}
		for _, c := range s {
			if c.eval != nil {
				qs = append(qs, c.eval.query)
			}
		}
	}
	return qs, nil
}

// RunDir runs every script under dir as a subtest, each against a fresh
// engine from newEngine.
func RunDir(t *testing.T, dir string, newEngine func(t *testing.T) Engine) {
	t.Helper()
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no scripts in %s", dir)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".test"), func(t *testing.T) {
			RunFile(t, f, newEngine(t))
		})
	}
}

// RunFile runs one script against e.
func RunFile(t *testing.T, path string, e Engine) {
	t.Helper()
	cmds, err := parseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ds := &Dataset{}
	dirty := true
	for _, c := range cmds {
		switch {
		case c.clear:
			ds, dirty = &Dataset{}, true
		case c.load != nil:
			ds.Models = append(ds.Models, c.load.Models...)
			ds.ModelJSON = append(ds.ModelJSON, c.load.ModelJSON...)
			ds.Changes = append(ds.Changes, c.load.Changes...)
			dirty = true
		case c.eval != nil:
			if dirty {
				if err := e.Load(t.Context(), ds); err != nil {
					t.Fatalf("%s:%d: load: %v", path, c.line, err)
				}
				dirty = false
			}
			if msg := runEval(t.Context(), e, c.eval); msg != "" {
				t.Errorf("%s:%d: %s\n  query: %s", path, c.line, msg, c.eval.query)
			}
		}
	}
}

type command struct {
	line  int
	clear bool
	load  *Dataset
	eval  *evalCmd
}

type evalCmd struct {
	query    string
	fail     string // expected error substring (eval_fail)
	isFail   bool
	ordered  bool
	ids      bool
	pages    int
	opts     tql.Options
	expected []any
}

func parseFile(path string) ([]command, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseScript(path, b)
}

func parseScript(path string, b []byte) ([]command, error) {
	var cmds []command
	lines := strings.Split(string(b), "\n")
	errf := func(i int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", path, i+1, fmt.Sprintf(format, args...))
	}
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t\r")
		if line == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		start := i
		// body collects the lines of the block up to a blank line.
		body := func() []string {
			var out []string
			for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
				i++
				if !strings.HasPrefix(strings.TrimSpace(lines[i]), "#") {
					out = append(out, lines[i])
				}
			}
			return out
		}
		switch word {
		case "clear":
			cmds = append(cmds, command{line: i + 1, clear: true})
		case "load":
			var at time.Time
			var fromFile []string
			if f, ok := strings.CutPrefix(rest, "file "); ok {
				name, r, _ := strings.Cut(strings.TrimSpace(f), " ")
				b, err := os.ReadFile(filepath.Join(filepath.Dir(path), name))
				if err != nil {
					return nil, errf(i, "load file: %v", err)
				}
				for _, l := range strings.Split(string(b), "\n") {
					if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
						fromFile = append(fromFile, l)
					}
				}
				rest = r
			}
			if r := strings.TrimSpace(rest); r != "" {
				ts, ok := strings.CutPrefix(r, "at ")
				t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(ts))
				if !ok || err != nil {
					return nil, errf(i, "load: want 'load' or 'load at RFC3339-time', got %q", line)
				}
				at = t
			}
			ds := &Dataset{}
			for _, l := range append(fromFile, body()...) {
				if err := loadLine(ds, at, l); err != nil {
					return nil, errf(i, "%v", err)
				}
			}
			cmds = append(cmds, command{line: start + 1, load: ds})
		case "eval", "eval_ordered", "eval_fail":
			ec := &evalCmd{isFail: word == "eval_fail", ordered: word == "eval_ordered"}
			fields := strings.Fields(rest)
			k := 0
			for ; k < len(fields) && !strings.EqualFold(fields[k], "SELECT"); k++ {
				if err := ec.option(fields[k]); err != nil {
					if !ec.isFail {
						return nil, errf(i, "%v", err)
					}
					break // a query that does not start with SELECT
				}
			}
			if k == len(fields) {
				return nil, errf(i, "%s: no query on the line", word)
			}
			idx := strings.Index(strings.ToUpper(rest), strings.ToUpper(fields[k])+" ")
			if idx < 0 {
				idx = strings.Index(strings.ToUpper(rest), strings.ToUpper(fields[k]))
			}
			q := []string{strings.TrimSpace(rest[idx:])}
			for _, l := range body() {
				switch {
				case l != strings.TrimLeft(l, " \t"):
					q = append(q, strings.TrimSpace(l))
				case ec.isFail:
					msg, ok := strings.CutPrefix(l, "error:")
					if !ok {
						return nil, errf(i, "eval_fail: want 'error: text', got %q", l)
					}
					ec.fail = strings.TrimSpace(msg)
				default:
					var v any
					d := json.NewDecoder(strings.NewReader(l))
					d.UseNumber()
					if err := d.Decode(&v); err != nil {
						return nil, errf(i, "expected row %q: %v", l, err)
					}
					ec.expected = append(ec.expected, normalize(v))
				}
			}
			ec.query = strings.Join(q, "\n")
			if ec.isFail && ec.fail == "" {
				return nil, errf(start, "eval_fail without an 'error:' line")
			}
			cmds = append(cmds, command{line: start + 1, eval: ec})
		default:
			return nil, errf(i, "unknown command %q", word)
		}
	}
	return cmds, nil
}

func (ec *evalCmd) option(f string) error {
	k, v, hasV := strings.Cut(f, "=")
	n := 0
	if hasV {
		var err error
		if n, err = strconv.Atoi(v); err != nil && k != "on_limit" {
			return fmt.Errorf("option %s: %v", f, err)
		}
	}
	switch k {
	case "ordered":
		ec.ordered = true
	case "ids":
		ec.ids = true
	case "require_anchor":
		ec.opts.RequireAnchor = true
	case "page_size":
		ec.opts.PageSize = n
	case "max_scan":
		ec.opts.MaxScan = n
	case "max_hops":
		ec.opts.MaxHops = n
	case "pages":
		ec.pages = n
	case "on_limit":
		if v != "page" && v != "refuse" {
			return fmt.Errorf("option %s: want page or refuse", f)
		}
		if v == "page" {
			ec.opts.OnLimit = tql.Page
		}
	default:
		return fmt.Errorf("unknown option %q", f)
	}
	return nil
}

func loadLine(ds *Dataset, at time.Time, l string) error {
	d := json.NewDecoder(strings.NewReader(l))
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		return fmt.Errorf("load line %q: %v", l, err)
	}
	switch {
	case doc["@id"] != nil:
		m := tql.Model{ID: fmt.Sprint(doc["@id"]), Units: map[string]string{}}
		switch e := doc["extends"].(type) {
		case string:
			m.Extends = []string{e}
		case []any:
			for _, x := range e {
				m.Extends = append(m.Extends, fmt.Sprint(x))
			}
		}
		if cs, ok := doc["contents"].([]any); ok {
			for _, c := range cs {
				if cm, ok := c.(map[string]any); ok && cm["unit"] != nil {
					m.Units[fmt.Sprint(cm["name"])] = fmt.Sprint(cm["unit"])
				}
			}
		}
		ds.Models = append(ds.Models, m)
		ds.ModelJSON = append(ds.ModelJSON, []byte(strings.TrimSpace(l)))
	case doc["$delete"] != nil:
		ds.Changes = append(ds.Changes, Change{At: at, DeleteID: fmt.Sprint(doc["$delete"]), DeleteSource: stringOf(doc["$sourceId"])})
	default:
		ds.Changes = append(ds.Changes, Change{At: at, Doc: doc})
	}
	return nil
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// runEval runs one eval and returns a failure message, or "".
func runEval(ctx context.Context, e Engine, ec *evalCmd) string {
	var rows []any
	token := ""
	pages := 0
	for {
		res, err := e.Query(ctx, ec.query, &ec.opts, token)
		if ec.isFail {
			if err == nil {
				return fmt.Sprintf("expected an error containing %q, got none", ec.fail)
			}
			if !strings.Contains(err.Error(), ec.fail) {
				return fmt.Sprintf("expected an error containing %q, got %q", ec.fail, err.Error())
			}
			return ""
		}
		if err != nil {
			return fmt.Sprintf("unexpected error: %v", err)
		}
		pages++
		if ec.opts.PageSize > 0 && len(res.Rows) > ec.opts.PageSize {
			return fmt.Sprintf("page %d has %d rows, more than the page size %d", pages, len(res.Rows), ec.opts.PageSize)
		}
		for _, r := range res.Rows {
			rows = append(rows, normalize(toJSONValue(r)))
		}
		if res.ContinuationToken == "" {
			break
		}
		if pages > 100000 {
			return "more than 100000 pages"
		}
		token = res.ContinuationToken
	}
	if ec.pages > 0 && pages != ec.pages {
		return fmt.Sprintf("got %d pages, want %d", pages, ec.pages)
	}
	if ec.ids {
		for i, r := range rows {
			rows[i] = idsOf(r)
		}
	}
	got, want := render(rows), render(ec.expected)
	if !ec.ordered {
		slices.Sort(got)
		slices.Sort(want)
	}
	if !slices.Equal(got, want) {
		return fmt.Sprintf("rows differ\n  got:\n    %s\n  want:\n    %s", strings.Join(got, "\n    "), strings.Join(want, "\n    "))
	}
	return ""
}

// toJSONValue round-trips a row through JSON, so that every engine's rows
// compare the same way.
func toJSONValue(r map[string]any) any {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Sprintf("unencodable row: %v", err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return err.Error()
	}
	return v
}

// normalize drops $etag and the $metadata keys other than $model, and
// renders numbers in one way.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			switch k {
			case "$etag":
				continue
			case "$metadata":
				if md, ok := x.(map[string]any); ok {
					m[k] = map[string]any{"$model": md["$model"]}
					continue
				}
			}
			m[k] = normalize(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = normalize(x)
		}
		return l
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return v.String()
		}
		return strconv.FormatFloat(f, 'g', 12, 64)
	}
	return v
}

// idsOf replaces documents by their IDs.
func idsOf(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if id, ok := m["$dtId"]; ok {
		return id
	}
	if id, ok := m["$relationshipId"]; ok {
		return id
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		if xm, ok := x.(map[string]any); ok {
			out[k] = idsOf(xm)
			if p, ok := xm["twins"]; ok && xm["relationships"] != nil {
				out[k] = p
			}
			continue
		}
		out[k] = x
	}
	return out
}

func render(rows []any) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			out[i] = fmt.Sprint(r)
			continue
		}
		out[i] = string(b)
	}
	return out
}
