package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lodestone/api"
	"lodestone/store"
)

// TestStudySlotsShared: two API instances on one SQLite store count their
// studies together: with two allowed, two running on A leave no room on B
// (429 naming the rule); cancelling one on A makes room on B, and so does
// cancelling A's other one through B.
func TestStudySlotsShared(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+t.TempDir()+"/shared.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var apis []*api.API
	for _, id := range []string{"server-a", "server-b"} {
		a, err := api.New(ctx, api.Options{Store: st, InstanceID: id, Studies: api.StudyOptions{MaxConcurrent: 2}})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			a.Shutdown(sctx)
		}()
		apis = append(apis, a)
	}
	body, _ := json.Marshal(studyDoc(t, 50000, 3650))
	do := func(a *api.API, method, path string, b []byte, want int) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, path, bytes.NewReader(b))
		if b != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code != want {
			t.Fatalf("%s %s = %d %s, want %d", method, path, w.Code, w.Body, want)
		}
		return w
	}
	id := func(w *httptest.ResponseRecorder) string {
		var run api.ScenarioRun
		json.Unmarshal(w.Body.Bytes(), &run)
		return run.ID
	}
	a, b := apis[0], apis[1]
	r1 := id(do(a, "POST", "/scenarios", body, 202))
	r2 := id(do(a, "POST", "/scenarios", body, 202))
	refused := do(b, "POST", "/scenarios", body, 429)
	if !strings.Contains(refused.Body.String(), "studies.max-concurrent") || refused.Header().Get("Retry-After") == "" {
		t.Errorf("B's refusal: %s", refused.Body)
	}
	do(a, "DELETE", "/scenarios/"+r1, nil, 200)
	r3 := id(do(b, "POST", "/scenarios", body, 202))
	// Cancelled through B, r2 stops on A (at A's next lease renewal) and
	// frees its place.
	do(b, "DELETE", "/scenarios/"+r2, nil, 200)
	deadline := time.Now().Add(60 * time.Second)
	for {
		req := httptest.NewRequest("POST", "/scenarios", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		b.ServeHTTP(w, req)
		if w.Code == 202 {
			do(b, "DELETE", "/scenarios/"+id(w), nil, 200)
			break
		}
		if w.Code != 429 || time.Now().After(deadline) {
			t.Fatalf("after r2 was cancelled through B: POST = %d %s", w.Code, w.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var run api.ScenarioRun
	json.Unmarshal(do(a, "GET", "/scenarios/"+r2, nil, 200).Body.Bytes(), &run)
	if run.Status != api.RunCancelled {
		t.Errorf("r2 cancelled through B is %s on A", run.Status)
	}
	do(b, "DELETE", "/scenarios/"+r3, nil, 200)
}
