package tenancy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"lodestone/tql"
	"lodestone/trust/auth"
	"lodestone/trust/tenancy"
	"lodestone/trust/tenancy/tenancytest"
)

// viewQueries are the queries of the differential test: rows, COUNT and
// other aggregates, a WHERE on a property a share may hide, IS_OF_MODEL
// scans (exact and not), relationships, JOIN and MATCH paths. %s is where
// an AS OF clause goes.
var viewQueries = []string{
	"SELECT * FROM DIGITALTWINS%s",
	"SELECT COUNT() FROM DIGITALTWINS%s",
	"SELECT * FROM DIGITALTWINS T%s WHERE T.secret = 's-1'",
	"SELECT COUNT() FROM DIGITALTWINS T%s WHERE T.secret = 's-0'",
	"SELECT T.$dtId AS id, T.capacity AS c FROM DIGITALTWINS T%s WHERE T.capacity > 40",
	"SELECT * FROM DIGITALTWINS%s WHERE IS_OF_MODEL('dtmi:acme:Base;1')",
	"SELECT COUNT() FROM DIGITALTWINS%s WHERE IS_OF_MODEL('dtmi:globex:Plant;1', exact)",
	"SELECT T.name AS name, SUM(T.capacity) AS total, COUNT() AS n, AVG(T.level) AS lv, MAX(T.capacity) AS hi FROM DIGITALTWINS T%s GROUP BY T.name ORDER BY name",
	"SELECT T.$metadata.$model AS m, COUNT() AS n FROM DIGITALTWINS T%s GROUP BY T.$metadata.$model ORDER BY m",
	"SELECT * FROM RELATIONSHIPS%s",
	"SELECT COUNT() FROM RELATIONSHIPS R%s WHERE R.secret = 'rs-1'",
	"SELECT R.$relationshipName AS n, SUM(R.weight) AS w FROM RELATIONSHIPS R%s GROUP BY R.$relationshipName ORDER BY n",
	"SELECT T, U, R FROM DIGITALTWINS T%s JOIN U RELATED T.feeds R",
	"SELECT T, U FROM DIGITALTWINS T%s JOIN U RELATED T.owns WHERE T.$dtId IN ['t-00', 't-01', 't-02', 't-03', 't-04', 't-05']",
	"SELECT a, b FROM DIGITALTWINS%s MATCH (a)-[:feeds*1..3]->(b)",
	"SELECT COUNT() FROM DIGITALTWINS%s MATCH (a)-[*..2]-(b)",
	"SELECT a.$dtId AS a, b.$dtId AS b FROM DIGITALTWINS%s MATCH (a)-[:owns|partOf*..3]->(b) WHERE b.secret = 's-2'",
	"SELECT p FROM DIGITALTWINS%s MATCH p = (a)-[*..3]->(b) WHERE a.$dtId IN ['t-01', 't-03', 't-07']",
}

