package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"lodestone/api"
	"lodestone/supply"
	"lodestone/world"
)

// postRun posts a scenario and decodes the run, failing unless the status
// is want.
func postRun(t *testing.T, e *env, body any, want int) api.ScenarioRun {
	t.Helper()
	r := e.mustDo("POST", "/scenarios", body, want)
	var run api.ScenarioRun
	if err := json.Unmarshal(r.body, &run); err != nil {
		t.Fatal(err)
	}
	return run
}

// waitRun polls a run's progress until it is no longer running.
func waitRun(t *testing.T, e *env, id string) api.ScenarioProgress {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var p api.ScenarioProgress
		r := e.mustDo("GET", "/scenarios/"+id+"/progress", nil, 200)
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Status != api.RunRunning {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s still running after 60 s: %+v", id, p)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestScenarioRuns runs scenarios on the twin graph of the demo world and
// on a network of their own, stores them, reads them back and compares
// them, and runs a Monte Carlo study with its progress stream.
func TestScenarioRuns(t *testing.T) {
	e := start(t, options{demo: true, noModels: true})
	shock := map[string]any{"node": "sep-cn", "from": "2025-02-01", "to": "2025-05-31", "capacity_factor": 0.5}

	graphRun := postRun(t, e, map[string]any{"name": "sep-cn at half", "graph": true, "days": 240, "shocks": []any{shock}}, 201)
	if graphRun.Status != api.RunDone || !graphRun.Graph || graphRun.AsOf == nil || graphRun.KPIs == nil || !strings.HasPrefix(graphRun.InputHash, "sha256:") {
		t.Fatalf("graph run = %+v, want done, from the graph, with KPIs and an input hash", graphRun)
	}
	if graphRun.Start != world.DefaultStart || graphRun.Days != 240 {
		t.Errorf("start, days = %s, %d; want %s, 240", graphRun.Start, graphRun.Days, world.DefaultStart)
	}

	// The same scenario on the world's own network gives the same KPIs.
	w, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	net, err := w.Network(nil)
	if err != nil {
		t.Fatal(err)
	}
	world.SortNetwork(net)
	// (A graph run starts at rest unless told otherwise.)
	ownRun := postRun(t, e, map[string]any{"start": "2025-01-01", "days": 240, "network": net, "shocks": []any{shock}, "initial_state": "at_rest"}, 201)
	if diff := cmp.Diff(graphRun.KPIs, ownRun.KPIs); diff != "" {
		t.Errorf("KPIs on the graph's network vs the world's (-graph +world):\n%s", diff)
	}

	// Stored in the twin graph as a ScenarioRun twin, read back whole.
	tw := e.mustDo("GET", "/digitaltwins/"+graphRun.ID, nil, 200).json(t)
	if md, _ := tw["$metadata"].(map[string]any); md["$model"] != "dtmi:lodestone:ScenarioRun;1" || tw["inputHash"] != graphRun.InputHash {
		t.Errorf("twin %s = model %v hash %v, want a ScenarioRun with the run's hash", graphRun.ID, md["$model"], tw["inputHash"])
	}
	var full api.ScenarioRun
	if err := json.Unmarshal(e.mustDo("GET", "/scenarios/"+graphRun.ID, nil, 200).body, &full); err != nil {
		t.Fatal(err)
	}
	var res supply.Result
	if err := json.Unmarshal(full.Result, &res); err != nil || len(res.Nodes) != len(net.Nodes) {
		t.Fatalf("stored result: %v, %d nodes; want %d", err, len(res.Nodes), len(net.Nodes))
	}
	if full.Name != "sep-cn at half" || full.Scenario == nil || full.KPIs.LostTonnes != graphRun.KPIs.LostTonnes {
		t.Errorf("GET run = name %q scenario %d bytes KPIs %+v", full.Name, len(full.Scenario), full.KPIs)
	}

	// A Monte Carlo study in the background, with its progress stream.
	mc := postRun(t, e, map[string]any{"graph": true, "days": 120, "runs": 40, "seed": 3, "random_shocks": []any{
		map[string]any{"name": "sep-cn outage", "nodes": []string{"sep-cn"}, "prob_per_day": 0.01, "duration_days": 20, "capacity_factor": 0.3}}}, 202)
	if mc.Status != api.RunRunning || mc.Progress == nil || mc.Progress.Total != 40 {
		t.Fatalf("Monte Carlo run = %+v, want running with progress of 40", mc)
	}
	events := readProgressStream(t, e.url+"/scenarios/"+mc.ID+"/progress")
	last := events[len(events)-1]
	if last.Status != api.RunDone || last.Done != 40 {
		t.Errorf("last progress event = %+v, want done 40/40", last)
	}
	for i := 1; i < len(events); i++ {
		if events[i].Done < events[i-1].Done {
			t.Errorf("progress went back: %+v then %+v", events[i-1], events[i])
		}
	}
	if p := waitRun(t, e, mc.ID); p.Status != api.RunDone {
		t.Fatalf("Monte Carlo run ended %+v", p)
	}
	var mcFull api.ScenarioRun
	json.Unmarshal(e.mustDo("GET", "/scenarios/"+mc.ID, nil, 200).body, &mcFull)
	var mcRes supply.MCResult
	if err := json.Unmarshal(mcFull.Result, &mcRes); err != nil || mcRes.Runs != 40 || mcFull.KPIs == nil {
		t.Errorf("Monte Carlo result: %v, runs %d, KPIs %v", err, mcRes.Runs, mcFull.KPIs)
	}

	// Listed newest first without results; compared side by side.
	var list api.ScenarioRunList
	json.Unmarshal(e.mustDo("GET", "/scenarios", nil, 200).body, &list)
	var ids []string
	for _, r := range list.Value {
		if strings.HasSuffix(r.Name, "(demo)") {
			continue // the demo world's stored run (server/demo.go)
		}
		ids = append(ids, r.ID)
		if r.Result != nil || r.Scenario != nil {
			t.Errorf("list entry %s carries its result", r.ID)
		}
	}
	if len(ids) != 3 || !slices.Contains(ids, mc.ID) {
		t.Errorf("GET /scenarios = %v, want the three runs", ids)
	}
	var cmpRes api.ScenarioComparison
	json.Unmarshal(e.mustDo("GET", "/scenarios/compare?ids="+graphRun.ID+","+mc.ID, nil, 200).body, &cmpRes)
	if len(cmpRes.Runs) != 2 || len(cmpRes.Nodes["oem-row"]) != 2 || cmpRes.Nodes["oem-row"][0] == nil || cmpRes.Nodes["oem-row"][1] == nil {
		t.Fatalf("compare = %+v, want two runs with oem-row in both", cmpRes)
	}
	d := cmpRes.Diff["lostTonnes"]
	if d.From != graphRun.KPIs.LostTonnes || d.To != mcFull.KPIs.LostTonnes {
		t.Errorf("diff lostTonnes = %+v, want from %g to %g", d, graphRun.KPIs.LostTonnes, mcFull.KPIs.LostTonnes)
	}
}

// readProgressStream reads the SSE progress events of a run until the
// stream ends.
func readProgressStream(t *testing.T, url string) []api.ScenarioProgress {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("progress stream Content-Type = %q", ct)
	}
	var out []api.ScenarioProgress
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var p api.ScenarioProgress
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("progress event %q: %v", line, err)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		t.Fatal("no progress event")
	}
	return out
}

