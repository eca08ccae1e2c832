package api

import (
	"encoding/json"
	"testing"
)

func TestTelemetryNumber(t *testing.T) {
	for _, tc := range []struct {
		raw, key string
		want     float64
		ok       bool
	}{
		{`12.5`, "", 12.5, true},
		{`{"Nd": 10431.4, "Pr": 3}`, "Nd", 10431.4, true},
		{`{"Nd": 1}`, "", 0, false},
		{`{"Nd": "1"}`, "Nd", 0, false},
		{`{"Nd": null}`, "Nd", 0, false},
		{`{"Pr": 1}`, "Nd", 0, false},
		{`[1]`, "Nd", 0, false},
		{`true`, "", 0, false},
	} {
		got, ok := telemetryNumber(json.RawMessage(tc.raw), tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("telemetryNumber(%s, %q) = %v, %v; want %v, %v", tc.raw, tc.key, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzTelemetryNumber: any stored reading and key either give a number
// that the reading holds or false; never a panic.
func FuzzTelemetryNumber(f *testing.F) {
	for _, s := range []string{`1`, `{"Nd": 2}`, `{"Nd": {"x": 1}}`, `"1"`, `1e999`, `{`} {
		f.Add(s, "Nd")
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, raw, key string) {
		v, ok := telemetryNumber(json.RawMessage(raw), key)
		if !ok {
			return
		}
		// The number round-trips through the reading it came from.
		var direct float64
		if key == "" {
			if json.Unmarshal([]byte(raw), &direct) != nil || direct != v {
				t.Errorf("%q: %v is not the reading's number", raw, v)
			}
			return
		}
		var m map[string]float64
		if json.Unmarshal([]byte(raw), &m) == nil && m[key] != v {
			t.Errorf("%q[%q]: %v, the reading holds %v", raw, key, v, m[key])
		}
	})
}
