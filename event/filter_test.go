package event_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/event"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in      string
		want    event.Filter
		wantErr string
	}{
		{in: "", want: event.Filter{}},
		{in: "type=lodestone.twin.*&subject=mine-*", want: event.Filter{Types: []string{"lodestone.twin.*"}, Subjects: []string{"mine-*"}}},
		{in: "type=a&type=b&source=lodestone://x", want: event.Filter{Types: []string{"a", "b"}, Sources: []string{"lodestone://x"}}},
		{in: "subject=a%26b%3Dc%25", want: event.Filter{Subjects: []string{"a&b=c%"}}},
		{in: "subject=mine+1", want: event.Filter{Subjects: []string{"mine+1"}}},
		{in: "type=lodestone.telemetry&dataschema=dtmi:ree:Mine;*", want: event.Filter{Types: []string{"lodestone.telemetry"}, DataSchemas: []string{"dtmi:ree:Mine;*"}}},
		{in: "type", wantErr: "not key=pattern"},
		{in: "type=", wantErr: "empty pattern"},
		{in: "type=a&", wantErr: "not key=pattern"},
		{in: "kind=a", wantErr: "unknown key"},
		{in: "type=%zz", wantErr: "invalid URL escape"},
		{in: "type=" + strings.Repeat("a", 1025), wantErr: "longer than"},
		{in: strings.Repeat("type=a&", 64) + "type=b", wantErr: "more than 64"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := event.ParseFilter(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseFilter(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFilter(%q) = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseFilter(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "lodestone.twin.created", true},
		{"lodestone.twin.*", "lodestone.twin.created", true},
		{"lodestone.twin.*", "lodestone.twin.", true},
		{"lodestone.twin.*", "lodestone.relationship.created", false},
		{"lodestone.*.created", "lodestone.relationship.created", true},
		{"mine-?", "mine-1", true},
		{"mine-?", "mine-12", false},
		{"mine-?", "mine-é", true},
		{"*-*-*", "a-b-c", true},
		{"*-*-*", "a-b", false},
		{"a*a*a*a*b", strings.Repeat("a", 100), false},
		{"*b", "ab", true},
		{"a*", "ba", false},
		{"?*?", "ab", true},
		{"?*?", "a", false},
	}
	for _, tt := range tests {
		if got := event.Glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	e := event.Event{ID: "1", Source: "lodestone://a", Type: event.TypeTwinUpdated, Subject: "mine-7", DataSchema: "dtmi:ree:Mine;1"}
	tests := []struct {
		filter string
		want   bool
	}{
		{"", true},
		{"type=lodestone.twin.*", true},
		{"type=lodestone.twin.*&subject=plant-*", false},
		{"type=x&type=lodestone.twin.updated", true},
		{"source=lodestone://b", false},
		{"source=lodestone://*&subject=mine-?", true},
		{"dataschema=dtmi:ree:Mine;*", true},
		{"dataschema=dtmi:ree:Plant;*", false},
	}
	for _, tt := range tests {
		f, err := event.ParseFilter(tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(&e); got != tt.want {
			t.Errorf("ParseFilter(%q).Match = %v, want %v", tt.filter, got, tt.want)
		}
	}
}

// FuzzParseFilter checks that ParseFilter never panics, and that an accepted
// filter prints to a string that parses back to the same filter.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"", "type=lodestone.twin.*&subject=mine-*", "type=a&type=b&source=x", "subject=a%26b",
		"type", "type=", "=", "&", "type=%", "subject=é?*", "source=%00", "dataschema=dtmi:a;1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := event.ParseFilter(s)
		if err != nil {
			return
		}
		out := flt.String()
		back, err := event.ParseFilter(out)
		if err != nil {
			t.Fatalf("ParseFilter(%q) = %v; String gave %q from %q", out, err, out, s)
		}
		if diff := cmp.Diff(flt, back, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip of %q via %q (-first +second):\n%s", s, out, diff)
		}
		// Matching must terminate and not panic on any input.
		flt.Match(&event.Event{Type: s, Source: s, Subject: s, DataSchema: s})
	})
}