// TestScenarioProcessLink runs the process twin of a cascade in Lynas'
// plant and checks that a scenario on the graph takes the plant's capacity
// from it, with its input hash, and that a run as of before does not.
func TestScenarioProcessLink(t *testing.T) {
	e := start(t, options{demo: true, noModels: true})
	before := time.Now().UTC()
	time.Sleep(5 * time.Millisecond) // the snapshot "as of before" must precede the writes
	spec := map[string]any{
		"stages": 6, "temperature_K": 298.15, "media": "chloride",
		"inlets": []any{
			map[string]any{"phase": "aqueous", "stage": 6, "flow_L_per_h": 100.0, "mg_per_L": map[string]any{"Nd": 1000.0, "Pr": 500.0, "H": 1.0, "Cl": 1100.0}},
			map[string]any{"phase": "organic", "stage": 1, "flow_L_per_h": 100.0, "mg_per_L": map[string]any{"DEHPA": 48790.0}},
		},
		"equilibrium": map[string]any{"model": "constant", "parametersJson": `{"D": {"Nd": 2.0, "Pr": 0.8}}`},
	}
	e.mustDo("PUT", "/digitaltwins/cascade-test", map[string]any{"$metadata": map[string]any{"$model": "dtmi:lodestone:SXCascade;1"}, "name": "test cascade", "spec": spec}, 200)
	e.mustDo("PUT", "/digitaltwins/sep-my-lynas/relationships/has-cascade", map[string]any{"$targetId": "cascade-test", "$relationshipName": "hasUnit"}, 200)
	var sim api.SimulateResponse
	// The bench cascade feeds the plant only through an explicit scale-up
	// (docs/formats/process-link.md); the design feed is a test input.
	link := map[string]any{"link": map[string]any{"designThroughputTonnesReoPerYearPerTrain": 19500.0, "designThroughputSource": "test input"}}
	json.Unmarshal(e.mustDo("POST", "/digitaltwins/cascade-test/simulate", link, 200).body, &sim)
	if sim.PlantLink == nil || !sim.PlantLink.Written {
		t.Fatalf("simulate did not write the plant: %+v", sim.PlantLink)
	}
	plantCap := sim.PlantLink.ThroughputCapacityTonnesReoPerYear

	run := postRun(t, e, map[string]any{"graph": true, "days": 30}, 201)
	if len(run.Provenance) != 1 {
		t.Fatalf("provenance = %+v, want sep-my-lynas", run.Provenance)
	}
	p := run.Provenance[0]
	if p.Node != "sep-my-lynas" || !p.Used || p.InputHash != sim.InputHash || p.ModelVersion != api.SXModelVersion || p.CapacityTonnesPerYear != plantCap {
		t.Errorf("provenance = %+v, want sep-my-lynas used with hash %s and throughput %g", p, sim.InputHash, plantCap)
	}
	var sc supply.SimScenario
	json.Unmarshal(e.mustDo("GET", "/scenarios/"+run.ID, nil, 200).body, &struct {
		Scenario *supply.SimScenario `json:"scenario"`
	}{&sc})
	for _, n := range sc.Network.Nodes {
		if n.ID == "sep-my-lynas" && n.CapacityPerPeriod != plantCap/365 {
			t.Errorf("sep-my-lynas capacity = %g t/day, want the scaled process twin's %g / 365", n.CapacityPerPeriod, plantCap)
		}
	}
	old := postRun(t, e, map[string]any{"graph": true, "days": 30, "asOf": before.Format(time.RFC3339Nano)}, 201)
	if len(old.Provenance) != 0 {
		t.Errorf("run as of before the simulation: provenance = %+v, want none", old.Provenance)
	}
	var stress api.StressResponse
	json.Unmarshal(e.mustDo("POST", "/scenarios/stress", map[string]any{"ttrPeriods": 120}, 200).body, &stress)
	if len(stress.Provenance) != 1 || len(stress.Scenarios) == 0 {
		t.Errorf("stress = %d scenarios, provenance %+v", len(stress.Scenarios), stress.Provenance)
	}
}

