package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fillPath replaces the {params} of a route path with values that name
// existing entities of the fixture of TestHostileRequests.
func fillPath(path string) string {
	vals := map[string]string{
		"/models/{id}":                     "/models/dtmi:test:Owner;1",
		"/api/v1/models/{id}/properties":   "/api/v1/models/dtmi:test:Asset;1/properties",
		"{relId}":                          "r1",
		"/components/{name}":               "/components/gauge",
		"/endpoints/{name}":                "/endpoints/hook",
		"/eventroutes/{id}":                "/eventroutes/route",
		"/jobs/imports/{id}":               "/jobs/imports/job",
		"/digitaltwins/{id}":               "/digitaltwins/a1",
		"/api/v1/graph/neighbourhood":      "/api/v1/graph/neighbourhood",
		"/digitaltwins/{id}/relationships": "/digitaltwins/a1/relationships",
	}
	for k, v := range vals {
		path = strings.ReplaceAll(path, k, v)
	}
	return regexp.MustCompile(`\{[A-Za-z]+\}`).ReplaceAllString(path, "a1")
}

// raw sends a request and returns its answer; the body of an event stream
// is not read.
func (e *env) raw(method, path string, body []byte, hdr http.Header) (res, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, bytes.NewReader(body))
	if err != nil {
		return res{}, err
	}
	req.Header = hdr.Clone()
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		return res{}, err
	}
	defer r.Body.Close()
	out := res{status: r.StatusCode, header: r.Header}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/event-stream") {
		out.body, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20))
	}
	return out, nil
}

// TestHostileRequests sends a table of malformed, oversized and deeply
// nested requests to every route and checks that none gets a 5xx, that the
// bodies the routes read get the 4xx the issue names, and that every error
// has the one JSON shape.
func TestHostileRequests(t *testing.T) {
	const maxBody = 64 << 10
	e := start(t, options{maxBody: maxBody})
	e.putTwin("a1", "dtmi:test:Asset;1", nil)
	e.putTwin("p1", "dtmi:test:Plant;1", nil)
	e.putRel("a1", "r1", "feeds", "p1", nil)

	deep := []byte(strings.Repeat("[", 100000) + strings.Repeat("]", 100000))
	deepObj := []byte(strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000))
	big := []byte(`{"x":"` + strings.Repeat("a", maxBody) + `"}`)
	bigPatch := []byte(`[{"op":"add","path":"/name","value":"` + strings.Repeat("a", maxBody) + `"}]`)
	cases := []struct {
		name  string
		query string
		ct    string // Content-Type; "" sends none
		hdr   []string
		body  []byte
		// want413 and want415 apply to routes that read a JSON body.
		want413, want415 bool
		// patchOnly cases are sent only to routes that read a JSON Patch.
		patchOnly bool
	}{
		{name: "oversized body", ct: "application/json", body: big, want413: true},
		{name: "oversized patch", ct: "application/json-patch+json", body: bigPatch, want413: true, patchOnly: true},
		{name: "deep arrays", ct: "application/json", body: deep},
		{name: "deep objects", ct: "application/json", body: deepObj},
		{name: "wrong content type", ct: "text/plain", body: []byte(`{}`), want415: true},
		{name: "malformed content type", ct: "application/", body: []byte(`{}`), want415: true},
		{name: "malformed JSON", ct: "application/json", body: []byte(`{"a":`)},
		{name: "empty body", ct: "application/json"},
		{name: "null", ct: "application/json", body: []byte(`null`)},
		{name: "number", ct: "application/json", body: []byte(`1e999`)},
		{name: "array of nulls", ct: "application/json", body: []byte(`[null,null]`)},
		{name: "invalid UTF-8", ct: "application/json", body: []byte("{\"name\":\"\xff\xfe\"}")},
		{name: "NUL bytes", ct: "application/json", body: []byte("{\"\x00\":1}")},
		{name: "unknown model", ct: "application/json", body: []byte(`{"$metadata":{"$model":"dtmi:nope:X;1"},"@id":"dtmi:nope:X;1","query":"SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:nope:X;1')"}`)},
		{name: "patch of the whole document", ct: "application/json-patch+json", body: []byte(`[{"op":"replace","path":"","value":{}}]`)},
		{name: "patch of metadata", ct: "application/json-patch+json", body: []byte(`[{"op":"replace","path":"/$metadata","value":7}]`)},
		{name: "patch deep into a number", ct: "application/json-patch+json", body: []byte(`[{"op":"add","path":"/capacity/x/y","value":1}]`)},
		{name: "patch with an array index", ct: "application/json-patch+json", body: []byte(`[{"op":"add","path":"/gauge/99999999999999999999","value":1}]`)},
		{name: "bad times and numbers in the query", query: "?asOf=x&from=y&to=z&limit=-5&depth=99&cursor=-1&dryRun=maybe&dependenciesFor=%zz&id=a1"},
		{name: "far times", query: "?asOf=9999-12-31T23:59:59Z&from=0001-01-01T00:00:00Z&limit=99999999999999999999&id=a1"},
		{name: "bad preconditions", hdr: []string{"If-Match", "garbage", "If-None-Match", "W/\"x\""}, ct: "application/json", body: []byte(`{}`)},
		{name: "bad event resume", hdr: []string{"Last-Event-ID", "-1", "Message-Id", strings.Repeat("m", 4096), "Telemetry-Source-Time", "never"}, ct: "application/json", body: []byte(`{"temperature":1}`)},
		{name: "api-version", query: "?api-version=2023-10-31&filter=type%3Dnothing"},
	}
	for _, rt := range e.srv.API.Routes() {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		reads := method == "POST" || method == "PUT" || method == "PATCH"
		bulk := strings.HasPrefix(path, "/jobs/imports")
		for _, c := range cases {
			if c.patchOnly && rt.Body != "JsonPatch" {
				continue
			}
			t.Run(rt.Pattern+"/"+c.name, func(t *testing.T) {
				h := http.Header{}
				if c.ct != "" {
					h.Set("Content-Type", c.ct)
				}
				for i := 0; i+1 < len(c.hdr); i += 2 {
					h.Set(c.hdr[i], c.hdr[i+1])
				}
				r, err := e.raw(method, fillPath(path)+c.query, c.body, h)
				if err != nil {
					t.Fatalf("%s %s: %v", method, path, err)
				}
				if r.status >= 500 {
					t.Fatalf("%s %s = %d %s", method, path, r.status, r.body)
				}
				if r.status >= 400 {
					checkErrorShape(t, r)
				}
				switch {
				case !reads || bulk || rt.Body == "":
				case c.want413 && r.status != http.StatusRequestEntityTooLarge && !(method == "POST" && path == "/models"):
					t.Errorf("%s %s with a body over %d bytes = %d, want 413", method, path, maxBody, r.status)
				case c.want415 && r.status != http.StatusUnsupportedMediaType:
					t.Errorf("%s %s with Content-Type %s = %d, want 415", method, path, c.ct, r.status)
				}
			})
		}
	}
	t.Run("unknown routes", func(t *testing.T) {
		for _, rq := range []struct{ method, path string }{
			{"DELETE", "/nowhere"}, {"PUT", "/digitaltwins"}, {"POST", "/digitaltwins/a1"}, {"DELETE", "/query"},
		} {
			r, err := e.raw(rq.method, rq.path, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != 404 && r.status != 405 {
				t.Errorf("%s %s = %d, want 404 or 405", rq.method, rq.path, r.status)
			}
			checkErrorShape(t, r)
		}
	})
}

