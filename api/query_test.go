package api_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type queryPage struct {
	Value             []map[string]any `json:"value"`
	ContinuationToken string           `json:"continuationToken"`
}

func (e *env) query(body any) queryPage {
	e.t.Helper()
	var p queryPage
	r := e.mustDo("POST", "/query", body, 200)
	if err := json.Unmarshal(r.body, &p); err != nil {
		e.t.Fatal(err)
	}
	if r.header.Get("query-charge") == "" {
		e.t.Errorf("POST /query has no query-charge header")
	}
	return p
}

func TestQuery(t *testing.T) {
	e := start(t, options{})
	const n = 25
	var want []string
	for i := range n {
		id := fmt.Sprintf("q%02d", i)
		want = append(want, id)
		// Read-your-writes: each twin is visible to a query at once.
		e.putTwin(id, "dtmi:test:Owner;1", map[string]any{"name": fmt.Sprint(i)})
		p := e.query(map[string]any{"query": fmt.Sprintf("SELECT T.$dtId FROM DIGITALTWINS T WHERE T.$dtId = '%s'", id)})
		if len(p.Value) != 1 {
			t.Fatalf("query right after PUT %s = %v, want the twin", id, p.Value)
		}
	}
	e.putTwin("a1", "dtmi:test:Asset;1", map[string]any{"name": "asset"})
	e.putTwin("p1", "dtmi:test:Plant;1", map[string]any{"name": "plant"})
	e.putRel("a1", "r1", "feeds", "p1", map[string]any{"share": 0.5})

	t.Run("paging by continuation token", func(t *testing.T) {
		e.t = t
		var got []string
		token := ""
		pages := 0
		for {
			p := e.query(map[string]any{"query": "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:test:Owner;1')", "pageSize": 10, "continuationToken": token})
			pages++
			for _, row := range p.Value {
				got = append(got, row["$dtId"].(string))
			}
			if p.ContinuationToken == "" {
				break
			}
			if pages > n {
				t.Fatal("paging does not end")
			}
			token = p.ContinuationToken
		}
		slices.Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("all pages (-want +got):\n%s", diff)
		}
		if pages != 3 {
			t.Errorf("%d pages of 10 for %d twins, want 3", pages, n)
		}
	})
	tests := []struct {
		name  string
		query string
		want  []map[string]any
	}{
		{"aliased projection", "SELECT T.name AS who, T.$dtId FROM DIGITALTWINS T WHERE T.$dtId = 'q03'",
			[]map[string]any{{"who": "3", "$dtId": "q03"}}},
		{"join rows keyed by alias", "SELECT P.$dtId AS plant, R.share AS share FROM DIGITALTWINS A JOIN P RELATED A.feeds R WHERE A.$dtId = 'a1'",
			[]map[string]any{{"plant": "p1", "share": 0.5}}},
		{"inheritance-aware IS_OF_MODEL", "SELECT T.$dtId FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:test:Asset;1') ORDER BY T.$dtId",
			[]map[string]any{{"$dtId": "a1"}, {"$dtId": "p1"}}},
		{"count", "SELECT COUNT() FROM DIGITALTWINS", []map[string]any{{"COUNT": float64(n + 2)}}},
		{"no rows", "SELECT * FROM DIGITALTWINS T WHERE T.name = 'nobody'", []map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			p := e.query(map[string]any{"query": tt.query})
			if diff := cmp.Diff(tt.want, p.Value); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.query, diff)
			}
		})
	}
	t.Run("join rows of whole twins keyed by collection", func(t *testing.T) {
		e.t = t
		p := e.query(map[string]any{"query": "SELECT A, P FROM DIGITALTWINS A JOIN P RELATED A.feeds WHERE A.$dtId = 'a1'"})
		if len(p.Value) != 1 {
			t.Fatalf("rows = %v", p.Value)
		}
		a, _ := p.Value[0]["A"].(map[string]any)
		pl, _ := p.Value[0]["P"].(map[string]any)
		if a["$dtId"] != "a1" || pl["$dtId"] != "p1" {
			t.Errorf("row = %v, want A=a1 and P=p1", p.Value[0])
		}
	})
	errs := []struct {
		name string
		body string
		code string
	}{
		{"syntax error", `{"query":"SELEKT * FROM DIGITALTWINS"}`, "QueryParseError"},
		{"empty query", `{"query":""}`, ""},
		{"bad continuation token", `{"query":"SELECT * FROM DIGITALTWINS","continuationToken":"garbage"}`, "InvalidContinuationToken"},
		{"not JSON", `SELECT * FROM DIGITALTWINS`, ""},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.mustDo("POST", "/query", tt.body, 400)
			if code := r.errCode(t); tt.code != "" && code != tt.code {
				t.Errorf("code = %s, want %s", code, tt.code)
			}
		})
	}
}
