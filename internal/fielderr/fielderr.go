package fielderr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Prefix is the type parameter of an [Error]: a type, usually an empty
// struct of the importing package, whose Prefix method returns the start
// of every message, such as "control: spec".
type Prefix interface {
	Prefix() string
}

// Error is a problem with an input, naming the offending field. Its text
// is "PREFIX: FIELD: MSG", or "PREFIX: MSG" when Field is empty.
type Error[P Prefix] struct {
	Field string // JSON path, e.g. "measurements[3].t_h"; "" for the whole input
	Msg   string
}

// Error returns "PREFIX: FIELD: MSG" ("PREFIX: MSG" without a field).
func (e *Error[P]) Error() string {
	var p P
	if e.Field == "" {
		return p.Prefix() + ": " + e.Msg
	}
	return p.Prefix() + ": " + e.Field + ": " + e.Msg
}

// New returns an Error for field with the message format formats.
func New[P Prefix](field, format string, args ...any) *Error[P] {
	return &Error[P]{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Strict says how [Decode] and [FromJSON] name what they report.
type Strict struct {
	// Path goes before every field encoding/json names: "" at the top
	// level, "holdup." for an object's fields, "disturbances" for a
	// list. An error about the value at Path itself (the wrong type,
	// malformed JSON) names Path without its final dot.
	Path string
	// Offset reports malformed JSON as "invalid JSON at byte N: ..."
	// rather than with encoding/json's message alone.
	Offset bool
}

// Decode decodes one JSON value of data into v, refusing unknown fields
// and anything after the value. Every error is an *Error[P] (returned as
// error, nil when there is none).
func Decode[P Prefix](data []byte, v any, s Strict) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return FromJSON[P](err, s)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return New[P]("", "trailing data after the JSON object")
	}
	return nil
}

// FromJSON turns an error of encoding/json into an Error naming the field:
// a value of the wrong type ("cannot use a JSON string here (want
// float64)"), an unknown field ("unknown field"), malformed JSON, or
// anything else with its own message.
func FromJSON[P Prefix](err error, s Strict) *Error[P] {
	at := strings.TrimSuffix(s.Path, ".")
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		f := at
		if te.Field != "" {
			f = s.Path + te.Field
		}
		return New[P](f, "cannot use a JSON %s here (want %v)", te.Value, te.Type)
	}
	var se *json.SyntaxError
	if s.Offset && errors.As(err, &se) {
		return New[P](at, "invalid JSON at byte %d: %v", se.Offset, err)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return New[P](s.Path+strings.Trim(f, `"`), "unknown field")
	}
	return New[P](at, "%v", err)
}
