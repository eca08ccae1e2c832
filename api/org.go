package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"runtime"
	"strconv"

	"lodestone/org"
)

// The organisation twin (issue 14): the same engine and documents as
// `lodestone org run` and `lodestone org invest` (docs/formats/org.md).
// Both compute and store nothing, so they do not go through the write
// pipeline.
func (a *API) orgRoutes() []Route {
	return []Route{
		{Pattern: "POST /org/run", Handler: a.orgRun, Summary: "Simulate an org SCENARIO (a supply scenario plus \"org\": actors and rules) once with its decisions: the supply run result plus decisions, timeline and the zero-latency counterfactual (?seed=N, default 1; ?zeroLatency=false to skip it; ?moved=true adds each decision's KPIs moved; ?graph=true[&asOf=T]: the network and the organisation's OrgActor and DecisionRule twins from the twin graph, the body only shocks, controls, policies and dates)", Body: "OrgScenario", Response: "OrgRunResponse"},
		{Pattern: "POST /org/invest", Handler: a.orgInvest, Summary: "Best portfolio of candidate investments under a budget over common Monte Carlo runs, with 95% confidence intervals, a bound of the gap to the best and the efficient frontier of cost against risk (the SPEC of lodestone org invest; search exhaustive, greedy or branch_and_bound). Answered when done, after admission as a study: 429 TooManyStudies with Retry-After when the studies under way leave no room, 400 StudyTooLarge when its runs (portfolios × runs × scenarios, at most) alone pass the limit of queued runs. With --studies.workers and a worker connected, the portfolios' runs are computed on the workers, with the same result", Body: "OrgInvestSpec", Response: "OrgInvestResponse"},
	}
}

// OrgScenario is the body of POST /org/run: a supply SCENARIO
// (docs/formats/supply-scenario.md) plus "org". Only its outline is
// typed here; docs/formats/org.md has the fields.
type OrgScenario struct {
	Start   string          `json:"start"`
	Days    int             `json:"days"`
	Network json.RawMessage `json:"network"`
	Org     json.RawMessage `json:"org"`
}

// OrgRunResponse is the output of POST /org/run: the supply run result
// (start, days, nodes, cost) plus the organisation's decisions.
type OrgRunResponse struct {
	Start        string          `json:"start"`
	Days         int             `json:"days"`
	Nodes        json.RawMessage `json:"nodes"`
	Cost         json.RawMessage `json:"cost,omitempty"`
	Decisions    json.RawMessage `json:"decisions"`
	Timeline     json.RawMessage `json:"timeline"`
	Lost         float64         `json:"lost"`
	ZeroLatency  json.RawMessage `json:"zero_latency,omitempty"`
	LatencyCost  *float64        `json:"latency_cost,omitempty"`
	LatencyMoney *float64        `json:"latency_cost_money,omitempty"`
}

// OrgInvestSpec is the body of POST /org/invest (the SPEC of `lodestone org
// invest`): exactly one of Scenario and Scenarios.
type OrgInvestSpec struct {
	Scenario   json.RawMessage `json:"scenario,omitempty"`
	Scenarios  json.RawMessage `json:"scenarios,omitempty"`
	Candidates json.RawMessage `json:"candidates"`
	Budget     float64         `json:"budget"`
	Runs       int             `json:"runs"`
	Seed       uint64          `json:"seed"`
	Objective  string          `json:"objective,omitempty"`
	Search     string          `json:"search,omitempty"`
}

// OrgInvestResponse is the output of POST /org/invest.
type OrgInvestResponse struct {
	Best      json.RawMessage `json:"best"`
	Frontier  json.RawMessage `json:"frontier"`
	Baseline  json.RawMessage `json:"baseline"`
	Objective string          `json:"objective"`
	Method    string          `json:"method"`
	Bound     json.RawMessage `json:"bound,omitempty"`
	Evaluated int             `json:"evaluated"`
	Runs      int             `json:"runs"`
	Seed      uint64          `json:"seed"`
	// EstimatedCost is what the search was admitted with: its runs at
	// most (portfolios × runs × scenarios), days and nodes.
	EstimatedCost *StudyCost `json:"estimatedCost,omitempty"`
}

