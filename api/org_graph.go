package api

import (
	"net/http"
	"time"

	"lodestone/org"
	"lodestone/world"
)

// orgScenario is the scenario of POST /org/run: the body as an org
// SCENARIO, or with ?graph=true the network and the organisation
// (OrgActor and DecisionRule twins) of the twin graph as of ?asOf (now
// when absent), as the caller sees it, and the body as the document of
// shocks, controls, policies and dates (world.OrgGraphScenario, the same
// as `lodestone org run --graph`; docs/formats/org.md).
func (a *API) orgScenario(r *http.Request, body []byte) (*org.Scenario, error) {
	graph, err := boolParam(r, "graph", false)
	if err != nil {
		return nil, err
	}
	asOf := r.URL.Query().Get("asOf")
	if !graph {
		if asOf != "" {
			return nil, &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: "asOf: only with graph=true", Details: []ErrorDetail{{Message: "only with graph", Path: "asOf"}}}
		}
		sc, err := org.DecodeScenario(body)
		if err != nil {
			return nil, orgError(err)
		}
		return sc, nil
	}
	at, err := parseAsOf("asOf", asOf)
	if err != nil {
		return nil, err
	}
	snap, err := a.visibleSnapshot(r.Context(), a.readerOf(r.Context()), at)
	if err != nil {
		return nil, err
	}
	g, err := world.NetworkFromTwins(snap.Twins, snap.Relationships, &world.GraphOptions{Description: "twin graph as of " + snap.At.UTC().Format(time.RFC3339)})
	if err != nil {
		return nil, orgError(err)
	}
	sc, err := world.OrgGraphScenario(body, g.Network, snap.Twins, snap.Relationships)
	if err != nil {
		return nil, orgError(err)
	}
	return sc, nil
}
