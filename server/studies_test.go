package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"lodestone/api"
	"lodestone/server"
	"lodestone/supply"
)

// studyBody is the Monte Carlo example scenario with days set, and the
// scenario as supply decodes it locally.
func studyBody(t *testing.T, days, runs int, seed uint64) ([]byte, *supply.SimScenario) {
	t.Helper()
	doc, err := os.ReadFile("../examples/supply/scenario-montecarlo.json")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(doc, &body); err != nil {
		t.Fatal(err)
	}
	body["days"] = days
	sc, err := supply.DecodeScenario(mustJSON(body))
	if err != nil {
		t.Fatal(err)
	}
	body["runs"], body["seed"] = runs, seed
	return mustJSON(body), sc
}

// TestStudyResumedAfterKill: a study under way when its server is killed
// (kill -9) is resumed by the restarted server from its stored scenario
// and seed, and ends with the bits of the same study run locally.
func TestStudyResumedAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lodestone and kills it; skipped with -short")
	}
	bin := buildLodestone(t, t.TempDir())
	data := t.TempDir()
	p := startServe(t, bin, data)
	const runs, seed = 1200, 5
	body, sc := studyBody(t, 120, runs, seed)
	ctx := context.Background()
	c := fastClient()
	r, err := send(ctx, c, "POST", p.url+"/scenarios", body)
	if err != nil || r.status != 202 {
		t.Fatalf("POST /scenarios: %v %d %s", err, r.status, r.body)
	}
	var run api.ScenarioRun
	json.Unmarshal(r.body, &run)
	deadline := time.Now().Add(120 * time.Second)
	for {
		r, err := send(ctx, c, "GET", p.url+"/scenarios/"+run.ID+"/progress", nil)
		if err != nil {
			t.Fatal(err)
		}
		var pr api.ScenarioProgress
		json.Unmarshal(r.body, &pr)
		if pr.Status != api.RunRunning {
			t.Fatalf("the study ended (%s) before the kill: make it longer", pr.Status)
		}
		if pr.Done > 0 {
			t.Logf("killed at %d of %d runs", pr.Done, pr.Total)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no progress within 120 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.kill(t)
	p2 := startServe(t, bin, data)
	for {
		r, err := send(ctx, c, "GET", p2.url+"/scenarios/"+run.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(r.body, &run)
		if run.Status != api.RunRunning {
			break
		}
		if time.Now().After(deadline.Add(120 * time.Second)) {
			t.Fatalf("the study is still running after the restart: %s", p2.stderr)
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
		t.Error("the resumed study differs from the local study")
	}
	if !strings.Contains(p2.stderr.String(), "resumed") {
		t.Logf("the restarted server did not log the resumption: %s", p2.stderr)
	}
}

// TestStudiesSharedLimits: the limit of concurrent studies holds over two
// servers on one PostgreSQL schema (LODESTONE_TEST_POSTGRES): with two
// allowed, two running on A leave no room on B (429 naming the rule);
// cancelling one on A makes room on B. (Two API instances on one SQLite
// store: api.TestStudySlotsShared.)
func TestStudiesSharedLimits(t *testing.T) {
	dsn := os.Getenv("LODESTONE_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LODESTONE_TEST_POSTGRES is not set under CI")
		}
		t.Skip("LODESTONE_TEST_POSTGRES is not set (postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	testSharedLimits(t, schemaDSN(t, dsn, fmt.Sprintf("studies_%d", time.Now().UnixNano())))
}

func testSharedLimits(t *testing.T, storeDSN string) {
	var srv []*server.Server
	for range 2 {
		srv = append(srv, startServer(t, func(o *server.Options) {
			o.StoreDSN = storeDSN
			o.StudiesMaxConcurrent = 2
		}))
	}
	a, b := srv[0].URL(), srv[1].URL()
	long, _ := studyBody(t, 3650, 50000, 1)
	ctx := context.Background()
	c := fastClient()
	post := func(base string, want int) (api.ScenarioRun, reply) {
		t.Helper()
		r, err := send(ctx, c, "POST", base+"/scenarios", long)
		if err != nil || r.status != want {
			t.Fatalf("POST %s/scenarios: %v %d %s, want %d", base, err, r.status, r.body, want)
		}
		var run api.ScenarioRun
		json.Unmarshal(r.body, &run)
		return run, r
	}
	r1, _ := post(a, 202)
	r2, _ := post(a, 202)
	_, refused := post(b, http.StatusTooManyRequests)
	if !strings.Contains(string(refused.body), "studies.max-concurrent") || refused.header.Get("Retry-After") == "" {
		t.Errorf("B's refusal: %s (Retry-After %q)", refused.body, refused.header.Get("Retry-After"))
	}
	call(t, "DELETE", a+"/scenarios/"+r1.ID, "", 200)
	r3, _ := post(b, 202)
	call(t, "DELETE", a+"/scenarios/"+r2.ID, "", 200)
	call(t, "DELETE", b+"/scenarios/"+r3.ID, "", 200)
}
