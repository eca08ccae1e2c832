package api

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"lodestone/tql"
	"lodestone/trust/tenancy"
	"lodestone/trust/tenancy/tenancytest"
)

// TestOrgScopedEqualsView: for a principal that nothing is shared with,
// a query of the twins rewritten by orgScoped over the whole graph gives
// exactly the rows of the query over tenancy.View, for random worlds.
func TestOrgScopedEqualsView(t *testing.T) {
	queries := []string{
		"SELECT * FROM DIGITALTWINS",
		"SELECT COUNT() FROM DIGITALTWINS",
		"SELECT * FROM DIGITALTWINS T WHERE T.secret = 's-1'",
		"SELECT COUNT() FROM DIGITALTWINS WHERE secret = 's-0' OR capacity > 50",
		"SELECT T.name AS name, SUM(T.capacity) AS total, COUNT() AS n FROM DIGITALTWINS T GROUP BY T.name ORDER BY name",
		"SELECT TOP(3) T.$dtId AS id FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:acme:Base;1') ORDER BY T.capacity DESC",
		"SELECT * FROM DIGITALTWINS AS OF '2026-01-01T00:00:00Z'",
	}
	compared := 0
	for seed := range uint64(30) {
		w := tenancytest.Random(seed, 24, 30)
		g := w.Graph()
		pol := tenancy.NewPolicy(w.Agreements, w.Now)
		for _, pr := range w.Principals {
			if pol.Unrestricted(pr) || len(pol.SharedWith(pr.Org)) > 0 {
				continue
			}
			for _, text := range queries {
				q, err := tql.Parse(text)
				if err != nil {
					t.Fatal(err)
				}
				sq, ok := orgScoped(q, pr.Org)
				if !ok {
					t.Fatalf("%s: not rewritten", text)
				}
				q2, _ := tql.Parse(text)
				got, err1 := tql.Eval(context.Background(), g, sq, &tql.Options{MaxScan: -1}, "")
				want, err2 := tql.Eval(context.Background(), tenancy.View(g, pol, pr), q2, &tql.Options{MaxScan: -1}, "")
				if err1 != nil || err2 != nil {
					t.Fatalf("%s: %v, %v", text, err1, err2)
				}
				gb, _ := json.Marshal(got.Rows)
				wb, _ := json.Marshal(want.Rows)
				if !reflect.DeepEqual(gb, wb) {
					t.Fatalf("seed %d, %s: %s\n scoped %s\n view   %s", seed, pr.Org, text, gb, wb)
				}
				compared++
			}
		}
	}
	if compared == 0 {
		t.Fatal("no principal without shares")
	}
	for _, text := range []string{"SELECT * FROM RELATIONSHIPS", "SELECT T, U FROM DIGITALTWINS T JOIN U RELATED T.feeds", "SELECT a FROM DIGITALTWINS MATCH (a)-[]->(b)"} {
		q, _ := tql.Parse(text)
		if _, ok := orgScoped(q, "acme"); ok {
			t.Errorf("%s was rewritten; only queries of the twins alone may be", text)
		}
	}
	q, _ := tql.Parse("SELECT * FROM DIGITALTWINS")
	if _, ok := orgScoped(q, "it's"); ok {
		t.Error("an org name that needs quoting was rewritten")
	}
}

// FuzzFilterPatch: filtering the JSON Patch of an event never panics, and
// keeps only operations of the input whose paths name visible
// properties.
func FuzzFilterPatch(f *testing.F) {
	f.Add([]byte(`[{"op":"replace","path":"/secret","value":1},{"op":"add","path":"/name","value":"x"}]`))
	f.Add([]byte(`[{"op":"move","from":"/secret","path":"/name"},{"op":"remove","path":"/$metadata/name"}]`))
	f.Add([]byte(`[{"op":"add","path":"/a~1b/c","value":{}}]`))
	f.Add([]byte(`{"not":"a patch"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		visible := func(name string) bool { return name == "name" || name == "a/b" }
		out, ok := filterPatch(data, visible)
		if !ok {
			return
		}
		var in, kept []map[string]any
		if json.Unmarshal(data, &in) != nil {
			t.Fatalf("kept %s of input that is no patch", out)
		}
		if err := json.Unmarshal(out, &kept); err != nil || len(kept) == 0 || len(kept) > len(in) {
			t.Fatalf("kept %s of %s", out, data)
		}
		for _, op := range kept {
			for _, k := range []string{"path", "from"} {
				if p, has := op[k].(string); has && !visible(patchProperty(p)) {
					t.Fatalf("kept %v, whose %s names a hidden property", op, k)
				}
			}
		}
	})
}

func TestPatchProperty(t *testing.T) {
	for _, c := range []struct{ ptr, want string }{
		{"/name", "name"}, {"/name/sub", "name"}, {"/$metadata/name/lastUpdateTime", "name"},
		{"/$metadata/$model", ""}, {"/$dtId", ""}, {"/a~1b", "a/b"}, {"/t~0x", "t~x"}, {"", ""},
	} {
		if got := patchProperty(c.ptr); got != c.want {
			t.Errorf("patchProperty(%q) = %q, want %q", c.ptr, got, c.want)
		}
	}
}
