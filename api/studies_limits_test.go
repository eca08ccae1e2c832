package api_test

import (
	"encoding/json"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"lodestone/api"
	"lodestone/server"
	"lodestone/trust/auth"
)

// studyGoroutines counts the goroutines running Monte Carlo replications
// in this process (supply's workers, one per core while a study runs).
func studyGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "lodestone/supply.monteCarloRange") {
			count++
		}
	}
	return count
}

var metricLine = regexp.MustCompile(`(?m)^(lodestone_stud(?:y|ies)_[a-z_]+) ([0-9.e+]+)$`)

// studyMetrics reads the study gauges of /metrics.
func studyMetrics(t *testing.T, e *env) map[string]float64 {
	t.Helper()
	r := e.mustDo("GET", "/metrics", nil, 200)
	m := map[string]float64{}
	for _, g := range metricLine.FindAllStringSubmatch(string(r.body), -1) {
		v, err := strconv.ParseFloat(g[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		m[g[1]] = v
	}
	return m
}

// TestStudyCancelStopsWork: DELETE stops the study's CPU work, not only
// its record. While the study runs, its replications run on goroutines
// and its runs-done gauge grows; once DELETE has answered, no goroutine
// runs a replication any more (DELETE waits for the study's end, and the
// Monte Carlo loop waits for its workers), the gauges have dropped the
// study, and they stay so. Counters, not timings: the wait for the first
// progress is a liveness bound.
func TestStudyCancelStopsWork(t *testing.T) {
	if n := studyGoroutines(); n != 0 {
		t.Fatalf("%d goroutines run replications before the test", n)
	}
	s := startStudies(t, t.TempDir(), nil)
	e := &env{t: t, srv: s, url: s.URL()}
	run := postRun(t, e, studyDoc(t, 100000, 3650), 202) // hours of CPU if it ran on
	deadline := time.Now().Add(60 * time.Second)
	var before map[string]float64
	for {
		var p api.ScenarioProgress
		if err := json.Unmarshal(e.mustDo("GET", "/scenarios/"+run.ID+"/progress", nil, 200).body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Status != api.RunRunning {
			t.Fatalf("the study ended before the cancel: %+v", p)
		}
		if p.Done > 0 {
			before = studyMetrics(t, e)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress after 60 s: %+v", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if before["lodestone_studies_running"] != 1 || before["lodestone_study_runs_done"] <= 0 || before["lodestone_study_runs_planned"] != 100000 {
		t.Errorf("gauges while the study runs: %v", before)
	}
	if n := studyGoroutines(); n == 0 {
		t.Fatal("no goroutine runs the study's replications while it runs")
	}
	var got api.ScenarioRun
	if err := json.Unmarshal(e.mustDo("DELETE", "/scenarios/"+run.ID, nil, 200).body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != api.RunCancelled {
		t.Fatalf("after DELETE: %s (%s)", got.Status, got.Error)
	}
	if n := studyGoroutines(); n != 0 {
		t.Errorf("%d goroutines still run the cancelled study's replications after DELETE answered", n)
	}
	var p api.ScenarioProgress
	if err := json.Unmarshal(e.mustDo("GET", "/scenarios/"+run.ID+"/progress", nil, 200).body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != api.RunCancelled || p.Done >= p.Total {
		t.Errorf("progress after the cancel = %+v, want cancelled with fewer than all runs done", p)
	}
	for i := range 3 {
		after := studyMetrics(t, e)
		if after["lodestone_studies_running"] != 0 || after["lodestone_study_runs_done"] != 0 || after["lodestone_study_runs_planned"] != 0 {
			t.Errorf("gauges after the cancel (read %d): %v", i, after)
		}
		if n := studyGoroutines(); n != 0 {
			t.Errorf("read %d: %d goroutines run replications after the cancel", i, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStudyPerPrincipalLimit: with one study per principal, a principal's
// second study is 429 naming studies.max-per-principal, while another
// principal of the same org (the limit counts principals, not orgs) and a
// third one are admitted; the first principal's place comes back when its
// study is cancelled.
func TestStudyPerPrincipalLimit(t *testing.T) {
	e := startSecure(t, func(o *server.Options) {
		o.StudiesMaxConcurrent = 10
		o.StudiesMaxPerPrincipal = 1
	})
	doc := studyDoc(t, 50000, 3650)
	post := func(role auth.Role, want int) res {
		t.Helper()
		return e.mustDo("POST", "/scenarios", doc, want, e.as(role)...)
	}
	id := func(r res) string {
		var run api.ScenarioRun
		if err := json.Unmarshal(r.body, &run); err != nil || run.ID == "" {
			t.Fatalf("no run in %s", r.body)
		}
		return run.ID
	}
	w1 := id(post(auth.Writer, 202))
	refused := post(auth.Writer, 429)
	code, details := checkErrorShape(t, refused)
	if code != "TooManyStudies" || len(details) == 0 || details[0].(map[string]any)["rule"] != "studies.max-per-principal" {
		t.Errorf("the writer's second study: %s %v, want TooManyStudies with rule studies.max-per-principal", code, details)
	}
	if !strings.Contains(string(refused.body), "writer-user") || refused.header.Get("Retry-After") == "" {
		t.Errorf("the refusal names no principal or has no Retry-After: %s", refused.body)
	}
	a1 := id(post(auth.Admin, 202)) // another principal of org acme
	post(auth.Admin, 429)
	e.mustDo("DELETE", "/scenarios/"+w1, nil, 200, e.as(auth.Writer)...)
	w2 := id(post(auth.Writer, 202))
	for _, run := range []string{w2, a1} {
		e.mustDo("DELETE", "/scenarios/"+run, nil, 200, e.as(auth.Admin)...)
	}
}
