package calcine

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
	FeedsMolPerH       map[string]float64    `json:"feeds_mol_per_h"`
	FeedTemperature    *float64              `json:"feed_temperature_K"`
	MoistureMolPerS    *float64              `json:"moisture_mol_per_s"`
	GasIn              *wireGas              `json:"gas_in"`
	ProductTemperature *float64              `json:"product_temperature_K"`
	OxideRecovery      *float64              `json:"oxide_recovery"`
	Oxides             *OxideMode            `json:"oxides"`
	RecoveryByElement  map[string]float64    `json:"oxide_recovery_by_element"`
	Thermo             map[string]wireThermo `json:"thermo"`
	AtomicWeights      map[string]float64    `json:"atomic_weights_g_per_mol"`
}

type wireGas struct {
	MolPerS       *float64           `json:"mol_per_s"`
	Temperature   *float64           `json:"temperature_K"`
	Pressure      *float64           `json:"pressure_Pa"`
	MoleFractions map[string]float64 `json:"mole_fractions"`
}

type wireThermo struct {
	OxalateDHf *float64 `json:"oxalate_dHf_J_per_mol"`
	OxalateCp0 *float64 `json:"oxalate_cp0_J_per_molK"`
	OxalateCp1 float64  `json:"oxalate_cp1_J_per_molK2"`
	OxideDHf   *float64 `json:"oxide_dHf_J_per_mol"`
	OxideCp0   *float64 `json:"oxide_cp0_J_per_molK"`
	OxideCp1   float64  `json:"oxide_cp1_J_per_molK2"`
	Source     *string  `json:"source"`
}

// ParseSpec decodes a JSON calcination spec strictly: unknown fields,
// missing required fields, trailing data and invalid values are errors that
// name the field. It does not read files; pass it the bytes.
func ParseSpec(data []byte) (*Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w wireSpec
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("calcine: spec: %w", jsonFieldError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("calcine: spec: trailing data after the JSON object")
	}
	req := []struct {
		name string
		ok   bool
	}{
		{"feeds_mol_per_h", w.FeedsMolPerH != nil},
		{"feed_temperature_K", w.FeedTemperature != nil},
		{"moisture_mol_per_s", w.MoistureMolPerS != nil},
		{"gas_in", w.GasIn != nil},
		{"product_temperature_K", w.ProductTemperature != nil},
		{"oxide_recovery", w.OxideRecovery != nil},
		{"oxides", w.Oxides != nil},
	}
	for _, r := range req {
		if !r.ok {
			return nil, specErr(r.name, "required")
		}
	}
	greq := []struct {
		name string
		ok   bool
	}{
		{"gas_in.mol_per_s", w.GasIn.MolPerS != nil},
		{"gas_in.temperature_K", w.GasIn.Temperature != nil},
		{"gas_in.pressure_Pa", w.GasIn.Pressure != nil},
		{"gas_in.mole_fractions", w.GasIn.MoleFractions != nil},
	}
	for _, r := range greq {
		if !r.ok {
			return nil, specErr(r.name, "required")
		}
	}
	s := &Spec{
		FeedsMolPerH:    w.FeedsMolPerH,
		FeedTemperature: *w.FeedTemperature,
		MoistureMolPerS: *w.MoistureMolPerS,
		GasIn: Gas{
			MolPerS: *w.GasIn.MolPerS, Temperature: *w.GasIn.Temperature,
			Pressure: *w.GasIn.Pressure, MoleFractions: w.GasIn.MoleFractions,
		},
		ProductTemperature: *w.ProductTemperature,
		OxideRecovery:      *w.OxideRecovery,
		Oxides:             *w.Oxides,
		RecoveryByElement:  w.RecoveryByElement,
		AtomicWeights:      w.AtomicWeights,
	}
	if w.Thermo != nil {
		s.Thermo = make(map[string]Thermo, len(w.Thermo))
		for _, k := range sortedKeys(w.Thermo) {
			t := w.Thermo[k]
			f := "thermo." + k + "."
			for _, r := range []struct {
				name string
				ok   bool
			}{
				{"oxalate_dHf_J_per_mol", t.OxalateDHf != nil},
				{"oxalate_cp0_J_per_molK", t.OxalateCp0 != nil},
				{"oxide_dHf_J_per_mol", t.OxideDHf != nil},
				{"oxide_cp0_J_per_molK", t.OxideCp0 != nil},
				{"source", t.Source != nil && *t.Source != ""},
			} {
				if !r.ok {
					return nil, specErr(f+r.name, "required")
				}
			}
			s.Thermo[k] = Thermo{
				OxalateDHf: *t.OxalateDHf, OxalateCp0: *t.OxalateCp0, OxalateCp1: t.OxalateCp1,
				OxideDHf: *t.OxideDHf, OxideCp0: *t.OxideCp0, OxideCp1: t.OxideCp1, Source: *t.Source,
			}
		}
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
