package twin_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/twin"
)

func mustJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return m
}

func TestPatchApply(t *testing.T) {
	const doc = `{"a":1,"b":{"c":"x","d~e":2,"f/g":3},"arr":[1,2,3],"n":null}`
	tests := []struct {
		name    string
		patch   string
		want    string // empty: an error is expected
		wantErr bool
	}{
		{name: "add new", patch: `[{"op":"add","path":"/z","value":true}]`, want: `{"a":1,"b":{"c":"x","d~e":2,"f/g":3},"arr":[1,2,3],"n":null,"z":true}`},
		{name: "add existing replaces", patch: `[{"op":"add","path":"/a","value":5}]`, want: `{"a":5,"b":{"c":"x","d~e":2,"f/g":3},"arr":[1,2,3],"n":null}`},
		{name: "add null value", patch: `[{"op":"add","path":"/a","value":null}]`, want: `{"a":null,"b":{"c":"x","d~e":2,"f/g":3},"arr":[1,2,3],"n":null}`},
		{name: "replace nested", patch: `[{"op":"replace","path":"/b/c","value":{"deep":[1]}}]`, want: `{"a":1,"b":{"c":{"deep":[1]},"d~e":2,"f/g":3},"arr":[1,2,3],"n":null}`},
		{name: "escaped tilde", patch: `[{"op":"replace","path":"/b/d~0e","value":9}]`, want: `{"a":1,"b":{"c":"x","d~e":9,"f/g":3},"arr":[1,2,3],"n":null}`},
		{name: "escaped slash", patch: `[{"op":"remove","path":"/b/f~1g"}]`, want: `{"a":1,"b":{"c":"x","d~e":2},"arr":[1,2,3],"n":null}`},
		{name: "remove", patch: `[{"op":"remove","path":"/a"}]`, want: `{"b":{"c":"x","d~e":2,"f/g":3},"arr":[1,2,3],"n":null}`},
		{name: "remove null-valued member", patch: `[{"op":"remove","path":"/n"}]`, want: `{"a":1,"b":{"c":"x","d~e":2,"f/g":3},"arr":[1,2,3]}`},
		{name: "array insert", patch: `[{"op":"add","path":"/arr/1","value":9}]`, want: `{"a":1,"b":{"c":"x","d~e":2,"f/g":3},"arr":[1,9,2,3],"n":null}`},
		{name: "array append", patch: `[{"op":"add","path":"/arr/-","value":4}]`, want: `{"a":1,"b":{"c":"x","d~e":2,"f/g":3},"arr":[1,2,3,4],"n":null}`},
		{name: "array append at len", patch: `[{"op":"add","path":"/arr/3","value":4}]`, want: `{"a":1,"b":{"c":"x","d~e":2,"f/g":3},"arr":[1,2,3,4],"n":null}`},
		{name: "array remove", patch: `[{"op":"remove","path":"/arr/0"}]`, want: `{"a":1,"b":{"c":"x","d~e":2,"f/g":3},"arr":[2,3],"n":null}`},
		{name: "array replace", patch: `[{"op":"replace","path":"/arr/2","value":"x"}]`, want: `{"a":1,"b":{"c":"x","d~e":2,"f/g":3},"arr":[1,2,"x"],"n":null}`},
		{name: "sequence", patch: `[{"op":"add","path":"/q","value":{}},{"op":"add","path":"/q/r","value":1},{"op":"remove","path":"/a"}]`, want: `{"b":{"c":"x","d~e":2,"f/g":3},"arr":[1,2,3],"n":null,"q":{"r":1}}`},
		{name: "empty patch", patch: `[]`, want: doc},
		{name: "replace missing", patch: `[{"op":"replace","path":"/nope","value":1}]`, wantErr: true},
		{name: "remove missing", patch: `[{"op":"remove","path":"/nope"}]`, wantErr: true},
		{name: "add under missing parent", patch: `[{"op":"add","path":"/nope/x","value":1}]`, wantErr: true},
		{name: "descend into scalar", patch: `[{"op":"add","path":"/a/x","value":1}]`, wantErr: true},
		{name: "array index out of range", patch: `[{"op":"add","path":"/arr/5","value":1}]`, wantErr: true},
		{name: "array leading zero", patch: `[{"op":"replace","path":"/arr/01","value":1}]`, wantErr: true},
		{name: "array remove dash", patch: `[{"op":"remove","path":"/arr/-"}]`, wantErr: true},
		{name: "failure is atomic", patch: `[{"op":"add","path":"/z","value":1},{"op":"remove","path":"/nope"}]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mustJSON(t, doc)
			before := mustJSON(t, doc)
			p, err := twin.ParsePatch([]byte(tt.patch))
			if err != nil {
				t.Fatalf("ParsePatch(%s) error %v", tt.patch, err)
			}
			got, err := p.Apply(in)
			if diff := cmp.Diff(before, in); diff != "" {
				t.Errorf("Apply mutated its input (-before +after):\n%s", diff)
			}
			if tt.wantErr {
				var pe *twin.PatchError
				if !errors.As(err, &pe) {
					t.Fatalf("Apply(%s) error = %v, want *PatchError", tt.patch, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply(%s) error %v", tt.patch, err)
			}
			if diff := cmp.Diff(mustJSON(t, tt.want), got); diff != "" {
				t.Errorf("Apply(%s) (-want +got):\n%s", tt.patch, diff)
			}
		})
	}
}

func TestParsePatchErrors(t *testing.T) {
	tests := []struct {
		name, patch string
	}{
		{"not json", `[`},
		{"not array", `{"op":"add"}`},
		{"element not object", `[1]`},
		{"null element", `[null]`},
		{"missing op", `[{"path":"/a","value":1}]`},
		{"op not string", `[{"op":1,"path":"/a","value":1}]`},
		{"unsupported op", `[{"op":"move","from":"/a","path":"/b"}]`},
		{"test op", `[{"op":"test","path":"/a","value":1}]`},
		{"missing path", `[{"op":"remove"}]`},
		{"path without slash", `[{"op":"remove","path":"a"}]`},
		{"root path", `[{"op":"add","path":"","value":{}}]`},
		{"bad escape", `[{"op":"remove","path":"/a~2"}]`},
		{"dangling tilde", `[{"op":"remove","path":"/a~"}]`},
		{"missing value", `[{"op":"add","path":"/a"}]`},
		{"replace missing value", `[{"op":"replace","path":"/a"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := twin.ParsePatch([]byte(tt.patch)); err == nil {
				t.Errorf("ParsePatch(%s) = %v, want error", tt.patch, p)
			}
		})
	}
}

func TestPatchRoundTrip(t *testing.T) {
	src := `[{"op":"add","path":"/a~1b","value":null},{"op":"remove","path":"/c"},{"op":"replace","path":"/$metadata/$model","value":"dtmi:x;1"}]`
	p, err := twin.ParsePatch([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != src {
		t.Errorf("json.Marshal(ParsePatch(%s)) = %s", src, out)
	}
	if got := twin.Pointer("a/b", "c~d"); got != "/a~1b/c~0d" {
		t.Errorf("Pointer = %q, want /a~1b/c~0d", got)
	}
}

func FuzzParsePatch(f *testing.F) {
	for _, s := range []string{
		`[{"op":"add","path":"/z","value":true}]`,
		`[{"op":"replace","path":"/b/d~0e","value":9}]`,
		`[{"op":"remove","path":"/arr/0"}]`,
		`[{"op":"add","path":"/arr/-","value":[1,{"x":2}]}]`,
		`[{"op":"replace","path":"/$metadata/$model","value":"dtmi:a;1"}]`,
		`[{"op":"add","path":"/b/f~1g","value":{}}]`,
		`[]`, `{}`, `[null]`, `[{"op":"move"}]`,
	} {
		f.Add([]byte(s))
	}
	const doc = `{"a":1,"b":{"c":"x","d~e":2,"f/g":3},"arr":[1,2,{"k":[]}],"n":null}`
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := twin.ParsePatch(data)
		if err != nil {
			return
		}
		enc, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("Marshal of parsed patch: %v", err)
		}
		p2, err := twin.ParsePatch(enc)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", enc, err)
		}
		if diff := cmp.Diff(p, p2); diff != "" {
			t.Fatalf("round trip changed the patch:\n%s", diff)
		}
		in := mustJSON(t, doc)
		got, err := p.Apply(in)
		if diff := cmp.Diff(mustJSON(t, doc), in); diff != "" {
			t.Fatalf("Apply mutated its input:\n%s", diff)
		}
		if err == nil {
			if _, err := json.Marshal(got); err != nil {
				t.Fatalf("result does not marshal: %v", err)
			}
		}
		tw := twin.Twin{ID: "x", Metadata: twin.Metadata{Model: "dtmi:a;1"}, Properties: mustJSON(t, doc)}
		out, err := tw.ApplyPatch(p, tw.Metadata.LastUpdateTime)
		if diff := cmp.Diff(mustJSON(t, doc), tw.Properties); diff != "" {
			t.Fatalf("ApplyPatch mutated the twin:\n%s", diff)
		}
		if err == nil && got != nil {
			// Whichever path ApplyPatch takes, the properties agree with a
			// plain Apply on the document (minus "$metadata").
			delete(got, "$metadata")
			if len(got) == 0 {
				got = nil
			}
			if diff := cmp.Diff(got, out.Properties); diff != "" {
				t.Fatalf("ApplyPatch properties differ from Apply:\n%s", diff)
			}
		}
	})
}
