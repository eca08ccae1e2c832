package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"lodestone/store"
	"lodestone/store/sqlgraph"
	"lodestone/store/sqlgraph/sqlgraphtest"
	"lodestone/tql"
	"lodestone/twin"
)

// TestScripts runs every tql script on PostgreSQL through sqlgraph, with
// and without pushdown, so queries give the same rows as on SQLite and in
// the reference evaluator. The store takes no clock, so the scripts that
// load data at given times skip here; TestSQLGraphAsOf covers AS OF.
func TestScripts(t *testing.T) {
	testDSN(t)
	open := func(t *testing.T, _ func() time.Time) (sqlgraphtest.Store, bool) {
		return openTest(t, newSchemaDSN(t)), false
	}
	for _, push := range []bool{false, true} {
		t.Run(fmt.Sprintf("pushdown=%v", push), func(t *testing.T) {
			sqlgraphtest.RunScripts(t, open, push)
		})
	}
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
