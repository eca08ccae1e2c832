package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTwinWrites(t *testing.T) {
	e := start(t, options{})
	first := e.putTwin("a1", "dtmi:test:Asset;1", map[string]any{"name": "one", "capacity": 10.0})
	etag := first.header.Get("ETag")
	if etag == "" || first.json(t)["$etag"] != etag {
		t.Fatalf("PUT: ETag header %q, body %s", etag, first.body)
	}
	tests := []struct {
		name     string
		method   string
		path     string
		body     any
		hdr      []string
		want     int
		wantCode string
		// wantRule and wantPath name the failed rule and the property of a
		// ValidationFailed answer.
		wantRule, wantPath string
		// changes reports whether the request changes a1.
		changes bool
	}{
		{name: "create-only on an existing twin", method: "PUT", path: "/digitaltwins/a1", hdr: []string{"If-None-Match", "*"},
			body: `{"$metadata":{"$model":"dtmi:test:Asset;1"},"gauge":{"$metadata":{}}}`, want: 412, wantCode: "PreconditionFailed"},
		{name: "put with a stale If-Match", method: "PUT", path: "/digitaltwins/a1", hdr: []string{"If-Match", `W/"stale"`},
			body: `{"$metadata":{"$model":"dtmi:test:Asset;1"},"gauge":{"$metadata":{}}}`, want: 412, wantCode: "PreconditionFailed"},
		{name: "patch with a stale If-Match", method: "PATCH", path: "/digitaltwins/a1", hdr: []string{"If-Match", `W/"stale"`},
			body: `[{"op":"replace","path":"/name","value":"x"}]`, want: 412, wantCode: "PreconditionFailed"},
		{name: "delete with a stale If-Match", method: "DELETE", path: "/digitaltwins/a1", hdr: []string{"If-Match", `W/"stale"`}, want: 412, wantCode: "PreconditionFailed"},
		{name: "If-None-Match other than *", method: "PUT", path: "/digitaltwins/a1", hdr: []string{"If-None-Match", `W/"x"`},
			body: `{"$metadata":{"$model":"dtmi:test:Asset;1"},"gauge":{"$metadata":{}}}`, want: 400},
		{name: "patch with a wrong type", method: "PATCH", path: "/digitaltwins/a1",
			body: `[{"op":"replace","path":"/name","value":"ok"},{"op":"replace","path":"/capacity","value":"lots"}]`, want: 400, wantCode: "ValidationFailed", wantPath: "/capacity", wantRule: "schema-type"},
		{name: "patch of an undeclared property", method: "PATCH", path: "/digitaltwins/a1",
			body: `[{"op":"add","path":"/colour","value":"red"}]`, want: 400, wantCode: "ValidationFailed", wantPath: "/colour", wantRule: "property-unknown"},
		{name: "patch with a value outside the enum", method: "PATCH", path: "/digitaltwins/a1",
			body: `[{"op":"add","path":"/status","value":"broken"}]`, want: 400, wantCode: "ValidationFailed", wantPath: "/status"},
		{name: "patch removing a required component", method: "PATCH", path: "/digitaltwins/a1",
			body: `[{"op":"remove","path":"/gauge"}]`, want: 400, wantCode: "ValidationFailed", wantPath: "/gauge", wantRule: "component-required"},
		{name: "patch to an unknown model", method: "PATCH", path: "/digitaltwins/a1",
			body: `[{"op":"replace","path":"/$metadata/$model","value":"dtmi:test:Nope;1"}]`, want: 400, wantCode: "ModelNotFound"},
		{name: "patch to a model the twin does not fit", method: "PATCH", path: "/digitaltwins/a1",
			body: `[{"op":"replace","path":"/$metadata/$model","value":"dtmi:test:Owner;1"}]`, want: 400, wantCode: "ValidationFailed"},
		{name: "patch of $dtId", method: "PATCH", path: "/digitaltwins/a1",
			body: `[{"op":"replace","path":"/$dtId","value":"b"}]`, want: 400, wantCode: "JsonPatchInvalid"},
		{name: "patch with an unsupported op", method: "PATCH", path: "/digitaltwins/a1",
			body: `[{"op":"move","from":"/name","path":"/x"}]`, want: 400, wantCode: "JsonPatchInvalid"},
		{name: "patch removing a missing property", method: "PATCH", path: "/digitaltwins/a1",
			body: `[{"op":"remove","path":"/status"}]`, want: 400, wantCode: "JsonPatchInvalid"},
		{name: "patch that is not an array", method: "PATCH", path: "/digitaltwins/a1",
			body: `{"op":"add"}`, want: 400},
		{name: "patch of a missing twin", method: "PATCH", path: "/digitaltwins/nope",
			body: `[{"op":"add","path":"/name","value":"x"}]`, want: 404, wantCode: "DigitalTwinNotFound"},
		{name: "get a missing twin", method: "GET", path: "/digitaltwins/nope", want: 404, wantCode: "DigitalTwinNotFound"},
		{name: "delete a missing twin", method: "DELETE", path: "/digitaltwins/nope", want: 404, wantCode: "DigitalTwinNotFound"},
		{name: "put without a model", method: "PUT", path: "/digitaltwins/a2", body: `{"name":"x"}`, want: 400, wantCode: "ValidationFailed"},
		{name: "put of an unknown model", method: "PUT", path: "/digitaltwins/a2", body: `{"$metadata":{"$model":"dtmi:test:Nope;1"}}`, want: 400, wantCode: "ModelNotFound"},
		{name: "put without the component", method: "PUT", path: "/digitaltwins/a2", body: `{"$metadata":{"$model":"dtmi:test:Asset;1"}}`, want: 400, wantCode: "ValidationFailed", wantPath: "/gauge"},
		{name: "put with a $dtId that differs from the path", method: "PUT", path: "/digitaltwins/a2", body: `{"$dtId":"zz","$metadata":{"$model":"dtmi:test:Owner;1"}}`, want: 400},
		{name: "put with an unknown system property", method: "PUT", path: "/digitaltwins/a2", body: `{"$dtid":"a2","$metadata":{"$model":"dtmi:test:Owner;1"}}`, want: 400},
		{name: "put with malformed JSON", method: "PUT", path: "/digitaltwins/a2", body: `{"$metadata":`, want: 400},
		{name: "put with a null property", method: "PUT", path: "/digitaltwins/a2", body: `{"$metadata":{"$model":"dtmi:test:Owner;1"},"name":null}`, want: 400, wantCode: "ValidationFailed", wantPath: "/name"},
		{name: "patch that passes", method: "PATCH", path: "/digitaltwins/a1", body: `[{"op":"add","path":"/status","value":"on"}]`, want: 204, changes: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			before := e.mustDo("GET", "/digitaltwins/a1", nil, 200)
			r := e.do(tt.method, tt.path, tt.body, tt.hdr...)
			if r.status != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.status, r.body, tt.want)
			}
			if r.status >= 400 {
				code, details := checkErrorShape(t, r)
				if tt.wantCode != "" && code != tt.wantCode {
					t.Errorf("code = %s, want %s (%s)", code, tt.wantCode, r.body)
				}
				if tt.wantPath != "" || tt.wantRule != "" {
					found := false
					for _, d := range details {
						dm, _ := d.(map[string]any)
						if (tt.wantPath == "" || dm["path"] == tt.wantPath) && (tt.wantRule == "" || dm["rule"] == tt.wantRule) && dm["message"] != "" {
							found = true
						}
					}
					if !found {
						t.Errorf("details %v name no path %q with rule %q", details, tt.wantPath, tt.wantRule)
					}
				}
			}
			after := e.mustDo("GET", "/digitaltwins/a1", nil, 200)
			if changed := string(before.body) != string(after.body); changed != tt.changes {
				t.Errorf("a1 changed = %v, want %v:\nbefore %s\nafter  %s", changed, tt.changes, before.body, after.body)
			}
			if !tt.changes && before.header.Get("ETag") != after.header.Get("ETag") {
				t.Errorf("ETag changed from %s to %s", before.header.Get("ETag"), after.header.Get("ETag"))
			}
		})
	}
}

