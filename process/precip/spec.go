package precip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// wireSpec mirrors Spec with pointers, so that missing required fields can
// be told from zero values.
type wireSpec struct {
	FlowLPerH            *float64                     `json:"flow_L_per_h"`
	Temperature          *float64                     `json:"temperature_K"`
	MgPerL               map[string]float64           `json:"mg_per_L"`
	Model                *Model                       `json:"model"`
	Isotherm             map[string]wireIsothermParam `json:"isotherm"`
	FixedSplit           map[string]float64           `json:"fixed_split"`
	Ksp                  *wireKspSpec                 `json:"ksp"`
	OxalicAcidEfficiency *float64                     `json:"oxalic_acid_efficiency"`
	AtomicWeights        map[string]float64           `json:"atomic_weights_g_per_mol"`
}

type wireIsothermParam struct {
	E      *float64 `json:"E_D"`
	N      *float64 `json:"N_D"`
	Source string   `json:"source"`
	Fixed  float64  `json:"fixed_conversion"`
}

type wireKspSpec struct {
	PKa1     *float64                `json:"pKa1"`
	PKa2     *float64                `json:"pKa2"`
	Elements map[string]wireKspParam `json:"elements"`
}

type wireKspParam struct {
	Log10Ksp *float64 `json:"log10_Ksp"`
	DeltaH   float64  `json:"dH_J_per_mol"`
	TRef     float64  `json:"T_ref_K"`
	Source   *string  `json:"source"`
}

// ParseSpec decodes a JSON precipitation spec strictly: unknown fields,
// missing required fields, trailing data and invalid values are errors that
// name the field. It does not read files; pass it the bytes.
func ParseSpec(data []byte) (*Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w wireSpec
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("precip: spec: %w", jsonFieldError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("precip: spec: trailing data after the JSON object")
	}
	switch {
	case w.FlowLPerH == nil:
		return nil, specErr("flow_L_per_h", "required")
	case w.Temperature == nil:
		return nil, specErr("temperature_K", "required")
	case w.MgPerL == nil:
		return nil, specErr("mg_per_L", "required")
	case w.Model == nil:
		return nil, specErr("model", "required (isotherm, fixed-split or ksp)")
	}
	s := &Spec{
		FlowLPerH:     *w.FlowLPerH,
		Temperature:   *w.Temperature,
		MgPerL:        w.MgPerL,
		Model:         *w.Model,
		FixedSplit:    w.FixedSplit,
		AtomicWeights: w.AtomicWeights,
	}
	if w.OxalicAcidEfficiency != nil {
		if *w.OxalicAcidEfficiency == 0 {
			return nil, specErr("oxalic_acid_efficiency", "must be in (0, 1], got 0")
		}
		s.OxalicAcidEfficiency = *w.OxalicAcidEfficiency
	}
	if w.Isotherm != nil {
		s.Isotherm = make(map[string]IsothermParam, len(w.Isotherm))
		for _, k := range sortedKeys(w.Isotherm) {
			p := w.Isotherm[k]
			if p.E == nil {
				return nil, specErr("isotherm."+k+".E_D", "required")
			}
			if p.N == nil {
				return nil, specErr("isotherm."+k+".N_D", "required")
			}
			s.Isotherm[k] = IsothermParam{E: *p.E, N: *p.N, Source: p.Source, Fixed: p.Fixed}
		}
	}
	if w.Ksp != nil {
		k := &KspSpec{Elements: map[string]KspParam{}}
		if w.Ksp.PKa1 != nil {
			if *w.Ksp.PKa1 <= 0 {
				return nil, specErr("ksp.pKa1", "must be positive, got %v", *w.Ksp.PKa1)
			}
			k.PKa1 = *w.Ksp.PKa1
		}
		if w.Ksp.PKa2 != nil {
			if *w.Ksp.PKa2 <= 0 {
				return nil, specErr("ksp.pKa2", "must be positive, got %v", *w.Ksp.PKa2)
			}
			k.PKa2 = *w.Ksp.PKa2
		}
		if w.Ksp.Elements == nil {
			return nil, specErr("ksp.elements", "required")
		}
		for _, sym := range sortedKeys(w.Ksp.Elements) {
			p := w.Ksp.Elements[sym]
			f := "ksp.elements." + sym
			if p.Log10Ksp == nil {
				return nil, specErr(f+".log10_Ksp", "required")
			}
			if p.Source == nil {
				return nil, specErr(f+".source", "required: say where the solubility product comes from")
			}
			k.Elements[sym] = KspParam{Log10Ksp: *p.Log10Ksp, DeltaH: p.DeltaH, TRef: p.TRef, Source: *p.Source}
		}
		s.Ksp = k
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// jsonFieldError rewrites encoding/json errors so that they name the field
// in the spec's own terms.
func jsonFieldError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s: cannot use JSON %s as %s", te.Field, te.Value, te.Type)
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return fmt.Errorf("unknown field %s", strings.TrimPrefix(msg, "json: unknown field "))
	}
	return err
}
