package connector_test

import (
	"os"
	"testing"

	"lodestone/connector"
)

func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{`1`, `{"value": 3, "ts": "2026-01-02T03:04:05Z", "unit": "bar"}`, `{"d":{"v":true}}`, `{"v":1e999}`, `[]`, `null`} {
		f.Add([]byte(s), "value", "ts", "unit")
	}
	f.Fuzz(func(t *testing.T, b []byte, vp, tp, up string) {
		r, err := connector.DecodePayload(b, vp, tp, up)
		if err == nil && r.Value == nil {
			t.Fatalf("no error and no value for %q", b)
		}
	})
}

func FuzzDecodeConfig(f *testing.F) {
	if b, err := os.ReadFile("testdata/connectors.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"connectors":[{"id":"a","kind":"mqtt","broker":"tcp://x","mappings":[{"topic":"p/{twin}/{telemetry}"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := connector.DecodeConfig(b)
		if err != nil {
			return
		}
		for _, s := range c.Connectors {
			if s.Queue <= 0 || s.Batch <= 0 || len(s.Mappings) == 0 {
				t.Fatalf("accepted a connector without defaults: %+v", s)
			}
		}
	})
}
