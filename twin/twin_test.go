package twin_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/twin"
)

var (
	t0 = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	t1 = time.Date(2025, 4, 2, 12, 30, 0, 500_000_000, time.UTC)
)

func sampleTwin() twin.Twin {
	return twin.Twin{
		ID:   "mine-1",
		ETag: `W/"1"`,
		Metadata: twin.Metadata{
			Model:          "dtmi:lodestone:Mine;1",
			LastUpdateTime: t0,
			Properties: map[string]twin.PropertyMetadata{
				"output": {LastUpdateTime: t0, SourceTime: t0.Add(-time.Minute)},
				"site":   {LastUpdateTime: t0},
			},
		},
		Properties: map[string]any{
			"output": 42.5,
			"site": map[string]any{
				"$metadata": map[string]any{"country": map[string]any{"lastUpdateTime": "2025-04-01T00:00:00Z"}},
				"country":   "CN",
			},
		},
	}
}

func TestTwinJSON(t *testing.T) {
	tw := sampleTwin()
	b, err := json.Marshal(tw)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"$dtId":"mine-1","$etag":"W/\"1\"","$metadata":{"$model":"dtmi:lodestone:Mine;1","$lastUpdateTime":"2025-04-01T00:00:00Z",` +
		`"output":{"lastUpdateTime":"2025-04-01T00:00:00Z","sourceTime":"2025-03-31T23:59:00Z"},"site":{"lastUpdateTime":"2025-04-01T00:00:00Z"}},` +
		`"output":42.5,"site":{"$metadata":{"country":{"lastUpdateTime":"2025-04-01T00:00:00Z"}},"country":"CN"}}`
	if string(b) != want {
		t.Errorf("json.Marshal(twin) =\n%s\nwant\n%s", b, want)
	}
	var back twin.Twin
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tw, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestTwinUnmarshalErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"not object", `[1]`},
		{"null", `null`},
		{"dtId not string", `{"$dtId":1}`},
		{"unknown system key", `{"$dtid":"x"}`},
		{"metadata not object", `{"$metadata":3}`},
		{"model not string", `{"$metadata":{"$model":1}}`},
		{"bad time", `{"$metadata":{"$model":"m","$lastUpdateTime":"yesterday"}}`},
		{"bad property metadata", `{"$metadata":{"$model":"m","p":{"sourceTime":"x"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tw twin.Twin
			err := json.Unmarshal([]byte(tt.in), &tw)
			if !errors.Is(err, twin.ErrInvalidJSON) {
				t.Errorf("Unmarshal(%s) error = %v, want ErrInvalidJSON", tt.in, err)
			}
		})
	}
}

