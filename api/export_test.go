package api_test

import (
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/api"
	"lodestone/bulk"
	"lodestone/store"
	"lodestone/twin"
)

// TestExportStreamsAsOf checks GET /jobs/export, which streams the store's
// Export: the graph now, as of an earlier time, and an empty graph.
func TestExportStreamsAsOf(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := api.New(t.Context(), api.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (models int, twins []twin.ID, rels []string) {
		t.Helper()
		w := httptest.NewRecorder()
		a.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 || w.Header().Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("GET %s = %d %s", path, w.Code, w.Body)
		}
		rd := bulk.NewReader(w.Body)
		for {
			it, err := rd.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			switch {
			case it.Model != nil:
				models++
			case it.Twin != nil:
				twins = append(twins, it.Twin.ID)
			case it.Relationship != nil:
				rels = append(rels, string(it.Relationship.SourceID)+"/"+it.Relationship.ID)
			}
		}
	}
	type result struct {
		Models int
		Twins  []twin.ID
		Rels   []string
	}
	m, tw, rs := get("/jobs/export")
	if diff := cmp.Diff(result{}, result{m, tw, rs}); diff != "" {
		t.Errorf("export of an empty store (-want +got):\n%s", diff)
	}
	call := func(method, path, body string) {
		t.Helper()
		w := httptest.NewRecorder()
		a.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader(body)))
		if w.Code >= 300 {
			t.Fatalf("%s %s = %d %s", method, path, w.Code, w.Body)
		}
	}
	call("POST", "/models", "["+strings.Join(testModels, ",")+"]")
	call("PUT", "/digitaltwins/a", `{"$metadata":{"$model":"dtmi:test:Asset;1"},"gauge":{"$metadata":{}}}`)
	first, err := st.GetTwin(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	call("PUT", "/digitaltwins/p", `{"$metadata":{"$model":"dtmi:test:Plant;1"},"gauge":{"$metadata":{}}}`)
	call("PUT", "/digitaltwins/a/relationships/r1", `{"$targetId":"p","$relationshipName":"feeds"}`)

	tests := []struct {
		path string
		want result
	}{
		{"/jobs/export", result{len(testModels), []twin.ID{"a", "p"}, []string{"a/r1"}}},
		{"/jobs/export?asOf=" + url.QueryEscape(first.Metadata.LastUpdateTime.Format(time.RFC3339Nano)), result{len(testModels), []twin.ID{"a"}, nil}},
	}
	for _, tt := range tests {
		m, tw, rs := get(tt.path)
		if diff := cmp.Diff(tt.want, result{m, tw, rs}); diff != "" {
			t.Errorf("GET %s (-want +got):\n%s", tt.path, diff)
		}
	}
}
