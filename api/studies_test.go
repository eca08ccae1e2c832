package api_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"lodestone/api"
	"lodestone/server"
)

// studyDoc is the Monte Carlo example scenario with the knobs of a study.
func studyDoc(t *testing.T, runs, days int) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../examples/supply/scenario-montecarlo.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	doc["runs"], doc["seed"], doc["days"] = runs, 7, days
	return doc
}

func startStudies(t *testing.T, dir string, o func(*server.Options)) *server.Server {
	t.Helper()
	so := server.DefaultOptions()
	so.DataDir = dir
	so.HTTPAddr = "127.0.0.1:0"
	if o != nil {
		o(&so)
	}
	s, err := server.New(so)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

// TestStudyLimits: with three studies at once allowed, a fourth gets 429
// with Retry-After and the limit named; a study alone over the queued runs
// gets 400; DELETE cancels a study, which is stored as cancelled and frees
// its place; the admitted study reports its estimated cost.
func TestStudyLimits(t *testing.T) {
	s := startStudies(t, t.TempDir(), func(o *server.Options) { o.StudiesMaxConcurrent = 3; o.StudiesMaxQueuedRuns = 400000 })
	u := s.URL()
	var ids []string
	for i := range 3 {
		var run api.ScenarioRun
		if st := send(t, "POST", u+"/scenarios", studyDoc(t, 100000, 3650), &run); st != 202 {
			t.Fatalf("study %d: POST = %d, want 202", i, st)
		}
		if c := run.EstimatedCost; c == nil || c.Runs != 100000 || c.Days != 3650 || c.Nodes == 0 || c.NodeDays != int64(c.Runs)*int64(c.Days)*int64(c.Nodes) {
			t.Errorf("estimatedCost = %+v", c)
		}
		ids = append(ids, run.ID)
	}
	b, _ := json.Marshal(studyDoc(t, 100000, 3650))
	e := &env{t: t, srv: s, url: u}
	r := e.do("POST", "/scenarios", json.RawMessage(b))
	if r.status != 429 {
		t.Fatalf("fourth study: %d %s, want 429", r.status, r.body)
	}
	if sec, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || sec < 1 {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	if code, _ := checkErrorShape(t, r); code != "TooManyStudies" {
		t.Errorf("code = %s", code)
	}
	if r := e.do("POST", "/scenarios", studyDoc(t, 100000, 30)); r.status != 429 {
		t.Errorf("a small fourth study: %d, want 429", r.status)
	}

	// Cancel one: answered once its final state is stored.
	var got api.ScenarioRun
	if st := send(t, "DELETE", u+"/scenarios/"+ids[0], nil, &got); st != 200 {
		t.Fatalf("DELETE = %d", st)
	}
	if got.Status != api.RunCancelled {
		t.Errorf("after DELETE: %s (%s), want cancelled", got.Status, got.Error)
	}
	if st := send(t, "DELETE", u+"/scenarios/"+ids[0], nil, nil); st != 409 {
		t.Errorf("DELETE of a cancelled run = %d, want 409", st)
	}
	if st := send(t, "DELETE", u+"/scenarios/no-such-run", nil, nil); st != 404 {
		t.Errorf("DELETE of no run = %d, want 404", st)
	}
	var run api.ScenarioRun
	if st := send(t, "POST", u+"/scenarios", studyDoc(t, 40, 30), &run); st != 202 {
		t.Fatalf("after a cancel, POST = %d, want 202", st)
	}
	if p := waitRun(t, e, run.ID); p.Status != api.RunDone {
		t.Errorf("small study ended %+v", p)
	}
	for _, id := range ids[1:] {
		start := time.Now()
		send(t, "DELETE", u+"/scenarios/"+id, nil, nil)
		t.Logf("DELETE stopped a study in %v", time.Since(start))
	}
}

// TestStudyQueuedRuns: the runs of the studies under way are bounded.
func TestStudyQueuedRuns(t *testing.T) {
	s := startStudies(t, t.TempDir(), func(o *server.Options) { o.StudiesMaxConcurrent = 10; o.StudiesMaxQueuedRuns = 150000 })
	e := &env{t: t, srv: s, url: s.URL()}
	run := postRun(t, e, studyDoc(t, 100000, 3650), 202)
	r := e.do("POST", "/scenarios", studyDoc(t, 100000, 30))
	if r.status != 429 {
		t.Fatalf("POST over the queued runs = %d %s, want 429", r.status, r.body)
	}
	if _, details := checkErrorShape(t, r); len(details) == 0 || details[0].(map[string]any)["rule"] != "studies.max-queued-runs" {
		t.Errorf("details %v, want the rule studies.max-queued-runs", details)
	}
	e.mustDo("DELETE", "/scenarios/"+run.ID, nil, 200)
}

// TestStudyOverLimit: a study alone over the queued runs is a 400 naming
// the limit.
func TestStudyOverLimit(t *testing.T) {
	s := startStudies(t, t.TempDir(), func(o *server.Options) { o.StudiesMaxQueuedRuns = 1000 })
	e := &env{t: t, srv: s, url: s.URL()}
	r := e.do("POST", "/scenarios", studyDoc(t, 2000, 30))
	if r.status != 400 {
		t.Fatalf("POST = %d %s, want 400", r.status, r.body)
	}
	if code, _ := checkErrorShape(t, r); code != "StudyTooLarge" {
		t.Errorf("code %s", code)
	}
}

// TestStudyInterrupted: a study stored as running when the server stops
// without recording its end (a crash) is resumed at the next start from
// its stored scenario and seed, and ends with the bits of an
// uninterrupted study (server/studies_test.go checks the bits after a
// kill -9); without a stored scenario it is marked failed.
func TestStudyInterrupted(t *testing.T) {
	for _, keep := range []bool{true, false} {
		dir := t.TempDir()
		s := startStudies(t, dir, nil)
		e := &env{t: t, srv: s, url: s.URL()}
		run := postRun(t, e, studyDoc(t, 0, 30), 201)
		ops := []map[string]any{
			{"op": "replace", "path": "/status", "value": "running"}, {"op": "replace", "path": "/runs", "value": 500},
			{"op": "remove", "path": "/completedAt"}}
		if !keep {
			ops = append(ops, map[string]any{"op": "remove", "path": "/scenarioJson"})
		}
		e.mustDo("PATCH", "/digitaltwins/"+run.ID, ops, 204)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		s2 := startStudies(t, dir, nil)
		e2 := &env{t: t, srv: s2, url: s2.URL()}
		deadline := time.Now().Add(60 * time.Second)
		for {
			var got api.ScenarioRun
			json.Unmarshal(e2.mustDo("GET", "/scenarios/"+run.ID, nil, 200).body, &got)
			if keep && got.Status == api.RunDone {
				var res struct{ Runs int }
				if err := json.Unmarshal(got.Result, &res); err != nil || res.Runs != 500 {
					t.Errorf("the resumed study's result: %v, %d runs", err, res.Runs)
				}
				break
			}
			if !keep && got.Status == api.RunFailed {
				if got.Error != api.InterruptedError {
					t.Errorf("error %q, want %q", got.Error, api.InterruptedError)
				}
				break
			}
			if got.Status != api.RunRunning || time.Now().After(deadline) {
				t.Fatalf("scenario kept %v: after a restart the interrupted study is %s (%s)", keep, got.Status, got.Error)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
