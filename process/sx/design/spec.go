package design

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// JSONSpec is the JSON specification of `lodestone sx design`
// (docs/formats/sx-design.md). Every field is required.
type JSONSpec struct {
	Beta          *float64 `json:"beta"`
	FeedFractionA *float64 `json:"feed_fraction_A"`
	PurityA       *float64 `json:"purity_A"`
	PurityB       *float64 `json:"purity_B"`
	FeedPhase     *string  `json:"feed_phase"`
}

// ParseSpec decodes a JSONSpec strictly and returns the Spec: unknown
// fields, missing fields, values of the wrong type and trailing data are
// *FieldError values naming the field. Values are checked by Spec.Validate.
func ParseSpec(data []byte) (Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var js JSONSpec
	if err := dec.Decode(&js); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Spec{}, &FieldError{te.Field, fmt.Sprintf("cannot use a JSON %s here (want %v)", te.Value, te.Type)}
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return Spec{}, &FieldError{strings.Trim(f, `"`), "unknown field"}
		}
		return Spec{}, &FieldError{"spec", fmt.Sprintf("invalid JSON: %v", err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Spec{}, &FieldError{"spec", "trailing data after the JSON object"}
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"beta", js.Beta != nil}, {"feed_fraction_A", js.FeedFractionA != nil}, {"purity_A", js.PurityA != nil},
		{"purity_B", js.PurityB != nil}, {"feed_phase", js.FeedPhase != nil}} {
		if !f.set {
			return Spec{}, &FieldError{f.name, "missing"}
		}
	}
	s := Spec{Beta: *js.Beta, FeedFractionA: *js.FeedFractionA, PurityA: *js.PurityA, PurityB: *js.PurityB}
	switch *js.FeedPhase {
	case "aqueous":
		s.Feed = AqueousFeed
	case "organic":
		s.Feed = OrganicFeed
	default:
		return Spec{}, &FieldError{"feed_phase", fmt.Sprintf("%q is neither \"aqueous\" nor \"organic\"", *js.FeedPhase)}
	}
	return s, s.Validate()
}

// Output is the JSON result of `lodestone sx design`
// (docs/formats/sx-design.md). Flows are mol of rare earth per mol fed.
type Output struct {
	Regime      string      `json:"regime"`
	FAPrime     float64     `json:"fA_prime"`
	S           float64     `json:"S"`
	W           float64     `json:"W"`
	SMin        float64     `json:"S_min"`
	WMin        float64     `json:"W_min"`
	EExtraction float64     `json:"E_extraction"`
	EScrub      float64     `json:"E_scrub"`
	A           float64     `json:"a"`
	B           float64     `json:"b"`
	N           int         `json:"n_extraction"`
	M           int         `json:"m_scrub"`
	NExact      float64     `json:"n_extraction_exact"`
	MExact      float64     `json:"m_scrub_exact"`
	NMin        float64     `json:"N_min"`
	FeedStage   int         `json:"feed_stage"`
	Check       OutputCheck `json:"check"`
}

// OutputCheck is the rigorous check of a design.
type OutputCheck struct {
	Model     string        `json:"model"`
	Converged bool          `json:"converged"`
	Closure   float64       `json:"closure"`
	Stages    OutputStages  `json:"at_design_stages"`
	Required  *OutputStages `json:"required"`
	Note      string        `json:"note,omitempty"`
}

// OutputStages is the rigorous result at one pair of stage counts.
type OutputStages struct {
	N         int     `json:"n_extraction"`
	M         int     `json:"m_scrub"`
	PurityA   float64 `json:"purity_A"`
	PurityB   float64 `json:"purity_B"`
	RecoveryA float64 `json:"recovery_A"`
	RecoveryB float64 `json:"recovery_B"`
	FAPrime   float64 `json:"fA_prime"`
	Meets     bool    `json:"meets_targets"`
}

func stagesOut(c *Check) OutputStages {
	return OutputStages{N: c.N, M: c.M, PurityA: c.PurityA, PurityB: c.PurityB,
		RecoveryA: c.RecoveryA, RecoveryB: c.RecoveryB, FAPrime: c.FAPrime, Meets: c.Meets}
}

// CheckModel names the equilibrium model of the rigorous check.
const CheckModel = "constant-beta-by-section"

// Run designs the cascade of s and checks it with the rigorous solver: at
// the design's stage counts, and by searching the fewest stages that meet
// the targets at the design's flows (Required, up to 500 stages; when
// none do, Required is nil and Note says why).
func Run(ctx context.Context, s Spec) (*Output, error) {
	d, err := New(s)
	if err != nil {
		return nil, err
	}
	c, err := d.Check(ctx)
	if err != nil {
		return nil, err
	}
	o := &Output{
		Regime: d.Regime.String(), FAPrime: d.FAPrime, S: d.S, W: d.W, SMin: d.SMin, WMin: d.WMin,
		EExtraction: d.EExtraction, EScrub: d.EScrub, A: d.A, B: d.B, N: d.N, M: d.M,
		NExact: d.NExact, MExact: d.MExact, NMin: d.NMin, FeedStage: d.N,
		Check: OutputCheck{Model: CheckModel, Converged: true, Closure: c.Closure, Stages: stagesOut(c)},
	}
	if s.Feed == OrganicFeed {
		o.FeedStage = d.N + 1
	}
	r, err := d.Required(ctx, 0)
	switch {
	case err == nil:
		rs := stagesOut(r)
		o.Check.Required = &rs
	case errors.Is(err, ErrInfeasible):
		o.Check.Note = err.Error()
	default:
		return nil, err
	}
	return o, nil
}
