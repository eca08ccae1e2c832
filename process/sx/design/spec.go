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
	// Components and Cut give a multi-component cut instead of beta and
	// feed_fraction_A.
	Components []JSONComponent `json:"components,omitempty"`
	Cut        *int            `json:"cut,omitempty"`
}

// JSONComponent is one component of a multi-component cut.
type JSONComponent struct {
	Name         string   `json:"name"`
	FeedFraction *float64 `json:"feed_fraction"`
	D            *float64 `json:"D"`
}

// ParseSpec decodes a JSONSpec of a binary split strictly and returns the
// Spec: unknown fields, missing fields, values of the wrong type and
// trailing data are *FieldError values naming the field. Values are
// checked by Spec.Validate.
func ParseSpec(data []byte) (Spec, error) {
	s, cut, err := ParseRequest(data)
	if err != nil {
		return Spec{}, err
	}
	if cut != nil {
		return Spec{}, &FieldError{"components", "a multi-component cut; use ParseRequest"}
	}
	return s, nil
}

// ParseRequest decodes a JSONSpec strictly: a binary split (beta and
// feed_fraction_A), or a multi-component cut (components and cut) returned
// as a non-nil *CutSpec.
func ParseRequest(data []byte) (Spec, *CutSpec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var js JSONSpec
	if err := dec.Decode(&js); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Spec{}, nil, &FieldError{te.Field, fmt.Sprintf("cannot use a JSON %s here (want %v)", te.Value, te.Type)}
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return Spec{}, nil, &FieldError{strings.Trim(f, `"`), "unknown field"}
		}
		return Spec{}, nil, &FieldError{"spec", fmt.Sprintf("invalid JSON: %v", err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Spec{}, nil, &FieldError{"spec", "trailing data after the JSON object"}
	}
	isCut := js.Components != nil || js.Cut != nil
	if isCut {
		if js.Beta != nil {
			return Spec{}, nil, &FieldError{"beta", "not used with components (the key pair's D give β)"}
		}
		if js.FeedFractionA != nil {
			return Spec{}, nil, &FieldError{"feed_fraction_A", "not used with components"}
		}
	}
	required := []struct {
		name string
		set  bool
	}{{"purity_A", js.PurityA != nil}, {"purity_B", js.PurityB != nil}, {"feed_phase", js.FeedPhase != nil}}
	if isCut {
		required = append(required, struct {
			name string
			set  bool
		}{"components", js.Components != nil}, struct {
			name string
			set  bool
		}{"cut", js.Cut != nil})
	} else {
		required = append([]struct {
			name string
			set  bool
		}{{"beta", js.Beta != nil}, {"feed_fraction_A", js.FeedFractionA != nil}}, required...)
	}
	for _, f := range required {
		if !f.set {
			return Spec{}, nil, &FieldError{f.name, "missing"}
		}
	}
	var feed FeedPhase
	switch *js.FeedPhase {
	case "aqueous":
		feed = AqueousFeed
	case "organic":
		feed = OrganicFeed
	default:
		return Spec{}, nil, &FieldError{"feed_phase", fmt.Sprintf("%q is neither \"aqueous\" nor \"organic\"", *js.FeedPhase)}
	}
	if isCut {
		cs := &CutSpec{Cut: *js.Cut, PurityA: *js.PurityA, PurityB: *js.PurityB, Feed: feed}
		for i, c := range js.Components {
			f := fmt.Sprintf("components[%d]", i)
			if c.FeedFraction == nil {
				return Spec{}, nil, &FieldError{f + ".feed_fraction", "missing"}
			}
			if c.D == nil {
				return Spec{}, nil, &FieldError{f + ".D", "missing"}
			}
			cs.Components = append(cs.Components, CutComponent{Name: c.Name, FeedFraction: *c.FeedFraction, D: *c.D})
		}
		return Spec{}, cs, nil
	}
	s := Spec{Beta: *js.Beta, FeedFractionA: *js.FeedFractionA, PurityA: *js.PurityA, PurityB: *js.PurityB, Feed: feed}
	return s, nil, s.Validate()
}

