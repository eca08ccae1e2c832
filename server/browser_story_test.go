package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"lodestone/server"
)

// startStoryDemo starts the demo with a transparency log (so the story's
// last step can verify the store) and returns it.
func startStoryDemo(t *testing.T) *server.Server {
	t.Helper()
	key, _ := writeKey(t, t.TempDir())
	return startServer(t, func(o *server.Options) {
		o.LoadDemo = true
		o.LogKey = key
	})
}

// storyNumbers opens the story from the home page's link, waits until all
// seven steps are done (failing on any step in error) and returns the
// numbers the page shows, by data-k, as their data-v.
func storyNumbers(t *testing.T, ctx context.Context, base string) map[string]string {
	t.Helper()
	go_(t, ctx, base+"/#/")
	click(t, ctx, "#story-link")
	waitFor[bool](t, ctx, "story nav link active", `document.querySelector('#nav a[data-page="story"]').classList.contains("active")`)
	state := waitFor[string](t, ctx, "every story step loaded",
		`(() => { const s = [...document.querySelectorAll(".story-step")]; if (s.length !== 7 || s.some(x => x.dataset.state === "loading")) return ""; return s.map(x => x.id + "=" + x.dataset.state).join(" "); })()`)
	if bad := eval[string](t, ctx, `[...document.querySelectorAll('.story-step[data-state="error"]')].map(x => x.id + ": " + x.innerText).join("\n")`); bad != "" {
		t.Fatalf("story steps in error (%s):\n%s", state, bad)
	}
	raw := eval[string](t, ctx, `JSON.stringify(Object.fromEntries([...document.querySelectorAll("[data-k]")].map(e => [e.dataset.k, e.dataset.v])))`)
	var nums map[string]string
	if err := json.Unmarshal([]byte(raw), &nums); err != nil {
		t.Fatal(err)
	}
	return nums
}

