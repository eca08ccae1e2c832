package tql_test

import (
	"context"
	"testing"
	"time"

	"lodestone/tql"
	"lodestone/tql/tqltest"
)

// fuzzGraph is a small graph with a cycle, for evaluating fuzzed queries.
func fuzzGraph(tb testing.TB) *tql.MemGraph {
	tb.Helper()
	g := tql.NewMemGraph()
	g.AddModel(tql.Model{ID: "dtmi:f:A;1", Units: map[string]string{"m": "tonne"}})
	g.AddModel(tql.Model{ID: "dtmi:f:B;1", Extends: []string{"dtmi:f:A;1"}})
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := []string{"a", "b", "c", "d"}
	for i, id := range ids {
		model := "dtmi:f:A;1"
		if i%2 == 1 {
			model = "dtmi:f:B;1"
		}
		if err := g.Put(t0.Add(time.Duration(i)*time.Hour), tql.Doc{"$dtId": id, "$metadata": map[string]any{"$model": model},
			"m": float64(i), "s": id + "x", "o": map[string]any{"k": true}, "l": []any{1.0, "x"}}); err != nil {
			tb.Fatal(err)
		}
	}
	for i, id := range ids {
		next := ids[(i+1)%len(ids)]
		for _, name := range []string{"r", "q"} {
			if err := g.Put(t0, tql.Doc{"$relationshipId": id + name + next, "$sourceId": id, "$targetId": next, "$relationshipName": name, "w": float64(i)}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return g
}

// FuzzParse parses arbitrary text (seeded with every script-test query),
// checks that the canonical form of what parses parses again to the same
// form, and evaluates what checks with a bounded budget. Nothing may panic
// or run unbounded.
func FuzzParse(f *testing.F) {
	qs, err := tqltest.Queries("tqltest/testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, q := range qs {
		f.Add(q)
	}
	g := fuzzGraph(f)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := tql.Parse(s)
		if err != nil {
			return
		}
		c := q.String()
		q2, err := tql.Parse(c)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", c, s, err)
		}
		if c2 := q2.String(); c2 != c {
			t.Fatalf("canonical form is not stable: %q then %q", c, c2)
		}
		opts := &tql.Options{MaxScan: 20000, PageSize: 7}
		if err := tql.Check(q, opts); err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tok := ""
		for range 50 {
			res, err := tql.Eval(ctx, g, q, opts, tok)
			if err != nil || res.ContinuationToken == "" {
				return
			}
			tok = res.ContinuationToken
		}
	})
}
