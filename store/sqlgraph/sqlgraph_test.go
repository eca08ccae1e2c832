package sqlgraph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"lodestone/store"
	"lodestone/store/sqlgraph"
	"lodestone/store/sqlite"
	"lodestone/tql"
	"lodestone/tql/tqltest"
	"lodestone/twin"
)

// engine runs the tql script tests against the SQLite store through
// sqlgraph, so the SQL-backed graph gives the same rows as the reference
// evaluator.
type engine struct {
	t       *testing.T
	push    bool // through Run (pushdown) instead of tql.Eval
	db      *sqlite.DB
	units   map[string]map[string]string
	extends map[string][]string
}

// PropertyUnit looks the unit up in the model and then in its bases, as a
// DTDL model inherits its contents.
func (e *engine) PropertyUnit(model, property string) string {
	seen := map[string]bool{}
	var walk func(m string) string
	walk = func(m string) string {
		if seen[m] {
			return ""
		}
		seen[m] = true
		if u := e.units[m][property]; u != "" {
			return u
		}
		for _, b := range e.extends[m] {
			if u := walk(b); u != "" {
				return u
			}
		}
		return ""
	}
	return walk(model)
}

func (e *engine) Load(ctx context.Context, ds *tqltest.Dataset) error {
	if e.db != nil {
		e.db.Close()
	}
	// Scripts load data at given times (AS OF tests). The store's clock is
	// set to each change's time, and changes are applied in time order
	// (stable, so script order breaks ties), which is what the history
	// means; "the beginning of time" is a fixed early instant.
	var now time.Time
	begin := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	changes := slices.Clone(ds.Changes)
	// At one time the store needs twins before the relationships that
	// name them, and relationships gone before their twins go.
	rank := func(c tqltest.Change) int {
		switch {
		case c.Doc != nil && c.Doc["$dtId"] != nil:
			return 0
		case c.Doc != nil:
			return 1
		case c.DeleteSource != "":
			return 2
		}
		return 3
	}
	slices.SortStableFunc(changes, func(a, b tqltest.Change) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return rank(a) - rank(b)
	})
	now = begin
	db, err := sqlite.Open(ctx, filepath.Join(e.t.TempDir(), "g.db"), &sqlite.Options{Now: clock})
	if err != nil {
		return err
	}
	e.db = db
	e.units = map[string]map[string]string{}
	e.extends = map[string][]string{}
	known := map[string]bool{}
	var models []twin.Model
	addModel := func(id string, extends []string) {
		if known[id] {
			return
		}
		known[id] = true
		raw, _ := json.Marshal(map[string]any{"@id": id, "@type": "Interface", "@context": "dtmi:dtdl:context;3", "extends": extends})
		models = append(models, twin.Model{ID: id, DTDL: raw, Extends: extends})
	}
	for _, m := range ds.Models {
		addModel(m.ID, m.Extends)
		e.units[m.ID] = m.Units
		e.extends[m.ID] = m.Extends
	}
	for _, m := range ds.Models {
		for _, b := range m.Extends {
			addModel(b, nil)
		}
	}
	for _, c := range ds.Changes {
		if c.Doc != nil && c.Doc["$dtId"] != nil {
			addModel(tql.TwinModel(c.Doc), nil)
		}
	}
	if len(models) > 0 {
		if _, err := db.PutModels(ctx, models); err != nil {
			return err
		}
	}
	for _, c := range changes {
		now = c.At
		if now.IsZero() {
			now = begin
		}
		switch {
		case c.Doc != nil && c.Doc["$dtId"] != nil:
			var t twin.Twin
			if err := roundTrip(c.Doc, &t); err != nil {
				return err
			}
			if _, err := db.PutTwin(ctx, t, store.Condition{}); err != nil {
				return err
			}
		case c.Doc != nil:
			var r twin.Relationship
			if err := roundTrip(c.Doc, &r); err != nil {
				return err
			}
			if _, err := db.PutRelationship(ctx, r, store.Condition{}); err != nil {
				return err
			}
		case c.DeleteSource != "":
			if err := db.DeleteRelationship(ctx, twin.ID(c.DeleteSource), c.DeleteID, store.Condition{}); err != nil {
				return err
			}
		default:
			// The store, like ADT, refuses to delete a twin that still has
			// relationships; the scripts' graph drops them with it.
			out, _ := db.ListRelationships(ctx, twin.ID(c.DeleteID), "")
			in, _ := db.ListIncomingRelationships(ctx, twin.ID(c.DeleteID))
			for _, r := range append(out, in...) {
				if err := db.DeleteRelationship(ctx, r.SourceID, r.ID, store.Condition{}); err != nil {
					return err
				}
			}
			if err := db.DeleteTwin(ctx, twin.ID(c.DeleteID), store.Condition{}); err != nil {
				return err
			}
		}
	}
	return nil
}

