package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"lodestone/api"
	"lodestone/examples"
	"lodestone/plant/refplant"
	"lodestone/trust/auth"
	"lodestone/twin"
	"lodestone/world"
)

// demoWorld is the sample world of `lodestone demo`: the default 2024
// mine-to-magnet network of package world and the reference separation
// plant of package refplant (trains, cascades, pumps, analysers), as twins
// of the bundled ontology. The reference plant feeds nothing, so the supply
// network built from the graph leaves it out (see world.NetworkFromTwins).
func demoWorld() ([]twin.Twin, []twin.Relationship, error) {
	w, err := world.Load()
	if err != nil {
		return nil, nil, err
	}
	twins, rels := w.Twins()
	p, err := refplant.Load()
	if err != nil {
		return nil, nil, fmt.Errorf("reference plant: %w", err)
	}
	for _, t := range p.Twins {
		twins = append(twins, twin.Twin{ID: twin.ID(t.ID), Metadata: twin.Metadata{Model: t.Model}, Properties: t.Properties})
	}
	for _, r := range p.Relationships {
		rels = append(rels, twin.Relationship{ID: r.ID, SourceID: twin.ID(r.Source), TargetID: twin.ID(r.Target), Name: r.Name})
	}
	orgTwins, orgRels, err := demoOrg()
	if err != nil {
		return nil, nil, err
	}
	return append(twins, orgTwins...), append(rels, orgRels...), nil
}

// DemoLoaded reports whether Start loaded the bundled ontology and the
// sample world (LoadDemo on an empty store), as opposed to reopening a
// store that already held models.
func (s *Server) DemoLoaded() bool { return s.demoLoaded }

// ResetDataDir empties the data folder dir for a fresh start (lodestone
// demo --reset): it takes the folder's lock (so a running server is never
// wiped under it), removes everything in it but the lock file, and lets
// the lock go. A folder that does not exist is fine; one that is not
// empty and holds neither a Lodestone database nor a lock file is refused,
// so that a mistyped --data never wipes someone's home directory.
func ResetDataDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("server: reset %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	ours := false
	for _, e := range entries {
		switch e.Name() {
		case lockFileName, "lodestone.db", "instance-id":
			ours = true
		}
	}
	if !ours {
		return fmt.Errorf("server: reset %s: not a Lodestone data folder (no lodestone.db, instance-id or %s in it); remove it yourself if you mean it", dir, lockFileName)
	}
	lk, err := lockDataDir(dir)
	if err != nil && !errors.As(err, new(errNoLock)) {
		return err
	}
	defer lk.release()
	for _, e := range entries {
		if e.Name() == lockFileName {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("server: reset %s: %w", dir, err)
		}
	}
	return nil
}

// The demo's story (issue 16): the dashboard's #/story page walks the
// layers on the demo with live numbers. Besides the world and the
// reference plant, a fresh demo stores the April 2025 export control as a
// scenario run (so GET /scenarios lists it) and replays an analyser's
// readings as telemetry of the reference plant; GET /demo/story hands the
// page the documents its steps send (the org scenario, the investment
// SPEC, the estimator's readings) and the ids it reads.

// Names and ids of the demo's story.
const (
	// DemoScenarioName names the stored run of the April 2025 control.
	DemoScenarioName = "April 2025 export control (demo)"
	demoPlant        = "ref-sep-plant"
	demoCascade      = "ref-sep-plant-train-1-cascade"
	demoAnalyser     = "ref-sep-plant-train-1-xrf"
	// demoSensor is the sensor of examples/plant/ndpr-drift.json whose
	// readings are replayed as the analyser's assay telemetry.
	demoSensor = "xrf-feed-Nd"
	// demoNetworkNode is the network's separation node of the scale the
	// reference plant borrows (Lynas Malaysia, [S28]).
	demoNetworkNode = "sep-my-lynas"
)

