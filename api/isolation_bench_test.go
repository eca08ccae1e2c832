package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"lodestone/api"
	"lodestone/store"
	"lodestone/store/sqlgraph"
	"lodestone/trust/auth"
	"lodestone/trust/tenancy/tenancytest"
	"lodestone/twin"
)

// BenchmarkQueryTenancy measures POST /query (without network or bus)
// on 3 orgs × 1,000 twins and 2,000 relationships each: as=anonymous is
// a server without --auth (the SQL runner, no tenancy), as=own a reader
// of an org that no agreement shares with (its org and org ""), as=shared
// a reader of an org that another shares its Plant twins with (the
// evaluator over tenancy.View).
func BenchmarkQueryTenancy(b *testing.B) {
	ctx := context.Background()
	var toks []string
	for _, org := range tenancytest.Orgs {
		for _, role := range []auth.Role{auth.Admin, auth.Reader} {
			toks = append(toks, fmt.Sprintf(`{"token":%q,"subject":%q,"org":%q,"roles":[%q]}`, tenantToken(org, role), string(role)+"-"+org, org, role))
		}
	}
	cfg, err := auth.ParseConfig([]byte(`{"tokens":[` + strings.Join(toks, ",") + `]}`))
	if err != nil {
		b.Fatal(err)
	}
	authn, err := auth.New(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, "sqlite:"+b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	open := func(sec *api.Security) http.Handler {
		opts := api.Options{Store: st, Security: sec, QueryMaxScan: -1}
		if sq, ok := st.(store.SQLer); ok {
			opts.Graph = &sqlgraph.Source{S: sq}
		}
		a, err := api.New(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		return a.Guard()
	}
	secure := open(&api.Security{Hosts: []string{"example.com"}, Auth: authn})
	call := func(h http.Handler, method, path, body, token string, want int) []byte {
		req := httptest.NewRequest(method, "http://example.com"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			b.Fatalf("%s %s = %d %s", method, path, w.Code, w.Body)
		}
		return w.Body.Bytes()
	}
	const n = 1000
	for oi, org := range tenancytest.Orgs {
		adm := tenantToken(org, auth.Admin)
		call(secure, "POST", "/models", tenantModels(org), adm, 201)
		var lines []string
		lines = append(lines, `{"Section":"Header"}`, `{"fileVersion":"1.0.0","author":"bench","organization":"bench"}`, `{"Section":"Twins"}`)
		for i := range n {
			kind := tenancytest.Kinds[1+i%3]
			t := twin.Twin{ID: twin.ID(fmt.Sprintf("%s-%04d", org, i)), Metadata: twin.Metadata{Model: tenancytest.ModelID(org, kind)},
				Properties: map[string]any{"capacity": float64((i*7 + oi) % 100), "name": fmt.Sprintf("n-%d", i%10), "secret": "s"}}
			j, _ := json.Marshal(t)
			lines = append(lines, string(j))
		}
		lines = append(lines, `{"Section":"Relationships"}`)
		for i := range 2 * n {
			r := twin.Relationship{ID: fmt.Sprintf("r-%d", i), SourceID: twin.ID(fmt.Sprintf("%s-%04d", org, i%n)), TargetID: twin.ID(fmt.Sprintf("%s-%04d", org, (i*13+1)%n)), Name: "feeds", Properties: map[string]any{"weight": float64(i % 9)}}
			j, _ := json.Marshal(r)
			lines = append(lines, string(j))
		}
		req := httptest.NewRequest("PUT", "http://example.com/jobs/imports/bench-"+org, strings.NewReader(strings.Join(lines, "\n")+"\n"))
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Authorization", "Bearer "+adm)
		w := httptest.NewRecorder()
		secure.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("import %s = %d %s", org, w.Code, w.Body)
		}
	}
	// globex shares its Plant twins' capacity and feeds with acme.
	call(secure, "PUT", "/sharing/bench", fmt.Sprintf(`{"to_org":"acme","models":[%q],"properties":["capacity"],"relationships":["feeds"]}`, tenancytest.ModelID("globex", "Plant")), tenantToken("globex", auth.Admin), 200)
	anon := open(nil)
	queries := map[string]string{
		"count":    `SELECT COUNT() FROM DIGITALTWINS T WHERE T.capacity > 50`,
		"rows":     `SELECT T.$dtId AS id FROM DIGITALTWINS T WHERE T.name = 'n-3' AND T.capacity < 40`,
		"match":    `SELECT COUNT() FROM DIGITALTWINS MATCH (a)-[:feeds]->(b) WHERE a.capacity > 90`,
		"relcount": `SELECT COUNT() FROM RELATIONSHIPS R WHERE R.weight > 4`,
	}
	for _, qn := range []string{"count", "rows", "match", "relcount"} {
		body, _ := json.Marshal(map[string]string{"query": queries[qn]})
		for _, as := range []struct {
			name, token string
			h           http.Handler
		}{{"anonymous", "", anon}, {"own", tenantToken("initech", auth.Reader), secure}, {"shared", tenantToken("acme", auth.Reader), secure}} {
			b.Run("q="+qn+"/as="+as.name, func(b *testing.B) {
				for b.Loop() {
					call(as.h, "POST", "/query", string(body), as.token, 200)
				}
			})
		}
	}
}