// TestScenarioStress checks the stress table of the graph's network: one
// scenario per facility, sorted by exposure.
func TestScenarioStress(t *testing.T) {
	e := start(t, options{demo: true, noModels: true})
	var out api.StressResponse
	json.Unmarshal(e.mustDo("POST", "/scenarios/stress", map[string]any{"ttrPeriods": 120}, 200).body, &out)
	w, _ := world.Load()
	if len(out.Scenarios) != len(w.Nodes) || out.Periods != "days" {
		t.Fatalf("stress = %d scenarios in %s, want %d in days", len(out.Scenarios), out.Periods, len(w.Nodes))
	}
	exposed := 0
	for i, s := range out.Scenarios {
		if s.TTR != 120 {
			t.Errorf("%s: TTR = %g, want 120", s.Name, s.TTR)
		}
		if s.Exposed {
			exposed++
			if i > 0 && !out.Scenarios[i-1].Exposed {
				t.Errorf("exposed %s after a scenario that is not", s.Name)
			}
		}
		if i > 0 && s.Exposed == out.Scenarios[i-1].Exposed && s.ShortagePeriods > out.Scenarios[i-1].ShortagePeriods {
			t.Errorf("%s (shortage %g) after %s (%g): not sorted by exposure", s.Name, s.ShortagePeriods, out.Scenarios[i-1].Name, out.Scenarios[i-1].ShortagePeriods)
		}
	}
	if exposed == 0 {
		t.Error("no node is exposed with a 120-day TTR; China's separation at least should be")
	}
	// Named node sets.
	json.Unmarshal(e.mustDo("POST", "/scenarios/stress", map[string]any{"scenarios": []any{
		map[string]any{"name": "all China", "disrupted": []string{"mine-cn", "sep-cn", "metal-cn", "magnet-cn"}, "ttr_periods": 30}}}, 200).body, &out)
	if len(out.Scenarios) != 1 || out.Scenarios[0].Name != "all China" {
		t.Errorf("named scenario: %+v", out.Scenarios)
	}
	// The baseline row: nothing disrupted loses nothing.
	out = api.StressResponse{}
	json.Unmarshal(e.mustDo("POST", "/scenarios/stress", map[string]any{"scenarios": []any{
		map[string]any{"name": "baseline", "disrupted": []string{}, "ttr_periods": 30}}}, 200).body, &out)
	if len(out.Scenarios) != 1 || out.Scenarios[0].LostUnits != 0 || out.Scenarios[0].Exposed {
		t.Errorf("baseline row: %+v", out.Scenarios)
	}
	// No TTR: the one default (supply.DefaultTTR days), named in the legend
	// with the unit of every column and REI's definition.
	out = api.StressResponse{}
	json.Unmarshal(e.mustDo("POST", "/scenarios/stress", map[string]any{}, 200).body, &out)
	lg := out.Legend
	if len(out.Scenarios) == 0 || out.Scenarios[0].TTR != supply.DefaultTTR || lg.DefaultTTRPeriods != supply.DefaultTTR || !lg.DefaultTTRUsed ||
		lg.DefaultTTRSource != supply.DefaultTTRSource || lg.Units["tts"] != "days" || lg.Definitions["rei"] != supply.REIDefinition {
		t.Errorf("default stress: first row %+v, legend %+v", out.Scenarios[0], lg)
	}
	for _, col := range []string{"ttr", "tts", "shortage_periods", "lost_units", "loss_value", "rei"} {
		if lg.Units[col] == "" || lg.Definitions[col] == "" {
			t.Errorf("legend lacks the unit or definition of %s", col)
		}
	}
}

