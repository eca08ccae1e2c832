package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"lodestone/server"
	"lodestone/supply"
	"lodestone/world"
)

var updateDemo = flag.Bool("update", false, "rewrite examples/org/april-2025.json from the world (TestDemoOrgScenario)")

// demoOrgFile is the org scenario of the demo's story.
const demoOrgFile = "../examples/org/april-2025.json"

// demoOrgScenario builds examples/org/april-2025.json from the world: the
// april-2025 scenario for one year with the DLA stockpile at its assumed
// holding (examples/org/README.md) and its lane to the OEMs on standby, so
// that only the org's rule releases it; the description and "org" are kept
// from the file as written.
func demoOrgScenario(t *testing.T, current map[string]any) map[string]any {
	t.Helper()
	w, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := w.Scenario(world.ScenarioApril2025, &world.ScenarioOptions{Days: 365,
		Network: world.NetworkOptions{StockpileTonnes: map[supply.NodeID]float64{"stockpile-us-dla": 5000}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range sc.Network.Arcs {
		if a.From == "stockpile-us-dla" {
			sc.Network.Arcs[i].Standby = true
		}
	}
	b, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	out["description"], out["org"] = current["description"], current["org"]
	return out
}

// TestDemoOrgScenario: the network, control and initial state of the
// story's org scenario are the world's (regenerate with -update when the
// world changes), and the org part is there.
func TestDemoOrgScenario(t *testing.T) {
	raw, err := os.ReadFile(demoOrgFile)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got["org"] == nil || got["description"] == nil {
		t.Fatalf("%s has no org or description (hand-written parts the generator keeps)", demoOrgFile)
	}
	want := demoOrgScenario(t, got)
	if *updateDemo {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(want); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(demoOrgFile, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s differs from the world's april-2025 scenario: regenerate with go test ./server -run DemoOrgScenario -update", demoOrgFile)
	}
}

// TestDemoReplayFileIsTheEstimatorsExample: the readings the demo replays
// are the estimator's example, byte for byte (examples/ embeds a copy).
func TestDemoReplayFileIsTheEstimatorsExample(t *testing.T) {
	a, err := os.ReadFile("../examples/plant/ndpr-drift.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../plant/estimate/testdata/ndpr-drift.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("examples/plant/ndpr-drift.json differs from plant/estimate/testdata/ndpr-drift.json: copy it again after regenerating the estimator's example")
	}
}

// TestDemoStory: a fresh demo stores the April 2025 run (GET /scenarios
// lists it, done, with demand lost), replays the analyser's readings and
// serves GET /demo/story; reopened, it stores the run no second time.
func TestDemoStory(t *testing.T) {
	dir := t.TempDir()
	open := func() *server.Server {
		o := server.DefaultOptions()
		o.DataDir, o.HTTPAddr, o.LoadDemo = dir, "127.0.0.1:0", true
		s, err := server.New(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	stop := func(s *server.Server) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	runs := func(base string) (n int, done bool, lost float64) {
		var list struct {
			Value []struct {
				Name, Status string
				KPIs         *struct {
					Lost float64 `json:"lostTonnes"`
				} `json:"kpis"`
			} `json:"value"`
		}
		getJSON(t, base+"/scenarios", &list)
		for _, r := range list.Value {
			if r.Name == server.DemoScenarioName {
				n++
				done = r.Status == "done"
				if r.KPIs != nil {
					lost = r.KPIs.Lost
				}
			}
		}
		return
	}
	s := open()
	base := s.URL()
	if n, done, lost := runs(base); n != 1 || !done || !(lost > 0) {
		t.Errorf("fresh demo: %d runs named %q, done %v, lost %v; want one done run that loses demand", n, server.DemoScenarioName, done, lost)
	}
	var story server.DemoStory
	getJSON(t, base+"/demo/story", &story)
	var tel struct {
		Value []struct {
			Value map[string]float64 `json:"value"`
		} `json:"value"`
	}
	getJSON(t, base+"/digitaltwins/"+story.Analyser+"/telemetry?name=assay&limit=1000", &tel)
	if len(tel.Value) != 100 {
		t.Errorf("replayed %d readings of %s, want the file's 100", len(tel.Value), story.Sensor)
	}
	var org struct {
		Decisions []json.RawMessage `json:"decisions"`
	}
	postJSON(t, base+"/org/run", story.OrgScenario, &org)
	if len(org.Decisions) != 1 {
		t.Errorf("the story's org scenario made %d decisions, want 1", len(org.Decisions))
	}
	stop(s)

	s = open()
	defer stop(s)
	if s.DemoLoaded() {
		t.Fatal("the reopened demo loaded the world again")
	}
	if n, _, _ := runs(s.URL()); n != 1 {
		t.Errorf("reopened demo: %d runs named %q, want still 1", n, server.DemoScenarioName)
	}
	getJSON(t, s.URL()+"/demo/story", &story)
}

// TestDemoTenants: the demo with its own identity file (lodestone demo
// --tenants) loads plantco's capacity offer and shares it with magnetco:
// magnetco's buyer sees the shared fields only, plantco's admin all of
// them, the demo's admin (another org) nothing, and no token is a 401; the
// loaded world stays readable by every principal. A demo first started
// without --tenants gets them when restarted with it; the file and its
// tokens are kept.
func TestDemoTenants(t *testing.T) {
	dir := t.TempDir()
	// A demo first started without --tenants gets its companies later.
	o := server.DefaultOptions()
	o.DataDir, o.HTTPAddr, o.LoadDemo = dir, "127.0.0.1:0", true
	plain, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := plain.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	authFile, toks, err := server.DemoAuth(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok := map[string]string{}
	for _, k := range toks {
		tok[k.Subject] = k.Token
	}
	if len(tok) != 3 || tok["plantco-admin"] == "" || tok["magnetco-buyer"] == "" || tok["demo-admin"] == "" {
		t.Fatalf("demo tokens: %+v", toks)
	}
	if fi, err := os.Stat(authFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, mode %v; want 0600", authFile, err, fi.Mode())
	}
	s := startServer(t, func(o *server.Options) {
		o.DataDir, o.LoadDemo, o.Auth = dir, true, authFile
	})
	base := s.URL()
	get := func(who, path string) (int, map[string]any) {
		var hdr []string
		if who != "" {
			hdr = []string{"Authorization", "Bearer " + tok[who]}
		}
		res, err := send(t.Context(), http.DefaultClient, http.MethodGet, base+path, nil, hdr...)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		json.Unmarshal(res.body, &v)
		return res.status, v
	}
	offer := "/digitaltwins/" + server.DemoOfferTwin
	st, v := get("magnetco-buyer", offer)
	if st != http.StatusOK || v["capacityTonnesPerYear"] != 10908.0 || v["reservedShare"] != nil || v["notes"] != nil {
		t.Errorf("magnetco reads the offer: %d %v; want the shared fields only", st, v)
	}
	if st, v := get("plantco-admin", offer); st != http.StatusOK || v["reservedShare"] != 0.5 || v["notes"] == nil {
		t.Errorf("plantco reads its offer: %d %v; want every field", st, v)
	}
	if st, _ := get("demo-admin", offer); st != http.StatusNotFound {
		t.Errorf("the demo's admin (org demo) reads plantco's offer: %d, want 404", st)
	}
	// Without a token a request on loopback is the demo's local user,
	// the admin of org demo: it reads the world, not plantco's offer.
	if st, _ := get("", offer); st != http.StatusNotFound {
		t.Errorf("no token reads plantco's offer: %d, want 404", st)
	}
	if st, _ := get("", "/digitaltwins/mine-cn"); st != http.StatusOK {
		t.Errorf("no token reads the loaded world: %d, want 200", st)
	}
	tok["forged"] = "magnetco-buyer-" + strings.Repeat("0", 36)
	if st, _ := get("forged", offer); st != http.StatusUnauthorized {
		t.Errorf("an unknown token: %d, want 401", st)
	}
	if st, _ := get("magnetco-buyer", "/digitaltwins/mine-cn"); st != http.StatusOK {
		t.Errorf("magnetco reads the loaded world: %d, want 200", st)
	}
	if st, v := get("magnetco-buyer", "/sharing/"+server.DemoAgreement); st != http.StatusOK || v["owner"] != "plantco" {
		t.Errorf("magnetco reads the agreement it receives: %d %v", st, v)
	}
	_, again, err := server.DemoAuth(dir)
	if err != nil || !reflect.DeepEqual(again, toks) {
		t.Errorf("DemoAuth again = %v, %v; want the same tokens", again, err)
	}
}
