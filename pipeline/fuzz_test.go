package pipeline_test

import (
	"encoding/json"
	"testing"
	"time"

	"lodestone/pipeline"
	"lodestone/store"
)

// FuzzEventOf feeds EventOf records with arbitrary data: the record data
// of models and telemetry is decoded, and whatever it holds, the event
// must be a valid CloudEvent whose id depends on the record alone.
func FuzzEventOf(f *testing.F) {
	f.Add("model", "create", "dtmi:m;1", "k", []byte(`{"id":"dtmi:m;1","model":{"displayName":{"en":"M"}},"uploadTime":"2026-01-01T00:00:00Z"}`))
	f.Add("telemetry", "create", "t", "m1", []byte(`{"c/a":1,"c/b":[2]}`))
	f.Add("telemetry", "create", "t", "m1", []byte(`{"/":1}`))
	f.Add("twin", "patch", "t", "e", []byte(`[{"op":"add","path":"/x","value":1}]`))
	f.Add("import", "create", "", "k", []byte(`{"models":[],"twins":0}`))
	f.Fuzz(func(t *testing.T, kind, op, subject, key string, data []byte) {
		if !json.Valid(data) {
			data = nil
		}
		rec := store.Record{Kind: store.Kind(kind), Op: store.ChangeOp(op), Subject: subject, Key: key, Time: time.Unix(1, 0), Data: data}
		e := pipeline.EventOf("lodestone://fuzz", rec)
		if err := e.Validate(); err != nil {
			t.Fatalf("EventOf(%+v) is invalid: %v", rec, err)
		}
		if again := pipeline.EventOf("lodestone://fuzz", rec); again.ID != e.ID || string(again.Data) != string(e.Data) {
			t.Fatalf("EventOf is not deterministic: %s %s, %s %s", e.ID, e.Data, again.ID, again.Data)
		}
	})
}
