package api

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"time"

	"lodestone/plant/inspect"
	"lodestone/store"
	"lodestone/twin"
)

// plantInspectRoutes serve virtual inspection (plant/inspect,
// docs/formats/plant-inspection.md): stateless, on the body.
func (a *API) plantInspectRoutes() []Route {
	return []Route{
		{Pattern: "POST /plant/inspect", Handler: a.plantInspect, Body: "InspectRequest", Response: "InspectOutput",
			Summary: "Run inspection rules (limit, rate, frozen, disagree with the soft sensor's estimate, twin alarm) over time-ordered samples {t_h, tag, value, estimate, estimate_sd, alarm}, or over stored telemetry instead: telemetry {from, to, sources: [{twin, name, key, tag}]} reads each twin's telemetry name in [from, to) (key: the member of a JSON object reading) as samples of tag at t_h = hours since from; returns {findings: [{t_h, rule, kind, tag, equipment, value, detail}], round: {from_h, to_h, items: [{equipment, status, checks}], findings, not_covered}}"},
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
		"InspectRequest":    reflect.TypeFor[InspectRequest](),
		"InspectOutput":     reflect.TypeFor[inspect.Output](),
		"FaultStudyRequest": reflect.TypeFor[FaultStudyRequest](),
		"FaultStudyResult":  reflect.TypeFor[inspect.StudyResult](),
	} {
		schemaTypes[name] = t
	}
}

// InspectRequest is the body of POST /plant/inspect: the inspection spec
// (docs/formats/plant-inspection.md) with, instead of samples, telemetry
// to read from the store.
type InspectRequest struct {
	inspect.Spec
	Telemetry *InspectTelemetry `json:"telemetry,omitempty"`
}

// InspectTelemetry is the "telemetry" member of POST /plant/inspect: the
// samples are read from stored telemetry instead of the body. t_h of a
// reading is hours since From (its source time).
type InspectTelemetry struct {
	From    time.Time             `json:"from"`
	To      time.Time             `json:"to"`
	Sources []InspectTelemetrySrc `json:"sources"`
}

// InspectTelemetrySrc maps one stored telemetry name of a twin to a tag:
// the value is the message itself (a number) or its member Key.
type InspectTelemetrySrc struct {
	Twin string `json:"twin"`
	Name string `json:"name"`
	Key  string `json:"key,omitempty"`
	Tag  string `json:"tag"`
}

// maxInspectPoints bounds the readings one inspection reads.
const maxInspectPoints = 100000

func (a *API) plantInspect(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return badRequest("InvalidArgument", "inspect spec: %v", err)
	}
	var tel *InspectTelemetry
	if raw, ok := top["telemetry"]; ok {
		if _, ok := top["samples"]; ok {
			return badRequest("InvalidArgument", "samples: give samples or telemetry, not both")
		}
		tel = &InspectTelemetry{}
		if err := decodeStrictBody(string(raw), tel); err != nil {
			return badRequest("InvalidArgument", "telemetry: %v", err.(*Error).Message)
		}
		delete(top, "telemetry")
		if body, err = json.Marshal(top); err != nil {
			return err
		}
	}
	spec, err := inspect.ParseSpec(body)
	if err != nil {
		return badRequest("InvalidArgument", "%v", err)
	}
	if tel != nil {
		if spec.Samples, err = a.inspectSamples(r, tel); err != nil {
			return err
		}
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

// inspectSamples reads the telemetry of each source in [From, To) as the
// principal sees it (GET /digitaltwins/{id}/telemetry's rules) and merges
// it into samples sorted by time (ties in source order).
func (a *API) inspectSamples(r *http.Request, tel *InspectTelemetry) ([]inspect.Sample, error) {
	switch {
	case tel.From.IsZero():
		return nil, badRequest("InvalidArgument", "telemetry.from: required (RFC 3339 time of t_h = 0)")
	case !tel.To.IsZero() && !tel.To.After(tel.From):
		return nil, badRequest("InvalidArgument", "telemetry.to: %s is not after from %s", tel.To.Format(time.RFC3339), tel.From.Format(time.RFC3339))
	case len(tel.Sources) == 0:
		return nil, badRequest("InvalidArgument", "telemetry.sources: at least one source is required")
	}
	type point struct {
		s   inspect.Sample
		src int
	}
	var pts []point
	for i, src := range tel.Sources {
		field := fmt.Sprintf("telemetry.sources[%d]", i)
		if src.Twin == "" || src.Name == "" || src.Tag == "" {
			return nil, badRequest("InvalidArgument", "%s: twin, name and tag are required", field)
		}
		q := store.TelemetryQuery{TwinID: twin.ID(src.Twin), Name: src.Name, From: tel.From, To: tel.To, Limit: maxInspectPoints + 1}
		got, err := a.visibleTelemetry(r, q)
		if err != nil {
			return nil, err
		}
		if len(pts)+len(got) > maxInspectPoints {
			return nil, badRequest("InvalidArgument", "telemetry: more than %d readings; narrow from and to", maxInspectPoints)
		}
		for _, p := range got {
			v, ok := telemetryNumber(p.Value, src.Key)
			switch {
			case !ok && src.Key == "":
				return nil, badRequest("ValidationFailed", "%s.key: reading %s of %s %s is not a number (%s): name the member to read", field, p.MessageID, src.Twin, src.Name, p.Value)
			case !ok:
				return nil, badRequest("ValidationFailed", "%s.key: reading %s of %s %s has no number %q (%s)", field, p.MessageID, src.Twin, src.Name, src.Key, p.Value)
			}
			pts = append(pts, point{s: inspect.Sample{T: p.SourceTime.Sub(tel.From).Hours(), Tag: src.Tag, Value: v}, src: i})
		}
	}
	slices.SortStableFunc(pts, func(x, y point) int { return cmp.Or(cmp.Compare(x.s.T, y.s.T), cmp.Compare(x.src, y.src)) })
	out := make([]inspect.Sample, len(pts))
	for i, p := range pts {
		out[i] = p.s
	}
	return out, nil
}

// telemetryNumber reads a stored reading as a number: the reading itself
// (key "") or its member key; false when that is not a finite number.
func telemetryNumber(raw json.RawMessage, key string) (float64, bool) {
	if key != "" {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil || m[key] == nil {
			return 0, false
		}
		raw = m[key]
	}
	var v *float64 // null leaves it nil: not a number
	if json.Unmarshal(raw, &v) != nil || v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return 0, false
	}
	return *v, true
}

// visibleTelemetry answers q as GET /digitaltwins/{id}/telemetry does for
// the request's principal: the twin must be visible, and of a shared twin
// only the telemetry names its agreements list.
func (a *API) visibleTelemetry(r *http.Request, q store.TelemetryQuery) ([]store.Telemetry, error) {
	v := a.viewerOf(r.Context())
	if _, err := a.seeTwin(r.Context(), v, q.TwinID); err != nil {
		return nil, err
	}
	if !v.all {
		tw, _ := a.opts.Store.GetTwin(r.Context(), q.TwinID)
		props, all, _ := v.pol.VisibleProperties(v.pr, tw.Metadata.Org, tw.Metadata.Model)
		if !all {
			return a.sharedTelemetry(r.Context(), q, props)
		}
	}
	return a.opts.Store.QueryTelemetry(r.Context(), q)
}
