package api_test

import (
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/api"
	"lodestone/store"
)

// TestJobsAndRoutesSurviveRestart: import jobs, endpoints and event routes
// are stored with the graph, so an API opened again on the same store (a
// restarted server, or another server on the database) has them.
func TestJobsAndRoutesSurviveRestart(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "g.db")
	open := func() (*api.API, store.Store) {
		st, err := store.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		a, err := api.New(t.Context(), api.Options{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		return a, st
	}
	call := func(a *api.API, method, path, ct, body string, want int) []byte {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code != want {
			t.Fatalf("%s %s = %d %s, want %d", method, path, w.Code, w.Body, want)
		}
		return w.Body.Bytes()
	}
	a, st := open()
	call(a, "PUT", "/jobs/imports/first", "application/x-ndjson", importFile(testModels, nil, nil), 200)
	call(a, "PUT", "/endpoints/hook", "application/json", `{"kind":"webhook","url":"http://127.0.0.1:9/hook"}`, 200)
	call(a, "PUT", "/eventroutes/r1", "application/json", `{"endpointName":"hook","filter":"type=lodestone.twin.*"}`, 204)
	if err := a.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	st.Close()

	b, st2 := open()
	defer st2.Close()
	defer b.Shutdown(t.Context())
	var job api.ImportJob
	json.Unmarshal(call(b, "GET", "/jobs/imports/first", "", "", 200), &job)
	if job.Status != "succeeded" || job.ModelsCount != len(testModels) {
		t.Errorf("job after restart = %+v", job)
	}
	var jobs struct{ Value []api.ImportJob }
	json.Unmarshal(call(b, "GET", "/jobs/imports", "", "", 200), &jobs)
	if len(jobs.Value) != 1 {
		t.Errorf("jobs after restart = %+v", jobs.Value)
	}
	var routes struct{ Value []api.EventRoute }
	json.Unmarshal(call(b, "GET", "/eventroutes", "", "", 200), &routes)
	if len(routes.Value) != 1 || routes.Value[0].ID != "r1" || routes.Value[0].Endpoint != "hook" {
		t.Errorf("routes after restart = %+v", routes.Value)
	}
	var eps struct{ Value []api.Endpoint }
	json.Unmarshal(call(b, "GET", "/endpoints", "", "", 200), &eps)
	if len(eps.Value) != 1 || eps.Value[0].URL != "http://127.0.0.1:9/hook" {
		t.Errorf("endpoints after restart = %+v", eps.Value)
	}
	// The same id may be imported again once the first job has ended.
	call(b, "PUT", "/jobs/imports/first?dryRun=true", "application/x-ndjson", importFile(nil, nil, nil), 200)
}