// TestScenarioErrors checks that bad input gets the one error shape and
// names the field.
func TestScenarioErrors(t *testing.T) {
	e := start(t, options{demo: true, noModels: true})
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code, field        string
	}{
		{"no network", "POST", "/scenarios", `{"start":"2025-01-01","days":3}`, 400, "ValidationFailed", "network"},
		{"network with graph", "POST", "/scenarios", `{"graph":true,"network":{"nodes":[]}}`, 400, "ValidationFailed", "network"},
		{"unknown shock node", "POST", "/scenarios", `{"graph":true,"shocks":[{"node":"atlantis","from":"2025-01-01","to":"2025-01-02"}]}`, 400, "ValidationFailed", "shocks[0].node"},
		{"dates out of order", "POST", "/scenarios", `{"graph":true,"shocks":[{"node":"sep-cn","from":"2025-03-01","to":"2025-01-02"}]}`, 400, "ValidationFailed", "shocks[0]"},
		{"unknown field", "POST", "/scenarios", `{"graph":true,"shockz":[]}`, 400, "ValidationFailed", "shockz"},
		{"negative runs", "POST", "/scenarios", `{"graph":true,"runs":-1}`, 400, "ValidationFailed", "runs"},
		{"runs not a number", "POST", "/scenarios", `{"graph":true,"runs":"many"}`, 400, "ValidationFailed", "runs"},
		{"too many days", "POST", "/scenarios", `{"graph":true,"days":100000}`, 400, "ValidationFailed", "days"},
		{"bad asOf", "POST", "/scenarios", `{"graph":true,"asOf":"yesterday"}`, 400, "ValidationFailed", "asOf"},
		{"asOf without graph", "POST", "/scenarios", `{"asOf":"2025-01-01"}`, 400, "ValidationFailed", "asOf"},
		{"bad stockpile", "POST", "/scenarios", `{"graph":true,"stockpileTonnes":{"mine-cn":5}}`, 400, "ValidationFailed", "stockpile_tonnes[mine-cn]"},
		{"not JSON", "POST", "/scenarios", `{"graph":`, 400, "InvalidArgument", ""},
		{"unknown run", "GET", "/scenarios/run-nope", nil, 404, "ScenarioRunNotFound", ""},
		{"not a run", "GET", "/scenarios/mine-cn", nil, 404, "ScenarioRunNotFound", ""},
		{"progress of unknown run", "GET", "/scenarios/run-nope/progress", nil, 404, "ScenarioRunNotFound", ""},
		{"compare one", "GET", "/scenarios/compare?ids=a", nil, 400, "ValidationFailed", "ids"},
		{"compare unknown", "GET", "/scenarios/compare?ids=a,b", nil, 404, "ScenarioRunNotFound", ""},
		{"stress bad ttr", "POST", "/scenarios/stress", `{"ttrPeriods":-4}`, 400, "ValidationFailed", "ttrPeriods"},
		{"stress unknown node", "POST", "/scenarios/stress", `{"scenarios":[{"name":"x","disrupted":["atlantis"],"ttr_periods":3}]}`, 400, "ValidationFailed", "scenarios[0].disrupted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.status, r.body, tt.status)
			}
			code, _ := checkErrorShape(t, r)
			if code != tt.code {
				t.Errorf("code = %s, want %s", code, tt.code)
			}
			if tt.field != "" && !strings.Contains(string(r.body), tt.field) {
				t.Errorf("error %s does not name the field %s", r.body, tt.field)
			}
		})
	}
}

