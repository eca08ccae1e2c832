package api

// Supply-chain scenarios: POST /scenarios runs a SCENARIO of the supply
// twin (on its own network or on the network of the twin graph as of a
// date), stores the run as a ScenarioRun twin, and serves progress, lists
// and side-by-side comparisons; POST /scenarios/stress runs the stress test
// on the graph's network.
//
// Lock order: scenarioRunner.mu guards the in-memory state of runs under
// way (progress); it is never held while calling the store or the bus.

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"lodestone/models"
	"lodestone/pipeline"
	"lodestone/scenario"
	"lodestone/store"
	"lodestone/supply"
	"lodestone/trust/auth"
	"lodestone/twin"
	"lodestone/world"
)

// SupplyModelVersion names the supply engine that produced a scenario run.
const SupplyModelVersion = "lodestone/supply daily simulation v1"

// maxScenarioRuns caps the Monte Carlo replications of one request, and
// maxScenarioDays the simulated days (a century): limits of the service,
// so that one request cannot hold a core and memory without end.
const (
	maxScenarioRuns = 100000
	maxScenarioDays = 36525
)

// Scenario run statuses: those of package scenario.
const (
	RunRunning = string(scenario.Running)
	RunDone    = string(scenario.Done)
	RunFailed  = string(scenario.Failed)
	// RunCancelled is a study stopped by DELETE /scenarios/{id}.
	RunCancelled = string(scenario.Cancelled)
)

// InterruptedError is the error of a study the server stopped (shutdown)
// or that a crash left running: the next start marks it failed with it.
const InterruptedError = "interrupted: the server stopped"

// StudyOptions bound the Monte Carlo studies (runs > 1) under way and may
// hand them to workers. Zero values take the defaults.
type StudyOptions struct {
	// MaxConcurrent is the number of studies running at once over all
	// principals (default 3); MaxPerPrincipal the number one principal
	// may run at once (default MaxConcurrent).
	MaxConcurrent   int
	MaxPerPrincipal int
	// MaxQueuedRuns bounds the replications of all studies under way
	// (default 200000); a study alone over it is refused with 400.
	MaxQueuedRuns int
	// RetryAfter is the Retry-After of a refused study (default 30 s).
	RetryAfter time.Duration
	// Dispatcher, when set, runs studies on workers whenever it says
	// some are connected; otherwise the server runs them itself.
	Dispatcher StudyDispatcher
}

// StudyDispatcher runs a Monte Carlo study on workers (package worker).
// The result must be the bits of supply.MonteCarlo for the same scenario,
// runs and seed. Cancelling ctx cancels the study on every worker.
type StudyDispatcher interface {
	Available(ctx context.Context) bool
	Run(ctx context.Context, study string, sc *supply.SimScenario, runs int, seed uint64, progress func(done, total int)) (*supply.MCResult, error)
}

// RunDispatcher is a StudyDispatcher that also hands a single run
// (runs 1) whole to a worker (package worker). The result must be the
// bits of supply.Run for the same scenario with the PCG stream (seed, 0);
// it runs the run here itself when no worker answers.
type RunDispatcher interface {
	RunOne(ctx context.Context, id string, sc *supply.SimScenario, seed uint64) (*supply.Result, error)
}

func (o StudyOptions) withDefaults() StudyOptions {
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 3
	}
	if o.MaxPerPrincipal <= 0 {
		o.MaxPerPrincipal = o.MaxConcurrent
	}
	if o.MaxQueuedRuns <= 0 {
		o.MaxQueuedRuns = 200000
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = 30 * time.Second
	}
	return o
}

// StudyCost is the estimated cost of a study: its runs times its days
// times the nodes of its network, in node-days simulated.
type StudyCost struct {
	Runs     int   `json:"runs"`
	Days     int   `json:"days"`
	Nodes    int   `json:"nodes"`
	NodeDays int64 `json:"nodeDays"`
}

func init() {
	// The schemas of the scenario routes, derived from their Go types like
	// the rest of the document (see schemaTypes in openapi.go).
	schemaTypes["ScenarioRequest"] = reflect.TypeFor[ScenarioRequest]()
	schemaTypes["ScenarioRun"] = reflect.TypeFor[ScenarioRun]()
	schemaTypes["ScenarioRunList"] = reflect.TypeFor[ScenarioRunList]()
	schemaTypes["ScenarioProgress"] = reflect.TypeFor[ScenarioProgress]()
	schemaTypes["ScenarioComparison"] = reflect.TypeFor[ScenarioComparison]()
	schemaTypes["StressRequest"] = reflect.TypeFor[StressRequest]()
	schemaTypes["StressResponse"] = reflect.TypeFor[StressResponse]()
}