// demoReplayStart is the source time of the replay's first reading
// (t_h = 0 of the file); the readings keep their spacing.
var demoReplayStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// DemoStory is the body of GET /demo/story.
type DemoStory struct {
	ScenarioName string `json:"scenarioName"`
	// ScenarioRequest is the body of POST /scenarios the demo stored.
	ScenarioRequest json.RawMessage `json:"scenarioRequest"`
	Plant           string          `json:"plant"`
	Cascade         string          `json:"cascade"`
	Analyser        string          `json:"analyser"`
	Sensor          string          `json:"sensor"`
	NetworkNode     string          `json:"networkNode"`
	// Simulate is the body of POST /digitaltwins/{cascade}/simulate: the
	// scale-up of the reference plant (trains and throughput per train,
	// with their sources).
	Simulate json.RawMessage `json:"simulate"`
	// Estimate is the body of POST /plant/estimate
	// (examples/plant/ndpr-drift.json).
	Estimate json.RawMessage `json:"estimate"`
	// OrgScenario is the body of POST /org/run
	// (examples/org/april-2025.json).
	OrgScenario json.RawMessage `json:"orgScenario"`
	// Invest is the body of POST /org/invest: the org scenario with the
	// candidates of examples/org/april-2025-invest.json.
	Invest json.RawMessage `json:"invest"`
	// OrgActors and OrgRules are the ids of the OrgActor and
	// DecisionRule twins the demo loaded from OrgScenario's org section
	// (server/demo_org.go): the organisation lives on the graph.
	OrgActors []string `json:"orgActors"`
	OrgRules  []string `json:"orgRules"`
}

// demoScenarioRequest is the stored April 2025 run: the graph's network,
// one year, supply's built-in control No. 18 (with its sources), seed 1:
// the seed of POST /org/run's default, so that the story's org run and
// this run draw the same licence approvals.
func demoScenarioRequest() json.RawMessage {
	return json.RawMessage(`{"name": "` + DemoScenarioName + `", "graph": true, "seed": 1, "start": "2025-01-01", "days": 365, "controls": [{"name": "CN-2025-18", "builtin": "CN-2025-18"}]}`)
}

// demoSimulate is the scale-up of the reference plant: two trains
// (plant/refplant, an assumption) sharing its scale, Lynas Malaysia's
// FY2024 production of 10,908 t REO [S28].
func demoSimulate() json.RawMessage {
	return json.RawMessage(`{"link": {"trains": 2, "trainsSource": "reference plant: two SX trains (ASSUMPTION, plant/refplant)", "designThroughputTonnesReoPerYearPerTrain": 5454, "designThroughputSource": "reference plant scale: 10,908 t REO/yr, Lynas Malaysia FY2024 production [S28], over two trains"}}`)
}

// DemoStoryDoc assembles the body of GET /demo/story from the bundled
// files.
func DemoStoryDoc() (*DemoStory, error) {
	read := func(folder, name string) ([]byte, error) {
		b, ok := examples.Demo(folder, name)
		if !ok {
			return nil, fmt.Errorf("server: demo story: examples/%s/%s.json is not bundled", folder, name)
		}
		return b, nil
	}
	orgSc, err := read("org", "april-2025")
	if err != nil {
		return nil, err
	}
	est, err := read("plant", "ndpr-drift")
	if err != nil {
		return nil, err
	}
	candRaw, err := read("org", "april-2025-invest")
	if err != nil {
		return nil, err
	}
	var inv map[string]json.RawMessage
	if err := json.Unmarshal(candRaw, &inv); err != nil {
		return nil, fmt.Errorf("server: demo story: examples/org/april-2025-invest.json: %w", err)
	}
	delete(inv, "description")
	inv["scenario"] = orgSc
	invest, err := json.Marshal(inv)
	if err != nil {
		return nil, err
	}
	actors, rules := demoOrgIDs()
	return &DemoStory{
		ScenarioName: DemoScenarioName, ScenarioRequest: demoScenarioRequest(),
		Plant: demoPlant, Cascade: demoCascade, Analyser: demoAnalyser, Sensor: demoSensor, NetworkNode: demoNetworkNode,
		Simulate: demoSimulate(), Estimate: est, OrgScenario: orgSc, Invest: invest,
		OrgActors: actors, OrgRules: rules,
	}, nil
}

