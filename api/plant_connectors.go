package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"lodestone/connector"
)

// plantConnectorRoutes serve the live-telemetry connectors (package
// connector, docs/formats/plant-connectors.md). The connectors run in the
// server (lodestone serve --connectors FILE) and keep their status and
// dead letters as store documents, so any server of a shared database
// answers these routes.
func (a *API) plantConnectorRoutes() []Route {
	return []Route{
		{Pattern: "GET /plant/connectors", Handler: a.listConnectors, Response: "ConnectorStatusList",
			Summary: "Status of the telemetry connectors (MQTT, OPC UA): {value: [{id, kind, source, state, connected, received, stored, deadLettered, queued, queueCapacity, batches, reconnects, lastError, latencyMs: {n, p50, p95, p99, max}, updated}]}; latency is from a value's source time to its being stored"},
		{Pattern: "GET /plant/connectors/{id}/dead-letters", Handler: a.listDeadLetters, Response: "DeadLetterList",
			Summary: "Values connector {id} could not store (undecodable payload, unit or type mismatch, unknown twin or telemetry, refused by the model), newest last: {value: [{connector, seq, at, source, payload, twin, target, reason}]}"},
		{Pattern: "POST /plant/connectors/check", Handler: a.checkConnectors, Body: "ConnectorConfig", Response: "ConnectorCheck",
			Summary: "Check a connectors file against the uploaded models and twins without starting it; 400 with an error naming the field (connectors[0].mappings[2].property) when a mapping targets a missing twin, telemetry or property, or one of the wrong type"},
	}
}

func init() {
	for name, t := range map[string]reflect.Type{
		"ConnectorStatusList": reflect.TypeFor[struct {
			Value []connector.Status `json:"value"`
		}](),
		"DeadLetterList": reflect.TypeFor[struct {
			Value []connector.DeadLetter `json:"value"`
		}](),
		"ConnectorConfig": reflect.TypeFor[connector.Config](),
		"ConnectorCheck":  reflect.TypeFor[ConnectorCheck](),
	} {
		schemaTypes[name] = t
	}
}

// ConnectorCheck is the answer of POST /plant/connectors/check.
type ConnectorCheck struct {
	OK         bool `json:"ok"`
	Connectors int  `json:"connectors"`
	Mappings   int  `json:"mappings"`
}

func (a *API) listConnectors(w http.ResponseWriter, r *http.Request) error {
	docs, err := a.opts.Store.ListDocs(r.Context(), connector.KindStatus)
	if err != nil {
		return err
	}
	out := struct {
		Value []connector.Status `json:"value"`
	}{Value: []connector.Status{}}
	for _, d := range docs {
		var s connector.Status
		if json.Unmarshal(d.Body, &s) == nil {
			out.Value = append(out.Value, s)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) listDeadLetters(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	docs, err := a.opts.Store.ListDocs(r.Context(), connector.KindDeadLetter)
	if err != nil {
		return err
	}
	out := struct {
		Value []connector.DeadLetter `json:"value"`
	}{Value: []connector.DeadLetter{}}
	for _, d := range docs {
		if !strings.HasPrefix(d.ID, id+"/") {
			continue
		}
		var dl connector.DeadLetter
		if json.Unmarshal(d.Body, &dl) == nil {
			out.Value = append(out.Value, dl)
		}
	}
	if len(out.Value) == 0 {
		if _, err := a.opts.Store.GetDoc(r.Context(), connector.KindStatus, id); err != nil {
			return notFound("ConnectorNotFound", "there is no connector %s", id)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) checkConnectors(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	cfg, err := connector.DecodeConfig(body)
	if err != nil {
		return badRequest("InvalidArgument", "%v", err)
	}
	out := ConnectorCheck{OK: true, Connectors: len(cfg.Connectors)}
	for i, s := range cfg.Connectors {
		if err := connector.CheckTargets(r.Context(), fmt.Sprintf("connectors[%d]", i), s, a.pipe); err != nil {
			return badRequest("InvalidArgument", "%v", err)
		}
		out.Mappings += len(s.Mappings)
	}
	return writeJSON(w, http.StatusOK, out)
}
