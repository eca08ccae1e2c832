package connector_test

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"

	"lodestone/connector"
	"lodestone/twin"
)

func TestDecodeConfigExample(t *testing.T) {
	b, err := os.ReadFile("testdata/connectors.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := connector.DecodeConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Connectors) != 2 || c.Connectors[1].Queue != 10000 || c.Connectors[0].Mappings[0].Type != "double" {
		t.Fatalf("decoded %+v", c)
	}
}

func TestDecodeConfigErrors(t *testing.T) {
	mq := func(m string) string {
		return `{"connectors":[{"id":"a","kind":"mqtt","broker":"tcp://x:1883","mappings":[` + m + `]}]}`
	}
	for _, tc := range []struct{ in, field string }{
		{`{"connectors":[{"id":"","kind":"mqtt"}]}`, "connectors[0].id"},
		{`{"connectors":[{"id":"a","kind":"modbus"}]}`, "connectors[0].kind"},
		{`{"connectors":[{"id":"a","kind":"mqtt"}]}`, "connectors[0].broker"},
		{`{"connectors":[{"id":"a","kind":"opcua","endpoint":"http://x"}]}`, "connectors[0].endpoint"},
		{`{"connectors":[{"id":"a","kind":"mqtt","broker":"tcp://x:1883","qos":3,"mappings":[]}]}`, "connectors[0].qos"},
		{`{"connectors":[{"id":"a","kind":"mqtt","broker":"tcp://x:1883","queue":-1}]}`, "connectors[0].queue"},
		{`{"connectors":[{"id":"a","kind":"mqtt","broker":"tcp://x:1883"}]}`, "connectors[0].mappings"},
		{mq(`{"twin":"t","telemetry":"v"}`), "connectors[0].mappings[0].topic"},
		{mq(`{"topic":"p/{who}","twin":"t","telemetry":"v"}`), "connectors[0].mappings[0].topic"},
		{mq(`{"topic":"p/#","twin":"t","telemetry":"v"}`), "connectors[0].mappings[0].topic"},
		{mq(`{"topic":"p/x","telemetry":"v"}`), "connectors[0].mappings[0].twin"},
		{mq(`{"topic":"p/{twin}"}`), "connectors[0].mappings[0].telemetry"},
		{mq(`{"topic":"p/{twin}","telemetry":"a","property":"b"}`), "connectors[0].mappings[0].telemetry"},
		{mq(`{"topic":"p/{twin}","telemetry":"a","type":"float128"}`), "connectors[0].mappings[0].type"},
		{mq(`{"topic":"p/{twin}","telemetry":"a","unit":"furlong"}`), "connectors[0].mappings[0].unit"},
		{mq(`{"topic":"p/{twin}","telemetry":"a","valuePath":"a..b"}`), "connectors[0].mappings[0].valuePath"},
		{`{"connectors":[{"id":"a","kind":"opcua","endpoint":"opc.tcp://x","mappings":[{"twin":"t","telemetry":"v"}]}]}`, "connectors[0].mappings[0].nodeId"},
		{`{"connectors":[{"id":"a","kind":"mqtt","broker":"tcp://x","mappings":[{"topic":"p/{twin}","telemetry":"a"}]},{"id":"a","kind":"mqtt","broker":"tcp://x","mappings":[{"topic":"p/{twin}","telemetry":"a"}]}]}`, "connectors[1].id"},
		{`{"connectors":[],"extra":1}`, "extra"},
		{`{"connectors":[]} {}`, "trailing"},
	} {
		_, err := connector.DecodeConfig([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: got %v, want an error naming %s", tc.in, err, tc.field)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	for _, tc := range []struct {
		in, vp, tp, up string
		want           any
		unit           string
		err            string
	}{
		{in: `12.5`, want: 12.5},
		{in: `{"value": 3, "ts": "2026-01-02T03:04:05Z", "unit": "bar"}`, vp: "value", tp: "ts", up: "unit", want: 3.0, unit: "bar"},
		{in: `{"d": {"v": true}}`, vp: "d.v", want: true},
		{in: `{"d": {"v": "run"}, "ts": 1767323045000}`, vp: "d.v", tp: "ts", want: "run"},
		{in: `{"d": 1}`, vp: "d.v", err: "d.v"},
		{in: `{"d": {}}`, vp: "d.v", err: `no member "v"`},
		{in: `{"v": null}`, vp: "v", err: "null"},
		{in: `{"v": [1]}`, vp: "v", err: "array"},
		{in: `{"v": 1e999}`, vp: "v", err: "finite"},
		{in: `{"v": 1, "ts": "yesterday"}`, vp: "v", tp: "ts", err: "RFC 3339"},
		{in: `{"v": 1, "u": 5}`, vp: "v", up: "u", err: "unit must be a string"},
		{in: `{"v": 1`, vp: "v", err: "not JSON"},
		{in: `1 2`, err: "trailing"},
	} {
		r, err := connector.DecodePayload([]byte(tc.in), tc.vp, tc.tp, tc.up)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %v, want error containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || r.Value != tc.want || r.Unit != tc.unit {
			t.Errorf("%s: got %+v, %v", tc.in, r, err)
		}
		if tc.tp != "" && r.Time.IsZero() {
			t.Errorf("%s: no time", tc.in)
		}
	}
}

func TestConvert(t *testing.T) {
	for _, tc := range []struct {
		v        float64
		from, to string
		want     float64
		err      bool
	}{
		{212, "degreeFahrenheit", "degreeCelsius", 100, false},
		{0, "degreeCelsius", "kelvin", 273.15, false},
		{1, "bar", "kilopascal", 100, false},
		{3.6, "cubicMetrePerHour", "litrePerSecond", 1, false},
		{5, "", "bar", 5, false},
		{1, "bar", "kelvin", 0, true},
		{1, "furlong", "metre", 0, true},
	} {
		got, err := connector.Convert(tc.v, tc.from, tc.to)
		if (err != nil) != tc.err || !tc.err && math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%v %s→%s: got %v, %v", tc.v, tc.from, tc.to, got, err)
		}
	}
}

// TestCheckTargets: a mapping to a property of the wrong type, or to a
// telemetry the model lacks, is refused naming the field.
func TestCheckTargets(t *testing.T) {
	f := setup(t, 1)
	ctx := context.Background()
	for _, tc := range []struct {
		m     connector.Mapping
		field string
	}{
		{connector.Mapping{Twin: "s0", Property: "label", Type: "double"}, "connectors[0].mappings[0].property"},
		{connector.Mapping{Twin: "s0", Property: "setpoint", Type: "boolean"}, "connectors[0].mappings[0].property"},
		{connector.Mapping{Twin: "s0", Telemetry: "nope", Type: "double"}, "connectors[0].mappings[0].telemetry"},
		{connector.Mapping{Twin: "ghost", Telemetry: "value", Type: "double"}, "connectors[0].mappings[0].twin"},
		{connector.Mapping{Twin: "s0", Component: "c", Telemetry: "value", Type: "double"}, "connectors[0].mappings[0].component"},
	} {
		err := connector.CheckTargets(ctx, "connectors[0]", connector.Spec{ID: "x", Mappings: []connector.Mapping{tc.m}}, f.pipe)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: got %v, want an error naming %s", tc.m, err, tc.field)
		}
	}
	ok := connector.Spec{ID: "x", Mappings: []connector.Mapping{{Twin: "s0", Property: "setpoint", Type: "double"}, {Twin: "s0", Telemetry: "mode", Type: "string"}}}
	if err := connector.CheckTargets(ctx, "connectors[0]", ok, f.pipe); err != nil {
		t.Fatal(err)
	}
}

