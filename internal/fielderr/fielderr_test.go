package fielderr_test

import (
	"errors"
	"strings"
	"testing"

	"lodestone/internal/fielderr"
)

type testPrefix struct{}

func (testPrefix) Prefix() string { return "test: spec" }

type otherPrefix struct{}

func (otherPrefix) Prefix() string { return "other: spec" }

type item struct {
	A *float64 `json:"a"`
	B []struct {
		C int `json:"c"`
	} `json:"b"`
}

// TestDecode checks each kind of bad input: the field named and the full
// message, with and without a path and byte offsets.
func TestDecode(t *testing.T) {
	cases := []struct {
		name, in string
		strict   fielderr.Strict
		field    string
		msg      string // the whole Error()
	}{
		{"ok", `{"a": 1, "b": [{"c": 2}]}`, fielderr.Strict{}, "", ""},
		{"unknown", `{"z": 1}`, fielderr.Strict{}, "z", "test: spec: z: unknown field"},
		{"unknown under path", `{"z": 1}`, fielderr.Strict{Path: "holdup."}, "holdup.z", "test: spec: holdup.z: unknown field"},
		{"type", `{"a": "x"}`, fielderr.Strict{}, "a", "test: spec: a: cannot use a JSON string here (want float64)"},
		{"nested type", `{"b": [{"c": 1.5}]}`, fielderr.Strict{}, "b.c", "test: spec: b.c: cannot use a JSON number 1.5 here (want int)"},
		{"type under path", `{"a": true}`, fielderr.Strict{Path: "disturbances[2]."}, "disturbances[2].a", "test: spec: disturbances[2].a: cannot use a JSON bool here (want float64)"},
		{"top type", `[1]`, fielderr.Strict{}, "", "test: spec: cannot use a JSON array here (want fielderr_test.item)"},
		{"top type under path", `[1]`, fielderr.Strict{Path: "holdup."}, "holdup", "test: spec: holdup: cannot use a JSON array here (want fielderr_test.item)"},
		{"syntax", `{"a": }`, fielderr.Strict{}, "", "test: spec: invalid character '}' looking for beginning of value"},
		{"syntax offset", `{"a": }`, fielderr.Strict{Offset: true}, "", "test: spec: invalid JSON at byte 7: invalid character '}' looking for beginning of value"},
		{"syntax offset under path", `{"a": }`, fielderr.Strict{Path: "holdup.", Offset: true}, "holdup", "test: spec: holdup: invalid JSON at byte 7: invalid character '}' looking for beginning of value"},
		{"truncated", `{"a": 1`, fielderr.Strict{}, "", "test: spec: unexpected EOF"},
		{"empty", ``, fielderr.Strict{Path: "x."}, "x", "test: spec: x: EOF"},
		{"trailing", `{"a": 1} {}`, fielderr.Strict{}, "", "test: spec: trailing data after the JSON object"},
		{"trailing garbage", `{"a": 1} x`, fielderr.Strict{}, "", "test: spec: trailing data after the JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v item
			err := fielderr.Decode[testPrefix]([]byte(c.in), &v, c.strict)
			if c.msg == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			var fe *fielderr.Error[testPrefix]
			if !errors.As(err, &fe) {
				t.Fatalf("Decode error %v (%T) is not a *fielderr.Error[testPrefix]", err, err)
			}
			if fe.Field != c.field || err.Error() != c.msg {
				t.Errorf("got field %q, %q; want field %q, %q", fe.Field, err.Error(), c.field, c.msg)
			}
		})
	}
}

// TestPrefixesAreDistinct checks that errors of two prefixes are two types,
// so that errors.As tells a package's error from one it wraps.
func TestPrefixesAreDistinct(t *testing.T) {
	var err error = fielderr.New[otherPrefix]("f", "bad %d", 1)
	var fe *fielderr.Error[testPrefix]
	if errors.As(err, &fe) {
		t.Fatal("an other-prefix error matched the test prefix")
	}
	if got := err.Error(); got != "other: spec: f: bad 1" {
		t.Errorf("Error() = %q", got)
	}
	if got := fielderr.New[testPrefix]("", "missing").Error(); got != "test: spec: missing" {
		t.Errorf("Error() without a field = %q", got)
	}
}

// FuzzDecode checks that any input decodes or gives an *Error with the
// prefix, and never panics.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a": 1, "b": [{"c": 2}]}`, `{"z": 1}`, `{"a": "x"}`, `{"a": }`, `{"a": 1} x`, ``, `null`} {
		f.Add([]byte(s), "", false)
		f.Add([]byte(s), "holdup.", true)
	}
	f.Fuzz(func(t *testing.T, data []byte, path string, offset bool) {
		var v item
		err := fielderr.Decode[testPrefix](data, &v, fielderr.Strict{Path: path, Offset: offset})
		if err == nil {
			return
		}
		var fe *fielderr.Error[testPrefix]
		if !errors.As(err, &fe) {
			t.Fatalf("error %v (%T) is not a *fielderr.Error", err, err)
		}
		if !strings.HasPrefix(err.Error(), "test: spec: ") {
			t.Fatalf("error %q lacks the prefix", err)
		}
	})
}
