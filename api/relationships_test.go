package api_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRelationships(t *testing.T) {
	e := start(t, options{})
	e.putTwin("a1", "dtmi:test:Asset;1", nil)
	e.putTwin("p1", "dtmi:test:Plant;1", nil)
	e.putTwin("p2", "dtmi:test:Plant;1", nil)
	e.putTwin("p3", "dtmi:test:Plant;1", nil)
	e.putTwin("o1", "dtmi:test:Owner;1", nil)
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		hdr      []string
		want     int
		wantCode string
		wantRule string
	}{
		{name: "create", method: "PUT", path: "/digitaltwins/a1/relationships/r1", body: `{"$targetId":"p1","$relationshipName":"feeds","share":0.5}`, want: 200},
		{name: "second edge", method: "PUT", path: "/digitaltwins/a1/relationships/r2", body: `{"$targetId":"p2","$relationshipName":"feeds"}`, want: 200},
		{name: "maxMultiplicity", method: "PUT", path: "/digitaltwins/a1/relationships/r3", body: `{"$targetId":"p3","$relationshipName":"feeds"}`, want: 400, wantCode: "ValidationFailed", wantRule: "relationship-multiplicity"},
		{name: "replacing an edge does not count twice", method: "PUT", path: "/digitaltwins/a1/relationships/r2", body: `{"$targetId":"p3","$relationshipName":"feeds","share":0.25}`, want: 200},
		{name: "target of the wrong model", method: "PUT", path: "/digitaltwins/p1/relationships/x", body: `{"$targetId":"o1","$relationshipName":"feeds"}`, want: 400, wantCode: "ValidationFailed", wantRule: "relationship-target"},
		{name: "target that extends the declared one", method: "PUT", path: "/digitaltwins/p1/relationships/own", body: `{"$targetId":"o1","$relationshipName":"ownedBy"}`, want: 200},
		{name: "undeclared relationship", method: "PUT", path: "/digitaltwins/a1/relationships/x", body: `{"$targetId":"p1","$relationshipName":"likes"}`, want: 400, wantCode: "ValidationFailed", wantRule: "relationship-unknown"},
		{name: "bad edge property", method: "PUT", path: "/digitaltwins/a1/relationships/r1", body: `{"$targetId":"p1","$relationshipName":"feeds","share":"half"}`, want: 400, wantCode: "ValidationFailed"},
		{name: "undeclared edge property", method: "PUT", path: "/digitaltwins/a1/relationships/r1", body: `{"$targetId":"p1","$relationshipName":"feeds","colour":1}`, want: 400, wantCode: "ValidationFailed", wantRule: "property-unknown"},
		{name: "missing target twin", method: "PUT", path: "/digitaltwins/a1/relationships/x", body: `{"$targetId":"nope","$relationshipName":"ownedBy"}`, want: 400, wantCode: "ValidationFailed"},
		{name: "missing source twin", method: "PUT", path: "/digitaltwins/nope/relationships/x", body: `{"$targetId":"p1","$relationshipName":"feeds"}`, want: 404, wantCode: "DigitalTwinNotFound"},
		{name: "no target", method: "PUT", path: "/digitaltwins/a1/relationships/x", body: `{"$relationshipName":"feeds"}`, want: 400},
		{name: "no name", method: "PUT", path: "/digitaltwins/a1/relationships/x", body: `{"$targetId":"p1"}`, want: 400},
		{name: "renaming an edge", method: "PUT", path: "/digitaltwins/a1/relationships/r1", body: `{"$targetId":"o1","$relationshipName":"ownedBy"}`, want: 400},
		{name: "create-only on an existing edge", method: "PUT", path: "/digitaltwins/a1/relationships/r1", hdr: []string{"If-None-Match", "*"}, body: `{"$targetId":"p1","$relationshipName":"feeds"}`, want: 412, wantCode: "PreconditionFailed"},
		{name: "put with a stale If-Match", method: "PUT", path: "/digitaltwins/a1/relationships/r1", hdr: []string{"If-Match", `W/"x"`}, body: `{"$targetId":"p1","$relationshipName":"feeds"}`, want: 412, wantCode: "PreconditionFailed"},
		{name: "patch an edge property", method: "PATCH", path: "/digitaltwins/a1/relationships/r1", body: `[{"op":"replace","path":"/share","value":0.75}]`, want: 204},
		{name: "patch with a bad value", method: "PATCH", path: "/digitaltwins/a1/relationships/r1", body: `[{"op":"replace","path":"/share","value":true}]`, want: 400, wantCode: "ValidationFailed"},
		{name: "patch of a system property", method: "PATCH", path: "/digitaltwins/a1/relationships/r1", body: `[{"op":"replace","path":"/$targetId","value":"p2"}]`, want: 400},
		{name: "patch with a stale If-Match", method: "PATCH", path: "/digitaltwins/a1/relationships/r1", hdr: []string{"If-Match", `W/"x"`}, body: `[{"op":"replace","path":"/share","value":0.1}]`, want: 412},
		{name: "patch of a missing edge", method: "PATCH", path: "/digitaltwins/a1/relationships/nope", body: `[{"op":"replace","path":"/share","value":0.1}]`, want: 404, wantCode: "RelationshipNotFound"},
		{name: "get a missing edge", method: "GET", path: "/digitaltwins/a1/relationships/nope", want: 404, wantCode: "RelationshipNotFound"},
		{name: "delete a twin with relationships", method: "DELETE", path: "/digitaltwins/p1", want: 400, wantCode: "RelationshipsNotDeleted"},
		{name: "list of a missing twin", method: "GET", path: "/digitaltwins/nope/relationships", want: 404},
		{name: "incoming of a missing twin", method: "GET", path: "/digitaltwins/nope/incomingrelationships", want: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			var body any
			if tt.body != "" {
				body = tt.body
			}
			r := e.do(tt.method, tt.path, body, tt.hdr...)
			if r.status != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.status, r.body, tt.want)
			}
			if r.status < 400 {
				return
			}
			code, details := checkErrorShape(t, r)
			if tt.wantCode != "" && code != tt.wantCode {
				t.Errorf("code = %s, want %s (%s)", code, tt.wantCode, r.body)
			}
			if tt.wantRule != "" {
				found := false
				for _, d := range details {
					if dm, _ := d.(map[string]any); dm["rule"] == tt.wantRule {
						found = true
					}
				}
				if !found {
					t.Errorf("details %v name no rule %s", details, tt.wantRule)
				}
			}
		})
	}
	e.t = t

	r1 := e.mustDo("GET", "/digitaltwins/a1/relationships/r1", nil, 200)
	var rel map[string]any
	json.Unmarshal(r1.body, &rel)
	want := map[string]any{"$relationshipId": "r1", "$sourceId": "a1", "$targetId": "p1", "$relationshipName": "feeds", "share": 0.75, "$etag": r1.header.Get("ETag")}
	if diff := cmp.Diff(want, rel); diff != "" {
		t.Errorf("GET r1 (-want +got):\n%s", diff)
	}

	var out struct {
		Value []map[string]any `json:"value"`
	}
	json.Unmarshal(e.mustDo("GET", "/digitaltwins/a1/relationships", nil, 200).body, &out)
	var ids []string
	for _, v := range out.Value {
		ids = append(ids, v["$relationshipId"].(string))
	}
	if diff := cmp.Diff([]string{"r1", "r2"}, ids); diff != "" {
		t.Errorf("outgoing (-want +got):\n%s", diff)
	}
	json.Unmarshal(e.mustDo("GET", "/digitaltwins/p1/relationships?relationshipName=ownedBy", nil, 200).body, &out)
	if len(out.Value) != 1 || out.Value[0]["$relationshipId"] != "own" {
		t.Errorf("outgoing ownedBy of p1 = %v", out.Value)
	}
	var in struct {
		Value []map[string]any `json:"value"`
	}
	json.Unmarshal(e.mustDo("GET", "/digitaltwins/p3/incomingrelationships", nil, 200).body, &in)
	wantIn := []map[string]any{{"$relationshipId": "r2", "$sourceId": "a1", "$relationshipName": "feeds", "$relationshipLink": "/digitaltwins/a1/relationships/r2"}}
	if diff := cmp.Diff(wantIn, in.Value); diff != "" {
		t.Errorf("incoming of p3 (-want +got):\n%s", diff)
	}
	// A conditional delete, then the twin can go.
	e.mustDo("DELETE", "/digitaltwins/a1/relationships/r1", nil, 412, "If-Match", `W/"x"`)
	e.mustDo("DELETE", "/digitaltwins/a1/relationships/r1", nil, 204, "If-Match", r1.header.Get("ETag"))
	e.mustDo("DELETE", "/digitaltwins/a1/relationships/r1", nil, 404)
	e.mustDo("DELETE", "/digitaltwins/p1/relationships/own", nil, 204)
	e.mustDo("DELETE", "/digitaltwins/p1", nil, 204)
}

// TestMultiplicityUnderConcurrency creates more edges than maxMultiplicity
// allows, all at once: exactly the maximum may succeed.
func TestMultiplicityUnderConcurrency(t *testing.T) {
	e := start(t, options{})
	e.putTwin("a1", "dtmi:test:Asset;1", nil)
	const n = 8
	for i := range n {
		e.putTwin(fmt.Sprintf("p%d", i), "dtmi:test:Plant;1", nil)
	}
	var wg sync.WaitGroup
	status := make(chan int, n)
	for i := range n {
		wg.Go(func() {
			r := e.do("PUT", fmt.Sprintf("/digitaltwins/a1/relationships/r%d", i), fmt.Sprintf(`{"$targetId":"p%d","$relationshipName":"feeds"}`, i))
			status <- r.status
		})
	}
	wg.Wait()
	close(status)
	ok := 0
	for s := range status {
		switch s {
		case 200:
			ok++
		case 400:
		default:
			t.Errorf("PUT = %d", s)
		}
	}
	if ok != 2 {
		t.Errorf("%d concurrent edges created, want maxMultiplicity 2", ok)
	}
}
