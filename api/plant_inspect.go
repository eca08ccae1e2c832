package api

import (
	"encoding/json"
	"net/http"
	"reflect"

	"lodestone/plant/inspect"
)

// plantInspectRoutes serve virtual inspection (plant/inspect,
// docs/formats/plant-inspection.md): stateless, on the body.
func (a *API) plantInspectRoutes() []Route {
	return []Route{
		{Pattern: "POST /plant/inspect", Handler: a.plantInspect, Body: "InspectSpec", Response: "InspectOutput",
			Summary: "Run inspection rules (limit, rate, frozen, disagree with the soft sensor's estimate, twin alarm) over time-ordered samples {t_h, tag, value, estimate, estimate_sd, alarm}; returns {findings: [{t_h, rule, kind, tag, equipment, value, detail}], round: {from_h, to_h, items: [{equipment, status, checks}], findings, not_covered}}"},
		{Pattern: "POST /plant/inspect/fault-study", Handler: a.plantFaultStudy, Body: "FaultStudyRequest", Response: "FaultStudyResult",
			Summary: "Replay a synthetic fault set (analyser bias, drift, frozen value, equilibrium mismatch) on the dynamic cascade and time each fault's detection with limit rules on raw readings only and with the twin's rules; body {seed, duration_h, faults} (all optional). The figures are synthetic"},
	}
}

// FaultStudyRequest is the optional body of POST /plant/inspect/fault-study.
type FaultStudyRequest struct {
	Seed      uint64          `json:"seed"`
	DurationH float64         `json:"duration_h"`
	Faults    []inspect.Fault `json:"faults"`
}

func init() {
	for name, t := range map[string]reflect.Type{
		"InspectSpec":       reflect.TypeFor[inspect.Spec](),
		"InspectOutput":     reflect.TypeFor[inspect.Output](),
		"FaultStudyRequest": reflect.TypeFor[FaultStudyRequest](),
		"FaultStudyResult":  reflect.TypeFor[inspect.StudyResult](),
	} {
		schemaTypes[name] = t
	}
}

func (a *API) plantInspect(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	spec, err := inspect.ParseSpec(body)
	if err != nil {
		return badRequest("InvalidArgument", "%v", err)
	}
	out, err := spec.Run()
	if err != nil {
		return badRequest("InvalidArgument", "%v", err)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) plantFaultStudy(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	req := FaultStudyRequest{Seed: 1, DurationH: 30}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return badRequest("InvalidArgument", "fault study: %v", err)
		}
	}
	if req.DurationH <= 0 || req.DurationH > 200 {
		return badRequest("InvalidArgument", "duration_h: %v is not in (0, 200]", req.DurationH)
	}
	if len(req.Faults) == 0 {
		req.Faults = inspect.DefaultFaults()
	}
	if len(req.Faults) > 10 {
		return badRequest("InvalidArgument", "faults: %d faults; at most 10", len(req.Faults))
	}
	res, err := inspect.FaultStudy(r.Context(), req.Faults, req.Seed, req.DurationH)
	if err != nil {
		return badRequest("InvalidArgument", "%v", err)
	}
	return writeJSON(w, http.StatusOK, res)
}