// TestDefaultBodyLimit checks the default limit of 1 MiB.
func TestDefaultBodyLimit(t *testing.T) {
	e := start(t, options{})
	e.putTwin("o1", "dtmi:test:Owner;1", nil)
	name := strings.Repeat("a", 1<<20)
	r := e.do("PUT", "/digitaltwins/o1", `{"$metadata":{"$model":"dtmi:test:Owner;1"},"name":"`+name+`"}`)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("PUT of 1 MiB + 50 bytes = %d %s, want 413", r.status, r.body)
	}
	if code := r.errCode(t); code != "RequestTooLarge" {
		t.Errorf("code = %s", code)
	}
	e.mustDo("PUT", "/digitaltwins/o1", `{"$metadata":{"$model":"dtmi:test:Owner;1"},"name":"`+name[:1<<19]+`"}`, 200)

	// Deep JSON under the limit reaches the decoders and is refused by
	// them with a 400 (encoding/json stops at 10,000 levels).
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	deepProp := `{"$metadata":{"$model":"dtmi:test:Owner;1"},"name":` + deep + `}`
	deepPatch := `[{"op":"add","path":"/name","value":` + deep + `}]`
	for _, tt := range []struct {
		method, path, body string
		hdr                []string
	}{
		{"PUT", "/digitaltwins/o1", deep, nil},
		{"PUT", "/digitaltwins/o1", deepProp, nil},
		{"PATCH", "/digitaltwins/o1", deep, nil},
		{"PATCH", "/digitaltwins/o1", deepPatch, nil},
		{"POST", "/models", deep, nil},
		{"POST", "/query", deep, nil},
		{"POST", "/digitaltwins/o1/telemetry", deep, []string{"Message-Id", "m"}},
		{"PUT", "/jobs/imports/deep", `{"Section":"Twins"}` + "\n" + deepProp + "\n", []string{"Content-Type", "application/x-ndjson"}},
	} {
		r := e.do(tt.method, tt.path, tt.body, tt.hdr...)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s %s with %d-deep JSON = %d %.200s, want 400", tt.method, tt.path, 100000, r.status, r.body)
		}
	}
}
