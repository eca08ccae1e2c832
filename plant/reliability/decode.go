package reliability

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The JSON specs of the CLI and the API are decoded here, strictly
// (unknown fields are refused, so a misspelt field is not silently
// ignored), and validated; errors name the field.

// DecodeReplaceSpec decodes and validates a `plant reliability replace`
// SPEC.json: {"shape", "scale", "cost_preventive", "cost_failure"}.
func DecodeReplaceSpec(data []byte) (*ReplaceSpec, error) {
	var s ReplaceSpec
	if err := decodeStrict(data, &s, []string{"shape", "scale", "cost_preventive", "cost_failure"}); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// DecodeBlock decodes a block diagram (see Block); SystemAvailability
// validates it.
func DecodeBlock(data []byte) (*Block, error) {
	var b Block
	if err := decodeStrict(data, &b, []string{"kind"}); err != nil {
		return nil, err
	}
	return &b, nil
}

// DecodePlanSpec decodes a maintenance plan request; Plan validates it.
func DecodePlanSpec(data []byte) (*PlanSpec, error) {
	var s PlanSpec
	if err := decodeStrict(data, &s, []string{"horizon", "items"}); err != nil {
		return nil, err
	}
	return &s, nil
}

// DecodeOEE decodes an OEE record; OEE validates it.
func DecodeOEE(data []byte) (*OEEInput, error) {
	var s OEEInput
	if err := decodeStrict(data, &s, []string{"planned_time", "run_time", "nameplate_rate", "output", "in_spec_output"}); err != nil {
		return nil, err
	}
	return &s, nil
}

// decodeStrict decodes one JSON object into v, refusing unknown fields and
// trailing data, and checks that the required top-level fields are present
// (a missing number would otherwise read as 0 and fail later with a less
// helpful message).
func decodeStrict(data []byte, v any, required []string) error {
	var present map[string]json.RawMessage
	if err := json.Unmarshal(data, &present); err != nil {
		return jsonError(err)
	}
	for _, f := range required {
		if _, ok := present[f]; !ok {
			return &DataError{Field: f, Reason: "missing"}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return &DataError{Field: "body", Reason: "trailing data after the JSON object"}
	}
	return nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return &DataError{Field: te.Field, Reason: fmt.Sprintf("a JSON %s cannot be a %s", te.Value, te.Type)}
	case errors.As(err, &se):
		return &DataError{Field: "body", Reason: fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, err)}
	}
	// "json: unknown field \"x\"" and the like.
	return &DataError{Field: "body", Reason: err.Error()}
}
