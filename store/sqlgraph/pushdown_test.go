package sqlgraph_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/store"
	"lodestone/store/sqlgraph"
	"lodestone/store/sqlite"
	"lodestone/tql"
	"lodestone/twin"
)

// smallGraph is a store whose twins have properties of every JSON type,
// missing ones included, for comparing the SQL path with the reference
// evaluator.
func smallGraph(t testing.TB, ctx context.Context) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "small.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	smallAsOf = fillSmall(t, ctx, db)
	return db
}

// smallAsOf is a time between the two states of the last small graph.
var smallAsOf time.Time

// fillSmall writes the small graph into an empty store, then changes a
// third of its twins and deletes a third of its relationships; it returns
// a time between the two states.
func fillSmall(t testing.TB, ctx context.Context, db store.Store) time.Time {
	t.Helper()
	models := []twin.Model{
		{ID: "dtmi:t:Base;1", DTDL: []byte(`{"@id":"dtmi:t:Base;1","@type":"Interface","@context":"dtmi:dtdl:context;3"}`)},
		{ID: "dtmi:t:A;1", Extends: []string{"dtmi:t:Base;1"}, DTDL: []byte(`{"@id":"dtmi:t:A;1","@type":"Interface","@context":"dtmi:dtdl:context;3","extends":"dtmi:t:Base;1"}`)},
		{ID: "dtmi:t:B;1", DTDL: []byte(`{"@id":"dtmi:t:B;1","@type":"Interface","@context":"dtmi:dtdl:context;3"}`)},
	}
	if _, err := db.PutModels(ctx, models, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	vals := []any{nil, true, false, 0.0, 1.0, 2.5, -3.0, 1e6, "", "a", "ab", "b", "abc", "x'y", "é", []any{1.0, "a"}, map[string]any{"x": 1.0}}
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([]twin.ID, 40)
	for i := range ids {
		ids[i] = twin.ID(fmt.Sprintf("tw-%02d", i))
		props := map[string]any{}
		for _, p := range []string{"a", "b", "s"} {
			if r.IntN(5) > 0 {
				props[p] = vals[r.IntN(len(vals))]
			}
		}
		if r.IntN(2) == 0 {
			props["n"] = map[string]any{"x": vals[r.IntN(len(vals))]}
		}
		m := models[r.IntN(len(models))].ID
		if _, err := db.PutTwin(ctx, twin.Twin{ID: ids[i], Metadata: twin.Metadata{Model: m}, Properties: props}, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	var rels []twin.Relationship
	for i := range 60 {
		rel := twin.Relationship{ID: fmt.Sprintf("r-%02d", i), SourceID: ids[r.IntN(len(ids))], TargetID: ids[r.IntN(len(ids))],
			Name: []string{"feeds", "owns"}[r.IntN(2)], Properties: map[string]any{"w": vals[r.IntN(len(vals))]}}
		if _, err := db.PutRelationship(ctx, rel, store.Condition{}); err != nil {
			t.Fatal(err)
		}
		rels = append(rels, rel)
	}
	time.Sleep(2 * time.Millisecond)
	mid := time.Now()
	time.Sleep(2 * time.Millisecond)
	for i := 0; i < len(ids); i += 3 {
		tw, err := db.GetTwin(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		tw.Properties["a"] = vals[r.IntN(len(vals))]
		delete(tw.Properties, "s")
		tw.ETag = ""
		if _, err := db.PutTwin(ctx, tw, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < len(rels); i += 3 {
		if err := db.DeleteRelationship(ctx, rels[i].SourceID, rels[i].ID, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	return mid
}

var (
	lits  = []string{"null", "true", "false", "0", "1", "2.5", "-3", "1000000", "''", "'a'", "'ab'", "'b'", "'x\\'y'", "'é'"}
	props = []string{"T.a", "T.b", "T.s", "T.n.x", "T.$dtId", "T.$metadata.$model", "T.zz"}
	ops   = []string{"=", "!=", "<", "<=", ">", ">="}
)

// randCond is a random WHERE condition over the twins of smallGraph.
func randCond(r *rand.Rand, depth int) string {
	p := props[r.IntN(len(props))]
	l := lits[r.IntN(len(lits))]
	switch k := r.IntN(10); {
	case depth > 0 && k == 0:
		return "(" + randCond(r, depth-1) + " AND " + randCond(r, depth-1) + ")"
	case depth > 0 && k == 1:
		return "(" + randCond(r, depth-1) + " OR " + randCond(r, depth-1) + ")"
	case depth > 0 && k == 2:
		return "NOT " + randCond(r, depth-1)
	case k == 3:
		in := []string{lits[r.IntN(len(lits))], lits[r.IntN(len(lits))]}
		return p + []string{" IN ", " NIN "}[r.IntN(2)] + "[" + strings.Join(in[:r.IntN(3)], ", ") + "]"
	case k == 4:
		f := []string{"IS_DEFINED", "IS_NULL", "IS_BOOL", "IS_NUMBER", "IS_STRING", "IS_PRIMITIVE", "IS_OBJECT"}
		return f[r.IntN(len(f))] + "(" + p + ")"
	case k == 5:
		f := []string{"STARTSWITH", "ENDSWITH", "CONTAINS"}
		return f[r.IntN(len(f))] + "(" + p + ", " + lits[r.IntN(len(lits))] + ")"
	case k == 6:
		return "IS_OF_MODEL(T, '" + []string{"dtmi:t:Base;1", "dtmi:t:A;1", "dtmi:t:B;1"}[r.IntN(3)] + "'" + []string{"", ", exact"}[r.IntN(2)] + ")"
	case k == 7:
		return l + " " + ops[r.IntN(len(ops))] + " " + p
	}
	return p + " " + ops[r.IntN(len(ops))] + " " + l
}

// randQuery is a random single-collection query.
func randQuery(r *rand.Rand) string {
	where := randCond(r, 2)
	on := func(v string) string {
		return strings.ReplaceAll(strings.ReplaceAll(randCond(r, 1), "T.", v+"."), "(T, ", "("+v+", ")
	}
	model := "IS_OF_MODEL(" + []string{"a", "b"}[r.IntN(2)] + ", '" + []string{"dtmi:t:Base;1", "dtmi:t:A;1", "dtmi:t:B;1"}[r.IntN(3)] + "')"
	switch r.IntN(8) {
	case 6:
		return "SELECT a, b FROM DIGITALTWINS MATCH (a)-[:" + []string{"feeds", "owns", "feeds|owns"}[r.IntN(3)] + []string{"", "*..2"}[r.IntN(2)] + "]->(b) WHERE " +
			[]string{model + " AND " + on("a"), on("a") + " AND " + model, model + " AND " + on("a") + " AND " + on("b"), on("b") + " AND " + model}[r.IntN(4)]
	case 7:
		return "SELECT a, b FROM DIGITALTWINS a JOIN b RELATED a.feeds WHERE " + model + " AND " + on("a") + []string{"", " AND " + on("b")}[r.IntN(2)]
	case 0:
		return "SELECT COUNT() FROM DIGITALTWINS T WHERE " + where
	case 1:
		g := props[r.IntN(4)]
		p := func() string { return props[r.IntN(len(props))] }
		return "SELECT " + g + " AS k, COUNT() AS n, SUM(" + p() + ") AS s, AVG(" + p() + ") AS m, MIN(" + p() + ") AS lo, MAX(" + p() + ") AS hi, COUNT(" + p() + ") AS c FROM DIGITALTWINS T WHERE " + where + " GROUP BY " + g
	case 2:
		return "SELECT " + []string{"TOP(5) ", "", "TOP(30) "}[r.IntN(3)] + "T.$dtId AS id, T.a AS a FROM DIGITALTWINS T WHERE " + where + " ORDER BY " +
			[]string{"T.a", "a", "T.n.x", "2", "T.s"}[r.IntN(5)] + []string{"", " DESC"}[r.IntN(2)] + []string{"", ", T.b", ", id DESC"}[r.IntN(3)]
	case 3:
		w := strings.ReplaceAll(strings.ReplaceAll(where, "T.$metadata.$model", "T.w"), "T.$dtId", "T.$targetId")
		w = strings.ReplaceAll(w, "IS_OF_MODEL(T, ", "STARTSWITH(T.$sourceId, ")
		w = strings.ReplaceAll(w, "', exact)", "')")
		return "SELECT R FROM RELATIONSHIPS R WHERE " + strings.ReplaceAll(w, "T.", "R.")
	}
	return "SELECT T FROM DIGITALTWINS T WHERE " + where
}

// pages runs a query to the end and returns its pages.
func pages(t testing.TB, run func(token string) (*tql.Result, error)) ([]*tql.Result, error) {
	var out []*tql.Result
	token := ""
	for range 100 {
		res, err := run(token)
		if err != nil {
			return out, err
		}
		out = append(out, res)
		if token = res.ContinuationToken; token == "" {
			return out, nil
		}
	}
	t.Fatal("more than 100 pages")
	return nil, nil
}

func comparePushdown(t *testing.T, ctx context.Context, db store.SQLer, query string, opts tql.Options) {
	t.Helper()
	ref, refErr := pages(t, func(token string) (*tql.Result, error) {
		g, err := sqlgraph.New(ctx, db, time.Time{})
		if err != nil {
			return nil, err
		}
		return tql.Run(ctx, g, query, &opts, token)
	})
	got, gotErr := pages(t, func(token string) (*tql.Result, error) {
		q, err := tql.Parse(query)
		if err != nil {
			return nil, err
		}
		return sqlgraph.Run(ctx, db, q, &opts, token)
	})
	if refErr != nil && !errors.Is(refErr, tql.ErrCostLimit) {
		t.Fatalf("%s\nreference error: %v", query, refErr)
	}
	if (refErr == nil) != (gotErr == nil) {
		t.Fatalf("%s\nreference error %v, SQL path error %v", query, refErr, gotErr)
	}
	if len(ref) != len(got) {
		t.Fatalf("%s\n%d pages, want %d", query, len(got), len(ref))
	}
	for i := range ref {
		if diff := cmp.Diff(ref[i].Rows, got[i].Rows); diff != "" {
			t.Fatalf("%s\npage %d rows (-reference +SQL):\n%s", query, i, diff)
		}
		if ref[i].ContinuationToken != got[i].ContinuationToken {
			t.Fatalf("%s\npage %d token %q, want %q", query, i, got[i].ContinuationToken, ref[i].ContinuationToken)
		}
		if got[i].Cost.RowsScanned != ref[i].Cost.RowsScanned {
			t.Errorf("%s\npage %d cost %d, want the reference's %d", query, i, got[i].Cost.RowsScanned, ref[i].Cost.RowsScanned)
		}
	}
}

func TestPushdownMatchesReference(t *testing.T) {
	ctx := t.Context()
	db := smallGraph(t, ctx)
	n := 600
	if testing.Short() {
		n = 150
	}
	r := rand.New(rand.NewPCG(7, 11))
	asOf := " AS OF '" + smallAsOf.UTC().Format(time.RFC3339Nano) + "'"
	for range n {
		q := randQuery(r)
		if r.IntN(4) == 0 {
			q = withAsOf(q, asOf)
		}
		opts := tql.Options{PageSize: 1 + r.IntN(12), MaxScan: []int{0, 0, -1, 25, 50}[r.IntN(5)]}
		if r.IntN(3) == 0 {
			opts.OnLimit = tql.Page
		}
		comparePushdown(t, ctx, db, q, opts)
	}
}

func FuzzPushdown(f *testing.F) {
	for i := range uint64(8) {
		f.Add(i, uint8(5))
	}
	db := smallGraph(f, context.Background())
	f.Fuzz(func(t *testing.T, seed uint64, page uint8) {
		r := rand.New(rand.NewPCG(seed, 3))
		comparePushdown(t, t.Context(), db, randQuery(r), tql.Options{PageSize: 1 + int(page%16)})
	})
}

// withAsOf adds an AS OF clause after the collection of a randQuery query.
func withAsOf(q, asOf string) string {
	for _, from := range []string{"FROM DIGITALTWINS T", "FROM RELATIONSHIPS R"} {
		if i := strings.Index(q, from); i >= 0 {
			return q[:i+len(from)] + asOf + q[i+len(from):]
		}
	}
	return q
}