func TestTwinLifecycle(t *testing.T) {
	e := start(t, options{})
	// Create-only succeeds once.
	r := e.mustDo("PUT", "/digitaltwins/p1", `{"$metadata":{"$model":"dtmi:test:Plant;1"},"name":"plant","gauge":{"$metadata":{},"reading":1}}`, 200, "If-None-Match", "*")
	etag := r.header.Get("ETag")
	got := e.mustDo("GET", "/digitaltwins/p1", nil, 200)
	if got.header.Get("ETag") != etag {
		t.Errorf("GET ETag %s, PUT gave %s", got.header.Get("ETag"), etag)
	}
	doc := got.json(t)
	if doc["$dtId"] != "p1" || doc["name"] != "plant" {
		t.Errorf("GET = %s", got.body)
	}
	md, _ := doc["$metadata"].(map[string]any)
	if md["$model"] != "dtmi:test:Plant;1" || md["$lastUpdateTime"] == nil {
		t.Errorf("$metadata = %v", md)
	}
	if nm, _ := md["name"].(map[string]any); nm["lastUpdateTime"] == nil {
		t.Errorf("$metadata.name = %v, want a lastUpdateTime", md["name"])
	}

	// A patch under the current ETag: add, replace, remove, then move the
	// twin to its base model (a Plant without throughput is an Asset).
	steps := []struct {
		patch string
		want  map[string]any // properties after the patch (besides gauge)
		model string
	}{
		{`[{"op":"add","path":"/capacity","value":5},{"op":"add","path":"/throughput","value":2.5}]`, map[string]any{"name": "plant", "capacity": 5.0, "throughput": 2.5}, "dtmi:test:Plant;1"},
		{`[{"op":"replace","path":"/capacity","value":7}]`, map[string]any{"name": "plant", "capacity": 7.0, "throughput": 2.5}, "dtmi:test:Plant;1"},
		{`[{"op":"remove","path":"/name"}]`, map[string]any{"capacity": 7.0, "throughput": 2.5}, "dtmi:test:Plant;1"},
		{`[{"op":"remove","path":"/throughput"},{"op":"replace","path":"/$metadata/$model","value":"dtmi:test:Asset;1"}]`, map[string]any{"capacity": 7.0}, "dtmi:test:Asset;1"},
		{`[{"op":"replace","path":"/gauge/reading","value":3}]`, map[string]any{"capacity": 7.0}, "dtmi:test:Asset;1"},
	}
	for i, s := range steps {
		r := e.mustDo("PATCH", "/digitaltwins/p1", s.patch, 204, "If-Match", etag)
		next := r.header.Get("ETag")
		if next == "" || next == etag {
			t.Fatalf("step %d: ETag %q after a patch, before %q", i, next, etag)
		}
		etag = next
		g := e.mustDo("GET", "/digitaltwins/p1", nil, 200)
		if g.header.Get("ETag") != etag {
			t.Errorf("step %d: GET ETag %s, PATCH gave %s", i, g.header.Get("ETag"), etag)
		}
		doc := g.json(t)
		props := map[string]any{}
		for k, v := range doc {
			if !strings.HasPrefix(k, "$") && k != "gauge" {
				props[k] = v
			}
		}
		if diff := cmp.Diff(s.want, props); diff != "" {
			t.Errorf("step %d: properties (-want +got):\n%s", i, diff)
		}
		if m := doc["$metadata"].(map[string]any)["$model"]; m != s.model {
			t.Errorf("step %d: model %v, want %s", i, m, s.model)
		}
	}
	comp := e.mustDo("GET", "/digitaltwins/p1/components/gauge", nil, 200).json(t)
	if comp["reading"] != 3.0 {
		t.Errorf("component after patch = %v", comp)
	}
	// The old ETag no longer matches; If-Match: * does.
	e.mustDo("PATCH", "/digitaltwins/p1", `[{"op":"replace","path":"/capacity","value":8}]`, 204, "If-Match", "*")
	e.mustDo("DELETE", "/digitaltwins/p1", nil, 204, "If-Match", "*")
	e.mustDo("GET", "/digitaltwins/p1", nil, 404)
	// PUT replaces, and a replace with the current ETag works.
	r = e.putTwin("p2", "dtmi:test:Owner;1", map[string]any{"name": "x"})
	r = e.mustDo("PUT", "/digitaltwins/p2", `{"$metadata":{"$model":"dtmi:test:Owner;1"}}`, 200, "If-Match", r.header.Get("ETag"))
	if _, has := r.json(t)["name"]; has {
		t.Errorf("PUT did not replace: %s", r.body)
	}
}