// evalAll runs query over g and follows the continuation tokens with
// small pages, returning every row as JSON values.
func evalAll(t testing.TB, g tql.Graph, query string) []any {
	t.Helper()
	q, err := tql.Parse(query)
	if err != nil {
		t.Fatalf("parse %q: %v", query, err)
	}
	opts := &tql.Options{PageSize: 7, MaxScan: -1}
	var rows []map[string]any
	token := ""
	for {
		res, err := tql.Eval(context.Background(), g, q, opts, token)
		if err != nil {
			t.Fatalf("%q: %v", query, err)
		}
		rows = append(rows, res.Rows...)
		if token = res.ContinuationToken; token == "" {
			break
		}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// history gives a world's graph a second time: at t1 the world as it is,
// at t2 some twins changed, deleted, or deleted and made again in
// another org, and some relationships deleted.
func history(w *tenancytest.World, seed uint64) (g *tql.MemGraph, t1, t2 time.Time) {
	rng := rand.New(rand.NewPCG(seed, 7))
	t1, t2 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	g = tql.NewMemGraph()
	for _, m := range w.Models {
		g.AddModel(m)
	}
	for _, d := range w.Twins {
		_ = g.Put(t1, d)
	}
	for _, d := range w.Rels {
		_ = g.Put(t1, d)
	}
	owners := append([]string{""}, w.Orgs...)
	for _, d := range w.Twins {
		id := d["$dtId"].(string)
		switch rng.IntN(5) {
		case 0:
			g.DeleteTwin(t2, id)
		case 1:
			g.DeleteTwin(t2, id)
			org := owners[rng.IntN(len(owners))]
			meta := map[string]any{"$model": tenancytest.ModelID(org, "Plant")}
			if org != "" {
				meta["$org"] = org
			}
			_ = g.Put(t2, tql.Doc{"$dtId": id, "$etag": `W/"v2"`, "$metadata": meta, "secret": "s-1", "capacity": 77.0})
		case 2:
			nd := tql.Doc{}
			for k, v := range d {
				nd[k] = v
			}
			nd["capacity"], nd["secret"] = 55.0, "s-0"
			_ = g.Put(t2, nd)
		}
	}
	for _, d := range w.Rels {
		if rng.IntN(4) == 0 {
			g.DeleteRelationship(t2, d["$sourceId"].(string), d["$relationshipId"].(string))
		}
	}
	return g, t1, t2
}

// TestViewDifferential compares every query's answer through View with
// the answer over the reference's visible graph, for many random worlds,
// every principal, now and AS OF a past time.
func TestViewDifferential(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 15
	}
	for seed := range uint64(seeds) {
		w := tenancytest.Random(seed, 24, 40)
		full, t1, _ := history(w, seed)
		pol := tenancy.NewPolicy(w.Agreements, w.Now)
		ref := tenancytest.Rules{Agreements: w.Agreements, Now: w.Now}
		past, err := full.AsOf(t1.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range w.Principals {
			v := tenancy.View(full, pol, pr)
			refNow := ref.Graph(pr, w.Models, full.Twins(""), full.Relationships(""))
			refPast := ref.Graph(pr, w.Models, past.Twins(""), past.Relationships(""))
			asOf := " AS OF '" + t1.Add(time.Hour).Format(time.RFC3339) + "'"
			for _, q := range viewQueries {
				got, want := evalAll(t, v, fmt.Sprintf(q, "")), evalAll(t, refNow, fmt.Sprintf(q, ""))
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d, %s (%s): %s\n got %v\nwant %v\nagreements %+v", seed, pr.Subject, pr.Org, fmt.Sprintf(q, ""), got, want, w.Agreements)
				}
				got, want = evalAll(t, v, fmt.Sprintf(q, asOf)), evalAll(t, refPast, fmt.Sprintf(q, ""))
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d, %s (%s): %s\n got %v\nwant %v", seed, pr.Subject, pr.Org, fmt.Sprintf(q, asOf), got, want)
				}
			}
		}
	}
}