func init() {
	schemaTypes["OrgScenario"] = reflect.TypeFor[OrgScenario]()
	schemaTypes["OrgRunResponse"] = reflect.TypeFor[OrgRunResponse]()
	schemaTypes["OrgInvestSpec"] = reflect.TypeFor[OrgInvestSpec]()
	schemaTypes["OrgInvestResponse"] = reflect.TypeFor[OrgInvestResponse]()
}

// orgError maps the field errors of org (and of supply, through
// fieldError) to a 400 naming the field.
func orgError(err error) error {
	var oe *org.FieldError
	if errors.As(err, &oe) {
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: err.Error(), Details: []ErrorDetail{{Message: oe.Msg, Path: oe.Field}}, Err: err}
	}
	return fieldError(err)
}

func boolParam(r *http.Request, name string, def bool) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: name + ": want true or false", Details: []ErrorDetail{{Message: "want true or false", Path: name}}}
	}
	return b, nil
}

func (a *API) orgRun(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	sc, err := a.orgScenario(r, body)
	if err != nil {
		return err
	}
	opts := org.Options{Seed: 1}
	if v := r.URL.Query().Get("seed"); v != "" {
		if opts.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: "seed: want an unsigned integer", Details: []ErrorDetail{{Message: "want an unsigned integer", Path: "seed"}}}
		}
	}
	if opts.ZeroLatency, err = boolParam(r, "zeroLatency", true); err != nil {
		return err
	}
	if opts.Moved, err = boolParam(r, "moved", false); err != nil {
		return err
	}
	res, err := org.Run(r.Context(), sc, opts)
	if err != nil {
		return orgError(err)
	}
	return writeJSON(w, http.StatusOK, res)
}

// InvestDispatcher is a StudyDispatcher that also runs the portfolio
// evaluations of an investment search on workers (worker.Dispatcher): the
// sampler must give org.Samples' bits.
type InvestDispatcher interface {
	InvestSampler(search string) org.Sampler
}

// orgInvestOut is the answer of POST /org/invest: the result of `lodestone
// org invest` plus the cost it was admitted with.
type orgInvestOut struct {
	*org.InvestResult
	EstimatedCost *StudyCost `json:"estimatedCost"`
}

// orgInvest runs an investment search inside the request, as a study: it
// holds a study's place (its runs count toward the queued runs) from
// admission until it answers, so that searches and Monte Carlo studies
// share the limits; the client's disconnect stops it (and its shards on
// the workers, when they run its portfolios' runs).
func (a *API) orgInvest(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	spec, err := org.DecodeInvestSpec(body)
	if err != nil {
		return orgError(err)
	}
	if spec.Workers == 0 {
		spec.Workers = runtime.GOMAXPROCS(0)
	}
	est, err := spec.Cost()
	if err != nil {
		return orgError(err)
	}
	runs := int(min(est.Total, int64(math.MaxInt)))
	cost := StudyCost{Runs: runs, Days: est.Days, Nodes: est.Nodes, NodeDays: satMul64(satMul64(int64(runs), int64(est.Days)), int64(est.Nodes))}
	s := a.studies
	var b [8]byte
	rand.Read(b[:])
	id := "org-invest-" + hex.EncodeToString(b[:])
	study, err := s.admit(r.Context(), id, runs, cost)
	if e := (*Error)(nil); errors.As(err, &e) && e.Code == "StudyTooLarge" {
		e.Message = fmt.Sprintf("runs: the search may simulate %d runs (%d portfolios at most × %d runs × %d scenarios), over the limit of queued runs (studies.max-queued-runs %d): fewer runs, candidates or scenarios, or search greedy", est.Total, est.Portfolios, est.Runs, est.Scenarios, s.limits.MaxQueuedRuns)
		return e
	} else if err != nil {
		return err
	}
	defer s.release(id)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	s.mu.Lock()
	study.cancel = cancel
	s.mu.Unlock()
	// With workers the portfolios' runs are computed on them (the same
	// bits); the search itself stays here.
	var opts []org.InvestOption
	if d, ok := s.limits.Dispatcher.(InvestDispatcher); ok && s.limits.Dispatcher.Available(ctx) {
		opts = append(opts, org.WithSampler(d.InvestSampler(id)))
	}
	res, err := org.Invest(ctx, spec, opts...)
	if err != nil {
		return orgError(err)
	}
	return writeJSON(w, http.StatusOK, orgInvestOut{InvestResult: res, EstimatedCost: &cost})
}

// satMul64 is a·b for a, b ≥ 0, saturating at math.MaxInt64.
func satMul64(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}
