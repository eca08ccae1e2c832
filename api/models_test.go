package api_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func modelIDs(t *testing.T, r res) []string {
	t.Helper()
	var l struct {
		Value []struct {
			ID    string          `json:"id"`
			Model json.RawMessage `json:"model"`
		} `json:"value"`
	}
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("model list: %v: %s", err, r.body)
	}
	var ids []string
	for _, m := range l.Value {
		ids = append(ids, m.ID)
	}
	return ids
}

func TestModels(t *testing.T) {
	e := start(t, options{})
	const extra = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Extra;1","@type":"Interface","contents":[{"@type":"Property","name":"x","schema":"double"}]}`
	const bad = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Bad;1","@type":"Interface","contents":[{"@type":"Property","name":"x","schema":"nosuchschema"}]}`
	const danglingBase = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Orphan;1","@type":"Interface","extends":"dtmi:test:Missing;1"}`
	tests := []struct {
		name     string
		method   string
		path     string
		body     any
		want     int
		wantCode string
		wantIDs  []string // model ids listed after the request
		// wantTarget is the model a ValidationFailed detail names.
		wantTarget string
	}{
		{name: "batch with one bad model stores nothing", method: "POST", path: "/models", body: "[" + extra + "," + bad + "]", want: 400, wantCode: "ValidationFailed", wantTarget: "dtmi:test:Bad;1"},
		{name: "batch with a missing base stores nothing", method: "POST", path: "/models", body: "[" + extra + "," + danglingBase + "]", want: 400},
		{name: "duplicate of a stored model", method: "POST", path: "/models", body: "[" + testModels[0] + "]", want: 409, wantCode: "ModelIdAlreadyExists"},
		{name: "duplicate inside the batch", method: "POST", path: "/models", body: "[" + extra + "," + extra + "]", want: 400},
		{name: "empty batch", method: "POST", path: "/models", body: "[]", want: 400},
		{name: "not an array", method: "POST", path: "/models", body: extra, want: 400},
		{name: "no @id", method: "POST", path: "/models", body: `[{"@type":"Interface"}]`, want: 400},
		{name: "get unknown", method: "GET", path: "/models/dtmi:test:Nope;1", want: 404, wantCode: "ModelNotFound"},
		{name: "dependencies of unknown", method: "GET", path: "/models?dependenciesFor=dtmi:test:Nope;1", want: 404, wantCode: "ModelNotFound"},
		{name: "delete a model others extend", method: "DELETE", path: "/models/dtmi:test:Asset;1", want: 409, wantCode: "ModelReferencesNotDeleted"},
		{name: "delete a model a component uses", method: "DELETE", path: "/models/dtmi:test:Gauge;1", want: 409, wantCode: "ModelReferencesNotDeleted"},
		{name: "delete unknown", method: "DELETE", path: "/models/dtmi:test:Nope;1", want: 404},
		{name: "decommission with a wrong patch", method: "PATCH", path: "/models/dtmi:test:Owner;1", body: `[{"op":"replace","path":"/decommissioned","value":false}]`, want: 400},
		{name: "decommission unknown", method: "PATCH", path: "/models/dtmi:test:Nope;1", body: `[{"op":"replace","path":"/decommissioned","value":true}]`, want: 404},
		{name: "upload a new model", method: "POST", path: "/models", body: "[" + extra + "]", want: 201,
			wantIDs: []string{"dtmi:test:Asset;1", "dtmi:test:Extra;1", "dtmi:test:Gauge;1", "dtmi:test:Owner;1", "dtmi:test:Plant;1"}},
		{name: "delete an unreferenced model", method: "DELETE", path: "/models/dtmi:test:Extra;1", want: 204,
			wantIDs: []string{"dtmi:test:Asset;1", "dtmi:test:Gauge;1", "dtmi:test:Owner;1", "dtmi:test:Plant;1"}},
	}
	all := []string{"dtmi:test:Asset;1", "dtmi:test:Gauge;1", "dtmi:test:Owner;1", "dtmi:test:Plant;1"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.do(tt.method, tt.path, tt.body)
			if r.status != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.status, r.body, tt.want)
			}
			if r.status >= 400 {
				if code := r.errCode(t); tt.wantCode != "" && code != tt.wantCode {
					t.Errorf("code = %s, want %s", code, tt.wantCode)
				}
			}
			if tt.wantTarget != "" && !strings.Contains(string(r.body), `"target":"`+tt.wantTarget+`"`) {
				t.Errorf("error %s does not name the model %s as a detail's target", r.body, tt.wantTarget)
			}
			want := tt.wantIDs
			if want == nil {
				want = all
			}
			if diff := cmp.Diff(want, modelIDs(t, e.mustDo("GET", "/models", nil, 200))); diff != "" {
				t.Errorf("models after the request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestModelGetAndDependencies(t *testing.T) {
	e := start(t, options{})
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"dependencies of a base", "/models?dependenciesFor=dtmi:test:Owner;1", []string{"dtmi:test:Owner;1"}},
		// Plant extends Asset, which has the component Gauge.
		{"dependencies follow extends and components", "/models?dependenciesFor=dtmi:test:Plant;1", []string{"dtmi:test:Asset;1", "dtmi:test:Gauge;1", "dtmi:test:Plant;1"}},
		{"several ids", "/models?dependenciesFor=dtmi:test:Owner;1&dependenciesFor=dtmi:test:Gauge;1", []string{"dtmi:test:Gauge;1", "dtmi:test:Owner;1"}},
		{"api-version is ignored", "/models?api-version=2023-10-31", []string{"dtmi:test:Asset;1", "dtmi:test:Gauge;1", "dtmi:test:Owner;1", "dtmi:test:Plant;1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			if diff := cmp.Diff(tt.want, modelIDs(t, e.mustDo("GET", tt.path, nil, 200))); diff != "" {
				t.Errorf("GET %s (-want +got):\n%s", tt.path, diff)
			}
		})
	}
	e.t = t

	m := e.mustDo("GET", "/models/dtmi:test:Owner;1", nil, 200).json(t)
	if m["id"] != "dtmi:test:Owner;1" || m["model"] != nil || m["decommissioned"] != false {
		t.Errorf("GET /models/{id} = %v, want the id, not decommissioned, no definition", m)
	}
	if dn, _ := m["displayName"].(map[string]any); dn["en"] != "Owner" {
		t.Errorf("displayName = %v, want {en: Owner}", m["displayName"])
	}
	full := e.mustDo("GET", "/models/dtmi:test:Owner;1?includeModelDefinition=true", nil, 200).json(t)
	def, _ := full["model"].(map[string]any)
	if def["@id"] != "dtmi:test:Owner;1" {
		t.Errorf("includeModelDefinition: model = %v, want the DTDL", full["model"])
	}

	// Decommission: the model stays, new twins may not use it, existing
	// twins still update.
	e.putTwin("o1", "dtmi:test:Owner;1", map[string]any{"name": "a"})
	e.mustDo("PATCH", "/models/dtmi:test:Owner;1", `[{"op":"replace","path":"/decommissioned","value":true}]`, 204)
	if m := e.mustDo("GET", "/models/dtmi:test:Owner;1", nil, 200).json(t); m["decommissioned"] != true {
		t.Errorf("after decommission: %v", m)
	}
	r := e.mustDo("PUT", "/digitaltwins/o2", `{"$metadata":{"$model":"dtmi:test:Owner;1"}}`, 400)
	if code := r.errCode(t); code != "ModelDecommissioned" {
		t.Errorf("new twin of a decommissioned model: code %s", code)
	}
	e.mustDo("PATCH", "/digitaltwins/o1", `[{"op":"replace","path":"/name","value":"b"}]`, 204)
	// A referenced model is not deleted; once its twin is gone it is.
	e.mustDo("DELETE", "/models/dtmi:test:Owner;1", nil, 409)
	e.mustDo("DELETE", "/digitaltwins/o1", nil, 204)
	e.mustDo("DELETE", "/models/dtmi:test:Owner;1", nil, 204)
	if ids := modelIDs(t, e.mustDo("GET", "/models", nil, 200)); slices.Contains(ids, "dtmi:test:Owner;1") {
		t.Errorf("deleted model still listed: %v", ids)
	}
	e.mustDo("GET", "/models/dtmi:test:Owner;1", nil, 404)
}
