package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"lodestone/api"
	"lodestone/store"
	"lodestone/store/sqlgraph"
	"lodestone/trust/auth"
)

// BenchmarkTenancy measures twin reads and writes under --auth with two
// orgs (as BenchmarkAuth, without network or bus): the owner's read (the
// stored bytes after a look at their owner), a read through a sharing
// agreement (decoded and projected), a create and a patch by the owner.
func BenchmarkTenancy(b *testing.B) {
	ctx := context.Background()
	cfg, err := auth.ParseConfig([]byte(`{"tokens":[{"token":"acme-bench-token-000001","subject":"a","org":"acme","roles":["admin"]},
		{"token":"globex-bench-token-00001","subject":"g","org":"globex","roles":["reader"]}]}`))
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
	opts := api.Options{Store: st, Security: &api.Security{Hosts: []string{"example.com"}, Auth: authn}}
	if sq, ok := st.(store.SQLer); ok {
		opts.Graph = &sqlgraph.Source{S: sq}
	}
	a, err := api.New(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	h := a.Guard()
	call := func(who, method, path, body string, want int) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if method == http.MethodPatch {
			req.Header.Set("Content-Type", "application/json-patch+json")
		}
		req.Header.Set("Authorization", "Bearer "+who+"-bench-token-"+map[string]string{"acme": "000001", "globex": "00001"}[who])
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			b.Fatalf("%s %s = %d %s", method, path, w.Code, w.Body)
		}
	}
	call("acme", "POST", "/models", "["+strings.Join(testModels, ",")+"]", 201)
	call("acme", "PUT", "/digitaltwins/b1", `{"$metadata":{"$model":"dtmi:test:Asset;1"},"name":"a","capacity":1,"status":"on","gauge":{"$metadata":{},"reading":2}}`, 200)
	call("acme", "PUT", "/sharing/s1", `{"to_org":"globex","models":["dtmi:test:Asset;1"],"properties":["capacity"]}`, 200)
	b.Run("op=get-own", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			call("acme", "GET", "/digitaltwins/b1", "", 200)
		}
	})
	b.Run("op=get-shared", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			call("globex", "GET", "/digitaltwins/b1", "", 200)
		}
	})
	b.Run("op=create", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n++
			call("acme", "PUT", fmt.Sprintf("/digitaltwins/c%d", n), `{"$metadata":{"$model":"dtmi:test:Asset;1"},"name":"c","capacity":1,"gauge":{"$metadata":{}}}`, 200)
		}
	})
	b.Run("op=patch", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n++
			call("acme", "PATCH", "/digitaltwins/b1", fmt.Sprintf(`[{"op":"replace","path":"/capacity","value":%d}]`, n), 204)
		}
	})
}
