package api

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"lodestone/models"
	"lodestone/plant/reliability"
	"lodestone/store"
	"lodestone/twin"
)

// plantReliabilityRoutes serve the equipment-reliability engine
// (plant/reliability): stateless calculations on the body, the same as
// the `lodestone plant reliability` and `plant maintenance` commands
// (docs/formats/plant-reliability.md). They write nothing, except a
// maintenance plan asked to (?write=true), whose work orders become
// WorkOrder twins through the write pipeline.
func (a *API) plantReliabilityRoutes() []Route {
	return []Route{
		{Pattern: "POST /plant/reliability/fit", Handler: a.plantFit, Body: "ReliabilityFitRequest", Response: "FitResult",
			Summary: "Fit a life distribution (weibull, exponential, lognormal or auto by AIC) to failures and right-censored suspensions by maximum likelihood, with Fisher-matrix or likelihood-ratio bounds. Body: text/csv with header time,failed (failed 1 = failure, 0 = suspension; times ascending), distribution, confidence and bounds (fisher or lr) as query parameters; or JSON {\"data\": [{\"time\", \"failed\"}], \"distribution\", \"confidence\", \"bounds\"}. Returns {distribution, shape, scale, mttf, n, failures, log_likelihood, shape_ci, scale_ci, aic, confidence, bounds, candidates}"},
		{Pattern: "GET /plant/equipment/{id}/reliability", Handler: a.plantEquipmentFit, Response: "FitResult",
			Summary: "Fit a life distribution to the FailureRecord twins whose 'of' relationship points at the equipment unit or maintainable item {id} (operatingTime in hours; suspension = right-censored), sorted by operating time; query parameters distribution, confidence, bounds as for POST /plant/reliability/fit"},
		{Pattern: "POST /plant/reliability/replace", Handler: a.plantReplace, Body: "ReplaceSpec", Response: "ReplaceResult",
			Summary: "Optimum age-replacement interval of a Weibull item. Body {shape, scale, cost_preventive, cost_failure}; returns {interval (null: run to failure), cost_rate, run_to_failure_cost_rate, run_to_failure, saving, reliability_at_interval}, costs per unit time"},
		{Pattern: "POST /plant/availability", Handler: a.plantAvailability, Body: "Block", Response: "BlockResult",
			Summary: "Steady-state availability of a reliability block diagram: {kind: unit|series|parallel|k_of_n|standby, mtbf, mttr, availability, k, n, repair_crews, hot, blocks: […]}; returns the availability of every block"},
		{Pattern: "POST /plant/maintenance/plan", Handler: a.plantMaintenancePlan, Body: "PlanSpec", Response: "PlanResult",
			Summary: "Preventive-maintenance plan: {horizon, items: [{id, shape, scale, cost_preventive, cost_failure, mttr_preventive, mttr_corrective, age, interval}]} (hours); returns per item the interval (optimum if not given), preventive work orders over the horizon, expected failures, cost and availability, and the plant's (items in series). With ?write=true&start=RFC3339 each work order is also written as a WorkOrder twin (id wo-<item>-<n>, status planned, due = start + due hours) with an appliesTo relationship to the item's twin, which must exist (item id = twin id)"},
		{Pattern: "POST /plant/oee", Handler: a.plantOEE, Body: "OEEInput", Response: "OEEResult",
			Summary: "OEE of a continuous line: {planned_time, run_time, nameplate_rate, output, in_spec_output}; returns availability, performance, quality and their product"},
	}
}

// The schemas of the plant reliability routes are those of the engine's
// types, registered here so that openapi.go need not know them.
func init() {
	maps.Copy(schemaTypes, map[string]reflect.Type{
		"ReliabilityFitRequest": reflect.TypeFor[ReliabilityFitRequest](),
		"FitResult":             reflect.TypeFor[reliability.FitResult](),
		"ReplaceSpec":           reflect.TypeFor[reliability.ReplaceSpec](),
		"ReplaceResult":         reflect.TypeFor[reliability.ReplaceResult](),
		"Block":                 reflect.TypeFor[reliability.Block](),
		"BlockResult":           reflect.TypeFor[reliability.BlockResult](),
		"PlanSpec":              reflect.TypeFor[reliability.PlanSpec](),
		"PlanResult":            reflect.TypeFor[reliability.PlanResult](),
		"OEEInput":              reflect.TypeFor[reliability.OEEInput](),
		"OEEResult":             reflect.TypeFor[reliability.OEEResult](),
	})
}

