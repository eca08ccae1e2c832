package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/api"
	"lodestone/dtdl"
	"lodestone/store"
	_ "lodestone/store/sqlite" // the sqlite: scheme
)

// telemetrySeeds are realistic telemetry messages and near misses.
var telemetrySeeds = []string{
	`{"temperature":20.5}`,
	`{"flow":1250.0,"dischargePressure":310.2,"speed":1480,"power":55.1}`,
	`{"level":3}`,
	`{"gauge":{"level":3}}`,
	`{"temperature":"hot"}`,
	`{"temperature":1e308,"x":-0}`,
	`{"a":{"b":[1,2,{"c":null}]}}`,
	`{}`, `null`, `[]`, `"x"`, `{"a":1,"a":2}`, `{"temperature":1e999}`, `{"\u0000":true}`,
}

func FuzzDecodeTelemetry(f *testing.F) {
	for _, s := range telemetrySeeds {
		f.Add([]byte(s))
	}
	set, err := dtdl.Parse(testDocs(), &dtdl.Options{AllowUndefinedExtensions: true})
	if err != nil {
		f.Fatal(err)
	}
	asset := set.Interface("dtmi:test:Asset;1")
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := api.DecodeTelemetry(data)
		if err != nil {
			var ae *api.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code == "" {
				t.Fatalf("DecodeTelemetry(%q) error %v is not a 400 *api.Error", data, err)
			}
			return
		}
		if len(m) == 0 {
			t.Fatalf("DecodeTelemetry(%q) = empty message without error", data)
		}
		// A decoded message encodes and decodes to itself.
		enc, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", m, err)
		}
		m2, err := api.DecodeTelemetry(enc)
		if err != nil {
			t.Fatalf("DecodeTelemetry(%s) of a re-encoded message: %v", enc, err)
		}
		if diff := cmp.Diff(m, m2); diff != "" {
			t.Fatalf("round trip changed the message:\n%s", diff)
		}
		// Validation of any message returns nil or an *ErrorList.
		if err := asset.ValidateTelemetry(m); err != nil {
			var el *dtdl.ErrorList
			if !errors.As(err, &el) || len(el.Errors) == 0 {
				t.Fatalf("ValidateTelemetry(%v) = %v, want an *ErrorList", m, err)
			}
		}
	})
}

func testDocs() []dtdl.Document {
	docs := make([]dtdl.Document, len(testModels))
	for i, m := range testModels {
		docs[i] = dtdl.Document{Name: "m" + itoa(i), Data: []byte(m)}
	}
	return docs
}

// FuzzPatchTwin sends fuzzed JSON Patch bodies through the API's PATCH
// path (twin.ParsePatch, Twin.ApplyPatch, validation against the model, the
// store) on a real SQLite store. Package twin fuzzes ParsePatch and
// ApplyPatch alone; this checks what the API adds: no 5xx, a rejected
// patch changes nothing, and an accepted one leaves a twin that is valid
// for its model (the stored document can be PUT back).
func FuzzPatchTwin(f *testing.F) {
	for _, s := range []string{
		`[{"op":"replace","path":"/name","value":"Mount Weld"}]`,
		`[{"op":"add","path":"/capacity","value":2.5},{"op":"add","path":"/status","value":"on"}]`,
		`[{"op":"remove","path":"/name"}]`,
		`[{"op":"replace","path":"/gauge/reading","value":4}]`,
		`[{"op":"add","path":"/gauge/reading","value":"x"}]`,
		`[{"op":"replace","path":"/$metadata/$model","value":"dtmi:test:Plant;1"},{"op":"add","path":"/throughput","value":1}]`,
		`[{"op":"replace","path":"/$metadata/$model","value":"dtmi:test:Owner;1"}]`,
		`[{"op":"remove","path":"/gauge"}]`,
		`[{"op":"add","path":"/$metadata/name","value":{"sourceTime":"2026-01-01T00:00:00Z"}}]`,
		`[{"op":"replace","path":"/$metadata","value":{}}]`,
		`[{"op":"add","path":"/gauge/$metadata/reading","value":1}]`,
		`[{"op":"add","path":"","value":{}}]`,
		`[]`, `{}`, `[null]`, `[{"op":"move","from":"/a","path":"/b"}]`,
	} {
		f.Add([]byte(s))
	}
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite::memory:")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	a, err := api.New(ctx, api.Options{Store: st})
	if err != nil {
		f.Fatal(err)
	}
	call := func(t testing.TB, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if method == http.MethodPatch {
			req.Header.Set("Content-Type", "application/json-patch+json")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		return w
	}
	if w := call(f, "POST", "/models", "["+strings.Join(testModels, ",")+"]"); w.Code != 201 {
		f.Fatalf("POST /models = %d %s", w.Code, w.Body)
	}
	const fresh = `{"$metadata":{"$model":"dtmi:test:Asset;1"},"name":"a","capacity":1,"gauge":{"$metadata":{},"reading":2}}`
	f.Fuzz(func(t *testing.T, data []byte) {
		if w := call(t, "PUT", "/digitaltwins/f1", fresh); w.Code != 200 {
			t.Fatalf("PUT = %d %s", w.Code, w.Body)
		}
		before := call(t, "GET", "/digitaltwins/f1", "")
		w := call(t, "PATCH", "/digitaltwins/f1", string(data))
		after := call(t, "GET", "/digitaltwins/f1", "")
		switch {
		case w.Code >= 500:
			t.Fatalf("PATCH %s = %d %s", data, w.Code, w.Body)
		case w.Code == http.StatusNoContent:
			// The stored twin is valid for its model: it can be PUT back.
			if p := call(t, "PUT", "/digitaltwins/f1", after.Body.String(), "If-Match", after.Header().Get("ETag")); p.Code != 200 {
				t.Fatalf("PATCH %s was accepted, but the result %s is not a valid twin: PUT = %d %s", data, after.Body, p.Code, p.Body)
			}
		default:
			var eb struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error.Code == "" {
				t.Fatalf("PATCH %s = %d with body %s, not the error shape", data, w.Code, w.Body)
			}
			if before.Body.String() != after.Body.String() {
				t.Fatalf("rejected PATCH %s (%d) changed the twin:\n%s\n%s", data, w.Code, before.Body, after.Body)
			}
		}
	})
}
