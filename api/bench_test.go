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
)

// BenchmarkHandler measures the API's own cost per request (routing,
// decoding, validation, the SQLite store, encoding) without the network
// and without an event bus; server's benchmarks measure the whole path.
func BenchmarkHandler(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	opts := api.Options{Store: st}
	if sq, ok := st.(store.SQLer); ok {
		opts.Graph = &sqlgraph.Source{S: sq} // as the server wires it
	}
	a, err := api.New(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	call := func(method, path, body string, want int) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if method == http.MethodPatch {
			req.Header.Set("Content-Type", "application/json-patch+json")
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code != want {
			b.Fatalf("%s %s = %d %s", method, path, w.Code, w.Body)
		}
	}
	call("POST", "/models", "["+strings.Join(testModels, ",")+"]", 201)
	const doc = `{"$metadata":{"$model":"dtmi:test:Asset;1"},"name":"a","capacity":1,"status":"on","gauge":{"$metadata":{},"reading":2}}`
	call("PUT", "/digitaltwins/b1", doc, 200)

	b.Run("op=get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			call("GET", "/digitaltwins/b1", "", 200)
		}
	})
	b.Run("op=patch", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n++
			call("PATCH", "/digitaltwins/b1", fmt.Sprintf(`[{"op":"replace","path":"/capacity","value":%d}]`, n), 204)
		}
	})
	b.Run("op=query", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			call("POST", "/query", `{"query":"SELECT T.$dtId FROM DIGITALTWINS T WHERE T.$dtId = 'b1'"}`, 200)
		}
	})
	b.Run("op=create", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n++
			call("PUT", fmt.Sprintf("/digitaltwins/c%d", n), doc, 200)
		}
	})
}