func TestComponents(t *testing.T) {
	e := start(t, options{})
	e.putTwin("a1", "dtmi:test:Asset;1", nil)
	e.putTwin("o1", "dtmi:test:Owner;1", nil)
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		want     int
		wantCode string
	}{
		{"get", "GET", "/digitaltwins/a1/components/gauge", "", 200, ""},
		{"get unknown component", "GET", "/digitaltwins/a1/components/nope", "", 404, "ComponentNotFound"},
		{"get of a twin without components", "GET", "/digitaltwins/o1/components/gauge", "", 404, "ComponentNotFound"},
		{"get of a missing twin", "GET", "/digitaltwins/nope/components/gauge", "", 404, "DigitalTwinNotFound"},
		{"patch", "PATCH", "/digitaltwins/a1/components/gauge", `[{"op":"add","path":"/reading","value":4.5}]`, 204, ""},
		{"patch with a bad value", "PATCH", "/digitaltwins/a1/components/gauge", `[{"op":"add","path":"/reading","value":"high"}]`, 400, "ValidationFailed"},
		{"patch of an undeclared property", "PATCH", "/digitaltwins/a1/components/gauge", `[{"op":"add","path":"/other","value":1}]`, 400, "ValidationFailed"},
		{"patch of an unknown component", "PATCH", "/digitaltwins/a1/components/nope", `[{"op":"add","path":"/reading","value":1}]`, 404, "ComponentNotFound"},
		{"patch of a missing twin", "PATCH", "/digitaltwins/nope/components/gauge", `[{"op":"add","path":"/reading","value":1}]`, 404, "DigitalTwinNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			var body any
			if tt.body != "" {
				body = tt.body
			}
			r := e.do(tt.method, tt.path, body)
			if r.status != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.status, r.body, tt.want)
			}
			if r.status >= 400 {
				if code := r.errCode(t); tt.wantCode != "" && code != tt.wantCode {
					t.Errorf("code = %s, want %s", code, tt.wantCode)
				}
			}
		})
	}
	e.t = t
	c := e.mustDo("GET", "/digitaltwins/a1/components/gauge", nil, 200).json(t)
	if c["reading"] != 4.5 {
		t.Errorf("component = %v, want reading 4.5", c)
	}
	md, _ := c["$metadata"].(map[string]any)
	if rd, _ := md["reading"].(map[string]any); rd["lastUpdateTime"] == nil {
		t.Errorf("component $metadata = %v, want reading.lastUpdateTime", md)
	}
}

