package sqlite

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/store/internal/rowcodec"
	"lodestone/twin"
)

func TestTopLevelKeys(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: `{}`},
		{in: `{"a":1}`, want: []string{"a"}},
		{in: `{"a":{"b":[1,{"c":"}"}]},"d\"e":"x,y","f":[]}`, want: []string{"a", "d\"e", "f"}},
		{in: `{"a":"\\"}`, want: []string{"a"}},
		{in: ``, bad: true},
		{in: `[1]`, bad: true},
		{in: `{"a":1`, bad: true},
		{in: `{"a"1}`, bad: true},
		{in: `{a:1}`, bad: true},
		{in: `{"a":"x}`, bad: true},
	}
	for _, tt := range tests {
		got, err := topLevelKeys(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("topLevelKeys(%s) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("topLevelKeys(%s): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("topLevelKeys(%s) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// FuzzTopLevelKeys checks the key scanner against encoding/json on the
// canonical form the store writes (json.Marshal of a map).
func FuzzTopLevelKeys(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":{"c":[1,"]"]}}`, `{"\u00e9\"":"\\","<":null}`, `{"x":[[[]]],"y":"}{"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = topLevelKeys(in) // never panics on any input
		var m map[string]any
		if err := json.Unmarshal([]byte(in), &m); err != nil || m == nil {
			return
		}
		canon, err := json.Marshal(m)
		if err != nil {
			return
		}
		got, err := topLevelKeys(string(canon))
		if err != nil {
			t.Fatalf("topLevelKeys(%s): %v", canon, err)
		}
		want := slices.Sorted(maps.Keys(m))
		if len(want) == 0 {
			want = nil
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("topLevelKeys(%s) (-want +got):\n%s", canon, diff)
		}
	})
}

// topLevelKeys returns the member names of a compact JSON object (as
// json.Marshal writes it), in order, without decoding the values.
func topLevelKeys(s string) ([]string, error) {
	mm, err := members(s)
	if err != nil || len(mm) == 0 {
		return nil, err
	}
	keys := make([]string, len(mm))
	for i, m := range mm {
		if keys[i], err = m.name(s); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// spliceTwin is a twin built from fuzz input: names and values picked from
// small sets (names that need escaping, non-ASCII ones, ones starting with
// '$') so that the meta column takes every form EncodeTwin writes.
func spliceTwin(seed uint64) twin.Twin {
	r := rand.New(rand.NewPCG(seed, seed>>7))
	names := []string{"a", "b", "inventory", "é", "_k", "A", "m1", "m10", "m2"}
	if r.IntN(4) == 0 {
		names = append(names, []string{"a<b", "z\"q", "cap&x"}[r.IntN(3)])
	}
	base := time.Date(2026, 1, 2, 3, 4, 5, r.IntN(3)*123456789, time.UTC)
	t := twin.Twin{ID: twin.ID([]string{"t1", "a<b", "ü"}[r.IntN(3)]), ETag: twin.ETag(`W/"e1"`)}
	t.Metadata.Model = []string{"dtmi:x:A;1", "dtmi:x:<B>;2"}[r.IntN(2)]
	if r.IntN(8) > 0 {
		t.Metadata.LastUpdateTime = base
	}
	for _, o := range []*string{&t.Metadata.Org, &t.Metadata.Writer, &t.Metadata.Signer} {
		if r.IntN(2) == 0 {
			*o = []string{"acme", "plant&co", "bob"}[r.IntN(3)]
		}
	}
	for _, k := range names {
		if r.IntN(3) == 0 {
			continue
		}
		if t.Properties == nil {
			t.Properties = map[string]any{}
		}
		t.Properties[k] = []any{1.5, "x", map[string]any{"}": "{,"}, nil, []any{true}}[r.IntN(5)]
	}
	for _, k := range names {
		if r.IntN(2) == 0 {
			continue
		}
		if t.Metadata.Properties == nil {
			t.Metadata.Properties = map[string]twin.PropertyMetadata{}
		}
		var pm twin.PropertyMetadata
		switch r.IntN(4) {
		case 0:
			pm.LastUpdateTime = t.Metadata.LastUpdateTime
		case 1:
			pm.LastUpdateTime = base.Add(-time.Hour)
		case 2:
			pm.LastUpdateTime, pm.SourceTime = t.Metadata.LastUpdateTime, base.Add(-time.Minute)
		}
		t.Metadata.Properties[k] = pm
	}
	return t
}

// FuzzSpliceMeta checks that twinJSON's splice writes the bytes of the
// decoding path (decodedMeta) and of the twin's own MarshalJSON for every
// form of the meta column EncodeTwin writes.
func FuzzSpliceMeta(f *testing.F) {
	for i := range uint64(64) {
		f.Add(i)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		tw := spliceTwin(seed)
		props, meta, err := rowcodec.EncodeTwin(&tw)
		if err != nil {
			t.Skip(err)
		}
		got, err := twinJSON(tw.ID, tw.Metadata.Model, string(tw.ETag), string(props), string(meta))
		if err != nil {
			t.Fatal(err)
		}
		dec, err := rowcodec.DecodeTwin(string(tw.ID), tw.Metadata.Model, string(tw.ETag), props, meta)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(dec)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("meta %s props %s:\n got %s\nwant %s", meta, props, got, want)
		}
		pm, _ := members(string(props))
		slow, err := decodedMeta(tw.Metadata.Model, string(meta), string(props), pm)
		if err != nil {
			t.Fatal(err)
		}
		if fast, ok := spliceMeta(nil, tw.Metadata.Model, string(meta), string(props), pm); ok && string(fast) != string(slow) {
			t.Fatalf("meta %s props %s:\nsplice %s\ndecode %s", meta, props, fast, slow)
		}
	})
}

// TestSpliceMetaTaken: the splice serves the usual twin (no name to
// escape), so the fuzz test above compares it and not only the fallback.
func TestSpliceMetaTaken(t *testing.T) {
	tests := []struct {
		meta, props string
		ok          bool
	}{
		{`{"$model":"dtmi:x:A;1","$lastUpdateTime":"2026-01-02T03:04:05Z"}`, `{"a":1,"b":2}`, true},
		{`{"$model":"dtmi:x:A;1","$lastUpdateTime":"2026-01-02T03:04:05Z","$org":"acme","a":{"lastUpdateTime":"2026-01-02T02:04:05Z"}}`, `{"a":1,"b":2}`, true},
		{`{"$model":"dtmi:x:A;1"}`, `{}`, true},
		{`{"$model":"dtmi:x:A;1"}`, `{"a":1}`, false},                                                   // no time for a's entry
		{`{"$model":"dtmi:x:A;1","$lastUpdateTime":"2026-01-02T03:04:05Z","$etc":1}`, `{"a":1}`, false}, // unknown member
		{`{"$model":"dtmi:x:A;1","$lastUpdateTime":"2026-01-02T03:04:05Z"}`, `{"a\u003c":1}`, false},    // escaped name
		{`{"$lastUpdateTime":"2026-01-02T03:04:05Z","$model":"dtmi:x:A;1"}`, `{"a":1}`, false},          // order
	}
	for _, tt := range tests {
		pm, err := members(tt.props)
		if err != nil {
			t.Fatal(err)
		}
		_, ok := spliceMeta(nil, "dtmi:x:A;1", tt.meta, tt.props, pm)
		if ok != tt.ok {
			t.Errorf("spliceMeta(%s, %s) took = %v, want %v", tt.meta, tt.props, ok, tt.ok)
		}
	}
	var taken int
	for seed := range uint64(200) {
		tw := spliceTwin(seed)
		props, meta, _ := rowcodec.EncodeTwin(&tw)
		pm, _ := members(string(props))
		if _, ok := spliceMeta(nil, tw.Metadata.Model, string(meta), string(props), pm); ok {
			taken++
		}
	}
	if taken < 20 {
		t.Errorf("the splice took %d of 200 generated twins; the fuzz corpus would test only the fallback", taken)
	}
}
