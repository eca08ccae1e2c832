package postgres_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"lodestone/store"
	"lodestone/store/postgres"
	"lodestone/store/sqlgraph"
	"lodestone/tql"
	"lodestone/tql/tqltest"
	"lodestone/twin"
)

// engine runs the tql script tests against the PostgreSQL store through
// sqlgraph (the pattern of store/sqlgraph's own test on SQLite), so that
// queries give the same rows on both backends and in the reference
// evaluator.
type engine struct {
	t       *testing.T
	db      *postgres.DB
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
	for _, c := range ds.Changes {
		if !c.At.IsZero() {
			// The store stamps writes with its own transaction time; the
			// AS OF scripts need a clock the test controls.
			e.t.Skip("script loads data at given times; the PostgreSQL store has no injectable clock")
		}
	}
	if e.db != nil {
		e.db.Close()
	}
	db, err := postgres.Open(ctx, newSchemaDSN(e.t), nil)
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
	for _, c := range ds.Changes {
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
	return tql.Run(ctx, g, query, &o, token)
}

func TestScripts(t *testing.T) {
	testDSN(t)
	tqltest.RunDir(t, filepath.Join("..", "..", "tql", "tqltest", "testdata"), func(t *testing.T) tqltest.Engine {
		e := &engine{t: t}
		t.Cleanup(func() {
			if e.db != nil {
				e.db.Close()
			}
		})
		return e
	})
}

// TestSQLGraphAsOf runs a query through sqlgraph on the as-of relations,
// which the scripts cannot reach (they need an injectable clock).
func TestSQLGraphAsOf(t *testing.T) {
	db := openTest(t, newSchemaDSN(t))
	defer db.Close()
	putModel(t, db)
	ctx := t.Context()
	v1, err := db.PutTwin(ctx, twin.Twin{ID: "a", Metadata: twin.Metadata{Model: testModel}, Properties: map[string]any{"v": 1.0}}, store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutTwin(ctx, twin.Twin{ID: "b", Metadata: twin.Metadata{Model: testModel}, Properties: map[string]any{"v": 2.0}}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutRelationship(ctx, twin.Relationship{ID: "r", SourceID: "a", TargetID: "b", Name: "feeds"}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PatchTwin(ctx, "a", twin.Patch{{Op: twin.OpReplace, Path: "/v", Value: 10.0}}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	const q = "SELECT T.v FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '" + testModel + "') ORDER BY T.$dtId"
	tests := []struct {
		name string
		at   time.Time
		want []float64
	}{
		{"now", time.Time{}, []float64{10, 2}},
		{"as of a's creation", v1.Metadata.LastUpdateTime, []float64{1}},
		{"before anything", v1.Metadata.LastUpdateTime.Add(-time.Nanosecond), nil},
	}
	for _, tt := range tests {
		g, err := sqlgraph.New(ctx, db, tt.at)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tql.Run(ctx, g, q, nil, "")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got []float64
		for _, row := range res.Rows {
			got = append(got, row["v"].(float64))
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: rows %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: rows %v, want %v", tt.name, got, tt.want)
				break
			}
		}
	}
}