// ScenarioRequest is the body of POST /scenarios: a SCENARIO document of
// `lodestone supply run` (docs/formats/supply-scenario.md) plus the run's
// knobs. With Graph the network comes from the twin graph as of AsOf (now
// when empty) and the document must not carry one; start and days then
// default to 2025-01-01 and five years.
type ScenarioRequest struct {
	Name  string `json:"name,omitempty"`
	Graph bool   `json:"graph,omitempty"`
	// AsOf is an RFC 3339 time or a date (YYYY-MM-DD, midnight UTC).
	AsOf string `json:"asOf,omitempty"`
	// Runs is the number of Monte Carlo replications; 0 or 1 is one run,
	// answered at once; more run in the background.
	Runs int    `json:"runs,omitempty"`
	Seed uint64 `json:"seed,omitempty"`
	// StockpileTonnes sets stockpile holdings of the graph's network.
	StockpileTonnes map[supply.NodeID]float64 `json:"stockpileTonnes,omitempty"`

	Description    string                 `json:"description,omitempty"`
	Start          supply.Date            `json:"start,omitempty"`
	Days           int                    `json:"days,omitempty"`
	Network        *supply.Network        `json:"network,omitempty"`
	Shocks         []supply.Shock         `json:"shocks,omitempty"`
	Controls       []supply.Control       `json:"controls,omitempty"`
	Policies       *supply.Policies       `json:"policies,omitempty"`
	Qualifications []supply.Qualification `json:"qualifications,omitempty"`
	RandomShocks   []supply.RandomShock   `json:"random_shocks,omitempty"`
	Builds         []supply.Build         `json:"builds,omitempty"`
	Substitutions  []supply.Substitution  `json:"substitutions,omitempty"`
	// Prices, costs and the initial state, as in the SCENARIO document:
	// runs then carry cost fields (supply computes them).
	Prices           []supply.Price `json:"prices,omitempty"`
	Costs            *supply.Costs  `json:"costs,omitempty"`
	InitialState     string         `json:"initial_state,omitempty"`
	InitialCoverDays *float64       `json:"initial_cover_days,omitempty"`
}

// requestKnobs are the members of a ScenarioRequest that are not part of
// the SCENARIO document.
var requestKnobs = []string{"name", "graph", "asOf", "runs", "seed", "stockpileTonnes"}

// ScenarioKPIs summarise a run over its demand nodes (means over runs for a
// Monte Carlo study).
type ScenarioKPIs struct {
	// LostTonnes is the external demand lost, in the network's units.
	LostTonnes float64 `json:"lostTonnes"`
	// DemandFillRate is the demand nodes' fill rate, weighted by their
	// demand per period.
	DemandFillRate float64 `json:"demandFillRate"`
	// FirstStockout is the first day a demand node ran short (single runs).
	FirstStockout string `json:"firstStockout,omitempty"`
	// FillRates is every node's fill rate.
	FillRates map[string]float64 `json:"fillRates"`
}

// ScenarioProgress is the state of a run: done of total replications.
type ScenarioProgress struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Done   int    `json:"done"`
	Total  int    `json:"total"`
	Error  string `json:"error,omitempty"`
}