// TestScenarioModelUpload checks that a graph without the ScenarioRun
// model gets it on the first run.
func TestScenarioModelUpload(t *testing.T) {
	e := start(t, options{})
	net := `{"nodes":[{"id":"m","capacity_per_period":10,"inventory":0},{"id":"d","capacity_per_period":10,"inventory":16,"demand_per_period":8}],"arcs":[{"from":"m","to":"d","ratio":1}]}`
	run := postRun(t, e, fmt.Sprintf(`{"start":"2025-01-01","days":10,"network":%s}`, net), 201)
	if run.Status != api.RunDone || run.KPIs.DemandFillRate != 1 {
		t.Errorf("run = %+v, want done with fill rate 1", run)
	}
	e.mustDo("GET", "/models/dtmi:lodestone:ScenarioRun;1", nil, 200)
}

// TestSupplyPageInBrowser drives the dashboard's supply page in headless
// Chromium: the stored run's Sankey, shaded time series and node table,
// the stress table with exposed rows first, a Monte Carlo run from the
// editor with its progress, and the side-by-side comparison.
func TestSupplyPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("short: browser test")
	}
	bin := ""
	for _, name := range []string{os.Getenv("LODESTONE_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); name != "" && err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Chromium found; CI=true requires it")
		}
		t.Skip("no Chromium found; install Debian's chromium or set LODESTONE_CHROMIUM")
	}
	e := start(t, options{demo: true, noModels: true})
	april := postRun(t, e, map[string]any{"name": "April 2025", "graph": true, "days": 400, "controls": []any{map[string]any{"name": "CN-2025-18", "builtin": "CN-2025-18"}}}, 201)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 1600))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	wait := func(what, predicate string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("main").innerText.slice(0, 2000)`))
			t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
		}
	}
	shots := t.TempDir()
	if d := os.Getenv("LODESTONE_SCREENSHOTS"); d != "" {
		shots = d
	}
	shot := func(name string) {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		}
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/#/supply/"+april.ID)); err != nil {
		t.Fatal(err)
	}
	wait("the run drawn", `(() => { const b = document.getElementById("sankey"); return !!b && b.dataset.ready === "1" && +b.dataset.nodes >= 8 && +b.dataset.links >= 8; })()`)
	wait("time series with the control shaded", `document.querySelectorAll(".timechart[data-ready]").length === 2 && [...document.querySelectorAll(".timechart")].every(c => c.dataset.bands.includes("control")) && document.querySelector(".fill-chart").dataset.series.split("|").includes("oem-row")`)
	wait("node table", `[...document.querySelectorAll("#run-nodes td")].some(td => td.textContent === "oem-row")`)
	wait("stress table sorted by exposure", `(() => { const rows = [...document.querySelectorAll("#stress-table tr")].slice(1); const ex = rows.map(r => r.classList.contains("exposed")); return rows.length > 10 && ex[0] && ex.indexOf(false) > 0 && ex.lastIndexOf(true) < ex.indexOf(false); })()`)
	shot("supply-run")

	// A Monte Carlo study from the editor.
	mc := `{"name":"MC from the page","graph":true,"days":120,"runs":40,"random_shocks":[{"name":"sep-cn","nodes":["sep-cn"],"prob_per_day":0.02,"duration_days":20,"capacity_factor":0.3}]}`
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("supply-editor"), mc)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("supply-run"))); err != nil {
		t.Fatal(err)
	}
	wait("the study stored", `document.getElementById("supply-status").textContent.includes("stored in the twin graph") && document.getElementById("run-title").textContent.includes("MC from the page")`)
	// The demo stores a run of its own in the background ("… (demo)"):
	// count the two this test made.
	wait("two stored runs compared", `[...document.querySelectorAll("#runs-table tr")].filter(r => !r.textContent.includes("(demo)")).length === 3 && !!document.querySelector("#compare-table")`)
	shot("supply-montecarlo")

	// A bad scenario names the field.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("supply-editor"), `{"graph":true,"shocks":[{"node":"atlantis","from":"2025-01-01","to":"2025-01-02"}]}`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("supply-run"))); err != nil {
		t.Fatal(err)
	}
	wait("the error at its field", `[...document.querySelectorAll(".error[data-for]")].some(e => e.dataset.for === "shocks[0].node")`)
}

// TestScenarioStudyKeepsConcurrentEdit edits a study's twin through the
// twin API while the study runs. The study's final write applies its
// outcome to the stored run under If-Match, so the edit survives; a write
// of the whole run as the study knew it would drop it.
func TestScenarioStudyKeepsConcurrentEdit(t *testing.T) {
	e := start(t, options{demo: true, noModels: true})
	run := postRun(t, e, map[string]any{"name": "long study", "graph": true, "days": 3650, "runs": 100000, "seed": 1}, 202)
	e.mustDo("PATCH", "/digitaltwins/"+run.ID, `[{"op":"add","path":"/notes","value":"edited during the study"}]`, 204)
	e.mustDo("DELETE", "/scenarios/"+run.ID, nil, 200)
	tw := e.mustDo("GET", "/digitaltwins/"+run.ID, nil, 200).json(t)
	if tw["notes"] != "edited during the study" || (tw["status"] != api.RunFailed && tw["status"] != api.RunCancelled) || tw["name"] != "long study" {
		t.Errorf("run twin after the study: notes %v, status %v, name %v; want the edit kept, failed (cancelled), long study", tw["notes"], tw["status"], tw["name"])
	}
}
