package api_test

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"lodestone/api"
	"lodestone/server"
)

func TestOrgRoutes(t *testing.T) {
	e := start(t, options{})
	sc, err := os.ReadFile("../org/testdata/second_source.json")
	if err != nil {
		t.Fatal(err)
	}
	r := e.mustDo("POST", "/org/run?seed=3&moved=true", string(sc), 200)
	var run struct {
		Decisions []struct {
			Rule  string `json:"rule"`
			Moved *struct {
				LostSaved float64 `json:"lost_saved"`
			} `json:"moved"`
		} `json:"decisions"`
		Nodes       map[string]json.RawMessage `json:"nodes"`
		LatencyCost *float64                   `json:"latency_cost"`
	}
	if err := json.Unmarshal(r.body, &run); err != nil {
		t.Fatal(err)
	}
	if len(run.Decisions) != 1 || run.Decisions[0].Moved == nil || run.Decisions[0].Moved.LostSaved != 400 || len(run.Nodes) != 3 || run.LatencyCost == nil {
		t.Errorf("POST /org/run: %s", r.body)
	}
	bad := strings.Replace(string(sc), `"latency_days": 0`, `"latency_days": -4`, 1)
	r = e.mustDo("POST", "/org/run", bad, 400)
	if !strings.Contains(string(r.body), "org.rules[0].latency_days") {
		t.Errorf("bad latency: %s", r.body)
	}
	spec, err := os.ReadFile("../org/testdata/invest_small.json")
	if err != nil {
		t.Fatal(err)
	}
	small := strings.Replace(string(spec), `"runs": 200`, `"runs": 20`, 1)
	r = e.mustDo("POST", "/org/invest", small, 200)
	var inv struct {
		Best struct {
			Candidates []string  `json:"candidates"`
			CI         []float64 `json:"ci"`
		} `json:"best"`
		Frontier []json.RawMessage `json:"frontier"`
	}
	if err := json.Unmarshal(r.body, &inv); err != nil {
		t.Fatal(err)
	}
	if len(inv.Best.CI) != 2 || len(inv.Frontier) == 0 {
		t.Errorf("POST /org/invest: %s", r.body)
	}
	r = e.mustDo("POST", "/org/invest", strings.Replace(small, `"cost": 300, `, "", 1), 400)
	if !strings.Contains(string(r.body), "candidates[0].cost") {
		t.Errorf("no cost: %s", r.body)
	}
}

// TestOrgInvestAdmission: POST /org/invest is admitted as a study. With
// one study at once allowed and a Monte Carlo study under way, a search
// gets 429 TooManyStudies with Retry-After; once the study is cancelled
// the search runs and answers with the cost it was admitted with, and
// its place is freed when it answers (a second search is admitted). A
// search whose runs alone (portfolios × runs × scenarios) pass the limit
// of queued runs gets 400 StudyTooLarge naming runs.
func TestOrgInvestAdmission(t *testing.T) {
	s := startStudies(t, t.TempDir(), func(o *server.Options) { o.StudiesMaxConcurrent = 1; o.StudiesMaxQueuedRuns = 3000 })
	e := &env{t: t, srv: s, url: s.URL()}
	spec, err := os.ReadFile("../org/testdata/invest_small.json")
	if err != nil {
		t.Fatal(err)
	}
	// 12 portfolios within the budget of 600 (exhaustive search) × 20 runs.
	small := strings.Replace(string(spec), `"runs": 200`, `"runs": 20`, 1)
	run := postRun(t, e, studyDoc(t, 3000, 3650), 202)
	r := e.do("POST", "/org/invest", small)
	if r.status != 429 {
		t.Fatalf("search beside a study at the limit: %d %s, want 429", r.status, r.body)
	}
	if sec, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || sec < 1 {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	if code, _ := checkErrorShape(t, r); code != "TooManyStudies" {
		t.Errorf("code %s, want TooManyStudies", code)
	}
	e.mustDo("DELETE", "/scenarios/"+run.ID, nil, 200)
	for i := range 2 {
		r = e.mustDo("POST", "/org/invest", small, 200)
		var out struct {
			Best          json.RawMessage        `json:"best"`
			Evaluated     int                    `json:"evaluated"`
			Bound         *struct{ Gap float64 } `json:"bound"`
			EstimatedCost *api.StudyCost         `json:"estimatedCost"`
		}
		if err := json.Unmarshal(r.body, &out); err != nil {
			t.Fatal(err)
		}
		if c := out.EstimatedCost; c == nil || c.Runs != out.Evaluated*20 || c.Days != 180 || c.Nodes != 4 || c.NodeDays != int64(c.Runs)*180*4 || out.Bound == nil {
			t.Errorf("search %d: estimatedCost %+v, evaluated %d, bound %v", i, c, out.Evaluated, out.Bound)
		}
	}
	big := strings.Replace(string(spec), `"runs": 200`, `"runs": 1000`, 1)
	r = e.do("POST", "/org/invest", big)
	if r.status != 400 {
		t.Fatalf("search over the queued runs: %d %s, want 400", r.status, r.body)
	}
	if code, details := checkErrorShape(t, r); code != "StudyTooLarge" || len(details) == 0 || details[0].(map[string]any)["path"] != "runs" {
		t.Errorf("code %s details %v, want StudyTooLarge at runs", code, details)
	}
	if !strings.Contains(string(r.body), "12000 runs (12 portfolios at most × 1000 runs × 1 scenarios)") {
		t.Errorf("the refusal does not give the estimate: %s", r.body)
	}
}
