package api

import (
	"encoding/json"
	"testing"
)

// ownerCases are twin documents with their owner as json.Unmarshal reads
// it (or decode: twinDocOwner must leave them to it).
var ownerCases = []struct {
	doc        string
	model, org string
	decode     bool
}{
	{`{"$dtId":"a","$etag":"W/\"x\"","$metadata":{"$model":"dtmi:a;1","$lastUpdateTime":"t","$org":"acme","$writer":"w","capacity":{"lastUpdateTime":"t"}},"capacity":1}`, "dtmi:a;1", "acme", false},
	{`{"$metadata":{"$model":"dtmi:a;1"}}`, "dtmi:a;1", "", false},
	{` { "x" : [1, {"$metadata": {"$org": "evil"}}, "}\"]"] , "$metadata" : { "$org" : "o" , "$model" : "m" } } `, "m", "o", false},
	{`{"$metadata":{"$org":"a","$model":"m"},"$metadata":{"$org":"b"}}`, "m", "b", false},
	{`{"$metadata":{"$org":"a"},"$metadata":null}`, "", "a", false},
	{`{"p":"$metadata\":{\"$org\":\"x\"}","$metadata":{"$model":"m"}}`, "m", "", false},
	{`{"$metadata":null}`, "", "", false},
	{`{}`, "", "", false},
	{`{"$metadata":{"$org":"a\u0041"}}`, "", "", true},
	{`{"$metadata":{"$ORG":"a"}}`, "", "", true},
	{`{"$METADATA":{"$org":"a"}}`, "", "", true},
	{`{"\u0024metadata":{"$org":"a"}}`, "", "", true},
	{`{"$metadata":{"$org":null}}`, "", "", true},
	{`{"$metadata":{"$org":1}}`, "", "", true},
	{`{"$metadata":[]}`, "", "", true},
	{`[]`, "", "", true},
	{`{"a":1} x`, "", "", true},
}

func TestDocOwner(t *testing.T) {
	for _, c := range ownerCases {
		model, org, ok := twinDocOwner([]byte(c.doc))
		if ok == c.decode {
			t.Errorf("%s: ok = %v, want %v", c.doc, ok, !c.decode)
			continue
		}
		if ok && (string(model) != c.model || string(org) != c.org) {
			t.Errorf("%s: model %q org %q, want %q %q", c.doc, model, org, c.model, c.org)
		}
		if ok {
			var o twinOwner
			if err := json.Unmarshal([]byte(c.doc), &o); err != nil || o.Metadata.Model != c.model || o.Metadata.Org != c.org {
				t.Errorf("%s: json.Unmarshal gives %+v, %v", c.doc, o, err)
			}
		}
	}
}

// FuzzDocOwner: on valid JSON, twinDocOwner agrees with json.Unmarshal into
// twinOwner or leaves the document to it.
func FuzzDocOwner(f *testing.F) {
	for _, c := range ownerCases {
		f.Add([]byte(c.doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		model, org, ok := twinDocOwner(doc)
		if !ok || !json.Valid(doc) {
			return
		}
		var o twinOwner
		if err := json.Unmarshal(doc, &o); err != nil {
			t.Fatalf("%s: twinDocOwner found %q %q, json.Unmarshal fails: %v", doc, model, org, err)
		}
		if o.Metadata.Model != string(model) || o.Metadata.Org != string(org) {
			t.Fatalf("%s: twinDocOwner %q %q, json.Unmarshal %q %q", doc, model, org, o.Metadata.Model, o.Metadata.Org)
		}
	})
}
