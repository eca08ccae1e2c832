package flowsheet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// requiredPaths lists the fields a JSON spec must give (dotted paths).
//
//lodestone:readonly
var requiredPaths = []string{
	"media", "feed", "feed.flow_L_per_h", "feed.mg_per_L",
	"equilibrium", "equilibrium.model",
	"load", "load.extraction_stages", "load.scrub_stages", "load.organic_flow_L_per_h", "load.extractant_mol_per_L",
	"strip", "strip.stages", "strip.acid", "strip.acid.flow_L_per_h", "strip.acid.mg_per_L", "strip.filtrate_recycle",
	"organic_recycle",
	"precipitation", "precipitation.model", "precipitation.oxalic_acid_mg_per_L", "precipitation.temperature_K",
	"filtration", "filtration.solids_recovery", "filtration.cake_moisture_kg_per_kg",
	"calcination", "calcination.feed_temperature_K", "calcination.gas_in", "calcination.gas_in.mol_per_s",
	"calcination.gas_in.temperature_K", "calcination.gas_in.pressure_Pa", "calcination.gas_in.mole_fractions",
	"calcination.product_temperature_K", "calcination.oxide_recovery", "calcination.oxides",
}

// ParseSpec decodes a JSON flowsheet spec strictly: unknown fields at any
// depth, missing required fields, trailing data and invalid values are
// errors that name the field. It does not read files; pass it the bytes.
func ParseSpec(data []byte) (*Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("flowsheet: spec: %w", jsonFieldError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("flowsheet: spec: trailing data after the JSON object")
	}
	var tree map[string]any
	if err := json.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("flowsheet: spec: %w", err)
	}
	paths := requiredPaths
	if has(tree, "load.scrub") {
		paths = append(paths[:len(paths):len(paths)], "load.scrub.flow_L_per_h", "load.scrub.mg_per_L")
	}
	for _, p := range paths {
		if !has(tree, p) {
			return nil, specErr(p, "required")
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// has reports whether the dotted path names a non-null value in tree.
func has(tree map[string]any, path string) bool {
	var cur any = tree
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		cur, ok = m[k]
		if !ok || cur == nil {
			return false
		}
	}
	return true
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
