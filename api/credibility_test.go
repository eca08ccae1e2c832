package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"lodestone/trust/credibility"
)

// sensorModel has a source property and one telemetry.
const sensorModel = `[{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Sensor;1","@type":"Interface","contents":[
	{"@type":"Property","name":"name","schema":"string","writable":true},
	{"@type":"Property","name":"capacity","schema":"double","writable":true},
	{"@type":"Property","name":"source","schema":"string","writable":true},
	{"@type":"Telemetry","name":"temperature","schema":"double"}]}]`

func credReport(t *testing.T, b []byte) map[string]credibility.Filter {
	t.Helper()
	var rep credibility.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("credibility: %v\n%s", err, b)
	}
	out := map[string]credibility.Filter{}
	for _, f := range rep.Filters {
		if f.Rule == "" || f.Grade == "" || f.Why == "" || len(f.Evidence) == 0 {
			t.Errorf("filter %s lacks a grade, rule, why or evidence: %+v", f.Name, f)
		}
		out[f.Name] = f
	}
	if len(out) != 3 || out["data"].Name == "" || out["model"].Name == "" || out["operational"].Name == "" {
		t.Fatalf("filters %v, want data, model and operational", rep.Filters)
	}
	return out
}

// TestCredibilityGrades grades twins with and without citations and
// telemetry, on servers with and without the transparency log, and checks
// each grade follows the stated rule.
func TestCredibilityGrades(t *testing.T) {
	s := startLogServer(t, true)
	s.do(t, "POST", "/models", "application/json", []byte(sensorModel), http.StatusCreated)
	put := func(id, extra string) {
		body := fmt.Sprintf(`{"$metadata":{"$model":"dtmi:test:Sensor;1"},"name":"%s","capacity":1.5%s}`, id, extra)
		s.do(t, "PUT", "/digitaltwins/"+id, "application/json", []byte(body), http.StatusOK)
	}
	put("bare", "")
	put("cited", `,"source":"USGS figures [MCS2025, p. 145]"`)
	put("live", `,"source":"USGS figures [MCS2025, p. 145]"`)
	req, _ := http.NewRequest("POST", s.url+"/digitaltwins/live/telemetry", strings.NewReader(`{"temperature": 21.5}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Message-Id", "m1")
	req.Header.Set("Telemetry-Source-Time", time.Now().UTC().Format(time.RFC3339Nano))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST telemetry: %v %v", resp, err)
	}

	bare := credReport(t, s.get(t, "/credibility/bare"))
	cited := credReport(t, s.get(t, "/credibility/cited"))
	live := credReport(t, s.get(t, "/credibility/live"))
	// Data: no citation, no telemetry: D. Every value cited (with a
	// primary source) but the declared telemetry silent: C (coverage 0 <
	// 0.5). Cited and telemetry flowing: B (A needs signed writes, which
	// the write path does not record).
	for _, c := range []struct {
		name string
		f    credibility.Filter
		want string
	}{{"bare", bare["data"], "D"}, {"cited", cited["data"], "C"}, {"live", live["data"], "B"}} {
		if c.f.Grade != c.want {
			t.Errorf("%s: data grade %s (%s), want %s; evidence %+v", c.name, c.f.Grade, c.f.Why, c.want, c.f.Evidence)
		}
	}
	if ev := evidence(live["data"], "primaryKeys"); fmt.Sprint(ev) != "[MCS2025]" {
		t.Errorf("primary keys %v, want [MCS2025]", ev)
	}
	if ev := evidence(live["data"], "telemetryCovered"); ev != float64(1) {
		t.Errorf("telemetry covered %v, want 1", ev)
	}
	// A value changed after its citation was written is not counted as
	// cited.
	s.do(t, "PATCH", "/digitaltwins/cited", "application/json-patch+json", []byte(`[{"op":"replace","path":"/capacity","value":7}]`), http.StatusNoContent)
	if f := credReport(t, s.get(t, "/credibility/cited"))["data"]; evidence(f, "staleCitations") != float64(1) || evidence(f, "citedShare") != 0.5 {
		t.Errorf("after a patch: stale %v, cited share %v; want 1 and 0.5", evidence(f, "staleCitations"), evidence(f, "citedShare"))
	}
	// Model: no engine result: N/A.
	if g := bare["model"].Grade; g != "N/A" {
		t.Errorf("model grade of a data twin %s, want N/A", g)
	}
	// Operational with the log, every change logged, verify clean, no
	// auth: B.
	if f := bare["operational"]; f.Grade != "B" || evidence(f, "verifyOK") != true || evidence(f, "loggedChanges") != evidence(f, "changes") {
		t.Errorf("operational with the log: %s (%s) %+v, want B", f.Grade, f.Why, f.Evidence)
	}
	// Without the log: D (no auth either).
	s2 := startLogServer(t, false)
	s2.do(t, "POST", "/models", "application/json", []byte(sensorModel), http.StatusCreated)
	s2.do(t, "PUT", "/digitaltwins/bare", "application/json", []byte(`{"$metadata":{"$model":"dtmi:test:Sensor;1"},"name":"bare"}`), http.StatusOK)
	if f := credReport(t, s2.get(t, "/credibility/bare"))["operational"]; f.Grade != "D" {
		t.Errorf("operational without the log: %s (%s), want D", f.Grade, f.Why)
	}
	// A model: every twin of it.
	var rep credibility.Report
	json.Unmarshal(s.get(t, "/credibility/dtmi:test:Sensor;1"), &rep)
	if rep.Kind != "model" || rep.Twins != 3 {
		t.Errorf("model report kind %s over %d twins, want model over 3", rep.Kind, rep.Twins)
	}
	s.do(t, "GET", "/credibility/nope", "", nil, http.StatusNotFound)
	s.do(t, "GET", "/credibility/dtmi:test:Nope;1", "", nil, http.StatusNotFound)
}

func evidence(f credibility.Filter, name string) any {
	for _, e := range f.Evidence {
		if e.Name == name {
			return e.Value
		}
	}
	return nil
}

// TestCredibilityProcessResult grades a simulated cascade: converged, spec
// matched, the Kremser validation cases pass with their residuals; the
// spec names no source of its parameters, so B, not A.
func TestCredibilityProcessResult(t *testing.T) {
	u := startSimServer(t)
	spec := map[string]any{
		"stages": 6, "temperature_K": 298.15, "media": "chloride",
		"inlets": []any{
			map[string]any{"phase": "aqueous", "stage": 6, "flow_L_per_h": 100.0, "mg_per_L": map[string]any{"Nd": 1000.0, "Pr": 500.0, "H": 1.0, "Cl": 1100.0}},
			map[string]any{"phase": "organic", "stage": 1, "flow_L_per_h": 100.0, "mg_per_L": map[string]any{"DEHPA": 48790.0}},
		},
		"equilibrium": map[string]any{"model": "constant", "parametersJson": `{"D": {"Nd": 2.0, "Pr": 0.8}}`},
	}
	cascade := map[string]any{"$metadata": map[string]any{"$model": "dtmi:lodestone:SXCascade;1"}, "name": "c", "spec": spec}
	if st := send(t, "PUT", u+"/digitaltwins/cascade-test", cascade, nil); st != 200 {
		t.Fatalf("PUT cascade = %d", st)
	}
	if st := send(t, "POST", u+"/digitaltwins/cascade-test/simulate", nil, nil); st != 200 {
		t.Fatalf("simulate = %d", st)
	}
	var raw json.RawMessage
	if st := send(t, "GET", u+"/credibility/cascade-test", nil, &raw); st != 200 {
		t.Fatalf("credibility = %d", st)
	}
	m := credReport(t, raw)["model"]
	if m.Grade != "B" || !strings.Contains(m.Why, "fitted data") {
		t.Errorf("model grade %s (%s), want B (no fitted data cited)", m.Grade, m.Why)
	}
	cases, _ := json.Marshal(evidence(m, "validationCases"))
	var cs []credibility.Case
	json.Unmarshal(cases, &cs)
	if len(cs) != 2 {
		t.Fatalf("validation cases %s, want 2", cases)
	}
	for _, c := range cs {
		if !c.Passed || c.Residual > c.Tolerance || c.Expected <= 0 {
			t.Errorf("case %+v did not pass", c)
		}
	}
	if evidence(m, "specMatchedTwins") != float64(1) {
		t.Errorf("spec matched %v, want 1", evidence(m, "specMatchedTwins"))
	}
}

// BenchmarkCredibility reports one twin's credibility on a store of 200
// twins with the log on: the report runs verify over the whole store, so
// this is its cost at that size.
func BenchmarkCredibility(b *testing.B) {
	s := startLogServer(b, true)
	s.do(b, "POST", "/models", "application/json", []byte(sensorModel), http.StatusCreated)
	for i := range 200 {
		body := fmt.Sprintf(`{"$metadata":{"$model":"dtmi:test:Sensor;1"},"name":"t%d","capacity":%d,"source":"[MCS2025]"}`, i, i)
		s.do(b, "PUT", fmt.Sprintf("/digitaltwins/t%d", i), "application/json", []byte(body), http.StatusOK)
	}
	b.ResetTimer()
	for b.Loop() {
		s.get(b, "/credibility/t7")
	}
}
