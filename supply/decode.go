package supply

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// FieldError reports bad input at a JSON path such as "arcs[3].to".
type FieldError struct {
	Field string // path of the offending field, e.g. "nodes[2].capacity_per_period"
	Msg   string // what is wrong, e.g. "must be > 0"
}

// Error returns "supply: FIELD: MSG".
func (e *FieldError) Error() string {
	if e.Field == "" {
		return "supply: " + e.Msg
	}
	return "supply: " + e.Field + ": " + e.Msg
}

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// decodeStrict decodes JSON data into v, which must point to a struct. Unlike
// encoding/json it rejects unknown fields and missing required fields (tag
// option `req:"true"`) with an error naming the field's path, and rejects
// duplicate keys.
func decodeStrict(data []byte, v any) error {
	var raw json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return &FieldError{Msg: "invalid JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	if dec.More() {
		return &FieldError{Msg: "invalid JSON: data after the top-level value"}
	}
	return decodeValue(raw, reflect.ValueOf(v).Elem(), "")
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Float64, reflect.Int, reflect.Int64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	}
	return t.String()
}

// decodeValue decodes raw into v strictly: unknown fields, wrong types and
// missing required fields (tag req:"true") are errors naming path.
func decodeValue(raw json.RawMessage, v reflect.Value, path string) error {
	raw = bytes.TrimSpace(raw)
	if v.Kind() == reflect.Pointer {
		if string(raw) == "null" {
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decodeValue(raw, v.Elem(), path)
	}
	if u, ok := v.Addr().Interface().(json.Unmarshaler); ok {
		if err := u.UnmarshalJSON(raw); err != nil {
			return fieldErr(path, "%v", strings.TrimPrefix(err.Error(), "supply: "))
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		return decodeStruct(raw, v, path)
	case reflect.Slice:
		return decodeSlice(raw, v, path)
	case reflect.Map:
		return decodeMap(raw, v, path)
	}
	return decodeScalar(raw, v, path)
}

// decodeStruct decodes a JSON object into the struct v by its json tags; of
// several unknown fields, the first in sort order is reported.
func decodeStruct(raw json.RawMessage, v reflect.Value, path string) error {
	if len(raw) == 0 || raw[0] != '{' {
		return fieldErr(path, "must be %s", typeName(v.Type()))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fieldErr(path, "must be %s", typeName(v.Type()))
	}
	t := v.Type()
	known := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		known[name] = true
		r, ok := m[name]
		if !ok {
			if f.Tag.Get("req") == "true" {
				return fieldErr(join(path, name), "required")
			}
			continue
		}
		if err := decodeValue(r, v.Field(i), join(path, name)); err != nil {
			return err
		}
	}
	var unknown []string
	for k := range m {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		first := unknown[0]
		for _, k := range unknown {
			first = min(first, k)
		}
		return fieldErr(join(path, first), "unknown field")
	}
	return nil
}

// decodeSlice decodes a JSON array (or null) into the slice v.
func decodeSlice(raw json.RawMessage, v reflect.Value, path string) error {
	if string(raw) == "null" {
		v.SetZero()
		return nil
	}
	if len(raw) == 0 || raw[0] != '[' {
		return fieldErr(path, "must be an array")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return fieldErr(path, "must be an array")
	}
	s := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, it := range items {
		if err := decodeValue(it, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	v.Set(s)
	return nil
}

// decodeMap decodes a JSON object into the map v. Keys are decoded in sorted
// order, so that of several bad values the same (the first in sorted order)
// is reported every time.
func decodeMap(raw json.RawMessage, v reflect.Value, path string) error {
	if len(raw) == 0 || raw[0] != '{' {
		return fieldErr(path, "must be an object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fieldErr(path, "must be an object")
	}
	out := reflect.MakeMapWithSize(v.Type(), len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		e := reflect.New(v.Type().Elem()).Elem()
		if err := decodeValue(m[k], e, join(path, k)); err != nil {
			return err
		}
		out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
	}
	v.Set(out)
	return nil
}

// decodeScalar decodes a number, an integer, a string or a boolean.
func decodeScalar(raw json.RawMessage, v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Float64:
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return fieldErr(path, "must be a number")
		}
		v.SetFloat(f)
		return nil
	case reflect.Int, reflect.Int64:
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return fieldErr(path, "must be a number")
		}
		if f != float64(int64(f)) {
			return fieldErr(path, "must be an integer")
		}
		v.SetInt(int64(f))
		return nil
	case reflect.String:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fieldErr(path, "must be a string")
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return fieldErr(path, "must be a boolean")
		}
		v.SetBool(b)
		return nil
	}
	return fieldErr(path, "unsupported type %s", v.Type())
}