func roundTrip(doc tql.Doc, v any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	delete(doc, "$etag")
	return json.Unmarshal(b, v)
}

func (e *engine) Query(ctx context.Context, query string, opts *tql.Options, token string) (*tql.Result, error) {
	g, err := sqlgraph.New(ctx, e.db, time.Time{})
	if err != nil {
		return nil, err
	}
	o := tql.Options{}
	if opts != nil {
		o = *opts
	}
	if o.Units == nil {
		o.Units = e
	}
	if e.push {
		q, err := tql.Parse(query)
		if err != nil {
			return nil, err
		}
		return sqlgraph.Run(ctx, e.db, q, &o, token)
	}
	return tql.Run(ctx, g, query, &o, token)
}

func TestScripts(t *testing.T) {
	for _, push := range []bool{false, true} {
		t.Run(fmt.Sprintf("pushdown=%v", push), func(t *testing.T) {
			tqltest.RunDir(t, filepath.Join("..", "..", "tql", "tqltest", "testdata"), func(t *testing.T) tqltest.Engine {
				e := &engine{t: t, push: push}
				t.Cleanup(func() {
					if e.db != nil {
						e.db.Close()
					}
				})
				return e
			})
		})
	}
}

func ExampleNew() {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.PutModels(ctx, []twin.Model{{ID: "dtmi:ex:Mine;1", DTDL: json.RawMessage(`{"@id":"dtmi:ex:Mine;1","@type":"Interface","@context":"dtmi:dtdl:context;3"}`)}})
	for _, id := range []twin.ID{"mine-a", "mine-b"} {
		db.PutTwin(ctx, twin.Twin{ID: id, Metadata: twin.Metadata{Model: "dtmi:ex:Mine;1"}, Properties: map[string]any{"output": 1000.0}}, store.Condition{})
	}
	g, err := sqlgraph.New(ctx, db, time.Time{})
	if err != nil {
		panic(err)
	}
	res, err := tql.Run(ctx, g, "SELECT COUNT() FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:ex:Mine;1')", nil, "")
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Rows[0]["COUNT"])
	// Output: 2
}

func ExampleRun() {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.PutModels(ctx, []twin.Model{{ID: "dtmi:ex:Mine;1", DTDL: json.RawMessage(`{"@id":"dtmi:ex:Mine;1","@type":"Interface","@context":"dtmi:dtdl:context;3"}`)}})
	for i, c := range []string{"AU", "CN", "CN"} {
		db.PutTwin(ctx, twin.Twin{ID: twin.ID(fmt.Sprintf("mine-%d", i)), Metadata: twin.Metadata{Model: "dtmi:ex:Mine;1"}, Properties: map[string]any{"country": c, "output": 1000.0 * float64(i+1)}}, store.Condition{})
	}
	q, err := tql.Parse("SELECT T.country AS c, SUM(T.output) AS total FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:ex:Mine;1') GROUP BY T.country")
	if err != nil {
		panic(err)
	}
	res, err := sqlgraph.Run(ctx, db, q, nil, "")
	if err != nil {
		panic(err)
	}
	for _, r := range res.Rows {
		fmt.Println(r["c"], r["total"])
	}
	fmt.Println("rows scanned:", res.Cost.RowsScanned)
	// Output:
	// AU 1000
	// CN 5000
	// rows scanned: 3
}