// TestStoryInBrowser follows the story page from the home page to its
// last step on the demo and checks that every step's numbers are there
// and equal to what the API answers to the same calls, made here in Go.
func TestStoryInBrowser(t *testing.T) {
	ctx := browser(t)
	s := startStoryDemo(t)
	base := s.URL()
	nums := storyNumbers(t, ctx, base)
	t.Logf("story numbers: %v", nums)

	// The counterfactual is said in words, with both losses.
	cf := eval[string](t, ctx, `document.getElementById("org-counterfactual").innerText`)
	if !strings.Contains(cf, "With no latency") {
		t.Errorf("the org step does not state the counterfactual: %q", cf)
	}
	t.Logf("counterfactual: %s", cf)

	// Every chart of the story is drawn.
	for _, sel := range []string{"#stage-profiles", "#story-telemetry", "#sankey", "#story-fill", "#story-frontier", "#run-map"} {
		waitFor[bool](t, ctx, "chart "+sel, chartReady(sel))
	}

	var story struct {
		ScenarioName                                  string
		Plant, Cascade, Analyser, Sensor, NetworkNode string
		Simulate, Estimate, OrgScenario, Invest       json.RawMessage
		OrgActors, OrgRules                           []string
	}
	getJSON(t, base+"/demo/story", &story)

	want := map[string]any{}
	// The provenance first: asking for the simulation again below writes
	// new versions of the plant's values.
	var prov struct {
		Entity map[string]json.RawMessage `json:"entity"`
	}
	getJSON(t, base+"/digitaltwins/"+story.Plant+"/provenance", &prov)
	want["provenance-entities"] = float64(len(prov.Entity))
	refs := 0
	for k := range prov.Entity {
		if strings.HasPrefix(k, "bib:") {
			refs++
		}
	}
	want["provenance-refs"] = float64(refs)
	// 1. The cascade: the same simulation, asked again.
	var sim struct {
		Result struct {
			Stages []json.RawMessage `json:"stages"`
		} `json:"result"`
		Recovery  map[string]float64 `json:"recovery"`
		Purity    map[string]float64 `json:"purity"`
		PlantLink struct {
			Capacity struct {
				Tonnes float64 `json:"tonnes_reo_per_year"`
			} `json:"capacity"`
		} `json:"plantLink"`
	}
	postJSON(t, base+"/digitaltwins/"+story.Cascade+"/simulate", story.Simulate, &sim)
	want["cascade-stages"] = float64(len(sim.Result.Stages))
	want["cascade-recovery-nd"] = sim.Recovery["organic_Nd"]
	want["cascade-purity-nd"] = sim.Purity["organic_Nd"]
	want["cascade-recovery-pr"] = sim.Recovery["aqueous_Pr"]

	// 2. The plant: the replayed telemetry and the estimator's alarm.
	var tel struct {
		Value []json.RawMessage `json:"value"`
	}
	getJSON(t, base+"/digitaltwins/"+story.Analyser+"/telemetry?name=assay&limit=1000", &tel)
	if len(tel.Value) == 0 {
		t.Fatal("the demo replayed no analyser telemetry")
	}
	want["telemetry-count"] = float64(len(tel.Value))
	var est struct {
		Alarms []struct {
			T      float64 `json:"t_h"`
			Kind   string  `json:"kind"`
			Sensor *string `json:"sensor"`
		} `json:"alarms"`
	}
	postJSON(t, base+"/plant/estimate", story.Estimate, &est)
	for _, a := range est.Alarms {
		if a.Sensor != nil {
			want["alarm-kind"], want["alarm-t"] = a.Kind, a.T
			break
		}
	}
	if want["alarm-kind"] != "sensor_drift" {
		t.Errorf("the estimator raised %v on the replayed readings, want sensor_drift", est.Alarms)
	}
	// The availability from the equipment models: the reference plant has
	// no failure records (no public life data), so none, with the reason.
	var av struct {
		Computed     bool     `json:"computed"`
		Availability *float64 `json:"availability"`
		Reason       string   `json:"reason"`
	}
	postJSON(t, base+"/plant/equipment/"+story.Plant+"/availability", nil, &av)
	want["availability"] = nil
	if av.Computed {
		want["availability"] = *av.Availability
	} else if reason := eval[string](t, ctx, `document.getElementById("availability-reason").innerText`); av.Reason == "" || !strings.Contains(reason, av.Reason) {
		t.Errorf("the plant step does not give the reason the availability is not computed (%q): %q", av.Reason, reason)
	}

	// 3. Capacity and provenance.
	want["capacity"] = sim.PlantLink.Capacity.Tonnes

	// 4. The April 2025 run stored by the demo.
	var list struct {
		Value []struct{ ID, Name string } `json:"value"`
	}
	getJSON(t, base+"/scenarios", &list)
	runID := ""
	for _, r := range list.Value {
		if r.Name == story.ScenarioName {
			runID = r.ID
		}
	}
	if runID == "" {
		t.Fatalf("GET /scenarios lists no run named %q: %+v", story.ScenarioName, list.Value)
	}
	var run struct {
		KPIs struct {
			Fill          float64 `json:"demandFillRate"`
			Lost          float64 `json:"lostTonnes"`
			FirstStockout string  `json:"firstStockout"`
		} `json:"kpis"`
		Result struct {
			Nodes map[string]struct {
				Fill float64 `json:"fill_rate"`
			} `json:"nodes"`
		} `json:"result"`
		Scenario struct {
			Network struct {
				Nodes []struct {
					ID       string  `json:"id"`
					Capacity float64 `json:"capacity_per_period"`
				} `json:"nodes"`
			} `json:"network"`
		} `json:"scenario"`
	}
	getJSON(t, base+"/scenarios/"+runID, &run)
	for _, n := range run.Scenario.Network.Nodes {
		if n.ID == story.NetworkNode {
			want["network-capacity"] = n.Capacity * 365
		}
	}
	if want["network-capacity"] == nil {
		t.Errorf("the stored run's network has no node %s", story.NetworkNode)
	}
	want["fill-rate"], want["lost"], want["first-stockout"] = run.KPIs.Fill, run.KPIs.Lost, run.KPIs.FirstStockout
	want["oem-row-fill"] = run.Result.Nodes["oem-row"].Fill
	if run.KPIs.Fill >= 1 || run.KPIs.FirstStockout == "" {
		t.Errorf("the April 2025 run loses nothing (%+v): the shock did not reach the OEMs", run.KPIs)
	}

	// 5. Procurement's decision and its counterfactual.
	var org struct {
		Decisions []struct {
			SignalDay    string `json:"signal_day"`
			EffectiveDay string `json:"effective_day"`
		} `json:"decisions"`
		Lost        float64 `json:"lost"`
		ZeroLatency struct {
			Lost float64 `json:"lost"`
		} `json:"zero_latency"`
		LatencyCost float64 `json:"latency_cost"`
	}
	postJSON(t, base+"/org/run?seed=1", story.OrgScenario, &org)
	if len(org.Decisions) == 0 {
		t.Fatal("POST /org/run: no decision in the story's org scenario")
	}
	want["decision-signal-day"], want["decision-effective-day"] = org.Decisions[0].SignalDay, org.Decisions[0].EffectiveDay
	want["org-lost"], want["zero-lost"], want["latency-cost"] = org.Lost, org.ZeroLatency.Lost, org.LatencyCost
	// The actors and rules the page links are the demo's twins.
	if len(story.OrgActors) == 0 || len(story.OrgRules) == 0 {
		t.Errorf("GET /demo/story names no actor or rule twin: %v %v", story.OrgActors, story.OrgRules)
	}
	want["org-twins"] = strings.Join(append(append([]string{}, story.OrgActors...), story.OrgRules...), ",")
	if !(org.LatencyCost > 0) {
		t.Errorf("the latencies cost nothing (%v): the story's decision has no counterfactual to show", org.LatencyCost)
	}

	// 6. The investment frontier.
	var inv struct {
		Best struct {
			Cost      float64 `json:"cost"`
			Objective float64 `json:"objective"`
		} `json:"best"`
		Frontier []json.RawMessage `json:"frontier"`
		Baseline struct {
			Objective float64 `json:"objective"`
		} `json:"baseline"`
	}
	postJSON(t, base+"/org/invest", story.Invest, &inv)
	want["baseline-objective"], want["best-objective"], want["best-cost"] = inv.Baseline.Objective, inv.Best.Objective, inv.Best.Cost
	want["frontier-size"] = float64(len(inv.Frontier))

	// 7. Credibility and verify.
	var cred struct {
		Filters []struct{ Name, Grade string } `json:"filters"`
	}
	getJSON(t, base+"/credibility/"+url.PathEscape(runID), &cred)
	for _, f := range cred.Filters {
		want["grade-"+f.Name] = f.Grade
	}
	var ver struct {
		OK bool `json:"ok"`
	}
	getJSON(t, base+"/verify", &ver)
	if !ver.OK {
		t.Error("GET /verify does not pass on the demo")
	}
	want["verify-ok"] = ver.OK

	for k, w := range want {
		got, ok := nums[k]
		if !ok {
			t.Errorf("the story shows no number %q (want %v)", k, w)
			continue
		}
		if !sameValue(got, w) {
			t.Errorf("story number %s = %s, the API says %v", k, got, w)
		}
	}
}

