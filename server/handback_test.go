package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"lodestone/api"
	"lodestone/server"
	"lodestone/supply"
)

// TestStudyHandedBackOnShutdown: a graceful shutdown in the middle of a
// study hands it back instead of failing it, and the study ends with the
// bits of the same study run locally: resumed by the server started again
// on the same data folder (SQLite), or by another server on the same
// PostgreSQL store at its next lease renewal (LODESTONE_TEST_POSTGRES).
func TestStudyHandedBackOnShutdown(t *testing.T) {
	t.Run("restart", func(t *testing.T) {
		data := t.TempDir()
		o := func(o *server.Options) { o.DataDir = data }
		testHandBack(t, o, o)
	})
	t.Run("other server", func(t *testing.T) {
		dsn := os.Getenv("LODESTONE_TEST_POSTGRES")
		if dsn == "" {
			if os.Getenv("CI") == "true" {
				t.Fatal("LODESTONE_TEST_POSTGRES is not set under CI")
			}
			t.Skip("LODESTONE_TEST_POSTGRES is not set (postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		}
		st := schemaDSN(t, dsn, fmt.Sprintf("handback_%d", time.Now().UnixNano()))
		b := startHandBackServer(t, func(o *server.Options) { o.StoreDSN = st })
		defer shutdownQuietly(b)
		testHandBack(t, func(o *server.Options) { o.StoreDSN = st }, nil, b)
	})
}

func startHandBackServer(t *testing.T, edit func(*server.Options)) *server.Server {
	t.Helper()
	o := server.DefaultOptions()
	o.DataDir, o.HTTPAddr = t.TempDir(), "127.0.0.1:0"
	edit(&o)
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func shutdownQuietly(s *server.Server) {
	ctx, cancel := contextWithTimeout(30 * time.Second)
	defer cancel()
	s.Shutdown(ctx)
}

// testHandBack starts a server with first, runs a study on it, shuts it
// down gracefully midway, and waits for the study to end on the server
// started with then (or, when then is nil, on other, already running).
func testHandBack(t *testing.T, first, then func(*server.Options), other ...*server.Server) {
	const runs, seed = 4000, 11 // long enough that no machine ends it between the first progress and the shutdown (800 once did)
	body, sc := studyBody(t, 365, runs, seed)
	ctx := context.Background()
	c := fastClient()
	a := startHandBackServer(t, first)
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
	var b *server.Server
	if then != nil {
		b = startHandBackServer(t, then)
		defer shutdownQuietly(b)
	} else {
		b = other[0]
	}
	// The run is read at once: the shutdown left it running (a study
	// recorded as failed would never be resumed).
	t0 := time.Now()
	for first := true; ; first = false {
		r, err := send(ctx, c, "GET", b.URL()+"/scenarios/"+run.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(r.body, &run)
		if first && run.Status != api.RunRunning {
			t.Fatalf("after the graceful shutdown the study is %s (%s), want running", run.Status, run.Error)
		}
		if run.Status != api.RunRunning {
			break
		}
		if time.Since(t0) > 180*time.Second {
			t.Fatal("the study is still running 180 s after the shutdown")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if run.Status != api.RunDone {
		t.Fatalf("after the hand-back the study is %s: %s", run.Status, run.Error)
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
	t.Logf("ended %v after the shutdown", time.Since(t0).Round(time.Millisecond))
}