// TestSpecFromTwin: a connector twin's properties are a connectors file's
// entry; enabled false turns it off; errors name the twin and the field.
func TestSpecFromTwin(t *testing.T) {
	mapping := []any{map[string]any{"topic": "p/{twin}/{telemetry}", "valuePath": "v"}}
	for _, tt := range []struct {
		name  string
		props map[string]any
		ok    bool
		err   string
	}{
		{"mqtt", map[string]any{"kind": "mqtt", "broker": "tcp://127.0.0.1:1883", "batch": 100.0, "mappings": mapping}, true, ""},
		{"enabled", map[string]any{"kind": "mqtt", "enabled": true, "broker": "tcp://x:1883", "mappings": mapping}, true, ""},
		{"disabled", map[string]any{"kind": "mqtt", "enabled": false, "mappings": mapping}, false, ""},
		{"no broker", map[string]any{"kind": "mqtt", "mappings": mapping}, false, "twin c1.broker: required"},
		{"unknown property", map[string]any{"kind": "mqtt", "broker": "tcp://x:1883", "password": "s", "mappings": mapping}, false, "twin c1.password"},
		{"unknown field", map[string]any{"kind": "mqtt", "broker": "tcp://x:1883", "colour": "red", "mappings": mapping}, false, `unknown field "colour"`},
		{"enabled not a boolean", map[string]any{"kind": "mqtt", "enabled": "yes"}, false, "twin c1: enabled: want a boolean"},
		{"bad mapping", map[string]any{"kind": "mqtt", "broker": "tcp://x:1883", "mappings": []any{map[string]any{"topic": "p/{who}"}}}, false, "twin c1.mappings[0].topic"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, ok, err := connector.SpecFromTwin(twin.Twin{ID: "c1", Metadata: twin.Metadata{Model: connector.Model, Org: "acme"}, Properties: tt.props})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || ok != tt.ok {
				t.Fatalf("ok %v, err %v", ok, err)
			}
			if ok && (s.ID != "c1" || s.Queue != 10000 || len(s.Mappings) != 1 || s.Org != "acme") {
				t.Errorf("spec %+v", s)
			}
		})
	}
}