// ReliabilityFitRequest is the JSON form of POST /plant/reliability/fit.
type ReliabilityFitRequest struct {
	Data []struct {
		Time   float64 `json:"time"`
		Failed int     `json:"failed"`
	} `json:"data"`
	Distribution string  `json:"distribution,omitempty"`
	Confidence   float64 `json:"confidence,omitempty"`
	Bounds       string  `json:"bounds,omitempty"` // fisher (default) or lr
}

// reliabilityError maps the engine's data errors to 400s naming the field.
func reliabilityError(err error) error {
	var de *reliability.DataError
	if errors.As(err, &de) || errors.Is(err, reliability.ErrNoFailures) {
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: strings.TrimPrefix(err.Error(), "reliability: "), Err: err}
	}
	if err != nil && strings.HasPrefix(err.Error(), "reliability: ") {
		// Fits that cannot be made from the data (a degenerate sample).
		return &Error{Status: http.StatusUnprocessableEntity, Code: "ValidationFailed", Message: strings.TrimPrefix(err.Error(), "reliability: "), Err: err}
	}
	return err
}

func (a *API) plantFit(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, "application/json", "text/csv", "text/plain")
	if err != nil {
		return err
	}
	opts := reliability.FitOptions{Distribution: reliability.Distribution(r.URL.Query().Get("distribution")), Bounds: r.URL.Query().Get("bounds")}
	if c := r.URL.Query().Get("confidence"); c != "" {
		if opts.Confidence, err = strconv.ParseFloat(c, 64); err != nil {
			return badRequest("InvalidArgument", "confidence: %q is not a number", c)
		}
	}
	var obs []reliability.Observation
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "{") {
		var req ReliabilityFitRequest
		if err := decodeStrictBody(trimmed, &req); err != nil {
			return err
		}
		for i, d := range req.Data {
			if d.Failed != 0 && d.Failed != 1 {
				return badRequest("ValidationFailed", "data[%d].failed: %d is not 0 (suspension) or 1 (failure)", i, d.Failed)
			}
			obs = append(obs, reliability.Observation{Time: d.Time, Failed: d.Failed == 1})
		}
		if req.Distribution != "" {
			opts.Distribution = reliability.Distribution(req.Distribution)
		}
		if req.Confidence != 0 {
			opts.Confidence = req.Confidence
		}
		if req.Bounds != "" {
			opts.Bounds = req.Bounds
		}
	} else if obs, err = reliability.ParseLifeCSV(body); err != nil {
		return reliabilityError(err)
	}
	res, err := reliability.Fit(obs, &opts)
	if err != nil {
		return reliabilityError(err)
	}
	return writeJSON(w, http.StatusOK, res)
}

// plantEquipmentFit fits the failure records of one equipment twin.
func (a *API) plantEquipmentFit(w http.ResponseWriter, r *http.Request) error {
	id := twin.ID(r.PathValue("id"))
	if _, _, err := a.sourceTwin(r, id); err != nil {
		return err
	}
	opts := reliability.FitOptions{Distribution: reliability.Distribution(r.URL.Query().Get("distribution")), Bounds: r.URL.Query().Get("bounds")}
	if c := r.URL.Query().Get("confidence"); c != "" {
		var err error
		if opts.Confidence, err = strconv.ParseFloat(c, 64); err != nil {
			return badRequest("InvalidArgument", "confidence: %q is not a number", c)
		}
	}
	in, err := a.opts.Store.ListIncomingRelationships(r.Context(), id)
	if err != nil {
		return err
	}
	if in, err = a.visibleRels(r.Context(), a.viewerOf(r.Context()), in); err != nil {
		return err
	}
	var recs []reliability.Record
	for _, rel := range in {
		if rel.Name != "of" {
			continue
		}
		src, iface, err := a.sourceTwin(r, rel.SourceID)
		if err != nil || iface == nil || !iface.IsAID(models.FailureRecord) {
			continue
		}
		t, ok := src.Properties["operatingTime"].(float64)
		if !ok {
			return badRequest("ValidationFailed", "failure record %s: operatingTime is missing: every record needs the item's operating hours at the event", src.ID)
		}
		susp, _ := src.Properties["suspension"].(bool)
		recs = append(recs, reliability.Record{ID: string(src.ID), OperatingTime: t, Suspension: susp})
	}
	if len(recs) == 0 {
		return badRequest("ValidationFailed", "twin %s has no FailureRecord twins pointing at it with an 'of' relationship", id)
	}
	obs, err := reliability.FromRecords(recs)
	if err != nil {
		return reliabilityError(err)
	}
	res, err := reliability.Fit(obs, &opts)
	if err != nil {
		return reliabilityError(err)
	}
	return writeJSON(w, http.StatusOK, res)
}

