package sqlgraph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"lodestone/store"
	"lodestone/store/sqlgraph"
	"lodestone/store/sqlgraph/sqlgraphtest"
	"lodestone/store/sqlite"
	"lodestone/tql"
	"lodestone/twin"
)

// TestScripts runs every tql script on SQLite through sqlgraph, with and
// without pushdown, the AS OF scripts included (the store takes the
// scripts' clock).
func TestScripts(t *testing.T) {
	open := func(t *testing.T, now func() time.Time) (sqlgraphtest.Store, bool) {
		db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "g.db"), &sqlite.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return db, true
	}
	for _, push := range []bool{false, true} {
		t.Run(fmt.Sprintf("pushdown=%v", push), func(t *testing.T) {
			sqlgraphtest.RunScripts(t, open, push)
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
	db.PutModels(ctx, []twin.Model{{ID: "dtmi:ex:Mine;1", DTDL: json.RawMessage(`{"@id":"dtmi:ex:Mine;1","@type":"Interface","@context":"dtmi:dtdl:context;3"}`)}}, store.Condition{})
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
	db.PutModels(ctx, []twin.Model{{ID: "dtmi:ex:Mine;1", DTDL: json.RawMessage(`{"@id":"dtmi:ex:Mine;1","@type":"Interface","@context":"dtmi:dtdl:context;3"}`)}}, store.Condition{})
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
