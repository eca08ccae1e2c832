package server_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lodestone/server"
)

// TestEstimatorsServe runs `serve --estimators FILE`: the readings of
// plant/estimate/testdata/ndpr-drift.json before its bias (synthetic, from
// the dynamic model) are posted as analyser telemetry through the API, in
// arrival order (the lab assays an hour late); the live soft sensor
// filters them all, raises no alarm and writes its estimates to its twin,
// and the plant routes show its state.
func TestEstimatorsServe(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := contextWithTimeout(90 * time.Second)
	defer cancel()
	c := http.DefaultClient
	// First run: the ontology and the analysers the sensors read.
	o := server.DefaultOptions()
	o.DataDir, o.HTTPAddr = dir, "127.0.0.1:0"
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := send(ctx, c, "POST", s.URL()+"/models", ontologyBody()); err != nil || r.status != 201 {
		t.Fatalf("models: %v %d %s", err, r.status, r.body)
	}
	for _, id := range []string{"xrf-raff", "xrf-feed", "xrf-org", "lab-org"} {
		if r, err := send(ctx, c, "PUT", s.URL()+"/digitaltwins/"+id, []byte(`{"$metadata":{"$model":"dtmi:lodestone:Analyser;1"}}`)); err != nil || r.status != 200 {
			t.Fatalf("twin %s: %v %d %s", id, err, r.status, r.body)
		}
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, func(o *server.Options) {
		o.DataDir = dir
		o.Estimators = filepath.Join("..", "connector", "softsensor", "testdata", "estimators.json")
	})
	b, err := os.ReadFile(filepath.Join("..", "plant", "estimate", "testdata", "ndpr-drift.json"))
	if err != nil {
		t.Fatal(err)
	}
	var offline struct {
		Measurements []struct {
			TH     float64 `json:"t_h"`
			Sensor string  `json:"sensor"`
			Value  float64 `json:"value"`
		} `json:"measurements"`
	}
	if err := json.Unmarshal(b, &offline); err != nil {
		t.Fatal(err)
	}
	source := map[string][2]string{"xrf-raff-Nd": {"xrf-raff", "Nd"}, "xrf-raff-Pr": {"xrf-raff", "Pr"},
		"xrf-feed-Nd": {"xrf-feed", "Nd"}, "xrf-org-Pr": {"xrf-org", "Pr"}, "lab-org-Nd": {"lab-org", "Nd"}}
	ms := slices.DeleteFunc(offline.Measurements, func(m struct {
		TH     float64 `json:"t_h"`
		Sensor string  `json:"sensor"`
		Value  float64 `json:"value"`
	}) bool {
		return m.TH > 3 // the bias starts at 10 h
	})
	arrival := func(i int) float64 {
		if ms[i].Sensor == "lab-org-Nd" {
			return ms[i].TH + 1
		}
		return ms[i].TH
	}
	order := make([]int, len(ms))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(arrival(a), arrival(b)) })
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // the file's start
	posted := 0
	for _, i := range order {
		m := ms[i]
		if arrival(i) > 3 {
			continue // not arrived yet
		}
		src := source[m.Sensor]
		body := fmt.Appendf(nil, `{"assay": {%q: %v}}`, src[1], m.Value)
		at := start.Add(time.Duration(m.TH * float64(time.Hour))).Format(time.RFC3339Nano)
		r, err := send(ctx, c, "POST", s.URL()+"/digitaltwins/"+src[0]+"/telemetry", body,
			"Message-Id", fmt.Sprintf("%s-%d", m.Sensor, i), "Telemetry-Source-Time", at)
		if err != nil || r.status != 204 {
			t.Fatalf("telemetry: %v %d %s", err, r.status, r.body)
		}
		posted++
	}
	var st struct {
		Readings  int     `json:"readings"`
		Late      int     `json:"late"`
		TH        float64 `json:"t_h"`
		Certified bool    `json:"certified"`
		Alarms    []any   `json:"alarms"`
		NIS       struct{ Count int }
		Sensors   []struct{ ID string }
	}
	for {
		r, err := send(ctx, c, "GET", s.URL()+"/plant/estimators/ndpr-1", nil)
		if err == nil && r.status == 200 && json.Unmarshal(r.body, &st) == nil && st.Readings == posted {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("status %d %s; %d posted", r.status, r.body, posted)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !st.Certified || len(st.Alarms) != 0 || st.Late == 0 || st.NIS.Count == 0 || len(st.Sensors) != 5 || st.TH < 2.9 {
		t.Errorf("status %+v", st)
	}
	r, err := send(ctx, c, "GET", s.URL()+"/plant/estimators", nil)
	if err != nil || r.status != 200 || !json.Valid(r.body) {
		t.Errorf("list: %v %d", err, r.status)
	}
	r, err = send(ctx, c, "GET", s.URL()+"/plant/estimators/ndpr-1/alarms", nil)
	if err != nil || r.status != 200 || string(r.body) != `{"value":[]}`+"\n" && string(r.body) != `{"value":[]}` {
		t.Errorf("alarms: %v %d %s", err, r.status, r.body)
	}
	if r, _ := send(ctx, c, "GET", s.URL()+"/plant/estimators/nope", nil); r.status != 404 {
		t.Errorf("unknown estimator: %d", r.status)
	}
	if r, _ := send(ctx, c, "POST", s.URL()+"/plant/estimators/nope/acknowledge", nil); r.status != 404 {
		t.Errorf("acknowledge an unknown estimator: %d", r.status)
	}
	if r, err := send(ctx, c, "POST", s.URL()+"/plant/estimators/ndpr-1/acknowledge", nil); err != nil || r.status != 202 {
		t.Errorf("acknowledge: %v %d %s", err, r.status, r.body)
	}
	for {
		var ack struct{ Acknowledged int }
		r, err := send(ctx, c, "GET", s.URL()+"/plant/estimators/ndpr-1", nil)
		if err == nil && json.Unmarshal(r.body, &ack) == nil && ack.Acknowledged == 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("acknowledgement never seen: %s", r.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var tw struct {
		Certified bool    `json:"certified"`
		TimeH     float64 `json:"timeH"`
		Stages    []any   `json:"stages"`
	}
	r, err = send(ctx, c, "GET", s.URL()+"/digitaltwins/ndpr-1-softsensor", nil)
	if err != nil || r.status != 200 || json.Unmarshal(r.body, &tw) != nil || !tw.Certified || len(tw.Stages) != 8 {
		t.Errorf("estimates twin: %v %d %s", err, r.status, r.body)
	}
}

// TestEstimatorsServeBadFile: a sensor reading a twin that does not exist
// stops the server from starting, naming the field.
func TestEstimatorsServeBadFile(t *testing.T) {
	o := server.DefaultOptions()
	o.DataDir, o.HTTPAddr = t.TempDir(), "127.0.0.1:0"
	o.Estimators = filepath.Join("..", "connector", "softsensor", "testdata", "estimators.json")
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Start(context.Background())
	if err == nil {
		s.Shutdown(context.Background())
		t.Fatal("started with sensors reading twins that do not exist")
	}
	if want := "estimators[0].sensors[0].source.twin"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %v does not name %s", err, want)
	}
}
