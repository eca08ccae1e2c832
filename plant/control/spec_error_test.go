package control_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"lodestone/plant/control"
	"lodestone/process/sx/dynamic"
)

// TestSpecErrorTypes checks that a bad field of the control spec is a
// *control.SpecError, and a bad field of its cascade is a wrapped
// *dynamic.SpecError that errors.As does not take for a control one
// (callers such as the soft-sensor config rely on the difference).
func TestSpecErrorTypes(t *testing.T) {
	data, err := os.ReadFile("testdata/ndpr-upset.json")
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	var cascade map[string]json.RawMessage
	if err := json.Unmarshal(top["cascade"], &cascade); err != nil {
		t.Fatal(err)
	}
	cascade["holdup"] = json.RawMessage(`{"mixer_L": "x"}`)
	top["cascade"], _ = json.Marshal(cascade)
	bad, _ := json.Marshal(top)
	s, err := control.ParseSpec(bad)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Case()
	var ce *control.SpecError
	var de *dynamic.SpecError
	if errors.As(err, &ce) || !errors.As(err, &de) || de.Field != "holdup.mixer_L" {
		t.Errorf("cascade error %v: control %v, dynamic %v", err, ce, de)
	}
	if want := "control: spec: cascade: dynamic: spec: holdup.mixer_L: cannot use a JSON string here (want float64)"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}

	_, err = control.ParseSpec([]byte(`{"sample_h": "1"}`))
	if !errors.As(err, &ce) || errors.As(err, &de) || ce.Field != "sample_h" {
		t.Errorf("control error %v: control %v, dynamic %v", err, ce, de)
	}
}
