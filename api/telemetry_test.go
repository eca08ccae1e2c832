package api_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTelemetry(t *testing.T) {
	e := start(t, options{})
	e.putTwin("a1", "dtmi:test:Asset;1", nil)
	e.putTwin("o1", "dtmi:test:Owner;1", nil)
	tests := []struct {
		name     string
		path     string
		body     string
		hdr      []string
		want     int
		wantCode string
	}{
		{name: "first message", path: "/digitaltwins/a1/telemetry", body: `{"temperature":20.5}`, hdr: []string{"Message-Id", "m1", "Telemetry-Source-Time", "2026-01-01T00:00:00Z"}, want: 204},
		{name: "retry of the same message", path: "/digitaltwins/a1/telemetry", body: `{"temperature":20.5}`, hdr: []string{"Message-Id", "m1", "Telemetry-Source-Time", "2026-01-01T00:00:00Z"}, want: 204},
		{name: "second message", path: "/digitaltwins/a1/telemetry", body: `{"temperature":21}`, hdr: []string{"Message-Id", "m2", "Telemetry-Source-Time", "2026-01-01T01:00:00Z"}, want: 204},
		{name: "third message", path: "/digitaltwins/a1/telemetry", body: `{"temperature":22}`, hdr: []string{"Message-Id", "m3", "Telemetry-Source-Time", "2026-01-01T02:00:00Z"}, want: 204},
		{name: "component telemetry", path: "/digitaltwins/a1/components/gauge/telemetry", body: `{"level":3}`, hdr: []string{"Message-Id", "m4", "Telemetry-Source-Time", "2026-01-01T03:00:00Z"}, want: 204},
		{name: "no Message-Id", path: "/digitaltwins/a1/telemetry", body: `{"temperature":1}`, want: 400},
		{name: "bad source time", path: "/digitaltwins/a1/telemetry", body: `{"temperature":1}`, hdr: []string{"Message-Id", "x", "Telemetry-Source-Time", "yesterday"}, want: 400},
		{name: "undeclared telemetry", path: "/digitaltwins/a1/telemetry", body: `{"pressure":1}`, hdr: []string{"Message-Id", "x"}, want: 400, wantCode: "ValidationFailed"},
		{name: "a property is not telemetry", path: "/digitaltwins/a1/telemetry", body: `{"capacity":1}`, hdr: []string{"Message-Id", "x"}, want: 400, wantCode: "ValidationFailed"},
		{name: "wrong type", path: "/digitaltwins/a1/telemetry", body: `{"temperature":"hot"}`, hdr: []string{"Message-Id", "x"}, want: 400, wantCode: "ValidationFailed"},
		{name: "model without telemetry", path: "/digitaltwins/o1/telemetry", body: `{"temperature":1}`, hdr: []string{"Message-Id", "x"}, want: 400, wantCode: "ValidationFailed"},
		{name: "empty message", path: "/digitaltwins/a1/telemetry", body: `{}`, hdr: []string{"Message-Id", "x"}, want: 400},
		{name: "not an object", path: "/digitaltwins/a1/telemetry", body: `[1]`, hdr: []string{"Message-Id", "x"}, want: 400},
		{name: "missing twin", path: "/digitaltwins/nope/telemetry", body: `{"temperature":1}`, hdr: []string{"Message-Id", "x"}, want: 404, wantCode: "DigitalTwinNotFound"},
		{name: "unknown component", path: "/digitaltwins/a1/components/nope/telemetry", body: `{"level":1}`, hdr: []string{"Message-Id", "x"}, want: 404, wantCode: "ComponentNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.do("POST", tt.path, tt.body, tt.hdr...)
			if r.status != tt.want {
				t.Fatalf("POST %s = %d %s, want %d", tt.path, r.status, r.body, tt.want)
			}
			if r.status >= 400 {
				if code := r.errCode(t); tt.wantCode != "" && code != tt.wantCode {
					t.Errorf("code = %s, want %s", code, tt.wantCode)
				}
			}
		})
	}
	e.t = t
	type point struct {
		Name       string `json:"name"`
		Value      any    `json:"value"`
		SourceTime string `json:"sourceTime"`
		MessageID  string `json:"messageId"`
	}
	queries := []struct {
		name string
		path string
		want []point
	}{
		{"all, deduplicated", "/digitaltwins/a1/telemetry", []point{
			{"temperature", 20.5, "2026-01-01T00:00:00Z", "m1"},
			{"temperature", 21.0, "2026-01-01T01:00:00Z", "m2"},
			{"temperature", 22.0, "2026-01-01T02:00:00Z", "m3"},
			{"gauge/level", 3.0, "2026-01-01T03:00:00Z", "m4"},
		}},
		{"by name and range", "/digitaltwins/a1/telemetry?name=temperature&from=2026-01-01T00:30:00Z&to=2026-01-01T02:00:00Z", []point{
			{"temperature", 21.0, "2026-01-01T01:00:00Z", "m2"},
		}},
		{"zone offset with an unescaped +", "/digitaltwins/a1/telemetry?name=temperature&from=2026-01-01T02:30:00+02:00", []point{
			{"temperature", 21.0, "2026-01-01T01:00:00Z", "m2"},
			{"temperature", 22.0, "2026-01-01T02:00:00Z", "m3"},
		}},
		{"component telemetry by name", "/digitaltwins/a1/telemetry?name=gauge/level", []point{
			{"gauge/level", 3.0, "2026-01-01T03:00:00Z", "m4"},
		}},
		{"limit", "/digitaltwins/a1/telemetry?limit=1", []point{
			{"temperature", 20.5, "2026-01-01T00:00:00Z", "m1"},
		}},
		{"nothing in range", "/digitaltwins/a1/telemetry?from=2030-01-01T00:00:00Z", []point{}},
	}
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			e.t = t
			var out struct {
				Value []point `json:"value"`
			}
			r := e.mustDo("GET", q.path, nil, 200)
			if err := json.Unmarshal(r.body, &out); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(q.want, out.Value); diff != "" {
				t.Errorf("GET %s (-want +got):\n%s", q.path, diff)
			}
		})
	}
	e.t = t
	e.mustDo("GET", "/digitaltwins/a1/telemetry?limit=-1", nil, 400)
	e.mustDo("GET", "/digitaltwins/a1/telemetry?from=noon", nil, 400)
	e.mustDo("GET", "/digitaltwins/nope/telemetry", nil, 404)
}
