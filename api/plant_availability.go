package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"lodestone/models"
	"lodestone/plant"
	"lodestone/plant/reliability"
	"lodestone/store"
	"lodestone/twin"
)

func init() {
	schemaTypes["PlantAvailabilityRequest"] = reflect.TypeFor[PlantAvailabilityRequest]()
	schemaTypes["PlantAvailabilityResult"] = reflect.TypeFor[PlantAvailabilityResult]()
}

// PlantAvailabilityRequest is the optional body of POST
// /plant/equipment/{id}/availability.
type PlantAvailabilityRequest struct {
	// Distribution of the fits (weibull by default; exponential,
	// lognormal or auto).
	Distribution string `json:"distribution,omitempty"`
	// Figures gives MTBF and MTTR (hours) of an equipment model ("Pump")
	// with their source, instead of its failure records.
	Figures map[string]plant.ClassFigures `json:"figures,omitempty"`
}

// PlantAvailabilityResult is the answer: the chain's result and whether
// the plant twin was written.
type PlantAvailabilityResult struct {
	plant.AvailabilityResult
	Written bool `json:"written"`
}

func (a *API) plantAvailabilityRoutes() []Route {
	return []Route{
		{Pattern: "POST /plant/equipment/{id}/availability", Handler: a.plantTwinAvailability, Body: "PlantAvailabilityRequest", Response: "PlantAvailabilityResult",
			Summary: "Availability of separation plant {id} from its equipment models (docs/formats/plant-reliability.md): the FailureRecord twins of the equipment its SX trains need (hasSection → sxTrain sections: their equipment but analysers, and the stage drives) fitted per equipment model (MTBF = fitted mean life, MTTR = mean downtime of the failures; body {distribution, figures: {Model: {mtbf, mttr, source}}} overrides), each train's block diagram (series; tags ending A/B as cold duty/standby), the trains' mean. Returns {plant, computed, availability (null when not computed), reason, source, classes, trains, written}; with ?write=true a computed availability is written to the plant twin's availability with sources.availability naming the records and fits"},
	}
}

// plantGraph reads the part of the twin graph under plant id that the
// chain needs, as the request's principal sees it: the twins reached by
// hasSection, hasUnit, hasStage, hasEquipment, hasSubunit and hasItem, and
// the FailureRecord twins whose "of" points at one of them.
func (a *API) plantGraph(ctx context.Context, id twin.ID) (plant.AvailabilityInput, error) {
	in := plant.AvailabilityInput{Plant: string(id)}
	tc := a.newTwinCache(ctx, a.readerOf(ctx))
	ms := a.pipe.Models()
	isA := func(t twin.Twin, dtmi string) bool {
		iface, _ := ms.Interface(t.Metadata.Model)
		return iface != nil && iface.IsAID(dtmi)
	}
	follow := map[string]bool{"hasSection": true, "hasUnit": true, "hasStage": true, "hasEquipment": true, "hasSubunit": true, "hasItem": true}
	seen := map[twin.ID]bool{id: true}
	queue := []twin.ID{id}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		ct, err := tc.get(cur)
		if err != nil {
			return in, err
		}
		if !ct.visible {
			continue
		}
		t := ct.proj
		in.Nodes = append(in.Nodes, plant.GraphNode{ID: string(t.ID), Model: plant.ModelName(t.Metadata.Model), Equipment: isA(t, models.Equipment), Props: t.Properties})
		out, err := a.opts.Store.ListRelationships(ctx, cur, "")
		if err != nil {
			return in, err
		}
		for _, r := range out {
			if !follow[r.Name] {
				continue
			}
			if _, ok, err := tc.relationship(r); err != nil || !ok {
				if err != nil {
					return in, err
				}
				continue
			}
			in.Edges = append(in.Edges, plant.Edge{Source: string(r.SourceID), Name: r.Name, Target: string(r.TargetID)})
			if !seen[r.TargetID] {
				seen[r.TargetID] = true
				queue = append(queue, r.TargetID)
			}
		}
		if cur == id {
			continue
		}
		inc, err := a.opts.Store.ListIncomingRelationships(ctx, cur)
		if err != nil {
			return in, err
		}
		for _, r := range inc {
			if r.Name != "of" {
				continue
			}
			if _, ok, err := tc.relationship(r); err != nil || !ok {
				if err != nil {
					return in, err
				}
				continue
			}
			src, err := tc.get(r.SourceID)
			if err != nil {
				return in, err
			}
			if !src.visible || !isA(src.proj, models.FailureRecord) {
				continue
			}
			p := src.proj.Properties
			ot, ok := p["operatingTime"].(float64)
			if !ok {
				return in, badRequest("ValidationFailed", "failure record %s: operatingTime is missing: every record needs the item's operating hours at the event", src.proj.ID)
			}
			rec := plant.FailureRecord{ID: string(r.SourceID), Of: string(cur), OperatingTime: ot}
			rec.Suspension, _ = p["suspension"].(bool)
			if d, ok := p["downtime"].(float64); ok {
				rec.Downtime = &d
			}
			in.Records = append(in.Records, rec)
		}
	}
	return in, nil
}