// sameValue compares a number's data-v (JavaScript's String of the JSON
// value) with the value Go decoded from the same API. Doubles print
// exactly in both, so the comparison allows only rounding of the last bit.
func sameValue(got string, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == "null"
	case float64:
		g, err := strconv.ParseFloat(got, 64)
		return err == nil && (g == w || math.Abs(g-w) <= 1e-12*math.Abs(w))
	case bool:
		return got == strconv.FormatBool(w)
	default:
		return got == fmt.Sprint(w)
	}
}

// TestStoryScreenshot regenerates docs/story.png: the first screen
// (1280 × 1250) of the story page on the demo in headless Chromium. It runs only when LODESTONE_STORY_PNG names
// the file to write:
//
//	LODESTONE_STORY_PNG=$PWD/docs/story.png go test ./server -run StoryScreenshot
func TestStoryScreenshot(t *testing.T) {
	out := os.Getenv("LODESTONE_STORY_PNG")
	if out == "" {
		t.Skip("set LODESTONE_STORY_PNG=path/to/story.png to write the screenshot")
	}
	ctx := browser(t)
	s := startStoryDemo(t)
	storyNumbers(t, ctx, s.URL())
	for _, sel := range []string{"#stage-profiles", "#sankey", "#run-map"} {
		waitFor[bool](t, ctx, "chart "+sel, chartReady(sel))
	}
	// The first screen: the summary of the seven steps and the cascade.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1250)); err != nil {
		t.Fatal(err)
	}
	eval[bool](t, ctx, `(window.scrollTo(0, 0), true)`)
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Clean(out), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", out, len(png))
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	res, err := send(t.Context(), http.DefaultClient, http.MethodGet, u, nil)
	if err != nil || res.status != http.StatusOK {
		t.Fatalf("GET %s = %d %s, %v", u, res.status, res.body, err)
	}
	if err := json.Unmarshal(res.body, v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func postJSON(t *testing.T, u string, body []byte, v any) {
	t.Helper()
	res, err := send(t.Context(), http.DefaultClient, http.MethodPost, u, body, "Content-Type", "application/json")
	if err != nil || res.status != http.StatusOK {
		t.Fatalf("POST %s = %d %s, %v", u, res.status, res.body, err)
	}
	if err := json.Unmarshal(res.body, v); err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
}

// TestStoryInBrowserWithTenants: on lodestone demo --tenants the story
// runs for the demo's admin, whose token the dashboard's token box holds.
func TestStoryInBrowserWithTenants(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	authFile, toks, err := server.DemoAuth(dir)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := writeKey(t, t.TempDir())
	s := startServer(t, func(o *server.Options) {
		o.DataDir, o.LoadDemo, o.Auth, o.LogKey = dir, true, authFile, key
	})
	admin := ""
	for _, k := range toks {
		if k.Subject == "demo-admin" {
			admin = k.Token
		}
	}
	go_(t, ctx, s.URL()+"/#/")
	eval[bool](t, ctx, fmt.Sprintf(`(sessionStorage.setItem("lodestone.token", %s), true)`, jsString(admin)))
	nums := storyNumbers(t, ctx, s.URL())
	if nums["verify-ok"] != "true" || nums["alarm-kind"] != "sensor_drift" {
		t.Errorf("story numbers for the demo's admin: %v", nums)
	}
}
