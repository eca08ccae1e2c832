package event

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// FuzzAppendJSONString checks the hand-written string encoder against
// encoding/json: both must decode to the same string, and plainString must
// agree with json.Unmarshal wherever it accepts.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "mine-1", "a\"b\\c", "\n\r\t\x00\x1f", "é\u2028\u2029", "\xff\xfe", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		enc := appendJSONString(nil, s)
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("appendJSONString(%q) = %s: %v", s, enc, err)
		}
		std, _ := json.Marshal(s)
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("appendJSONString(%q) decodes to %q, encoding/json to %q", s, got, want)
		}
		if p, ok := plainString(enc); ok && p != got {
			t.Fatalf("plainString(%s) = %q, want %q", enc, p, got)
		}
		if p, ok := plainString([]byte(s)); ok {
			var u string
			if err := json.Unmarshal([]byte(s), &u); err != nil || u != p {
				t.Fatalf("plainString(%s) = %q, json.Unmarshal = %q, %v", s, p, u, err)
			}
		}
	})
}

// FuzzDecodeFast checks Decode's fast path against its general path:
// whatever decodeFast accepts, decodeGeneral accepts as the same event.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range []string{
		`{"specversion":"1.0","id":"1","source":"s","type":"t"}`,
		` { "specversion" : "1.0" , "id":"1","source":"s","type":"t","subject":"a/b","time":"2026-01-02T03:04:05.123456789-07:00",
		  "dataschema":"dtmi:a;1","org":"acme","data": {"a" : [1, 2.5e3, "x\"y", {"b":null}], "c":true} } `,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data":null}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data":"\u2028"}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","id":"2"}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","x":"1","x":"2"}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data":1,"data":2}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data":[1}]}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"a":1}}}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data":-}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","time":""}`,
		`{"specversion":"","id":"1","source":"s","type":"t"}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","Bad":"x"}`,
		`{}`, `[]`, `null`, `"x"`, `{"id":{}}`, `{"specversion":"1.0"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := decodeFast(b)
		attrs, aok := DecodeAttributes(b)
		if ok {
			// DecodeAttributes reads what decodeFast does, data aside.
			want := fast
			want.Data = nil
			if !aok || !reflect.DeepEqual(attrs, want) {
				t.Fatalf("DecodeAttributes(%q) = %#v, %v; want %#v", b, attrs, aok, want)
			}
		}
		if !ok {
			return
		}
		general, err := decodeGeneral(b)
		if err != nil {
			t.Fatalf("decodeFast(%q) accepts, decodeGeneral: %v", b, err)
		}
		if !reflect.DeepEqual(fast, general) {
			t.Fatalf("decodeFast(%q) = %#v\ndecodeGeneral = %#v", b, fast, general)
		}
	})
}

// TestDecodeFastTakesOwnEvents: the events this package writes take the
// fast path.
func TestDecodeFastTakesOwnEvents(t *testing.T) {
	e := Event{ID: StableID("x"), Source: "lodestone://localhost", Type: TypeTwinUpdated, Subject: "pool-1",
		Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), DataSchema: "dtmi:a;1", Extensions: map[string]string{"org": "acme"},
		Data: json.RawMessage(`[{"op":"replace","path":"/inventoryTonnes","value":12.5}]`)}
	b, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, ok := decodeFast(b)
	if !ok {
		t.Fatalf("decodeFast(%s) took the general path", b)
	}
	e.SpecVersion = SpecVersion
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("decodeFast = %#v, want %#v", got, e)
	}
}
