package bulk_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/bulk"
	"lodestone/twin"
)

const sample = `{"Section": "Header"}
{"fileVersion": "1.0.0", "author": "lodestone", "organization": "example"}
{"Section": "Models"}
{"@id": "dtmi:example:Mine;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3"}
{"Section": "Twins"}
{"$dtId": "mine-1", "$metadata": {"$model": "dtmi:example:Mine;1"}, "outputTonnes": 45000}
{"$dtId": "plant-1", "$metadata": {"$model": "dtmi:example:Mine;1"}}
{"Section": "Relationships"}
{"$dtId": "mine-1", "$relationshipId": "r1", "$targetId": "plant-1", "$relationshipName": "feeds", "tonnesPerYear": 12}
`

func readAll(t *testing.T, in string) ([]bulk.Item, error) {
	t.Helper()
	r := bulk.NewReader(strings.NewReader(in))
	var items []bulk.Item
	for {
		it, err := r.Next()
		if err == io.EOF {
			return items, nil
		}
		if err != nil {
			return items, err
		}
		items = append(items, it)
	}
}

func TestReadSample(t *testing.T) {
	items, err := readAll(t, sample)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		switch {
		case it.Header != nil:
			got = append(got, "header "+it.Header.Author)
		case it.Model != nil:
			got = append(got, "model")
		case it.Twin != nil:
			got = append(got, fmt.Sprintf("twin %s %s", it.Twin.ID, it.Twin.Metadata.Model))
		case it.Relationship != nil:
			r := it.Relationship
			got = append(got, fmt.Sprintf("rel %s %s-%s->%s %v", r.ID, r.SourceID, r.Name, r.TargetID, r.Properties["tonnesPerYear"]))
		}
	}
	want := []string{"header lodestone", "model", "twin mine-1 dtmi:example:Mine;1", "twin plant-1 dtmi:example:Mine;1", "rel r1 mine-1-feeds->plant-1 12"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

// TestRoundTrip writes what it read and reads it again.
func TestRoundTrip(t *testing.T) {
	items, err := readAll(t, sample)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := bulk.NewWriter(&buf)
	for _, it := range items {
		switch {
		case it.Header != nil:
			err = w.Header(*it.Header)
		case it.Model != nil:
			err = w.Model(it.Model)
		case it.Twin != nil:
			err = w.Twin(*it.Twin)
		case it.Relationship != nil:
			err = w.Relationship(*it.Relationship)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	again, err := readAll(t, buf.String())
	if err != nil {
		t.Fatalf("re-read: %v\n%s", err, buf.String())
	}
	if len(again) != len(items) {
		t.Fatalf("re-read %d items, want %d", len(again), len(items))
	}
	for i := range items {
		a, b := items[i], again[i]
		a.Line, b.Line = 0, 0
		if diff := cmp.Diff(a, b, cmp.Comparer(func(x, y twin.Twin) bool { return x.ID == y.ID && cmp.Equal(x.Properties, y.Properties) })); diff != "" {
			t.Errorf("item %d (-first +second):\n%s", i, diff)
		}
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		want string
	}{
		{"no section", `{"$dtId":"a"}`, 1, "before any section"},
		{"not object", "{\"Section\":\"Twins\"}\n[1,2]", 2, "not a JSON object"},
		{"unknown section", `{"Section":"Jobs"}`, 1, `unknown section "Jobs"`},
		{"order", "{\"Section\":\"Twins\"}\n{\"Section\":\"Models\"}", 2, "Models after Twins"},
		{"twice", "{\"Section\":\"Models\"}\n{\"Section\":\"Models\"}", 2, "twice"},
		{"twin without id", "{\"Section\":\"Twins\"}\n{\"$metadata\":{\"$model\":\"dtmi:a:b;1\"}}", 2, "missing $dtId"},
		{"bad twin json", "{\"Section\":\"Twins\"}\n{\"$dtId\": }", 2, "twin"},
		{"rel missing target", "{\"Section\":\"Relationships\"}\n{\"$dtId\":\"a\",\"$relationshipId\":\"r\",\"$relationshipName\":\"n\"}", 2, "missing $targetId"},
		{"header unknown key", "{\"Section\":\"Header\"}\n{\"version\":1}", 2, "unknown field"},
		{"bad model json", "{\"Section\":\"Models\"}\n{\"@id\": x}", 2, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(t, tt.in)
			var le *bulk.LineError
			if !errors.As(err, &le) || !errors.Is(err, bulk.ErrFormat) {
				t.Fatalf("error = %v, want a *bulk.LineError wrapping ErrFormat", err)
			}
			if le.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v (line %d), want line %d containing %q", err, le.Line, tt.line, tt.want)
			}
		})
	}
}

func TestLongLine(t *testing.T) {
	in := "{\"Section\":\"Twins\"}\n{\"$dtId\":\"" + strings.Repeat("x", bulk.MaxLineBytes) + "\"}\n"
	_, err := readAll(t, in)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error = %v, want a line-2 length error", err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(sample)
	f.Add("{\"Section\":\"Relationships\"}\n{\"$sourceId\":\"a\",\"$dtId\":\"b\"}")
	f.Add("\xef\xbb\xbf{\"Section\":\"Models\"}\n{}")
	f.Fuzz(func(t *testing.T, in string) {
		r := bulk.NewReader(strings.NewReader(in))
		for i := 0; i < 10000; i++ {
			it, err := r.Next()
			if err != nil {
				return
			}
			n := 0
			for _, set := range []bool{it.Header != nil, it.Model != nil, it.Twin != nil, it.Relationship != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("item with %d payloads: %+v", n, it)
			}
		}
	})
}

func ExampleReader() {
	r := bulk.NewReader(strings.NewReader(sample))
	for {
		it, err := r.Next()
		if err != nil {
			break
		}
		fmt.Println(it.Line, it.Section)
	}
	// Output:
	// 2 Header
	// 4 Models
	// 6 Twins
	// 7 Twins
	// 9 Relationships
}
