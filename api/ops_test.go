package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestOpsRoutes checks the contract routes of issue 15: /healthz,
// /readyz (one JSON line per check) and /metrics (per-pattern labels,
// never raw paths).
func TestOpsRoutes(t *testing.T) {
	e := start(t, options{})
	if r := e.mustDo("GET", "/healthz", nil, 200); !strings.Contains(string(r.body), `"ok"`) {
		t.Errorf("healthz body %s", r.body)
	}
	r := e.mustDo("GET", "/readyz", nil, 200)
	var rep struct {
		Status string `json:"status"`
		Checks []struct {
			Name string `json:"name"`
			OK   bool   `json:"ok"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatalf("readyz: %v: %s", err, r.body)
	}
	var names []string
	for _, c := range rep.Checks {
		names = append(names, c.Name)
		if !c.OK {
			t.Errorf("check %s not ok", c.Name)
		}
	}
	if rep.Status != "ready" || strings.Join(names, ",") != "store,bus,models" {
		t.Errorf("readyz = %s", r.body)
	}
	for _, c := range rep.Checks {
		if !strings.Contains(string(r.body), "\n  {\"name\":\""+c.Name+"\"") {
			t.Errorf("check %s is not on a line of its own: %s", c.Name, r.body)
		}
	}
	e.putTwin("a1", "dtmi:test:Owner;1", map[string]any{"name": "x"})
	e.putTwin("a2", "dtmi:test:Owner;1", map[string]any{"name": "y"})
	e.mustDo("GET", "/digitaltwins/a1", nil, 200)
	e.mustDo("GET", "/digitaltwins/nope", nil, 404)
	e.mustDo("GET", "/no/such/route/123", nil, 404)
	m := string(e.mustDo("GET", "/metrics", nil, 200).body)
	for _, want := range []string{
		`lodestone_http_requests_total{code="200",method="GET",route="/digitaltwins/{id}"} 1`,
		`lodestone_http_requests_total{code="404",method="GET",route="/digitaltwins/{id}"} 1`,
		`lodestone_http_requests_total{code="404",method="GET",route="/"} 1`, // the dashboard's catch-all
		`lodestone_http_request_duration_seconds_bucket{method="PUT",route="/digitaltwins/{id}",le="+Inf"} 2`,
		"lodestone_outbox_lag_seconds ", "lodestone_store_probe_seconds ", "lodestone_store_up 1",
		"lodestone_bus_up 1", "lodestone_bus_rtt_seconds ", "lodestone_studies_running 0",
		"lodestone_study_runs_planned 0", "go_goroutines ",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(m, "a1") || strings.Contains(m, "/no/such") {
		t.Errorf("metrics carry a raw path")
	}
}