// ScenarioRun is a stored run: what ran, on what, and what came out. It is
// the ScenarioRun twin (dtmi:lodestone:ScenarioRun;1) in API shape.
type ScenarioRun struct {
	ID           string      `json:"id"`
	Name         string      `json:"name,omitempty"`
	Status       string      `json:"status"`
	Runs         int         `json:"runs"`
	Seed         uint64      `json:"seed"`
	Graph        bool        `json:"graph"`
	AsOf         *time.Time  `json:"asOf,omitempty"`
	Start        supply.Date `json:"start"`
	Days         int         `json:"days"`
	InputHash    string      `json:"inputHash"`
	ModelVersion string      `json:"modelVersion"`
	// KPIs are set once the run is done.
	KPIs *ScenarioKPIs `json:"kpis,omitempty"`
	// Progress is set while a Monte Carlo study is under way.
	Progress *ScenarioProgress `json:"progress,omitempty"`
	// EstimatedCost is the cost the study was admitted with (answers of
	// POST and DELETE only).
	EstimatedCost *StudyCost `json:"estimatedCost,omitempty"`
	// Provenance lists the process-twin results the graph's network used.
	Provenance []world.ProcessLink `json:"provenance,omitempty"`
	Error      string              `json:"error,omitempty"`
	CreatedAt  time.Time           `json:"createdAt"`
	// CompletedAt is zero while the run is under way.
	CompletedAt *time.Time `json:"completedAt,omitempty"`
	// Scenario is the SCENARIO that ran, with its network; Result is a
	// supply.Result (one run) or supply.MCResult (runs > 1). Lists leave
	// both out.
	Scenario json.RawMessage `json:"scenario,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
}

// ScenarioRunList is the answer of GET /scenarios, newest first.
type ScenarioRunList struct {
	Value []ScenarioRun `json:"value"`
}

// ScenarioComparison puts stored runs side by side: Runs in the order
// asked, and per node the fill rate of each run (null where a run lacks the
// node).
type ScenarioComparison struct {
	Runs  []ScenarioRun           `json:"runs"`
	Nodes map[string][]*float64   `json:"nodes"`
	KPIs  map[string][]*float64   `json:"kpis"`
	Diff  map[string]ScenarioDiff `json:"diff,omitempty"`
}

// ScenarioDiff is the change of a KPI from the first run to the second.
type ScenarioDiff struct {
	From  float64 `json:"from"`
	To    float64 `json:"to"`
	Delta float64 `json:"delta"`
}

// StressRequest is the body of POST /scenarios/stress. The network comes
// from the twin graph as of AsOf, per day (or per year with PerYear).
type StressRequest struct {
	AsOf    string `json:"asOf,omitempty"`
	PerYear bool   `json:"perYear,omitempty"`
	// TTRPeriods is the time to recover of each node alone (the default
	// scenarios), in the network's periods; 0 means supply.DefaultTTR days
	// (in years with PerYear), the one default of the CLI, the API and the
	// dashboard.
	TTRPeriods      float64                   `json:"ttrPeriods,omitempty"`
	Scenarios       []supply.Scenario         `json:"scenarios,omitempty"`
	StockpileTonnes map[supply.NodeID]float64 `json:"stockpileTonnes,omitempty"`
}

// StressResponse is the stress table, sorted by exposure: exposed
// scenarios (TTS < TTR) first by shortage, then by risk exposure index.
type StressResponse struct {
	AsOf       time.Time             `json:"asOf"`
	Periods    string                `json:"periods"`
	Scenarios  []supply.StressResult `json:"scenarios"`
	Provenance []world.ProcessLink   `json:"provenance,omitempty"`
	Skipped    []string              `json:"skipped,omitempty"`
	// Legend names the TTR the node-by-node scenarios used
	// (default_ttr_periods, default_ttr_source), the unit of every column
	// and the definitions of TTR, TTS, REI and the others.
	Legend supply.StressLegend `json:"legend"`
}

// scenarioRunner serves the scenario routes and owns the state of runs
// under way. It is safe for concurrent use.
type scenarioRunner struct {
	a *API
	// runs stores the runs: created under If-None-Match, updated under
	// If-Match of the version read, through the write pipeline.
	runs *scenario.Runs
	mu   sync.Mutex
	// live holds the progress of background runs; subscribers wait on
	// changed, which is closed and replaced on every update.
	live    map[string]*ScenarioProgress
	changed chan struct{}
	// studies are the Monte Carlo studies this process runs (or
	// dispatches), for the limits and for cancellation.
	limits  StudyOptions
	studies map[string]*liveStudy
	// shared counts the studies in the store, over every server
	// (studies_shared.go).
	shared *sharedStudies
}

// liveStudy is a study under way in this process.
type liveStudy struct {
	principal string
	runs      int
	cancel    context.CancelFunc
	// cancelled says DELETE stopped it (not the server's shutdown).
	cancelled bool
	// ended is closed when the study's final state is stored.
	ended chan struct{}
}

func (a *API) supplyRoutes() []Route {
	s := &scenarioRunner{a: a, runs: scenario.New(runTwins{a}), live: map[string]*ScenarioProgress{}, changed: make(chan struct{}),
		limits: a.opts.Studies.withDefaults(), studies: map[string]*liveStudy{}}
	s.shared = newSharedStudies(a)
	a.studies = s
	a.goBackground(s.recoverShared) // studies_shared.go: resume interrupted studies, renew leases
	return []Route{
		{Pattern: "POST /scenarios", Handler: s.post, Summary: "Run a supply SCENARIO (on the twin graph's network with \"graph\": true, as of \"asOf\"); runs > 1 is a Monte Carlo study in the background; the run is stored as a ScenarioRun twin", Body: "ScenarioRequest", Response: "ScenarioRun"},
		{Pattern: "GET /scenarios", Handler: s.list, Summary: "Stored scenario runs, newest first (without their results)", Response: "ScenarioRunList"},
		{Pattern: "GET /scenarios/compare", Handler: s.compare, Summary: "Stored runs side by side: ?ids=a,b", Response: "ScenarioComparison"},
		{Pattern: "GET /scenarios/{id}", Handler: s.get, Summary: "A stored scenario run with its scenario and result", Response: "ScenarioRun"},
		{Pattern: "DELETE /scenarios/{id}", Handler: s.cancel, Summary: "Cancel a Monte Carlo study under way (on every worker); it is stored as cancelled", Response: "ScenarioRun"},
		{Pattern: "GET /scenarios/{id}/progress", Handler: s.progress, Summary: "Progress of a run: JSON, or Server-Sent Events (\"progress\" events until it ends) with Accept: text/event-stream", Response: "ScenarioProgress"},
		{Pattern: "POST /scenarios/stress", Handler: s.stress, Summary: "Stress test (time to recover, time to survive, exposure) of the twin graph's network, sorted by exposure", Body: "StressRequest", Response: "StressResponse"},
	}
}

// fieldError maps the field errors of supply and world to a 400 naming the
// field.
func fieldError(err error) error {
	var se *supply.FieldError
	var we *world.FieldError
	switch {
	case errors.As(err, &se):
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: err.Error(), Details: []ErrorDetail{{Message: se.Msg, Path: se.Field}}, Err: err}
	case errors.As(err, &we):
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: err.Error(), Details: []ErrorDetail{{Message: we.Msg, Path: we.Field}}, Err: err}
	}
	var ie *supply.InfeasibleError
	if errors.As(err, &ie) {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "Infeasible", Message: err.Error(), Err: err}
	}
	return err
}

func parseAsOf(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: fmt.Sprintf("%s: %q is not an RFC 3339 time or a date", field, v), Details: []ErrorDetail{{Message: "not a time", Path: field}}}
}

// graphNetwork builds the network of the twin graph as of at.
func (s *scenarioRunner) graphNetwork(ctx context.Context, at time.Time, opts *world.GraphOptions) (*world.GraphNetwork, time.Time, error) {
	// The network is built from what the principal sees of the graph.
	snap, err := s.a.visibleSnapshot(ctx, s.a.readerOf(ctx), at)
	if err != nil {
		return nil, time.Time{}, err
	}
	o := *opts
	o.Description = "twin graph as of " + snap.At.UTC().Format(time.RFC3339)
	g, err := world.NetworkFromTwins(snap.Twins, snap.Relationships, &o)
	if err != nil {
		return nil, time.Time{}, fieldError(err)
	}
	return g, snap.At, nil
}

// ensureModels uploads the ScenarioRun model (and its base Entity) when
// the store lacks them, so that runs can be stored in any graph.
func (s *scenarioRunner) ensureModels(r *http.Request) error {
	var missing []json.RawMessage
	for _, f := range models.Files() {
		id := "dtmi:lodestone:" + strings.TrimSuffix(f.Name, ".json") + ";1"
		if id != models.ScenarioRun && id != models.Entity {
			continue
		}
		if iface, err := s.a.pipe.Models().Interface(id); err == nil && iface != nil {
			continue
		}
		missing = append(missing, f.Data)
	}
	if len(missing) == 0 {
		return nil
	}
	// They are uploaded as the anonymous principal, into org "", which
	// every org reads: the runs of every org use them.
	if _, err := s.a.pipe.PutModels(auth.NewContext(r.Context(), auth.Anonymous), missing); err != nil {
		var pe *pipeline.Error
		if errors.As(err, &pe) && pe.Code == "ModelIdAlreadyExists" {
			return nil // a concurrent request uploaded them
		}
		return fmt.Errorf("upload the ScenarioRun model: %w", err)
	}
	return nil
}

// runTwins is the scenario.Twins of the API: runs are read from the store
// and written through the write pipeline, so that they are validated
// against the ScenarioRun model and their events published like every
// other write. The pipeline honours the conditions package scenario sets.
type runTwins struct{ a *API }

func (t runTwins) GetTwin(ctx context.Context, id twin.ID) (twin.Twin, error) {
	return t.a.opts.Store.GetTwin(ctx, id)
}

func (t runTwins) PutTwin(ctx context.Context, tw twin.Twin, cond store.Condition) (twin.Twin, error) {
	stored, _, err := t.a.pipe.PutTwin(ctx, tw, cond)
	return stored, err
}

func (t runTwins) PatchTwin(ctx context.Context, id twin.ID, p twin.Patch, cond store.Condition) (twin.Twin, error) {
	return t.a.pipe.PatchTwin(ctx, id, p, cond, "")
}

var _ scenario.Twins = runTwins{}

func newRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "run-" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

func (s *scenarioRunner) post(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	var doc map[string]json.RawMessage
	if err := decodeJSON(body, &doc); err != nil {
		return err
	}
	var knobs ScenarioRequest
	for _, k := range requestKnobs {
		raw, ok := doc[k]
		if !ok {
			continue
		}
		delete(doc, k)
		one, _ := json.Marshal(map[string]json.RawMessage{k: raw})
		if err := json.Unmarshal(one, &knobs); err != nil {
			return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: fmt.Sprintf("%s: %v", k, err), Details: []ErrorDetail{{Message: err.Error(), Path: k}}}
		}
	}
	if knobs.Runs < 0 || knobs.Runs > maxScenarioRuns {
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: fmt.Sprintf("runs: must be in [0, %d]", maxScenarioRuns), Details: []ErrorDetail{{Message: "out of range", Path: "runs"}}}
	}
	if knobs.Seed > 1<<53 {
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: "seed: must be at most 2^53 (JSON numbers are doubles)", Details: []ErrorDetail{{Message: "out of range", Path: "seed"}}}
	}
	if knobs.AsOf != "" && !knobs.Graph {
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: "asOf: only with \"graph\": true", Details: []ErrorDetail{{Message: "only with graph", Path: "asOf"}}}
	}
	rest, _ := json.Marshal(doc)
	run := scenario.Run{Name: knobs.Name, Status: scenario.Running, Runs: max(knobs.Runs, 1), Seed: knobs.Seed, Graph: knobs.Graph, ModelVersion: SupplyModelVersion}
	var sc *supply.SimScenario
	if knobs.Graph {
		at, err := parseAsOf("asOf", knobs.AsOf)
		if err != nil {
			return err
		}
		g, snapAt, err := s.graphNetwork(r.Context(), at, &world.GraphOptions{StockpileTonnes: knobs.StockpileTonnes})
		if err != nil {
			return err
		}
		if sc, err = world.GraphScenario(rest, g.Network); err != nil {
			return fieldError(err)
		}
		// The graph's network declares no input stocks or pipelines: it
		// starts at rest unless the document says otherwise.
		if _, ok := doc["initial_state"]; !ok {
			sc.InitialState = supply.InitialAtRest
		}
		run.AsOf, run.Provenance = &snapAt, g.Process
	} else {
		if knobs.StockpileTonnes != nil {
			return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: "stockpileTonnes: only with \"graph\": true", Details: []ErrorDetail{{Message: "only with graph", Path: "stockpileTonnes"}}}
		}
		if sc, err = supply.DecodeScenario(rest); err != nil {
			return fieldError(err)
		}
	}
	if sc.Days > maxScenarioDays {
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: fmt.Sprintf("days: at most %d (a century) per run", maxScenarioDays), Details: []ErrorDetail{{Message: "out of range", Path: "days"}}}
	}
	run.Start, run.Days = sc.Start, sc.Days
	scJSON, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	run.Scenario = scJSON
	hashIn, _ := json.Marshal(map[string]any{"scenario": json.RawMessage(scJSON), "runs": run.Runs, "seed": run.Seed, "modelVersion": SupplyModelVersion})
	sum := sha256.Sum256(canonicalJSON(hashIn))
	run.InputHash = "sha256:" + hex.EncodeToString(sum[:])
	if err := s.ensureModels(r); err != nil {
		return err
	}
	run.CreatedAt = s.a.now().UTC()
	run.ID = twin.ID(newRunID(run.CreatedAt))
	if run.Runs == 1 {
		var res *supply.Result
		if d, ok := s.limits.Dispatcher.(RunDispatcher); ok {
			res, err = d.RunOne(r.Context(), string(run.ID), sc, run.Seed)
		} else {
			res, err = supply.Run(r.Context(), sc, mathrand.New(mathrand.NewPCG(run.Seed, 0)))
		}
		s.finish(&run, sc, res, err)
		if err := s.runs.Create(r.Context(), &run); err != nil {
			return err
		}
		if run.Status == scenario.Failed {
			return &Error{Status: http.StatusUnprocessableEntity, Code: "SimulationFailed", Message: fmt.Sprintf("run %s: %s", run.ID, run.Error)}
		}
		w.Header().Set("Location", "/scenarios/"+string(run.ID))
		return writeJSON(w, http.StatusCreated, apiRun(&run, true))
	}
	cost := StudyCost{Runs: run.Runs, Days: sc.Days, Nodes: len(sc.Network.Nodes)}
	cost.NodeDays = int64(cost.Runs) * int64(cost.Days) * int64(cost.Nodes)
	id := string(run.ID)
	study, err := s.admit(r.Context(), id, run.Runs, cost)
	if err != nil {
		return err
	}
	if err := s.runs.Create(r.Context(), &run); err != nil {
		s.release(id)
		return err
	}
	s.update(id, &ScenarioProgress{ID: id, Status: RunRunning, Total: run.Runs})
	// The study outlives the request; the API owns it and stops it on
	// Shutdown or DELETE. Its result is written to the twin when it ends.
	// The study gets its own copy of the run and changes only that copy.
	bgRun := run
	pr, hasPrincipal := auth.FromContext(r.Context())
	s.a.goBackground(func(ctx context.Context) {
		if hasPrincipal {
			// The study's writes are its principal's (its org's run).
			ctx = auth.NewContext(ctx, pr)
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s.mu.Lock()
		study.cancel = cancel
		if study.cancelled { // DELETE came first
			cancel()
		}
		s.mu.Unlock()
		s.monteCarlo(ctx, bgRun, sc, study)
	})
	out := apiRun(&run, true)
	out.EstimatedCost = &cost
	out.Progress = &ScenarioProgress{ID: id, Status: RunRunning, Total: run.Runs}
	w.Header().Set("Location", "/scenarios/"+id)
	return writeJSON(w, http.StatusAccepted, out)
}

func (s *scenarioRunner) monteCarlo(ctx context.Context, run scenario.Run, sc *supply.SimScenario, study *liveStudy) {
	id := string(run.ID)
	defer close(study.ended)
	defer s.release(id)
	progress := func(done, total int) {
		s.update(id, &ScenarioProgress{ID: id, Status: RunRunning, Done: done, Total: total})
	}
	var res *supply.MCResult
	var err error
	if d := s.limits.Dispatcher; d != nil && d.Available(ctx) {
		res, err = d.Run(ctx, id, sc, run.Runs, run.Seed, progress)
	} else {
		res, err = supply.MonteCarlo(ctx, sc, supply.MCOptions{Runs: run.Runs, Seed: run.Seed, Progress: progress})
	}
	s.finish(&run, sc, res, err)
	if err != nil && ctx.Err() != nil {
		s.mu.Lock()
		cancelled := study.cancelled
		s.mu.Unlock()
		if !cancelled && s.handBack(id) { // studies_shared.go: a graceful shutdown hands the study back
			return
		}
		run.Status, run.Error = scenario.Failed, InterruptedError+" ("+err.Error()+")"
		if cancelled {
			run.Status, run.Error = scenario.Cancelled, "cancelled by DELETE /scenarios/"+id
		}
	}
	// A study stopped by Shutdown still records its state: the write gets
	// a context of its own, bounded in time. The outcome is applied to the
	// stored run, so a change made to the twin meanwhile is kept.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, uerr := s.runs.Update(wctx, run.ID, func(stored *scenario.Run) error {
		stored.Status, stored.Error, stored.Result, stored.KPIs, stored.CompletedAt = run.Status, run.Error, run.Result, run.KPIs, run.CompletedAt
		return nil
	})
	if uerr != nil && run.Status == scenario.Cancelled {
		// A store whose ScenarioRun model predates "cancelled" refuses
		// the status: record the cancellation as a failure.
		run.Status = scenario.Failed
		_, uerr = s.runs.Update(wctx, run.ID, func(stored *scenario.Run) error {
			stored.Status, stored.Error, stored.CompletedAt = run.Status, run.Error, run.CompletedAt
			return nil
		})
	}
	if uerr != nil {
		s.a.log.Error("store scenario run", "run_id", id, "err", uerr)
		run.Status, run.Error = scenario.Failed, "store the result: "+uerr.Error()
	}
	s.update(id, &ScenarioProgress{ID: id, Status: string(run.Status), Done: run.Runs, Total: run.Runs, Error: run.Error})
}

// update records a run's progress and wakes the progress streams. Finished
// runs leave the live table: their state is in the twin.
func (s *scenarioRunner) update(id string, p *ScenarioProgress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.live[id]
	if cur != nil && p.Status == RunRunning && p.Done < cur.Done {
		return // progress callbacks of parallel workers may arrive out of order
	}
	if cur != nil && p.Status != RunRunning && p.Status != RunDone && p.Done > cur.Done {
		p.Done = cur.Done // a study stopped early did not do them all
	}
	s.a.studyProgress(id, p.Status, p.Done, p.Total)
	if p.Status == RunRunning {
		s.live[id] = p
	} else {
		delete(s.live, id)
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *scenarioRunner) liveProgress(id string) (*ScenarioProgress, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.live[id]
	if p != nil {
		c := *p
		p = &c
	}
	return p, s.changed
}

// finish fills in the run's status, KPIs and result.
func (s *scenarioRunner) finish(run *scenario.Run, sc *supply.SimScenario, res any, err error) {
	now := s.a.now().UTC()
	run.CompletedAt = &now
	if err != nil {
		run.Status, run.Error = scenario.Failed, err.Error()
		return
	}
	b, merr := json.Marshal(res)
	if merr != nil {
		run.Status, run.Error = scenario.Failed, "encode the result: "+merr.Error()
		return
	}
	var k supply.DemandKPIs
	switch r := res.(type) {
	case *supply.Result:
		k = supply.RunKPIs(&sc.Network, r)
	case *supply.MCResult:
		k = supply.StudyKPIs(&sc.Network, r)
	}
	run.Status, run.Result, run.KPIs = scenario.Done, b, &k
}

// apiRun is a stored run in API shape; full includes the scenario and the
// result.
func apiRun(run *scenario.Run, full bool) ScenarioRun {
	out := ScenarioRun{
		ID: string(run.ID), Name: run.Name, Status: string(run.Status), Runs: run.Runs, Seed: run.Seed,
		Graph: run.Graph, AsOf: run.AsOf, Start: run.Start, Days: run.Days, InputHash: run.InputHash,
		ModelVersion: run.ModelVersion, Provenance: run.Provenance, Error: run.Error,
		CreatedAt: run.CreatedAt, CompletedAt: run.CompletedAt,
	}
	if k := run.KPIs; k != nil {
		out.KPIs = &ScenarioKPIs{LostTonnes: k.Lost, DemandFillRate: k.FillRate, FillRates: make(map[string]float64, len(k.FillRates))}
		if k.FirstStockout != nil {
			out.KPIs.FirstStockout = string(*k.FirstStockout)
		}
		for id, v := range k.FillRates {
			out.KPIs.FillRates[string(id)] = v
		}
	}
	if full {
		out.Scenario, out.Result = run.Scenario, run.Result
	}
	return out
}

// owned returns 404 unless the principal of ctx may see run id (a run of
// its org, or of org ""), and the run's org.
func (s *scenarioRunner) owned(ctx context.Context, id string) (string, error) {
	rd := s.a.readerOf(ctx)
	t, err := s.a.opts.Store.GetTwin(ctx, twin.ID(id))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", notFound("ScenarioRunNotFound", "there is no scenario run with id %s", id)
	case err != nil:
		return "", err
	case !rd.owns(t.Metadata.Org):
		return "", notFound("ScenarioRunNotFound", "there is no scenario run with id %s", id)
	}
	return t.Metadata.Org, nil
}

func (s *scenarioRunner) load(ctx context.Context, id string, full bool) (ScenarioRun, error) {
	if _, err := s.owned(ctx, id); err != nil {
		return ScenarioRun{}, err
	}
	run, err := s.runs.Get(ctx, twin.ID(id))
	if errors.Is(err, scenario.ErrNotFound) {
		return ScenarioRun{}, notFound("ScenarioRunNotFound", "there is no scenario run with id %s", id)
	}
	if err != nil {
		return ScenarioRun{}, err
	}
	out := apiRun(&run, full)
	if p, _ := s.liveProgress(id); p != nil {
		out.Progress = p
	}
	return out, nil
}

func (s *scenarioRunner) get(w http.ResponseWriter, r *http.Request) error {
	run, err := s.load(r.Context(), r.PathValue("id"), true)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, run)
}

func (s *scenarioRunner) list(w http.ResponseWriter, r *http.Request) error {
	snap, err := s.a.opts.Store.Snapshot(r.Context(), time.Time{})
	if err != nil {
		return err
	}
	rd := s.a.readerOf(r.Context())
	out := ScenarioRunList{Value: []ScenarioRun{}}
	for _, t := range snap.Twins {
		if !rd.owns(t.Metadata.Org) {
			continue // another org's run
		}
		stored, err := scenario.Decode(t)
		if err != nil {
			continue // not a run
		}
		run := apiRun(&stored, false)
		if p, _ := s.liveProgress(run.ID); p != nil {
			run.Progress = p
		}
		out.Value = append(out.Value, run)
	}
	slices.SortFunc(out.Value, func(a, b ScenarioRun) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return writeJSON(w, http.StatusOK, out)
}

func (s *scenarioRunner) compare(w http.ResponseWriter, r *http.Request) error {
	raw := queryParams(r).Get("ids")
	var ids []string
	for _, id := range strings.Split(raw, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) < 2 {
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: fmt.Sprintf("ids: want at least two run ids separated by commas, got %q", raw), Details: []ErrorDetail{{Message: "want two or more ids", Path: "ids"}}}
	}
	out := ScenarioComparison{Nodes: map[string][]*float64{}, KPIs: map[string][]*float64{}}
	for _, id := range ids {
		run, err := s.load(r.Context(), id, false)
		if err != nil {
			return err
		}
		out.Runs = append(out.Runs, run)
	}
	for i, run := range out.Runs {
		if run.KPIs == nil {
			continue
		}
		set := func(m map[string][]*float64, key string, v float64) {
			if m[key] == nil {
				m[key] = make([]*float64, len(out.Runs))
			}
			m[key][i] = &v
		}
		set(out.KPIs, "lostTonnes", run.KPIs.LostTonnes)
		set(out.KPIs, "demandFillRate", run.KPIs.DemandFillRate)
		for id, v := range run.KPIs.FillRates {
			set(out.Nodes, id, v)
		}
	}
	if len(out.Runs) == 2 {
		out.Diff = map[string]ScenarioDiff{}
		for k, vs := range out.KPIs {
			if vs[0] != nil && vs[1] != nil {
				out.Diff[k] = ScenarioDiff{From: *vs[0], To: *vs[1], Delta: *vs[1] - *vs[0]}
			}
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *scenarioRunner) progress(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := s.owned(r.Context(), id); err != nil {
		return err
	}
	state := func() (ScenarioProgress, <-chan struct{}, error) {
		p, changed := s.liveProgress(id)
		if p != nil {
			return *p, changed, nil
		}
		run, err := s.load(r.Context(), id, false)
		if err != nil {
			return ScenarioProgress{}, nil, err
		}
		// The store keeps no count of the runs a cancelled or failed
		// study did: only a finished one says all.
		done := 0
		if run.Status == RunDone {
			done = run.Runs
		}
		return ScenarioProgress{ID: id, Status: run.Status, Done: done, Total: run.Runs, Error: run.Error}, changed, nil
	}
	p, changed, err := state()
	if err != nil {
		return err
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		return writeJSON(w, http.StatusOK, p)
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		return writeJSON(w, http.StatusOK, p)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	for {
		b, _ := json.Marshal(p)
		if _, err := fmt.Fprintf(w, "event: progress\ndata: %s\n\n", b); err != nil {
			return nil
		}
		fl.Flush()
		if p.Status != RunRunning {
			return nil
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-changed:
		case <-time.After(15 * time.Second):
			// A heartbeat, and a re-read in case the run ended
			// without an update reaching this stream.
		}
		if p, changed, err = state(); err != nil {
			return nil
		}
	}
}

func (s *scenarioRunner) stress(w http.ResponseWriter, r *http.Request) error {
	var req StressRequest
	if r.ContentLength != 0 {
		body, err := readBody(w, r, s.a.opts.MaxBodyBytes, jsonTypes...)
		if err != nil {
			return err
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := decodeJSON(body, &req); err != nil {
				return err
			}
		}
	}
	at, err := parseAsOf("asOf", req.AsOf)
	if err != nil {
		return err
	}
	if req.TTRPeriods < 0 || req.TTRPeriods != req.TTRPeriods {
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: "ttrPeriods: must be >= 0", Details: []ErrorDetail{{Message: "must be >= 0", Path: "ttrPeriods"}}}
	}
	ttr := req.TTRPeriods
	if ttr == 0 {
		ttr = supply.DefaultTTR
		if req.PerYear {
			ttr /= 365
		}
	}
	g, snapAt, err := s.graphNetwork(r.Context(), at, &world.GraphOptions{PerYear: req.PerYear, DefaultTTRPeriods: ttr, StockpileTonnes: req.StockpileTonnes})
	if err != nil {
		return err
	}
	net := g.Network
	if len(req.Scenarios) > 0 {
		net.Scenarios = req.Scenarios
		if err := net.Validate(); err != nil {
			return fieldError(err)
		}
	}
	res, err := supply.Stress(r.Context(), net, nil)
	if err != nil {
		return fieldError(err)
	}
	slices.SortStableFunc(res, supply.CompareExposure)
	periods := "days"
	if req.PerYear {
		periods = "years"
	}
	lg := net.Legend(periods)
	if req.TTRPeriods == 0 {
		lg.DefaultTTRSource = supply.DefaultTTRSource
		if req.PerYear {
			lg.DefaultTTRSource += fmt.Sprintf(" (%d days / 365)", supply.DefaultTTR)
		}
	} else {
		lg.DefaultTTRSource = "the request's ttrPeriods"
	}
	return writeJSON(w, http.StatusOK, StressResponse{AsOf: snapAt, Periods: periods, Scenarios: res, Provenance: g.Process, Skipped: g.Skipped, Legend: lg})
}

// principalKey names the principal of a request for the study limits: the
// authenticated principal, or one anonymous principal without auth.
func principalKey(ctx context.Context) string {
	if p, ok := auth.FromContext(ctx); ok {
		return p.Key()
	}
	return "anonymous"
}

// admit reserves a place for a study of runs replications, counted in
// the store over every server (studies_shared.go), or refuses it: 400
// when the study alone is over the limit of queued runs, 429 with
// Retry-After when the studies under way leave no room.
func (s *scenarioRunner) admit(ctx context.Context, id string, runs int, cost StudyCost) (*liveStudy, error) {
	return s.admitShared(ctx, id, runs, cost)
}

// release frees a study's place.
func (s *scenarioRunner) release(id string) {
	s.releaseShared(id) // studies_shared.go
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.studies, id)
}

// cancel serves DELETE /scenarios/{id}: a study under way in this process
// is stopped (its context cancelled, its shards withdrawn from the
// workers) and stored as cancelled; a run stored as running that no
// process here runs (another server's, or one a crash left) is marked
// cancelled in the store; a run that ended is a 409.
func (s *scenarioRunner) cancel(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	org, err := s.owned(r.Context(), id)
	if err != nil {
		return err
	}
	if !s.a.readerOf(r.Context()).canWrite(org) {
		return &Error{Status: http.StatusForbidden, Code: "Forbidden", Message: fmt.Sprintf("the roles of this principal do not allow cancelling run %s of org %q", id, org)}
	}
	s.mu.Lock()
	st := s.studies[id]
	if st != nil {
		st.cancelled = true
		st.cancel()
	}
	s.mu.Unlock()
	if st != nil {
		select {
		case <-st.ended:
		case <-r.Context().Done():
			return r.Context().Err()
		}
	} else {
		run, err := s.runs.Get(r.Context(), twin.ID(id))
		if errors.Is(err, scenario.ErrNotFound) {
			return notFound("ScenarioRunNotFound", "there is no scenario run with id %s", id)
		}
		if err != nil {
			return err
		}
		if run.Status != scenario.Running {
			return &Error{Status: http.StatusConflict, Code: "ScenarioRunNotRunning", Message: fmt.Sprintf("run %s is %s, not running: nothing to cancel", id, run.Status)}
		}
		now := s.a.now().UTC()
		if _, err := s.runs.Update(r.Context(), run.ID, func(stored *scenario.Run) error {
			stored.Status, stored.Error, stored.CompletedAt = scenario.Cancelled, "cancelled by DELETE /scenarios/"+id, &now
			return nil
		}); err != nil {
			return err
		}
	}
	out, err := s.load(r.Context(), id, false)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// The studies a crash left running are resumed from their stored
// scenario and seed, or marked failed, by recoverShared
// (studies_shared.go).
