package event_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/event"
	"lodestone/internal/golden"
)

func sampleEvent() event.Event {
	return event.Event{
		ID:              event.ChangeID("lodestone://localhost", 42, event.TypeTwinUpdated, "mine-bayan-obo"),
		Source:          "lodestone://localhost",
		Type:            event.TypeTwinUpdated,
		Subject:         "mine-bayan-obo",
		Time:            time.Date(2026, 11, 27, 1, 2, 3, 456000000, time.UTC),
		DataContentType: "application/json-patch+json",
		Data:            json.RawMessage(`[ {"op": "replace", "path": "/outputTonnes", "value": 1200} ]`),
		Extensions:      map[string]string{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "sequence": "42"},
	}
}

// TestMarshalGolden pins the wire form: attribute order, compacted data,
// UTC time.
func TestMarshalGolden(t *testing.T) {
	got, err := json.Marshal(sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "twin-updated.golden.json"), golden.Snapshot(
		"the wire form of sampleEvent as this code encodes it (attribute names from the CloudEvents 1.0 "+
			"JSON format; the values are the test's own)"), append(got, '\n'))
	back, err := event.Decode(got)
	if err != nil {
		t.Fatal(err)
	}
	e := sampleEvent()
	e.SpecVersion = event.SpecVersion
	e.Data = json.RawMessage(`[{"op":"replace","path":"/outputTonnes","value":1200}]`)
	if diff := cmp.Diff(e, back); diff != "" {
		t.Errorf("Decode(Marshal(e)) (-want +got):\n%s", diff)
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    event.Event
		wantErr string // substring; empty means success
	}{
		{
			name: "minimal",
			in:   `{"specversion":"1.0","id":"1","source":"s","type":"t"}`,
			want: event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t"},
		},
		{
			name: "ADT twin update",
			in: `{"specversion":"1.0","id":"e1","source":"my.digitaltwins.azure.net","type":"Microsoft.DigitalTwins.Twin.Update",
				"subject":"room1","time":"2026-01-02T03:04:05+02:00","datacontenttype":"application/json",
				"traceparent":"00-x-y-01","data":{"modelId":"dtmi:a;1","patch":[ ]}}`,
			want: event.Event{SpecVersion: "1.0", ID: "e1", Source: "my.digitaltwins.azure.net", Type: "Microsoft.DigitalTwins.Twin.Update",
				Subject: "room1", Time: time.Date(2026, 1, 2, 1, 4, 5, 0, time.UTC), DataContentType: "application/json",
				Extensions: map[string]string{"traceparent": "00-x-y-01"}, Data: json.RawMessage(`{"modelId":"dtmi:a;1","patch":[]}`)},
		},
		{
			name: "integer and boolean extensions, null attribute",
			in:   `{"specversion":"1.0","id":"1","source":"s","type":"t","seq":7,"ok":true,"subject":null}`,
			want: event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t", Extensions: map[string]string{"seq": "7", "ok": "true"}},
		},
		{
			name: "data is a JSON string",
			in:   `{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"text/plain","data":"hello"}`,
			want: event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t", DataContentType: "text/plain", Data: json.RawMessage(`"hello"`)},
		},
		{name: "missing id", in: `{"specversion":"1.0","source":"s","type":"t"}`, wantErr: "id is required"},
		{name: "missing source", in: `{"specversion":"1.0","id":"1","type":"t"}`, wantErr: "source is required"},
		{name: "missing type", in: `{"specversion":"1.0","id":"1","source":"s"}`, wantErr: "type is required"},
		{name: "missing specversion", in: `{"id":"1","source":"s","type":"t"}`, wantErr: "specversion is required"},
		{name: "old specversion", in: `{"specversion":"0.3","id":"1","source":"s","type":"t"}`, wantErr: "specversion"},
		{name: "id not a string", in: `{"specversion":"1.0","id":1,"source":"s","type":"t"}`, wantErr: `"id" must be a string`},
		{name: "bad time", in: `{"specversion":"1.0","id":"1","source":"s","type":"t","time":"yesterday"}`, wantErr: "RFC 3339"},
		{name: "bad extension name", in: `{"specversion":"1.0","id":"1","source":"s","type":"t","Trace-Parent":"x"}`, wantErr: "only a-z and 0-9"},
		{name: "object extension", in: `{"specversion":"1.0","id":"1","source":"s","type":"t","ext":{}}`, wantErr: "must be a string, an integer or a boolean"},
		{name: "float extension", in: `{"specversion":"1.0","id":"1","source":"s","type":"t","ext":1.5}`, wantErr: "must be a string, an integer or a boolean"},
		{name: "binary data", in: `{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"AA=="}`, wantErr: "data_base64"},
		{name: "not an object", in: `[1]`, wantErr: "invalid event"},
		{name: "null", in: `null`, wantErr: "not a JSON object"},
		{name: "truncated", in: `{"specversion":"1.0"`, wantErr: "invalid event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := event.Decode([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, event.ErrInvalid) {
					t.Fatalf("Decode(%s) = %v, want an ErrInvalid containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%s) = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarshalInvalid(t *testing.T) {
	tests := []struct {
		name string
		e    event.Event
	}{
		{"no id", event.Event{Source: "s", Type: "t"}},
		{"bad data", event.Event{ID: "1", Source: "s", Type: "t", Data: json.RawMessage("{")}},
		{"reserved extension", event.Event{ID: "1", Source: "s", Type: "t", Extensions: map[string]string{"data": "x"}}},
		{"spec version", event.Event{SpecVersion: "2.0", ID: "1", Source: "s", Type: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := json.Marshal(tt.e); !errors.Is(err, event.ErrInvalid) {
				t.Errorf("Marshal = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestStableID(t *testing.T) {
	a := event.ChangeID("lodestone://a", 7, event.TypeTwinCreated, "t1")
	if b := event.ChangeID("lodestone://a", 7, event.TypeTwinCreated, "t1"); a != b {
		t.Errorf("ChangeID not deterministic: %s != %s", a, b)
	}
	ids := map[string]string{
		"change":      a,
		"other seq":   event.ChangeID("lodestone://a", 8, event.TypeTwinCreated, "t1"),
		"other type":  event.ChangeID("lodestone://a", 7, event.TypeTwinDeleted, "t1"),
		"other src":   event.ChangeID("lodestone://b", 7, event.TypeTwinCreated, "t1"),
		"split ab|c":  event.StableID("ab", "c"),
		"split a|bc":  event.StableID("a", "bc"),
		"telemetry":   event.TelemetryID("lodestone://a", "t1", "m1"),
		"telemetry 2": event.TelemetryID("lodestone://a", "t1", "m2"),
	}
	seen := map[string]string{}
	for name, id := range ids {
		if len(id) != 36 || id[14] != '5' || !strings.ContainsRune("89ab", rune(id[19])) {
			t.Errorf("%s: %q is not a version 5 UUID", name, id)
		}
		if other, ok := seen[id]; ok {
			t.Errorf("%s and %s share id %s", name, other, id)
		}
		seen[id] = name
	}
}

func TestADTType(t *testing.T) {
	tests := []struct {
		typ, adt string
		ok       bool
	}{
		{event.TypeTwinCreated, "Microsoft.DigitalTwins.Twin.Create", true},
		{event.TypeTwinUpdated, "Microsoft.DigitalTwins.Twin.Update", true},
		{event.TypeTwinDeleted, "Microsoft.DigitalTwins.Twin.Delete", true},
		{event.TypeRelationshipCreated, "Microsoft.DigitalTwins.Relationship.Create", true},
		{event.TypeRelationshipUpdated, "Microsoft.DigitalTwins.Relationship.Update", true},
		{event.TypeRelationshipDeleted, "Microsoft.DigitalTwins.Relationship.Delete", true},
		{event.TypeTelemetry, "microsoft.iot.telemetry", true},
		{event.TypeModelCreated, "", false},
	}
	for _, tt := range tests {
		adt, ok := event.ADTType(tt.typ)
		if adt != tt.adt || ok != tt.ok {
			t.Errorf("ADTType(%q) = %q, %v; want %q, %v", tt.typ, adt, ok, tt.adt, tt.ok)
		}
		if !tt.ok {
			continue
		}
		back, ok := event.FromADTType(tt.adt)
		if back != tt.typ || !ok {
			t.Errorf("FromADTType(%q) = %q, %v; want %q", tt.adt, back, ok, tt.typ)
		}
	}
	if got := event.RelationshipSubject("mine-1", "supplies-2"); got != "mine-1/relationships/supplies-2" {
		t.Errorf("RelationshipSubject = %q", got)
	}
	if got := event.ComponentSubject("plant-1", "cascade"); got != "plant-1/components/cascade" {
		t.Errorf("ComponentSubject = %q", got)
	}
}

// FuzzDecode checks that Decode never panics and that whatever it accepts
// encodes and decodes back to the same event.
func FuzzDecode(f *testing.F) {
	good, _ := json.Marshal(sampleEvent())
	f.Add(good)
	for _, s := range []string{
		`{"specversion":"1.0","id":"1","source":"s","type":"t"}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","seq":-7,"ok":false,"data":null}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","time":"2026-01-02T03:04:05.123456789-07:00","data":"\u2028"}`,
		`{"specversion":"1.0","id":"\u0000","source":"s","type":"t","data":[1,{"a":[]}]}`,
		`{}`, `[]`, `null`, `"x"`, `{"id":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := event.Decode(b)
		if err != nil {
			if !errors.Is(err, event.ErrInvalid) {
				t.Fatalf("Decode error %v does not wrap ErrInvalid", err)
			}
			return
		}
		enc, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("Marshal(Decode(%q)) = %v", b, err)
		}
		back, err := event.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(%s) = %v, but it was encoded from a decoded event", enc, err)
		}
		if diff := cmp.Diff(e, back, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
