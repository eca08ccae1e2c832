package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Reading is a decoded payload: a value, its source time (zero when the
// payload has none) and the unit it came in ("" when unknown).
type Reading struct {
	Value any
	Time  time.Time
	Unit  string
}

// DecodePayload reads a value (at valuePath, "" for the whole payload),
// a source time (at timePath) and a unit (at unitPath) from a JSON
// payload. Errors name the path and the reason.
func DecodePayload(b []byte, valuePath, timePath, unitPath string) (Reading, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return Reading{}, fmt.Errorf("payload: not JSON: %v", err)
	}
	if dec.More() {
		return Reading{}, fmt.Errorf("payload: trailing data after the JSON value")
	}
	var r Reading
	v, err := lookup(doc, valuePath)
	if err != nil {
		return Reading{}, err
	}
	if r.Value, err = plain(v, valuePath); err != nil {
		return Reading{}, err
	}
	// A time or unit the payload does not carry is no error: the arrival
	// time and the mapping's unit stand in.
	if tv, err := lookup(doc, timePath); timePath != "" && err == nil {
		if r.Time, err = sourceTime(tv, timePath); err != nil {
			return Reading{}, err
		}
	}
	if uv, err := lookup(doc, unitPath); unitPath != "" && err == nil {
		u, ok := uv.(string)
		if !ok {
			return Reading{}, fmt.Errorf("payload %s: the unit must be a string, got %s", unitPath, kindOf(uv))
		}
		r.Unit = u
	}
	return r, nil
}

func lookup(doc any, path string) (any, error) {
	if path == "" {
		return doc, nil
	}
	cur := doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("payload %s: %q is looked up in a %s, not an object", path, k, kindOf(cur))
		}
		if cur, ok = m[k]; !ok {
			return nil, fmt.Errorf("payload %s: no member %q", path, k)
		}
	}
	return cur, nil
}

// plain turns a decoded value into what the pipeline takes: float64 for
// numbers, bool, string; objects and arrays are refused (a mapping names
// one value).
func plain(v any, path string) (any, error) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("payload %s: %s is not a finite number", name(path), x)
		}
		return f, nil
	case bool, string:
		return x, nil
	case nil:
		return nil, fmt.Errorf("payload %s: the value is null", name(path))
	default:
		return nil, fmt.Errorf("payload %s: the value must be a number, boolean or string, got %s", name(path), kindOf(v))
	}
}

func sourceTime(v any, path string) (time.Time, error) {
	switch x := v.(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return time.Time{}, fmt.Errorf("payload %s: %q is not an RFC 3339 time", path, x)
		}
		return t, nil
	case json.Number:
		ms, err := x.Float64()
		if err != nil || ms < 0 || ms > 1e15 || math.IsNaN(ms) {
			return time.Time{}, fmt.Errorf("payload %s: %s is not Unix milliseconds", path, x)
		}
		return time.UnixMilli(int64(ms)).UTC(), nil
	default:
		return time.Time{}, fmt.Errorf("payload %s: a time must be an RFC 3339 string or Unix milliseconds, got %s", path, kindOf(v))
	}
}

func name(path string) string {
	if path == "" {
		return "(whole payload)"
	}
	return path
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case json.Number, float64:
		return "number"
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
