package connector

import "testing"

// TestTemplateMatch: placeholders take whole non-empty levels; the level
// count must match.
func TestTemplateMatch(t *testing.T) {
	for _, tt := range []struct {
		tmpl, topic string
		ok          bool
		want        holes
	}{
		{"plant/{twin}/{telemetry}", "plant/p1/flow", true, holes{twin: "p1", telemetry: "flow"}},
		{"plant/{twin}/sp", "plant/p1/sp", true, holes{twin: "p1"}},
		{"plant/{twin}/sp", "plant/p1/sv", false, holes{}},
		{"plant/{twin}/{property}", "plant/p1", false, holes{}},
		{"plant/{twin}/{property}", "plant/p1/x/y", false, holes{}},
		{"plant/{twin}/{property}", "plant//x", false, holes{}},
		{"plant/{twin}/{property}", "plant/p1/", false, holes{}},
		{"a/{component}/{twin}/{telemetry}", "a/c/t/v", true, holes{twin: "t", telemetry: "v", component: "c"}},
		{"a//b", "a//b", true, holes{}},
		{"x", "x", true, holes{}},
		{"x", "y", false, holes{}},
	} {
		tp, err := parseTemplate(tt.tmpl)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := tp.match(tt.topic)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s on %s: %+v %v, want %+v %v", tt.tmpl, tt.topic, got, ok, tt.want, tt.ok)
		}
	}
	tp, _ := parseTemplate("plant/{twin}/{telemetry}")
	if n := testing.AllocsPerRun(100, func() { tp.match("plant/p1/flow") }); n != 0 {
		t.Errorf("match allocates %v times", n)
	}
}
