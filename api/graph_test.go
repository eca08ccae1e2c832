package api_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestModelProperties(t *testing.T) {
	e := start(t, options{})
	var got struct {
		Value []struct {
			Name      string `json:"name"`
			Kind      string `json:"kind"`
			Schema    any    `json:"schema"`
			Target    string `json:"target"`
			DefinedIn string `json:"definedIn"`
		} `json:"value"`
	}
	json.Unmarshal(e.mustDo("GET", "/api/v1/models/dtmi:test:Plant;1/properties", nil, 200).body, &got)
	kinds := map[string]string{}
	defined := map[string]string{}
	for _, p := range got.Value {
		kinds[p.Name] = p.Kind
		defined[p.Name] = p.DefinedIn
	}
	wantKinds := map[string]string{"name": "Property", "capacity": "Property", "status": "Property", "temperature": "Telemetry",
		"gauge": "Component", "feeds": "Relationship", "ownedBy": "Relationship", "throughput": "Property"}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("contents of Plant (-want +got):\n%s", diff)
	}
	if defined["throughput"] != "dtmi:test:Plant;1" || defined["name"] != "dtmi:test:Asset;1" {
		t.Errorf("definedIn = %v", defined)
	}
	e.mustDo("GET", "/api/v1/models/dtmi:test:Nope;1/properties", nil, 404)
}

func TestNeighbourhood(t *testing.T) {
	e := start(t, options{})
	// a1 -feeds-> p1 -feeds-> p2 -ownedBy-> o1
	e.putTwin("a1", "dtmi:test:Asset;1", nil)
	e.putTwin("p1", "dtmi:test:Plant;1", nil)
	e.putTwin("p2", "dtmi:test:Plant;1", nil)
	e.putTwin("o1", "dtmi:test:Owner;1", nil)
	e.putRel("a1", "r1", "feeds", "p1", nil)
	e.putRel("p1", "r2", "feeds", "p2", nil)
	e.putRel("p2", "r3", "ownedBy", "o1", nil)
	type nb struct {
		Nodes []struct {
			ID string `json:"id"`
		} `json:"nodes"`
		Edges []struct {
			ID string `json:"id"`
		} `json:"edges"`
		NextCursor string `json:"nextCursor"`
	}
	tests := []struct {
		query      string
		nodes      []string
		edges      []string
		nextCursor string
	}{
		{"?id=p1", []string{"p1", "p2", "a1"}, []string{"r2", "r1"}, ""},
		{"?id=p1&depth=2", []string{"p1", "p2", "a1", "o1"}, []string{"r2", "r1", "r3"}, ""},
		{"?id=p1&depth=2&limit=2", []string{"p1", "p2", "a1"}, []string{"r2", "r1"}, "2"},
		{"?id=p1&depth=2&limit=2&cursor=2", []string{"p1", "p2", "o1"}, []string{"r3"}, ""},
		{"?id=o1", []string{"o1", "p2"}, []string{"r3"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			e.t = t
			var got nb
			json.Unmarshal(e.mustDo("GET", "/api/v1/graph/neighbourhood"+tt.query, nil, 200).body, &got)
			var nodes, edges []string
			for _, n := range got.Nodes {
				nodes = append(nodes, n.ID)
			}
			for _, ed := range got.Edges {
				edges = append(edges, ed.ID)
			}
			if diff := cmp.Diff(tt.nodes, nodes); diff != "" {
				t.Errorf("nodes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.edges, edges); diff != "" {
				t.Errorf("edges (-want +got):\n%s", diff)
			}
			if got.NextCursor != tt.nextCursor {
				t.Errorf("nextCursor = %q, want %q", got.NextCursor, tt.nextCursor)
			}
		})
	}
	e.t = t
	for _, q := range []string{"", "?id=p1&depth=4", "?id=p1&limit=0", "?id=p1&cursor=x"} {
		e.mustDo("GET", "/api/v1/graph/neighbourhood"+q, nil, 400)
	}
	if code := e.mustDo("GET", "/api/v1/graph/neighbourhood?id=nope", nil, 404).errCode(t); code != "DigitalTwinNotFound" {
		t.Errorf("code = %s", code)
	}
}
