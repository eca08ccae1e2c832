package sqlgraphtest

import (
	"context"
	"encoding/json"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"lodestone/store"
	"lodestone/store/sqlgraph"
	"lodestone/tql"
	"lodestone/tql/tqltest"
	"lodestone/twin"
)

// Store is a store the engine can load and query through SQL.
type Store interface {
	store.Store
	store.SQLer
}

// OpenFunc opens an empty store for one script. When the backend can take
// a clock it uses now for transaction times and reports clocked; scripts
// that load data at given times (AS OF) are skipped on other backends.
type OpenFunc func(t *testing.T, now func() time.Time) (st Store, clocked bool)

// ScriptDir is the directory of the tql scripts, found from this file so
// that any package's test can run them.
func ScriptDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "tql", "tqltest", "testdata")
}

// RunScripts runs every script against stores made by open; with pushdown
// the queries go through sqlgraph.Run, otherwise through the reference
// evaluator over a sqlgraph.Graph.
func RunScripts(t *testing.T, open OpenFunc, pushdown bool) {
	tqltest.RunDir(t, ScriptDir(), func(t *testing.T) tqltest.Engine {
		e := &engine{t: t, open: open, push: pushdown}
		t.Cleanup(func() {
			if e.db != nil {
				e.db.Close()
			}
		})
		return e
	})
}

type engine struct {
	t       *testing.T
	open    OpenFunc
	push    bool
	db      Store
	now     time.Time
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

// begin stands for "the beginning of time" of the scripts.
var begin = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// rank orders the changes made at one time the way the store needs them:
// twins before the relationships that name them, relationships gone before
// their twins go.
func rank(c tqltest.Change) int {
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

func (e *engine) Load(ctx context.Context, ds *tqltest.Dataset) error {
	if e.db != nil {
		e.db.Close()
	}
	e.now = begin
	db, clocked := e.open(e.t, func() time.Time { return e.now })
	e.db = db
	timed := slices.ContainsFunc(ds.Changes, func(c tqltest.Change) bool { return !c.At.IsZero() })
	if timed && !clocked {
		e.t.Skip("script loads data at given times; this store has no injectable clock")
	}
	// Changes are applied in time order (stable, so script order breaks
	// ties): that is what the history means.
	changes := slices.Clone(ds.Changes)
	slices.SortStableFunc(changes, func(a, b tqltest.Change) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return rank(a) - rank(b)
	})
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
		if _, err := db.PutModels(ctx, models, store.Condition{}); err != nil {
			return err
		}
	}
	for _, c := range changes {
		e.now = c.At
		if e.now.IsZero() {
			e.now = begin
		}
		if err := apply(ctx, db, c); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, db Store, c tqltest.Change) error {
	switch {
	case c.Doc != nil && c.Doc["$dtId"] != nil:
		var t twin.Twin
		if err := roundTrip(c.Doc, &t); err != nil {
			return err
		}
		_, err := db.PutTwin(ctx, t, store.Condition{})
		return err
	case c.Doc != nil:
		var r twin.Relationship
		if err := roundTrip(c.Doc, &r); err != nil {
			return err
		}
		_, err := db.PutRelationship(ctx, r, store.Condition{})
		return err
	case c.DeleteSource != "":
		return db.DeleteRelationship(ctx, twin.ID(c.DeleteSource), c.DeleteID, store.Condition{})
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
		return db.DeleteTwin(ctx, twin.ID(c.DeleteID), store.Condition{})
	}
}

// roundTrip converts a script document into a twin or relationship
// through its JSON, without the etag the store sets itself.
func roundTrip(doc tql.Doc, v any) error {
	d := make(tql.Doc, len(doc))
	for k, x := range doc {
		if k != "$etag" {
			d[k] = x
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (e *engine) Query(ctx context.Context, query string, opts *tql.Options, token string) (*tql.Result, error) {
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
	g, err := sqlgraph.New(ctx, e.db, time.Time{})
	if err != nil {
		return nil, err
	}
	return tql.Run(ctx, g, query, &o, token)
}