// TestReadYourWrites checks that a GET right after an acknowledged PATCH
// sees it, with writers on several twins at once (run it with -race).
func TestReadYourWrites(t *testing.T) {
	e := start(t, options{})
	const twins, rounds = 4, 25
	for i := range twins {
		e.putTwin(fmt.Sprintf("ryw%d", i), "dtmi:test:Asset;1", map[string]any{"capacity": 0.0})
	}
	var wg sync.WaitGroup
	errs := make(chan error, twins*2)
	for i := range twins {
		for w := range 2 { // two writers per twin: each reads back its own write
			wg.Go(func() {
				id := fmt.Sprintf("ryw%d", i)
				prop := []string{"capacity", "name"}[w]
				for n := range rounds {
					var v any = float64(n)
					if prop == "name" {
						v = fmt.Sprint(n)
					}
					p, _ := json.Marshal([]map[string]any{{"op": "add", "path": "/" + prop, "value": v}})
					r := e.do("PATCH", "/digitaltwins/"+id, p)
					if r.status != 204 {
						errs <- fmt.Errorf("PATCH %s = %d %s", id, r.status, r.body)
						return
					}
					g := e.do("GET", "/digitaltwins/"+id, nil)
					var doc map[string]any
					json.Unmarshal(g.body, &doc)
					if doc[prop] != v {
						errs <- fmt.Errorf("GET %s after PATCH %s=%v sees %v", id, prop, v, doc[prop])
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestTwinIDs checks ids that need escaping in a URL path.
func TestTwinIDs(t *testing.T) {
	e := start(t, options{})
	e.putTwin("target", "dtmi:test:Owner;1", nil)
	for _, id := range []string{"a b", "a/b", "ünï-çødé", "a;1", "a%2Fb", "a?b#c", "-._~"} {
		t.Run(id, func(t *testing.T) {
			e.t = t
			p := "/digitaltwins/" + url.PathEscape(id)
			r := e.mustDo("PUT", p, `{"$metadata":{"$model":"dtmi:test:Owner;1"}}`, 200)
			if got := r.json(t)["$dtId"]; got != id {
				t.Fatalf("PUT %s: $dtId = %v, want %q", p, got, id)
			}
			e.mustDo("PATCH", p, `[{"op":"add","path":"/name","value":"x"}]`, 204)
			if got := e.mustDo("GET", p, nil, 200).json(t)["$dtId"]; got != id {
				t.Errorf("GET %s: $dtId = %v", p, got)
			}
			e.mustDo("GET", p+"/history", nil, 200)
			e.mustDo("GET", "/digitaltwins/"+url.PathEscape(id+"-other"), nil, 404)
			e.mustDo("DELETE", p, nil, 204)
		})
	}
	// Ids that would not read back as written are refused.
	for _, id := range []string{"\xff\xfe", "a\x00b", "tab\there"} {
		e.t = t
		p := "/digitaltwins/" + url.PathEscape(id)
		e.mustDo("PUT", p, `{"$metadata":{"$model":"dtmi:test:Owner;1"}}`, 400)
		e.mustDo("PUT", "/digitaltwins/target/relationships/"+url.PathEscape(id), `{"$targetId":"target","$relationshipName":"x"}`, 400)
	}
}

// TestDeleteDuringWrites deletes twins that other requests keep patching:
// a DELETE without If-Match never fails with 412 because of them.
func TestDeleteDuringWrites(t *testing.T) {
	e := start(t, options{})
	for i := range 10 {
		id := fmt.Sprintf("d%d", i)
		e.putTwin(id, "dtmi:test:Owner;1", map[string]any{"name": "x"})
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					e.do("PATCH", "/digitaltwins/"+id, fmt.Sprintf(`[{"op":"add","path":"/name","value":"%d"}]`, n))
				}
			})
		}
		r := e.do("DELETE", "/digitaltwins/"+id, nil)
		close(stop)
		wg.Wait()
		if r.status != 204 {
			t.Errorf("DELETE %s during patches = %d %s, want 204", id, r.status, r.body)
		}
	}
}
