package tql_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"lodestone/tql"
)

var benchQueries = map[string]string{
	"simple": "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'n-0-1'",
	"join":   "SELECT A, B, R FROM DIGITALTWINS A JOIN B RELATED A.next R WHERE A.$dtId IN ['n-0-1', 'n-0-2'] AND R.w >= 1 AND IS_OF_MODEL(B, 'dtmi:b:Node;1')",
	"match6": "SELECT a, b FROM DIGITALTWINS MATCH (a)-[:next*6]->(b) WHERE a.$dtId = 'n-0-1' AND b.v >= 0",
	"group":  "SELECT T.layer AS layer, SUM(T.v) AS total, COUNT() AS n FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:b:Node;1') GROUP BY T.layer ORDER BY total DESC",
}

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"simple", "join", "match6", "group"} {
		b.Run("expr="+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tql.Parse(benchQueries[name]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// layeredGraph builds layers of width twins; each twin has fanout "next"
// relationships to twins of the following layer.
func layeredGraph(tb testing.TB, layers, width, fanout int) *tql.MemGraph {
	tb.Helper()
	g := tql.NewMemGraph()
	g.AddModel(tql.Model{ID: "dtmi:b:Node;1"})
	var t0 time.Time
	for l := range layers {
		for i := range width {
			id := fmt.Sprintf("n-%d-%d", l, i)
			if err := g.Put(t0, tql.Doc{"$dtId": id, "$metadata": map[string]any{"$model": "dtmi:b:Node;1"}, "layer": float64(l), "v": float64(i % 10)}); err != nil {
				tb.Fatal(err)
			}
			if l+1 == layers {
				continue
			}
			for k := range fanout {
				to := fmt.Sprintf("n-%d-%d", l+1, (i*7+k*13)%width)
				if err := g.Put(t0, tql.Doc{"$relationshipId": fmt.Sprintf("%s-%d", id, k), "$sourceId": id, "$targetId": to, "$relationshipName": "next", "w": float64(k)}); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	g.Twin("n-0-0") // build the indexes outside the timed loop
	return g
}

// BenchmarkEval runs queries on a generated graph of 10 layers of 2,000
// twins (20,000 twins, 54,000 relationships).
func BenchmarkEval(b *testing.B) {
	g := layeredGraph(b, 10, 2000, 3)
	ctx := context.Background()
	for _, name := range []string{"simple", "join", "match6", "group"} {
		b.Run("expr="+name, func(b *testing.B) {
			q, err := tql.Parse(benchQueries[name])
			if err != nil {
				b.Fatal(err)
			}
			opts := &tql.Options{MaxScan: -1}
			if err := tql.Check(q, opts); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var rows, scanned int
			for b.Loop() {
				res, err := tql.Eval(ctx, g, q, opts, "")
				if err != nil {
					b.Fatal(err)
				}
				rows, scanned = len(res.Rows), res.Cost.RowsScanned
			}
			b.ReportMetric(float64(rows), "rows/op")
			b.ReportMetric(float64(scanned), "scanned/op")
		})
	}
}