// demoStoryRoute is GET /demo/story, a route of the API (and of its
// OpenAPI document) when the demo is loaded. It reads nothing from the
// store, so any caller the guard lets through may read it.
func demoStoryRoute() api.Route {
	doc, err := DemoStoryDoc()
	return api.Route{Pattern: "GET /demo/story", Response: "DemoStory",
		Summary: "The demo's story (lodestone demo): the ids and requests the dashboard's guided story uses",
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/json")
			return json.NewEncoder(w).Encode(doc)
		}}
}

// demoStory runs after the demo world is loaded (GET /demo/story is
// already a route, see demoStoryRoute): with the demo's identity file (--tenants) it loads the sharing part once
// (demoSharing); and on a fresh demo it stores the April 2025 run and
// replays the analyser's readings, through the API's own handlers.
func (s *Server) demoStory(ctx context.Context) error {
	if s.opts.Auth != "" && filepath.Clean(s.opts.Auth) == filepath.Join(s.opts.DataDir, DemoAuthFile) {
		if err := s.demoSharing(ctx); err != nil {
			return fmt.Errorf("sharing agreement: %w", err)
		}
	}
	if !s.demoLoaded {
		return nil
	}
	if _, err := s.demoCall(ctx, http.MethodPost, "/scenarios", demoScenarioRequest(), nil); err != nil {
		return fmt.Errorf("store the April 2025 run: %w", err)
	}
	if err := s.demoAvailability(ctx); err != nil {
		return err
	}
	return s.replayDemoTelemetry(ctx)
}

// demoAvailability runs the chain from equipment to availability on the
// reference plant (POST /plant/equipment/{id}/availability?write=true):
// it writes the plant twin's availability when the plant's failure
// records allow it. The bundled plant carries none (no public life data
// for SX equipment was found, plant/refplant), so nothing is written and
// the reason is logged; the story shows it, and the capacity's
// availability term says 1 is assumed and why.
func (s *Server) demoAvailability(ctx context.Context) error {
	body, err := s.demoCall(ctx, http.MethodPost, "/plant/equipment/"+demoPlant+"/availability?write=true", nil, nil)
	if err != nil {
		return fmt.Errorf("availability of the reference plant: %w", err)
	}
	var res struct {
		Computed     bool     `json:"computed"`
		Availability *float64 `json:"availability"`
		Reason       string   `json:"reason"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("availability of the reference plant: %w", err)
	}
	if res.Computed {
		s.log.Info("demo: reference plant availability from its equipment models", "plant", demoPlant, "availability", *res.Availability)
	} else {
		s.log.Info("demo: reference plant availability not computed", "plant", demoPlant, "reason", res.Reason)
	}
	return nil
}

// replayDemoTelemetry posts the readings of demoSensor in
// examples/plant/ndpr-drift.json (synthetic readings of the dynamic cascade
// model with seeded noise; the sensor reads 5 sd high from 10 h) as assay
// telemetry of the reference plant's train-1 analyser, in time order, each
// with its source time.
func (s *Server) replayDemoTelemetry(ctx context.Context) error {
	raw, ok := examples.Demo("plant", "ndpr-drift")
	if !ok {
		return errors.New("examples/plant/ndpr-drift.json is not bundled")
	}
	var f struct {
		Sensors []struct {
			ID      string `json:"id"`
			Element string `json:"element"`
		} `json:"sensors"`
		Measurements []struct {
			T      float64 `json:"t_h"`
			Sensor string  `json:"sensor"`
			Value  float64 `json:"value"`
		} `json:"measurements"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("examples/plant/ndpr-drift.json: %w", err)
	}
	element := ""
	for _, sn := range f.Sensors {
		if sn.ID == demoSensor {
			element = sn.Element
		}
	}
	if element == "" {
		return fmt.Errorf("examples/plant/ndpr-drift.json: no sensor %q", demoSensor)
	}
	for i, m := range f.Measurements {
		if m.Sensor != demoSensor {
			continue
		}
		body, err := json.Marshal(map[string]any{"assay": map[string]float64{element: m.Value}})
		if err != nil {
			return err
		}
		at := demoReplayStart.Add(time.Duration(m.T * float64(time.Hour)))
		hdr := http.Header{"Message-Id": {fmt.Sprintf("demo-replay-%d", i)}, "Telemetry-Source-Time": {at.Format(time.RFC3339Nano)}}
		if _, err := s.demoCall(ctx, http.MethodPost, "/digitaltwins/"+demoAnalyser+"/telemetry", body, hdr); err != nil {
			return fmt.Errorf("replay reading %d: %w", i, err)
		}
	}
	return nil
}