// Output is the JSON result of `lodestone sx design`
// (docs/formats/sx-design.md). Flows are mol of rare earth per mol fed.
type Output struct {
	Regime      string  `json:"regime"`
	FAPrime     float64 `json:"fA_prime"`
	S           float64 `json:"S"`
	W           float64 `json:"W"`
	SMin        float64 `json:"S_min"`
	WMin        float64 `json:"W_min"`
	EExtraction float64 `json:"E_extraction"`
	EScrub      float64 `json:"E_scrub"`
	A           float64 `json:"a"`
	B           float64 `json:"b"`
	N           int     `json:"n_extraction"`
	M           int     `json:"m_scrub"`
	NExact      float64 `json:"n_extraction_exact"`
	MExact      float64 `json:"m_scrub_exact"`
	// NKremser and MKremser are the stage counts of the exact closed form
	// of Xu's model (Design.KremserStages): Xu's formulas without their
	// leading-order approximation; 0 when no count up to 500 stages meets
	// the targets.
	NKremser  int         `json:"n_extraction_kremser"`
	MKremser  int         `json:"m_scrub_kremser"`
	NMin      float64     `json:"N_min"`
	FeedStage int         `json:"feed_stage"`
	Check     OutputCheck `json:"check"`
	// Cut is set for a multi-component cut.
	Cut *OutputCut `json:"cut,omitempty"`

	spec Spec
}

// OutputCut describes a multi-component cut: the key pair, the binary
// separation factor used, and each component's group and recovery into
// its group's product in the rigorous check at the design's stages.
type OutputCut struct {
	KeyA       string            `json:"key_A"`
	KeyB       string            `json:"key_B"`
	Beta       float64           `json:"beta"`
	FA         float64           `json:"feed_fraction_A"`
	Components []OutputComponent `json:"components"`
}

// OutputComponent is one component of a cut.
type OutputComponent struct {
	Name         string  `json:"name"`
	FeedFraction float64 `json:"feed_fraction"`
	D            float64 `json:"D"`
	Group        string  `json:"group"`
	Recovery     float64 `json:"recovery"`
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
		spec:  s,
	}
	if s.Feed == OrganicFeed {
		o.FeedStage = d.N + 1
	}
	if n, m, err := d.KremserStages(0); err == nil {
		o.NKremser, o.MKremser = n, m
	}
	return o, finish(ctx, o, d)
}

// finish adds the fewest-stages search to o.
func finish(ctx context.Context, o *Output, d *Design) error {
	r, err := d.Required(ctx, 0)
	switch {
	case err == nil:
		rs := stagesOut(r)
		o.Check.Required = &rs
	case errors.Is(err, ErrInfeasible):
		o.Check.Note = err.Error()
	default:
		return err
	}
	return nil
}

// RunCut designs the cut s by its key pair and checks it: the binary
// fields as Run (the check and the search with the key pair only), and
// the cut's components with their recoveries in the rigorous
// multi-component check at the design's stages.
func RunCut(ctx context.Context, s CutSpec) (*Output, error) {
	cd, err := NewCut(s)
	if err != nil {
		return nil, err
	}
	o, err := Run(ctx, cd.Spec)
	if err != nil {
		return nil, err
	}
	c, err := cd.CheckAt(ctx, cd.N, cd.M)
	if err != nil {
		return nil, err
	}
	oc := &OutputCut{KeyA: cd.KeyA, KeyB: cd.KeyB, Beta: cd.Spec.Beta, FA: cd.Spec.FeedFractionA}
	for i, comp := range cd.Components {
		g := "A"
		if i >= cd.Cut {
			g = "B"
		}
		oc.Components = append(oc.Components, OutputComponent{Name: comp.Name, FeedFraction: comp.FeedFraction, D: comp.D, Group: g, Recovery: c.Recovery[i]})
	}
	o.Cut = oc
	o.Check.Model = CheckModel
	o.Check.Stages = OutputStages{N: c.N, M: c.M, PurityA: c.PurityA, PurityB: c.PurityB,
		RecoveryA: c.RecoveryA, RecoveryB: c.RecoveryB, FAPrime: c.FAPrime, Meets: c.Meets}
	o.Check.Closure = c.Closure
	return o, nil
}

// Spec returns the binary spec the output was designed for (for a cut,
// the key pair's β and group A's feed fraction).
func (o *Output) Spec() Spec {
	return o.spec
}
