package rowcodec_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/store"
	"lodestone/store/internal/rowcodec"
	"lodestone/twin"
)

// TestRoundTrip checks that a stamped twin survives encode and decode, and
// that meta leaves out what decode can put back (the row-size saving).
func TestRoundTrip(t *testing.T) {
	ts := time.Date(2025, 4, 4, 0, 0, 0, 0, time.UTC)
	src := time.Date(2025, 4, 3, 23, 0, 0, 0, time.UTC)
	in := twin.Twin{ID: "mine-1", Metadata: twin.Metadata{Model: "dtmi:x:Mine;1",
		Properties: map[string]twin.PropertyMetadata{"output": {SourceTime: src}}},
		Properties: map[string]any{"output": 45000.0, "name": "Mountain Pass"}}
	st := rowcodec.StampTwin(in, ts)
	props, meta, err := rowcodec.EncodeTwin(&st)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"$model":"dtmi:x:Mine;1","$lastUpdateTime":"2025-04-04T00:00:00Z","output":{"lastUpdateTime":"2025-04-04T00:00:00Z","sourceTime":"2025-04-03T23:00:00Z"}}`; string(meta) != want {
		t.Errorf("meta = %s, want %s (name's entry left out, output's source time kept)", meta, want)
	}
	out, err := rowcodec.DecodeTwin("mine-1", "dtmi:x:Mine;1", string(st.ETag), props, meta)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, out); diff != "" {
		t.Errorf("round trip (-stamped +decoded):\n%s", diff)
	}
}

func TestCheckCond(t *testing.T) {
	tests := []struct {
		name   string
		cond   store.Condition
		exists bool
		fail   bool
	}{
		{"none", store.Condition{}, false, false},
		{"create only, new", store.Condition{IfNoneMatch: true}, false, false},
		{"create only, exists", store.Condition{IfNoneMatch: true}, true, true},
		{"if-match, missing", store.Condition{IfMatch: `W/"a"`}, false, true},
		{"if-match, same", store.Condition{IfMatch: `W/"a"`}, true, false},
		{"if-match, other", store.Condition{IfMatch: `W/"b"`}, true, true},
		{"if-match any", store.Condition{IfMatch: twin.AnyETag}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := rowcodec.CheckCond(tt.cond, tt.exists, `W/"a"`)
			if (err != nil) != tt.fail || (err != nil && !errors.Is(err, store.ErrPreconditionFailed)) {
				t.Errorf("CheckCond(%+v, exists=%v) = %v, want failure %v wrapping ErrPreconditionFailed", tt.cond, tt.exists, err, tt.fail)
			}
		})
	}
}

// TestDocs checks that the documents spliced from the encoded columns are
// what the twin package marshals.
func TestDocs(t *testing.T) {
	ts := time.Date(2025, 4, 4, 0, 0, 0, 123, time.UTC)
	tw := rowcodec.StampTwin(twin.Twin{ID: "odd/<&>\"", Metadata: twin.Metadata{Model: "dtmi:x:Mine;1"},
		Properties: map[string]any{"é \"q\"": []any{1.0, "<b>"}, "a": map[string]any{"$metadata": map[string]any{}, "k": nil}}}, ts)
	empty := rowcodec.StampTwin(twin.Twin{ID: "e", Metadata: twin.Metadata{Model: "dtmi:x:Mine;1"}}, ts)
	for _, in := range []twin.Twin{tw, empty} {
		props, _, err := rowcodec.EncodeTwin(&in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rowcodec.TwinDoc(&in, props)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(in)
		if string(got) != string(want) {
			t.Errorf("TwinDoc =\n%s\nwant\n%s", got, want)
		}
	}
	for _, r := range []twin.Relationship{
		{ID: "r&", SourceID: "a", TargetID: "b", Name: "n", ETag: `W/"x"`, Properties: map[string]any{"t": 5.0, "<": "y"}},
		{ID: "r", SourceID: "a", TargetID: "b", Name: "n"},
	} {
		props := []byte("{}")
		if len(r.Properties) > 0 {
			props, _ = json.Marshal(r.Properties)
		}
		want, _ := json.Marshal(r)
		if got := rowcodec.RelationshipDoc(&r, props); string(got) != string(want) {
			t.Errorf("RelationshipDoc =\n%s\nwant\n%s", got, want)
		}
	}
}