// demoCall sends one request to the API's handlers in this process.
func (s *Server) demoCall(ctx context.Context, method, path string, body []byte, hdr http.Header) ([]byte, error) {
	return s.demoCallVia(ctx, s.API, method, path, body, hdr)
}

// demoCallVia sends one request to h (the API, or the API behind its
// guard) in this process, from loopback.
func (s *Server) demoCallVia(ctx context.Context, h http.Handler, method, path string, body []byte, hdr http.Header) ([]byte, error) {
	req := httptest.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
	req.Host = "localhost"
	req.RemoteAddr = "127.0.0.1:1"
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		return nil, fmt.Errorf("%s %s = %d %s", method, path, rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
	}
	return rec.Body.Bytes(), nil
}

// Two companies and a sharing agreement (lodestone demo, unless
// --tenants=false): the demo then runs with authentication from
// DemoAuthFile in its data folder, which lets requests without a token in
// as the demo's admin (on loopback only) and holds three bearer tokens: the demo's admin (org "demo", who may
// write the loaded world of org ""), plantco's admin (the company that
// runs the reference plant) and magnetco's buyer (a reader). plantco
// uploads a model of its own, records the capacity it offers customers,
// and shares that twin with magnetco, all but its private fields.

// DemoAuthFile is the identity file of lodestone demo --tenants, in the
// data folder.
const DemoAuthFile = "demo-auth.json"

// DemoToken is a bearer token of the demo's identity file.
type DemoToken struct {
	Token   string   `json:"token"`
	Subject string   `json:"subject"`
	Org     string   `json:"org"`
	Roles   []string `json:"roles"`
}

// The demo's principals.
var demoPrincipals = []DemoToken{
	{Subject: "demo-admin", Org: "demo", Roles: []string{"admin"}},
	{Subject: "plantco-admin", Org: "plantco", Roles: []string{"admin"}},
	{Subject: "magnetco-buyer", Org: "magnetco", Roles: []string{"reader"}},
}

// demoLocalUser is who a request without a token is in the demo: the
// demo's admin (org "demo"), so that the dashboard opens without a token
// on your own machine while the tokens show what each company sees. The
// server lets requests without credentials in on loopback only.
var demoLocalUser = auth.AnonymousConfig{Subject: "local-user", Org: "demo", Roles: []string{"admin"}}

