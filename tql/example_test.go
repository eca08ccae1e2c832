package tql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"lodestone/tql"
)

func ExampleParse() {
	q, err := tql.Parse("select m, p from digitaltwins match (m)-[:suppliesTo*..6]->(p) where m.$dtId = 'mine-1'")
	if err != nil {
		fmt.Println(err)
		return
	}
	lo, hi := q.Matches[0].Rels[0].Hops.Bounds()
	fmt.Println(q)
	fmt.Println("hops:", lo, "to", hi)

	_, err = tql.Parse("SELECT T, CT FROM DIGITALTWINS T JOIN CT T.contains")
	fmt.Println(err)
	// Output:
	// SELECT m, p FROM DIGITALTWINS MATCH (m)-[:suppliesTo*..6]->(p) WHERE m.$dtId = 'mine-1'
	// hops: 1 to 6
	// tql: line 1, col 42: expected RELATED after JOIN alias, found "T"
}

func exampleGraph() *tql.MemGraph {
	g := tql.NewMemGraph()
	g.AddModel(tql.Model{ID: "dtmi:ex:Site;1"})
	g.AddModel(tql.Model{ID: "dtmi:ex:Mine;1", Extends: []string{"dtmi:ex:Site;1"}, Units: map[string]string{"stock": "tonne"}})
	g.AddModel(tql.Model{ID: "dtmi:ex:Plant;1", Extends: []string{"dtmi:ex:Site;1"}})
	jan := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	jun := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range []tql.Doc{
		{"$dtId": "mine-1", "$metadata": map[string]any{"$model": "dtmi:ex:Mine;1"}, "stock": 0.4, "region": "north"},
		{"$dtId": "mine-2", "$metadata": map[string]any{"$model": "dtmi:ex:Mine;1"}, "stock": 12.0, "region": "north"},
		{"$dtId": "mine-3", "$metadata": map[string]any{"$model": "dtmi:ex:Mine;1"}, "stock": 3.0, "region": "south"},
		{"$dtId": "plant-1", "$metadata": map[string]any{"$model": "dtmi:ex:Plant;1"}},
		{"$relationshipId": "r1", "$sourceId": "mine-1", "$targetId": "plant-1", "$relationshipName": "suppliesTo"},
	} {
		if err := g.Put(jan, d); err != nil {
			panic(err)
		}
	}
	g.DeleteTwin(jun, "mine-3")
	return g
}

func ExampleRun() {
	g := exampleGraph()
	ctx := context.Background()
	for _, q := range []string{
		"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:ex:Site;1') AND stock < '500 kg'",
		"SELECT m.region AS region, SUM(m.stock) AS tonnes FROM DIGITALTWINS m WHERE IS_OF_MODEL(m, 'dtmi:ex:Mine;1') GROUP BY m.region ORDER BY tonnes DESC",
		"SELECT COUNT() FROM DIGITALTWINS AS OF '2025-03-01T00:00:00Z' WHERE IS_OF_MODEL('dtmi:ex:Mine;1')",
		"SELECT p.$dtId FROM DIGITALTWINS MATCH (m)-[:suppliesTo]->(p) WHERE m.$dtId = 'mine-1'",
	} {
		res, err := tql.Run(ctx, g, q, nil, "")
		if err != nil {
			fmt.Println(err)
			continue
		}
		b, _ := json.Marshal(res)
		fmt.Println(string(b))
	}
	// Output:
	// {"value":[{"$dtId":"mine-1","$metadata":{"$model":"dtmi:ex:Mine;1"},"region":"north","stock":0.4}],"cost":{"rowsScanned":3}}
	// {"value":[{"region":"north","tonnes":12.4}],"cost":{"rowsScanned":2}}
	// {"value":[{"COUNT":3}],"cost":{"rowsScanned":3}}
	// {"value":[{"$dtId":"plant-1"}],"cost":{"rowsScanned":3}}
}

func ExampleEval_paging() {
	g := exampleGraph()
	q, _ := tql.Parse("SELECT T.$dtId AS id FROM DIGITALTWINS T")
	opts := &tql.Options{PageSize: 2}
	token := ""
	for {
		res, err := tql.Eval(context.Background(), g, q, opts, token)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res.Rows)
		if res.ContinuationToken == "" {
			return
		}
		token = res.ContinuationToken
	}
	// Output:
	// [map[id:mine-1] map[id:mine-2]]
	// [map[id:plant-1]]
}
