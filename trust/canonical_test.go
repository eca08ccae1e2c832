package trust

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// TestFormatNumber checks the number serialisation against the sample
// values of RFC 8785 Appendix B (IEEE 754 bit patterns and the expected
// ECMAScript strings).
func TestFormatNumber(t *testing.T) {
	for _, tc := range []struct {
		bits uint64
		want string
	}{
		{0x0000000000000000, "0"},
		{0x8000000000000000, "0"},
		{0x0000000000000001, "5e-324"},
		{0x8000000000000001, "-5e-324"},
		{0x7fefffffffffffff, "1.7976931348623157e+308"},
		{0xffefffffffffffff, "-1.7976931348623157e+308"},
		{0x4340000000000000, "9007199254740992"},
		{0xc340000000000000, "-9007199254740992"},
		{0x4430000000000000, "295147905179352830000"},
		{0x44b52d02c7e14af5, "9.999999999999997e+22"},
		{0x44b52d02c7e14af6, "1e+23"},
		{0x44b52d02c7e14af7, "1.0000000000000001e+23"},
		{0x444b1ae4d6e2ef4e, "999999999999999700000"},
		{0x444b1ae4d6e2ef4f, "999999999999999900000"},
		{0x444b1ae4d6e2ef50, "1e+21"},
		{0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
		{0x3eb0c6f7a0b5ed8d, "0.000001"},
		{0x41b3de4355555553, "333333333.3333332"},
		{0x41b3de4355555554, "333333333.33333325"},
		{0x41b3de4355555555, "333333333.3333333"},
		{0x41b3de4355555556, "333333333.3333334"},
		{0x41b3de4355555557, "333333333.33333343"},
		{0xbecbf647612f3696, "-0.0000033333333333333333"},
		{0x43143ff3c1cb0959, "1424953923781206.2"},
	} {
		got, err := FormatNumber(math.Float64frombits(tc.bits))
		if err != nil || got != tc.want {
			t.Errorf("%016x: got %q, %v; want %q", tc.bits, got, err, tc.want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := FormatNumber(f); err == nil {
			t.Errorf("FormatNumber(%v) gave no error", f)
		}
	}
}

// TestCanonical checks the examples of RFC 8785 §3.2.2 (values and
// escapes) and §3.2.3 (member order by UTF-16 code units), and refusals.
func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`, `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`},
		{`{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`, "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\",\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"},
		{` [ ] `, `[]`},
		{`{"a":{},"b":[1,-0,1.0e0]}`, `{"a":{},"b":[1,0,1]}`},
		{`"\b\f\t\u0001\u001f\u2028"`, "\"\\b\\f\\t\\u0001\\u001f\u2028\""},
	} {
		got, err := Canonical([]byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("Canonical(%s)\n got %s, %v\nwant %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{``, `{`, `{"a":1,"a":2}`, `"\ud800"`, `"\udc00x"`, "\"\xff\"", `1e400`, `01`, `1.`, `[1,]`, `{"a" 1}`, `nul`, `"a` + "\n" + `"`, `1 2`, `-`, `"\x"`} {
		if got, err := Canonical([]byte(bad)); err == nil {
			t.Errorf("Canonical(%q) = %s, want an error", bad, got)
		}
	}
}

// FuzzCanonical: whatever parses canonicalises to a fixed point that
// encoding/json reads as the same value.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":[1,2.5e10,"x"],"a":null}`, `"\u20ac\ud83d\ude00"`, `-0.0000033333333333333333`, `[{"\u0080":1,"\r":2}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Canonical(in)
		if err != nil {
			return
		}
		if !json.Valid(c) {
			t.Fatalf("Canonical(%q) = %q is not JSON", in, c)
		}
		again, err := Canonical(c)
		if err != nil || string(again) != string(c) {
			t.Fatalf("not a fixed point: %q → %q (%v)", c, again, err)
		}
		var a, b any
		if json.Unmarshal(in, &a) == nil && json.Unmarshal(c, &b) == nil {
			// reflect.DeepEqual compares numbers with ==, so -0 equals 0
			// as RFC 8785 prints it.
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("value changed: %q vs %q", in, c)
			}
		}
	})
}
