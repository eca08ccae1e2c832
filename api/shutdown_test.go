package api_test

import (
	"context"
	"testing"
	"time"

	"lodestone/api"
	"lodestone/server"
)

// TestShutdownStopsStudies starts a long Monte Carlo study, shuts the API's
// background work down, and finds the study stopped promptly and handed
// back: still running in the store, with no error, for the next start of a
// server to resume (server.TestStudyHandedBackOnShutdown resumes one).
func TestShutdownStopsStudies(t *testing.T) {
	o := server.DefaultOptions()
	o.DataDir = t.TempDir()
	o.HTTPAddr = "127.0.0.1:0"
	o.LoadDemo = true
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	u := s.URL()
	var run api.ScenarioRun
	req := map[string]any{"name": "long study", "graph": true, "start": "2025-01-01", "days": 3650, "runs": 100000, "seed": 1}
	if st := send(t, "POST", u+"/scenarios", req, &run); st != 202 {
		t.Fatalf("POST /scenarios = %d, want 202 for a background study", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.API.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	t.Logf("background study stopped in %v", time.Since(start))
	var got api.ScenarioRun
	if st := send(t, "GET", u+"/scenarios/"+run.ID, nil, &got); st != 200 {
		t.Fatalf("GET /scenarios/%s = %d", run.ID, st)
	}
	if got.Status != api.RunRunning || got.Error != "" {
		t.Errorf("after Shutdown the study is %q (%q), want running (handed back)", got.Status, got.Error)
	}
}