// plantAvailabilityOf runs the chain on plant id (a SeparationPlant the
// principal sees).
func (a *API) plantAvailabilityOf(ctx context.Context, id twin.ID, req PlantAvailabilityRequest) (*plant.AvailabilityResult, error) {
	in, err := a.plantGraph(ctx, id)
	if err != nil {
		return nil, err
	}
	in.Figures = req.Figures
	if req.Distribution != "" {
		in.Fit = &reliability.FitOptions{Distribution: reliability.Distribution(req.Distribution)}
	}
	res, err := plant.PlantAvailability(in)
	if err != nil {
		var de *reliability.DataError
		if errors.Is(err, plant.ErrNoTrains) || errors.As(err, &de) || strings.HasPrefix(err.Error(), "plant: ") {
			return nil, &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: fmt.Sprintf("plant %s: %s", id, strings.TrimPrefix(err.Error(), "plant: ")), Err: err}
		}
		return nil, err
	}
	return res, nil
}

func (a *API) plantTwinAvailability(w http.ResponseWriter, r *http.Request) error {
	id := twin.ID(r.PathValue("id"))
	var req PlantAvailabilityRequest
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	if s := strings.TrimSpace(string(body)); s != "" {
		if err := decodeStrictBody(s, &req); err != nil {
			return err
		}
	}
	p, iface, err := a.sourceTwin(r, id)
	if err != nil {
		return err
	}
	if iface == nil || !iface.IsAID(models.SeparationPlant) {
		return badRequest("ValidationFailed", "id: twin %s is a %s, not a SeparationPlant: availability is computed for a plant's SX trains", id, p.Metadata.Model)
	}
	switch reliability.Distribution(req.Distribution) {
	case "", reliability.Weibull, reliability.Exponential, reliability.Lognormal, reliability.Auto:
	default:
		return badRequest("ValidationFailed", "distribution: %q is not one of weibull, exponential, lognormal, auto", req.Distribution)
	}
	res, err := a.plantAvailabilityOf(r.Context(), id, req)
	if err != nil {
		return err
	}
	out := PlantAvailabilityResult{AvailabilityResult: *res}
	if r.URL.Query().Get("write") == "true" && res.Computed {
		if err := a.writeAvailability(r.Context(), id, res); err != nil {
			return err
		}
		out.Written = true
	}
	return writeJSON(w, http.StatusOK, out)
}

// writeAvailability patches the plant twin's availability and its
// sources entry through the write pipeline.
func (a *API) writeAvailability(ctx context.Context, id twin.ID, res *plant.AvailabilityResult) error {
	p, err := a.opts.Store.GetTwin(ctx, id)
	if err != nil {
		return err
	}
	sources := map[string]any{}
	if m, ok := p.Properties["sources"].(map[string]any); ok {
		for k, v := range m {
			sources[k] = v
		}
	}
	sources["availability"] = res.Source
	patch := twin.Patch{
		{Op: "add", Path: "/availability", Value: *res.Availability},
		{Op: "add", Path: "/sources", Value: sources},
	}
	// On the version read: a sources entry written meanwhile is not lost
	// (412; the caller runs it again).
	_, err = a.pipe.PatchTwin(ctx, p.ID, patch, store.Condition{IfMatch: p.ETag}, "")
	return err
}
