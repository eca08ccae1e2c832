package inspect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// Spec is the input of `lodestone plant inspect SPEC.json` and POST
// /plant/inspect: rules, readings and the equipment a round visits.
type Spec struct {
	Rules     []Rule      `json:"rules"`
	Samples   []Sample    `json:"samples"`
	Equipment []Equipment `json:"equipment"`
	// FromH and ToH bound the round; zero ToH means to the last sample.
	FromH float64 `json:"from_h"`
	ToH   float64 `json:"to_h"`
}

// Output is the findings and the round.
type Output struct {
	Findings []Finding `json:"findings"`
	Round    Round     `json:"round"`
}

// ParseSpec decodes a spec; errors name the field.
func ParseSpec(b []byte) (*Spec, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("inspect spec: %v", err)
	}
	if len(s.Rules) == 0 {
		return nil, fmt.Errorf("rules: at least one rule is required")
	}
	for i, smp := range s.Samples {
		if math.IsNaN(smp.T) || math.IsInf(smp.T, 0) || smp.T < 0 {
			return nil, fmt.Errorf("samples[%d].t_h: %v is not a non-negative time", i, smp.T)
		}
		if i > 0 && smp.T < s.Samples[i-1].T {
			return nil, fmt.Errorf("samples[%d].t_h: %v is before the previous sample's %v; samples must be sorted by time", i, smp.T, s.Samples[i-1].T)
		}
		if smp.Tag == "" {
			return nil, fmt.Errorf("samples[%d].tag: required", i)
		}
	}
	for i, e := range s.Equipment {
		if e.ID == "" {
			return nil, fmt.Errorf("equipment[%d].id: required", i)
		}
	}
	if s.ToH < 0 || s.FromH < 0 || s.ToH > 0 && s.ToH < s.FromH {
		return nil, fmt.Errorf("to_h: the round [%v, %v) is not a forward interval", s.FromH, s.ToH)
	}
	return &s, nil
}

// Run runs the rules over the samples and makes the round.
func (s *Spec) Run() (*Output, error) {
	in, err := New(s.Rules)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	to := s.ToH
	for i, smp := range s.Samples {
		if _, err := in.Add(smp); err != nil {
			return nil, fmt.Errorf("samples[%d].%v", i, err)
		}
		seen[smp.Tag] = true
		if s.ToH == 0 {
			to = math.Nextafter(smp.T, math.Inf(1))
		}
	}
	out := &Output{Findings: in.Findings(), Round: MakeRound(s.Equipment, s.Rules, seen, in.Findings(), s.FromH, to)}
	if out.Findings == nil {
		out.Findings = []Finding{}
	}
	return out, nil
}