// DemoAuth returns the identity file of lodestone demo --tenants in
// dataDir and its tokens, writing it (mode 0600, random tokens) when it is
// not there yet.
func DemoAuth(dataDir string) (string, []DemoToken, error) {
	path := filepath.Join(dataDir, DemoAuthFile)
	var f struct {
		Tokens    []DemoToken           `json:"tokens"`
		Anonymous *auth.AnonymousConfig `json:"anonymous,omitempty"`
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &f); err != nil {
			return "", nil, fmt.Errorf("server: %s: %w", path, err)
		}
		if f.Anonymous != nil {
			return path, f.Tokens, nil
		}
		// A file written before requests without a token were let in:
		// keep its tokens, add the local user.
	case errors.Is(err, fs.ErrNotExist):
		for _, p := range demoPrincipals {
			var r [18]byte
			if _, err := rand.Read(r[:]); err != nil {
				return "", nil, err
			}
			p.Token = p.Subject + "-" + hex.EncodeToString(r[:])
			f.Tokens = append(f.Tokens, p)
		}
	default:
		return "", nil, fmt.Errorf("server: %w", err)
	}
	f.Anonymous = &demoLocalUser
	if b, err = json.MarshalIndent(f, "", "  "); err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", nil, fmt.Errorf("server: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return "", nil, fmt.Errorf("server: %w", err)
	}
	return path, f.Tokens, nil
}

// Ids of the sharing part of the demo.
const (
	DemoOfferTwin     = "plantco-offer-ref-sep-plant"
	DemoOfferModel    = "dtmi:plantco:CapacityOffer;1"
	DemoAgreement     = "plantco-magnetco"
	demoOfferModelDoc = `{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:plantco:CapacityOffer;1", "@type": "Interface", "displayName": "Capacity offer (demo)",
 "description": "The separation capacity a plant operator offers its customers; the reserved share and the notes are private.",
 "contents": [
  {"@type": "Property", "name": "name", "schema": "string"},
  {"@type": "Property", "name": "plant", "schema": "string"},
  {"@type": "Property", "name": "capacityTonnesPerYear", "schema": "double"},
  {"@type": "Property", "name": "reservedShare", "schema": "double"},
  {"@type": "Property", "name": "notes", "schema": "string"},
  {"@type": "Property", "name": "source", "schema": "string"}]}`
	demoOfferTwinDoc = `{"$metadata": {"$model": "dtmi:plantco:CapacityOffer;1"}, "name": "Separation capacity plantco offers customers (demo)", "plant": "ref-sep-plant",
 "capacityTonnesPerYear": 10908, "reservedShare": 0.5, "notes": "private to plantco: half the output is reserved for the parent company (an illustration)",
 "source": "capacityTonnesPerYear: the reference plant's scale, Lynas Malaysia FY2024 production [S28]; reservedShare and notes: ASSUMPTIONS of the demo"}`
	demoAgreementDoc = `{"to_org": "magnetco", "models": ["dtmi:plantco:CapacityOffer;1"], "properties": ["name", "plant", "capacityTonnesPerYear", "source"], "relationships": [],
 "purpose": "demo: magnetco sees the capacity plantco offers, not its reserved share or its notes"}`
)

// demoSharing loads the sharing part as plantco's admin, through the
// API's guard like any client.
func (s *Server) demoSharing(ctx context.Context) error {
	_, toks, err := DemoAuth(s.opts.DataDir)
	if err != nil {
		return err
	}
	tok := ""
	for _, t := range toks {
		if t.Subject == "plantco-admin" {
			tok = t.Token
		}
	}
	if tok == "" {
		return fmt.Errorf("%s has no plantco-admin token", DemoAuthFile)
	}
	hdr := http.Header{"Authorization": {"Bearer " + tok}}
	guard := s.API.Guard()
	if _, err := s.demoCallVia(ctx, guard, http.MethodGet, "/sharing/"+DemoAgreement, nil, hdr); err == nil {
		return nil // loaded by an earlier start of this demo
	}
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, "/models", "[" + demoOfferModelDoc + "]"},
		{http.MethodPut, "/digitaltwins/" + DemoOfferTwin, demoOfferTwinDoc},
		{http.MethodPut, "/sharing/" + DemoAgreement, demoAgreementDoc},
	} {
		if _, err := s.demoCallVia(ctx, guard, c.method, c.path, []byte(c.body), hdr); err != nil {
			return err
		}
	}
	return nil
}
