package tql_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/tql"
)

// plainGraph hides the history of a MemGraph.
type plainGraph struct{ tql.Graph }

func TestEvalErrors(t *testing.T) {
	g := fuzzGraph(t)
	ctx := t.Context()
	first, err := tql.Run(ctx, g, "SELECT * FROM DIGITALTWINS", &tql.Options{PageSize: 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		g     tql.Graph
		query string
		opts  *tql.Options
		token string
		want  error
	}{
		{"garbage token", ctx, g, "SELECT * FROM DIGITALTWINS", nil, "!!", tql.ErrBadToken},
		{"token of another query", ctx, g, "SELECT T FROM DIGITALTWINS T", nil, first.ContinuationToken, tql.ErrBadToken},
		{"no history", ctx, plainGraph{g}, "SELECT * FROM DIGITALTWINS AS OF '2025-01-01T00:00:00Z'", nil, "", tql.ErrNoHistory},
		{"cost", ctx, g, "SELECT a FROM DIGITALTWINS MATCH (a)-[*..10]-(b)", &tql.Options{MaxScan: 100}, "", tql.ErrCostLimit},
		{"canceled", canceled, g, "SELECT a FROM DIGITALTWINS MATCH (a)-[*..10]-(b)", &tql.Options{MaxScan: -1}, "", context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tql.Run(tt.ctx, tt.g, tt.query, tt.opts, tt.token)
			if !errors.Is(err, tt.want) {
				t.Errorf("Run(%q) error = %v, want %v", tt.query, err, tt.want)
			}
		})
	}
	var ce *tql.CostError
	_, err = tql.Run(ctx, g, "SELECT a FROM DIGITALTWINS MATCH (a)-[*..10]-(b)", &tql.Options{MaxScan: 100}, "")
	if !errors.As(err, &ce) || ce.Limit != 100 {
		t.Errorf("Run error = %v, want a *CostError with Limit 100", err)
	}
}

// TestPagesCoverResult checks, for every page size, that following the
// continuation tokens returns exactly the rows of one big page.
func TestPagesCoverResult(t *testing.T) {
	g := fuzzGraph(t)
	queries := []string{
		"SELECT a, b FROM DIGITALTWINS MATCH (a)-[*..3]->(b)",
		"SELECT p FROM DIGITALTWINS MATCH p = (a)-[:r*..4]-(b) WHERE a.$dtId IN ['a', 'c']",
		"SELECT a.$dtId AS x, r.w AS w FROM DIGITALTWINS a JOIN b RELATED a.q r ORDER BY w DESC, x",
		"SELECT * FROM RELATIONSHIPS",
	}
	for _, query := range queries {
		all, err := tql.Run(t.Context(), g, query, &tql.Options{PageSize: 100000}, "")
		if err != nil {
			t.Fatal(err)
		}
		for size := 1; size <= len(all.Rows)+1; size++ {
			var got []map[string]any
			tok := ""
			for {
				res, err := tql.Run(t.Context(), g, query, &tql.Options{PageSize: size}, tok)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, res.Rows...)
				if tok = res.ContinuationToken; tok == "" {
					break
				}
			}
			if diff := cmp.Diff(all.Rows, got); diff != "" {
				t.Errorf("%s with page size %d (-one page +pages):\n%s", query, size, diff)
			}
		}
	}
}

// TestConcurrentEval evaluates one checked query from several goroutines
// while the graph changes (run with -race).
func TestConcurrentEval(t *testing.T) {
	g := fuzzGraph(t)
	q, err := tql.Parse("SELECT b FROM DIGITALTWINS MATCH (a)-[*..3]->(b) WHERE IS_OF_MODEL(b, 'dtmi:f:A;1') AND b.m < '5 t'")
	if err != nil {
		t.Fatal(err)
	}
	if err := tql.Check(q, nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for i := range 4 {
		go func() {
			var err error
			for range 20 {
				if _, err = tql.Eval(t.Context(), g, q, nil, ""); err != nil {
					break
				}
				if i == 0 {
					err = g.Put(time.Time{}, tql.Doc{"$dtId": "z", "$metadata": map[string]any{"$model": "dtmi:f:B;1"}})
				}
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