// plantCalc reads a JSON body, decodes it with dec and answers with run's
// result: the shape of every stateless plant calculation.
func plantCalc[S, R any](a *API, w http.ResponseWriter, r *http.Request, dec func([]byte) (*S, error), run func(S) (R, error)) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return badRequest("InvalidArgument", "request body is empty")
	}
	spec, err := dec(body)
	if err != nil {
		return reliabilityError(err)
	}
	res, err := run(*spec)
	if err != nil {
		return reliabilityError(err)
	}
	return writeJSON(w, http.StatusOK, res)
}

func (a *API) plantReplace(w http.ResponseWriter, r *http.Request) error {
	return plantCalc(a, w, r, reliability.DecodeReplaceSpec, reliability.AgeReplacement)
}

func (a *API) plantAvailability(w http.ResponseWriter, r *http.Request) error {
	return plantCalc(a, w, r, reliability.DecodeBlock, reliability.SystemAvailability)
}

// maxWorkOrderWrites bounds the twins one plan request may write.
const maxWorkOrderWrites = 10000

func (a *API) plantMaintenancePlan(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Get("write") != "true" {
		return plantCalc(a, w, r, reliability.DecodePlanSpec, reliability.Plan)
	}
	start, err := parseTimeParam(r, "start")
	if err != nil {
		return err
	}
	if start.IsZero() {
		return badRequest("InvalidArgument", "start: required with write=true (RFC 3339 time of hour 0 of the plan)")
	}
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	spec, err := reliability.DecodePlanSpec(body)
	if err != nil {
		return reliabilityError(err)
	}
	res, err := reliability.Plan(*spec)
	if err != nil {
		return reliabilityError(err)
	}
	n := 0
	for _, it := range res.Items {
		n += len(it.WorkOrders)
		if _, _, err := a.sourceTwin(r, twin.ID(it.ID)); err != nil {
			return badRequest("ValidationFailed", "items: %q is not a twin; with write=true every item id must be the id of its equipment or maintainable-item twin", it.ID)
		}
	}
	if n > maxWorkOrderWrites {
		return badRequest("ValidationFailed", "horizon: the plan has %d work orders, more than the %d one request may write; shorten the horizon", n, maxWorkOrderWrites)
	}
	for _, it := range res.Items {
		for _, wo := range it.WorkOrders {
			due := start.Add(time.Duration(wo.Due * float64(time.Hour))).UTC().Format(time.RFC3339)
			t := twin.Twin{ID: twin.ID(wo.ID), Metadata: twin.Metadata{Model: models.WorkOrder}, Properties: map[string]any{
				"name": fmt.Sprintf("preventive replacement of %s", it.ID), "number": wo.ID, "kind": "preventive", "status": "planned",
				"due": due, "plannedDuration": wo.Duration,
				"notes": "written by POST /plant/maintenance/plan (age-replacement plan, plant/reliability)",
			}}
			if _, _, err := a.pipe.PutTwin(r.Context(), t, store.Condition{}); err != nil {
				return err
			}
			rel := twin.Relationship{ID: "appliesTo", SourceID: t.ID, TargetID: twin.ID(it.ID), Name: "appliesTo"}
			if _, err := a.pipe.PutRelationship(r.Context(), rel, store.Condition{}); err != nil {
				return err
			}
		}
	}
	return writeJSON(w, http.StatusOK, res)
}

func (a *API) plantOEE(w http.ResponseWriter, r *http.Request) error {
	return plantCalc(a, w, r, reliability.DecodeOEE, reliability.OEE)
}
