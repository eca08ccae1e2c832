package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"lodestone/api"
	"lodestone/server"
	"lodestone/supply"
)

// TestStudyHandedBackOnShutdown: a graceful shutdown in the middle of a
// study hands it back instead of failing it: the server started again on
// the same data folder resumes it from its stored scenario and seed, and
// it ends with the bits of the same study run locally.
func TestStudyHandedBackOnShutdown(t *testing.T) {
	data := t.TempDir()
	start := func() *server.Server {
		o := server.DefaultOptions()
		o.DataDir, o.HTTPAddr = data, "127.0.0.1:0"
		s, err := server.New(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	const runs, seed = 800, 11
	body, sc := studyBody(t, 365, runs, seed)
	ctx := context.Background()
	c := fastClient()
	a := start()
	r, err := send(ctx, c, "POST", a.URL()+"/scenarios", body)
	if err != nil || r.status != 202 {
		t.Fatalf("POST /scenarios: %v %d %s", err, r.status, r.body)
	}
	var run api.ScenarioRun
	json.Unmarshal(r.body, &run)
	deadline := time.Now().Add(120 * time.Second)
	for {
		r, err := send(ctx, c, "GET", a.URL()+"/scenarios/"+run.ID+"/progress", nil)
		if err != nil {
			t.Fatal(err)
		}
		var pr api.ScenarioProgress
		json.Unmarshal(r.body, &pr)
		if pr.Status != api.RunRunning {
			t.Fatalf("the study ended (%s) before the shutdown: make it longer", pr.Status)
		}
		if pr.Done > 0 {
			t.Logf("shut down at %d of %d runs", pr.Done, pr.Total)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no progress within 120 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	sctx, cancel := contextWithTimeout(30 * time.Second)
	defer cancel()
	if err := a.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	b := start()
	t.Cleanup(func() {
		ctx, cancel := contextWithTimeout(30 * time.Second)
		defer cancel()
		b.Shutdown(ctx)
	})
	// The run is read as soon as b serves: the shutdown left it running
	// (a study recorded as failed would never be resumed).
	for first := true; ; first = false {
		r, err := send(ctx, c, "GET", b.URL()+"/scenarios/"+run.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(r.body, &run)
		if first && run.Status != api.RunRunning && run.Status != api.RunDone {
			t.Fatalf("after the graceful shutdown the study is %s (%s), want running", run.Status, run.Error)
		}
		if run.Status != api.RunRunning {
			break
		}
		if time.Now().After(deadline.Add(120 * time.Second)) {
			t.Fatal("the study is still running after the restart")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if run.Status != api.RunDone {
		t.Fatalf("after the restart the study is %s: %s", run.Status, run.Error)
	}
	var got supply.MCResult
	if err := json.Unmarshal(run.Result, &got); err != nil {
		t.Fatal(err)
	}
	local, err := supply.MonteCarlo(ctx, sc, supply.MCOptions{Runs: runs, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if string(mustJSON(&got)) != string(mustJSON(local)) {
		t.Error("the handed-back study differs from the local study")
	}
}
