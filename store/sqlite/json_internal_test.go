package sqlite

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
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