func TestRelationshipJSON(t *testing.T) {
	r := twin.Relationship{ID: "r1", SourceID: "a", TargetID: "b", Name: "supplies", ETag: `W/"e"`,
		Properties: map[string]any{"tonnesPerYear": 1200.0}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"$relationshipId":"r1","$etag":"W/\"e\"","$sourceId":"a","$relationshipName":"supplies","$targetId":"b","tonnesPerYear":1200}`
	if string(b) != want {
		t.Errorf("json.Marshal(rel) = %s, want %s", b, want)
	}
	var back twin.Relationship
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`{"$foo":1}`), &back); !errors.Is(err, twin.ErrInvalidJSON) {
		t.Errorf("unknown system key: error = %v, want ErrInvalidJSON", err)
	}
}

func TestTwinApplyPatch(t *testing.T) {
	tests := []struct {
		name    string
		patch   string
		check   func(t *testing.T, got twin.Twin)
		wantErr string
	}{
		{
			name:  "replace property updates its metadata",
			patch: `[{"op":"replace","path":"/output","value":50}]`,
			check: func(t *testing.T, got twin.Twin) {
				if got.Properties["output"] != 50.0 {
					t.Errorf("output = %v, want 50", got.Properties["output"])
				}
				want := twin.PropertyMetadata{LastUpdateTime: t1, SourceTime: t0.Add(-time.Minute)}
				if diff := cmp.Diff(want, got.Metadata.Properties["output"]); diff != "" {
					t.Errorf("output metadata (-want +got):\n%s", diff)
				}
				if !got.Metadata.LastUpdateTime.Equal(t1) {
					t.Errorf("$lastUpdateTime = %v, want %v", got.Metadata.LastUpdateTime, t1)
				}
				if got.Metadata.Properties["site"].LastUpdateTime != t0 {
					t.Errorf("untouched property metadata changed")
				}
			},
		},
		{
			name:  "add new property",
			patch: `[{"op":"add","path":"/grade","value":0.06}]`,
			check: func(t *testing.T, got twin.Twin) {
				if got.Metadata.Properties["grade"].LastUpdateTime != t1 {
					t.Errorf("grade metadata = %v", got.Metadata.Properties["grade"])
				}
			},
		},
		{
			name:  "remove property drops metadata",
			patch: `[{"op":"remove","path":"/output"}]`,
			check: func(t *testing.T, got twin.Twin) {
				if _, ok := got.Properties["output"]; ok {
					t.Error("output still present")
				}
				if _, ok := got.Metadata.Properties["output"]; ok {
					t.Error("output metadata still present")
				}
			},
		},
		{
			name:  "replace model",
			patch: `[{"op":"replace","path":"/$metadata/$model","value":"dtmi:lodestone:Mine;2"}]`,
			check: func(t *testing.T, got twin.Twin) {
				if got.Metadata.Model != "dtmi:lodestone:Mine;2" {
					t.Errorf("model = %q", got.Metadata.Model)
				}
			},
		},
		{
			name:  "write source time",
			patch: `[{"op":"replace","path":"/output","value":1},{"op":"add","path":"/$metadata/output/sourceTime","value":"2025-04-02T12:00:00Z"}]`,
			check: func(t *testing.T, got twin.Twin) {
				want := twin.PropertyMetadata{LastUpdateTime: t1, SourceTime: time.Date(2025, 4, 2, 12, 0, 0, 0, time.UTC)}
				if diff := cmp.Diff(want, got.Metadata.Properties["output"]); diff != "" {
					t.Errorf("output metadata (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:  "component property",
			patch: `[{"op":"replace","path":"/site/country","value":"AU"}]`,
			check: func(t *testing.T, got twin.Twin) {
				site := got.Properties["site"].(map[string]any)
				if site["country"] != "AU" {
					t.Errorf("site = %v", site)
				}
				md := site["$metadata"].(map[string]any)["country"].(map[string]any)
				if md["lastUpdateTime"] != "2025-04-02T12:30:00.5Z" {
					t.Errorf("component metadata = %v", md)
				}
			},
		},
		{name: "dtId read-only", patch: `[{"op":"replace","path":"/$dtId","value":"x"}]`, wantErr: "read-only"},
		{name: "unknown system property", patch: `[{"op":"add","path":"/$foo","value":1}]`, wantErr: "unknown system property"},
		{name: "etag read-only", patch: `[{"op":"replace","path":"/$etag","value":"x"}]`, wantErr: "read-only"},
		{name: "model removed", patch: `[{"op":"remove","path":"/$metadata/$model"}]`, wantErr: "$model"},
		{name: "model not string", patch: `[{"op":"replace","path":"/$metadata/$model","value":3}]`, wantErr: "$model"},
		{name: "metadata replaced by scalar", patch: `[{"op":"replace","path":"/$metadata","value":3}]`, wantErr: "$metadata"},
		{name: "bad source time", patch: `[{"op":"add","path":"/$metadata/output/sourceTime","value":"noon"}]`, wantErr: "sourceTime"},
		{name: "missing target", patch: `[{"op":"replace","path":"/nope","value":1}]`, wantErr: "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := sampleTwin()
			before := sampleTwin()
			p, err := twin.ParsePatch([]byte(tt.patch))
			if err != nil {
				t.Fatal(err)
			}
			got, err := in.ApplyPatch(p, t1)
			if diff := cmp.Diff(before, in); diff != "" {
				t.Errorf("ApplyPatch mutated the twin:\n%s", diff)
			}
			if tt.wantErr != "" {
				var pe *twin.PatchError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ApplyPatch(%s) error = %v, want *PatchError containing %q", tt.patch, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyPatch(%s) error %v", tt.patch, err)
			}
			if got.ID != in.ID || got.ETag != in.ETag {
				t.Errorf("ApplyPatch changed id/etag: %q %q", got.ID, got.ETag)
			}
			tt.check(t, got)
		})
	}
}

func TestRelationshipApplyPatch(t *testing.T) {
	r := twin.Relationship{ID: "r1", SourceID: "a", TargetID: "b", Name: "supplies", Properties: map[string]any{"t": 1.0}}
	p, _ := twin.ParsePatch([]byte(`[{"op":"replace","path":"/t","value":2},{"op":"add","path":"/u","value":"x"}]`))
	got, err := r.ApplyPatch(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"t": 2.0, "u": "x"}, got.Properties); diff != "" {
		t.Errorf("properties (-want +got):\n%s", diff)
	}
	if r.Properties["t"] != 1.0 {
		t.Error("ApplyPatch mutated its receiver")
	}
	p, _ = twin.ParsePatch([]byte(`[{"op":"replace","path":"/$targetId","value":"c"}]`))
	if _, err := r.ApplyPatch(p); err == nil {
		t.Error("patching $targetId succeeded, want error")
	}
}

func TestETag(t *testing.T) {
	a, b := twin.NewETag(), twin.NewETag()
	if a == b {
		t.Errorf("NewETag returned %s twice", a)
	}
	if !strings.HasPrefix(string(a), `W/"`) || len(a) != 3+36+1 {
		t.Errorf("NewETag = %s, want W/\"<uuid>\"", a)
	}
	tests := []struct {
		e, want twin.ETag
		match   bool
	}{
		{`W/"x"`, `W/"x"`, true},
		{`W/"x"`, `"x"`, true},
		{`W/"x"`, `W/"y"`, false},
		{`W/"x"`, twin.AnyETag, true},
		{"", twin.AnyETag, false},
	}
	for _, tt := range tests {
		if got := tt.e.Matches(tt.want); got != tt.match {
			t.Errorf("ETag(%s).Matches(%s) = %v, want %v", tt.e, tt.want, got, tt.match)
		}
	}
}

func FuzzTwinUnmarshal(f *testing.F) {
	b, _ := json.Marshal(sampleTwin())
	f.Add(b)
	f.Add([]byte(`{"$dtId":"x","$metadata":{"$model":"m"},"a":[1,{"b":null}]}`))
	f.Add([]byte(`{"$metadata":{"$model":"m","p":{"sourceTime":"2025-01-01T00:00:00+02:00"}}}`))
	f.Add([]byte(`{"$relationshipId":"r"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tw twin.Twin
		if err := json.Unmarshal(data, &tw); err != nil {
			return
		}
		enc, err := json.Marshal(tw)
		if err != nil {
			t.Fatalf("Marshal of decoded twin: %v", err)
		}
		var back twin.Twin
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("re-decode of %s: %v", enc, err)
		}
		enc2, _ := json.Marshal(back)
		if string(enc) != string(enc2) {
			t.Fatalf("encoding not stable:\n%s\n%s", enc, enc2)
		}
		var r twin.Relationship
		_ = json.Unmarshal(data, &r)
	})
}