// TestViewHidesEverythingOfAnotherOrg: a principal of an org with no
// agreement sees none of another org's twin ids, property values or
// relationships, through any query.
func TestViewHidesEverythingOfAnotherOrg(t *testing.T) {
	g := tql.NewMemGraph()
	g.AddModel(tql.Model{ID: "dtmi:acme:Plant;1"})
	_ = g.Put(time.Time{}, tql.Doc{"$dtId": "acme-secret-plant", "$metadata": map[string]any{"$model": "dtmi:acme:Plant;1", "$org": "acme"}, "recipe": "top-secret"})
	_ = g.Put(time.Time{}, tql.Doc{"$dtId": "world-port", "$metadata": map[string]any{"$model": "dtmi:acme:Plant;1"}})
	_ = g.Put(time.Time{}, tql.Doc{"$relationshipId": "r1", "$sourceId": "world-port", "$targetId": "acme-secret-plant", "$relationshipName": "feeds"})
	globex := auth.Principal{Subject: "bob", Org: "globex", Roles: []auth.Role{auth.Reader}, Method: "token"}
	v := tenancy.View(g, tenancy.NewPolicy(nil, time.Now()), globex)
	for _, q := range []string{
		"SELECT * FROM DIGITALTWINS",
		"SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'acme-secret-plant'",
		"SELECT COUNT() FROM DIGITALTWINS T WHERE T.recipe = 'top-secret'",
		"SELECT * FROM RELATIONSHIPS",
		"SELECT a, b FROM DIGITALTWINS MATCH (a)-[*..3]-(b)",
		"SELECT T, U FROM DIGITALTWINS T JOIN U RELATED T.feeds",
	} {
		rows := evalAll(t, v, q)
		b, _ := json.Marshal(rows)
		if strings.Contains(string(b), "acme-secret-plant") || strings.Contains(string(b), "top-secret") {
			t.Errorf("%s: %s", q, b)
		}
		if strings.Contains(q, "COUNT") && string(b) != `[{"COUNT":0}]` {
			t.Errorf("%s: %s, want a count of 0", q, b)
		}
	}
	if _, ok := v.Twin("acme-secret-plant"); ok {
		t.Error("Twin found a hidden twin")
	}
	for range v.Incoming("acme-secret-plant", nil) {
		t.Error("Incoming of a hidden twin yields")
	}
	for range v.Outgoing("world-port", nil) {
		t.Error("Outgoing yields a relationship to a hidden twin")
	}
	acme := globex
	acme.Org = "acme"
	if n := len(evalAll(t, tenancy.View(g, tenancy.NewPolicy(nil, time.Now()), acme), "SELECT * FROM RELATIONSHIPS")); n != 1 {
		t.Errorf("the owner sees %d relationships, want 1", n)
	}
	if tenancy.View(g, tenancy.NewPolicy(nil, time.Now()), auth.Anonymous) != tql.Graph(g) {
		t.Error("the anonymous principal's view is not the graph itself")
	}
}

// TestViewKeepsInterfaces: the view has the optional interfaces of its
// graph that the evaluator uses, and no others.
func TestViewKeepsInterfaces(t *testing.T) {
	pr := auth.Principal{Subject: "x", Org: "acme", Method: "token"}
	v := tenancy.View(tql.NewMemGraph(), tenancy.NewPolicy(nil, time.Now()), pr)
	if _, ok := v.(tql.ModelScanner); !ok {
		t.Error("view of a MemGraph is no ModelScanner")
	}
	if _, ok := v.(tql.HistoryGraph); !ok {
		t.Error("view of a MemGraph is no HistoryGraph")
	}
	plain := tenancy.View(plainGraph{tql.NewMemGraph()}, tenancy.NewPolicy(nil, time.Now()), pr)
	if _, ok := plain.(tql.ModelScanner); ok {
		t.Error("view of a plain graph is a ModelScanner")
	}
	if _, ok := plain.(tql.HistoryGraph); ok {
		t.Error("view of a plain graph is a HistoryGraph")
	}
	if _, err := tql.Eval(context.Background(), plain, mustParse(t, "SELECT * FROM DIGITALTWINS AS OF '2026-01-01T00:00:00Z'"), nil, ""); err == nil {
		t.Error("AS OF over a view of a graph without history did not fail")
	}
}

// plainGraph hides every optional interface of a graph.
type plainGraph struct{ tql.Graph }

func mustParse(t testing.TB, s string) *tql.Query {
	q, err := tql.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func BenchmarkViewQuery(b *testing.B) {
	w := tenancytest.Random(3, 2000, 4000)
	full := w.Graph()
	pol := tenancy.NewPolicy(w.Agreements, w.Now)
	q := "SELECT T.name AS name, COUNT() AS n FROM DIGITALTWINS T GROUP BY T.name"
	for _, pr := range []auth.Principal{auth.Anonymous, w.Principals[0], w.Principals[1]} {
		b.Run(pr.Subject, func(b *testing.B) {
			for b.Loop() {
				evalAll(b, tenancy.View(full, pol, pr), q)
			}
		})
	}
}
