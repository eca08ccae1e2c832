package api_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"lodestone/api"
	"lodestone/store"
	"lodestone/twin"
)

// plainStore hides the optional interfaces of the store it wraps, so that
// the API takes its fallback paths.
type plainStore struct{ store.Store }

// countingPatcher counts PatchTwinFrom calls of the store it wraps.
type countingPatcher struct {
	store.Store
	n int
}

func (c *countingPatcher) PatchTwinFrom(ctx context.Context, base twin.Twin, p twin.Patch, cond store.Condition) (twin.Twin, error) {
	c.n++
	return c.Store.(store.TwinPatcher).PatchTwinFrom(ctx, base, p, cond)
}

func TestPatchWithAndWithoutTwinPatcher(t *testing.T) {
	tests := []struct {
		name     string
		wrap     func(store.Store) store.Store
		wantFrom int
	}{
		{name: "TwinPatcher", wrap: func(s store.Store) store.Store { return &countingPatcher{Store: s} }, wantFrom: 3},
		{name: "PatchTwin fallback", wrap: func(s store.Store) store.Store { return plainStore{s} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := store.Open(t.Context(), "sqlite::memory:")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			s := tt.wrap(st)
			a, err := api.New(t.Context(), api.Options{Store: s})
			if err != nil {
				t.Fatal(err)
			}
			call := func(method, path, body string, hdr map[string]string, want int) *httptest.ResponseRecorder {
				t.Helper()
				req := httptest.NewRequest(method, path, strings.NewReader(body))
				for k, v := range hdr {
					req.Header.Set(k, v)
				}
				w := httptest.NewRecorder()
				a.ServeHTTP(w, req)
				if w.Code != want {
					t.Fatalf("%s %s = %d %s, want %d", method, path, w.Code, w.Body, want)
				}
				return w
			}
			patchHdr := map[string]string{"Content-Type": "application/json-patch+json"}
			call("POST", "/models", "["+strings.Join(testModels, ",")+"]", nil, 201)
			call("PUT", "/digitaltwins/a", `{"$metadata":{"$model":"dtmi:test:Asset;1"},"capacity":1,"gauge":{"$metadata":{},"reading":2}}`, nil, 200)
			call("PATCH", "/digitaltwins/a", `[{"op":"replace","path":"/capacity","value":5}]`, patchHdr, 204)
			call("PATCH", "/digitaltwins/a/components/gauge", `[{"op":"replace","path":"/reading","value":7}]`, patchHdr, 204)
			// Invalid against the model: refused before the store sees it.
			call("PATCH", "/digitaltwins/a", `[{"op":"replace","path":"/capacity","value":"lots"}]`, patchHdr, 400)
			// A stale If-Match is refused; the current one is taken.
			got := call("GET", "/digitaltwins/a", "", nil, 200)
			call("PATCH", "/digitaltwins/a", `[{"op":"add","path":"/name","value":"x"}]`, map[string]string{"Content-Type": "application/json-patch+json", "If-Match": `W/"stale"`}, 412)
			call("PATCH", "/digitaltwins/a", `[{"op":"add","path":"/name","value":"x"}]`, map[string]string{"Content-Type": "application/json-patch+json", "If-Match": got.Header().Get("ETag")}, 204)
			tw, err := st.GetTwin(t.Context(), "a")
			if err != nil {
				t.Fatal(err)
			}
			if tw.Properties["capacity"] != 5.0 || tw.Properties["name"] != "x" || tw.Properties["gauge"].(map[string]any)["reading"] != 7.0 {
				t.Errorf("twin after patches = %+v", tw.Properties)
			}
			changes, err := st.TwinChanges(t.Context(), "a", tw.Metadata.LastUpdateTime.AddDate(-1, 0, 0), tw.Metadata.LastUpdateTime.AddDate(1, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			if len(changes) != 4 || changes[3].Op != store.OpPatch || len(changes[3].Patch) != 1 {
				t.Errorf("change list = %+v, want create and three patches", changes)
			}
			if c, ok := s.(*countingPatcher); ok && c.n != tt.wantFrom {
				t.Errorf("PatchTwinFrom called %d times, want %d", c.n, tt.wantFrom)
			}
			// GET serves the stored JSON: the same document as GetTwin's.
			body := call("GET", "/digitaltwins/a", "", nil, 200)
			if body.Header().Get("ETag") != string(tw.ETag) {
				t.Errorf("GET ETag = %q, want %q", body.Header().Get("ETag"), tw.ETag)
			}
			if !strings.Contains(body.Body.String(), `"$dtId":"a"`) || body.Header().Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("GET = %s %s", body.Header(), body.Body)
			}
		})
	}
}
