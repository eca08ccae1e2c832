package trust

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// canonicalRef is the first Canonical (a bytes.Buffer per member, a map
// of seen names, utf16 keys), kept to test the current one against.
func canonicalRef(data []byte) ([]byte, error) {
	p := &refParser{in: data}
	p.skipSpace()
	var out bytes.Buffer
	out.Grow(len(data))
	if err := p.value(&out, 0); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.in) {
		return nil, p.errorf("unexpected %q after the value", p.in[p.pos])
	}
	return out.Bytes(), nil
}

// refMaxDepth bounds nesting so that hostile input cannot exhaust the stack.
const refMaxDepth = 1000

type refParser struct {
	in  []byte
	pos int
}

func (p *refParser) errorf(format string, args ...any) error {
	return fmt.Errorf("canonical json: offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *refParser) skipSpace() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *refParser) value(out *bytes.Buffer, depth int) error {
	if depth > refMaxDepth {
		return p.errorf("nested deeper than %d", refMaxDepth)
	}
	if p.pos >= len(p.in) {
		return p.errorf("unexpected end of input")
	}
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object(out, depth)
	case c == '[':
		return p.array(out, depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return err
		}
		writeCanonicalStringRef(out, s)
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(out)
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(p.in[p.pos:], []byte(lit)) {
			p.pos += len(lit)
			out.WriteString(lit)
			return nil
		}
	}
	return p.errorf("unexpected %q", p.in[p.pos])
}

func (p *refParser) object(out *bytes.Buffer, depth int) error {
	p.pos++ // {
	type member struct {
		name string
		key  []uint16
		val  []byte
	}
	var ms []member
	seen := map[string]bool{}
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		out.WriteString("{}")
		return nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return p.errorf("object member name expected")
		}
		name, err := p.str()
		if err != nil {
			return err
		}
		if seen[name] {
			return p.errorf("duplicate member name %q", name)
		}
		seen[name] = true
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return p.errorf("':' expected after member name %q", name)
		}
		p.pos++
		p.skipSpace()
		var v bytes.Buffer
		if err := p.value(&v, depth+1); err != nil {
			return err
		}
		ms = append(ms, member{name: name, key: utf16.Encode([]rune(name)), val: v.Bytes()})
		p.skipSpace()
		if p.pos >= len(p.in) {
			return p.errorf("unexpected end of input in object")
		}
		if p.in[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.in[p.pos] != '}' {
			return p.errorf("',' or '}' expected in object")
		}
		p.pos++
		break
	}
	slices.SortFunc(ms, func(a, b member) int { return slices.Compare(a.key, b.key) })
	out.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			out.WriteByte(',')
		}
		writeCanonicalStringRef(out, m.name)
		out.WriteByte(':')
		out.Write(m.val)
	}
	out.WriteByte('}')
	return nil
}

func (p *refParser) array(out *bytes.Buffer, depth int) error {
	p.pos++ // [
	out.WriteByte('[')
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		out.WriteByte(']')
		return nil
	}
	for i := 0; ; i++ {
		if i > 0 {
			out.WriteByte(',')
		}
		p.skipSpace()
		if err := p.value(out, depth+1); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.in) {
			return p.errorf("unexpected end of input in array")
		}
		if p.in[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.in[p.pos] != ']' {
			return p.errorf("',' or ']' expected in array")
		}
		p.pos++
		out.WriteByte(']')
		return nil
	}
}

// str reads a JSON string and returns its value; lone surrogates and
// invalid UTF-8 are refused (RFC 8785 §3.2.2.2 requires I-JSON).
func (p *refParser) str() (string, error) {
	p.pos++ // "
	var sb strings.Builder
	for {
		if p.pos >= len(p.in) {
			return "", p.errorf("unterminated string")
		}
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			return sb.String(), nil
		case c < 0x20:
			return "", p.errorf("control character 0x%02x in string", c)
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			sb.WriteRune(r)
		case c < utf8.RuneSelf:
			sb.WriteByte(c)
			p.pos++
		default:
			r, n := utf8.DecodeRune(p.in[p.pos:])
			if r == utf8.RuneError && n <= 1 {
				return "", p.errorf("invalid UTF-8 in string")
			}
			sb.WriteRune(r)
			p.pos += n
		}
	}
}

func (p *refParser) escape() (rune, error) {
	if p.pos+1 >= len(p.in) {
		return 0, p.errorf("unterminated escape")
	}
	c := p.in[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r1, err := p.hex4()
		if err != nil {
			return 0, err
		}
		if !utf16.IsSurrogate(r1) {
			return r1, nil
		}
		if r1 >= 0xDC00 || p.pos+1 >= len(p.in) || p.in[p.pos] != '\\' || p.in[p.pos+1] != 'u' {
			return 0, p.errorf("lone surrogate \\u%04x", r1)
		}
		p.pos += 2
		r2, err := p.hex4()
		if err != nil {
			return 0, err
		}
		r := utf16.DecodeRune(r1, r2)
		if r == utf8.RuneError {
			return 0, p.errorf("lone surrogate \\u%04x", r1)
		}
		return r, nil
	}
	return 0, p.errorf("invalid escape \\%c", c)
}

func (p *refParser) hex4() (rune, error) {
	if p.pos+4 > len(p.in) {
		return 0, p.errorf("short \\u escape")
	}
	v, err := strconv.ParseUint(string(p.in[p.pos:p.pos+4]), 16, 32)
	if err != nil {
		return 0, p.errorf("invalid \\u escape %q", p.in[p.pos:p.pos+4])
	}
	p.pos += 4
	return rune(v), nil
}

// number reads a JSON number (RFC 8259 grammar) and writes its canonical
// form.
func (p *refParser) number(out *bytes.Buffer) error {
	start := p.pos
	if p.in[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.pos < len(p.in) && p.in[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return p.errorf("digit expected in number")
	}
	if p.pos < len(p.in) && p.in[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return p.errorf("digit expected after '.'")
		}
	}
	if p.pos < len(p.in) && (p.in[p.pos] == 'e' || p.in[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.in) && (p.in[p.pos] == '+' || p.in[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return p.errorf("digit expected in exponent")
		}
	}
	f, err := strconv.ParseFloat(string(p.in[start:p.pos]), 64)
	if err != nil {
		return p.errorf("number %s is outside the IEEE 754 double range", p.in[start:p.pos])
	}
	s, err := formatNumberRef(f)
	if err != nil {
		return err
	}
	out.WriteString(s)
	return nil
}

// formatNumberRef is the first FormatNumber.
func formatNumberRef(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", errNotFinite
	}
	if f == 0 {
		return "0", nil
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// strconv's shortest 'e' form gives the digits d1.d2…dk and the
	// exponent; n is ECMAScript's (the decimal point's position).
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	ds := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(ds), x+1
	var s string
	switch {
	case k <= n && n <= 21:
		s = ds + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		s = ds[:n] + "." + ds[n:]
	case -6 < n && n <= 0:
		s = "0." + strings.Repeat("0", -n) + ds
	default:
		s = ds[:1]
		if k > 1 {
			s += "." + ds[1:]
		}
		if n-1 >= 0 {
			s += "e+" + strconv.Itoa(n-1)
		} else {
			s += "e-" + strconv.Itoa(1-n)
		}
	}
	return sign + s, nil
}

// writeCanonicalStringRef is the first writeCanonicalString.
func writeCanonicalStringRef(out *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	out.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			out.WriteString(`\"`)
		case '\\':
			out.WriteString(`\\`)
		case '\b':
			out.WriteString(`\b`)
		case '\f':
			out.WriteString(`\f`)
		case '\n':
			out.WriteString(`\n`)
		case '\r':
			out.WriteString(`\r`)
		case '\t':
			out.WriteString(`\t`)
		default:
			if c < 0x20 {
				out.WriteString(`\u00`)
				out.WriteByte(hex[c>>4])
				out.WriteByte(hex[c&0xf])
			} else {
				out.WriteByte(c)
			}
		}
	}
	out.WriteByte('"')
}

// canonicalCases are inputs on which Canonical and canonicalRef must
// agree (value and error or not).
var canonicalCases = []string{
	`{"b":[1,2.5e10,"x"],"a":null}`, `"\u20ac\ud83d\ude00"`, `-0.0000033333333333333333`, `[{"\u0080":1,"\r":2}]`,
	`{"z":{"y":1,"x":{"b\u0000":"\t","a":[]}},"a\"b":"c\\d","\ud83d\ude00":1,"\uffff":2,"\ue000":3,"\u00e9":4}`,
	`{"a":1,"\u0061":2}`, `{"b":{"a":1,"a":2}}`, `{"\n":1,"\u000a":2}`, `[0,-0,12,123456789012345,1234567890123456,1e2,01]`,
	`{"op":"replace","path":"/inventoryTonnes","value":12.5}`, `[{"op":"replace","path":"/x","value":{"c":3,"b":2,"a":[1,{"z":0,"y":"é"}]}}]`,
	`{"x":"\u00e9\ud834\udd1e","w":"😀","v":"\uD834\uDD1E"}`, `{"€":1,"😀":2,"דּ":3}`, `  {"a" : [ true , false , null ] }  `,
}

// TestCanonicalSameAsRef: Canonical agrees with the first implementation.
func TestCanonicalSameAsRef(t *testing.T) {
	for _, in := range canonicalCases {
		checkSameAsRef(t, []byte(in))
	}
}

func checkSameAsRef(t *testing.T, in []byte) {
	t.Helper()
	want, werr := canonicalRef(in)
	got, err := Canonical(in)
	if (err == nil) != (werr == nil) || string(got) != string(want) {
		t.Fatalf("Canonical(%q) = %q, %v; the first implementation gave %q, %v", in, got, err, want, werr)
	}
	if err == nil {
		sum, err := canonicalSHA256(in)
		if err != nil || sum != sha256.Sum256(want) {
			t.Fatalf("canonicalSHA256(%q) = %x, %v; want the hash of %q", in, sum, err, want)
		}
	}
}

// FuzzCanonicalSameAsRef: Canonical agrees with the first implementation
// on any input.
func FuzzCanonicalSameAsRef(f *testing.F) {
	for _, s := range canonicalCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkSameAsRef(t, in) })
}

// FuzzFormatNumber: FormatNumber agrees with the first implementation.
func FuzzFormatNumber(f *testing.F) {
	for _, x := range []float64{0, 1, -1, 1e21, 1e-7, 123.456, 5e-324, 1.7976931348623157e308, 9007199254740993} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		want, werr := formatNumberRef(x)
		got, err := FormatNumber(x)
		if got != want || (err == nil) != (werr == nil) {
			t.Fatalf("FormatNumber(%v) = %q, %v; want %q, %v", x, got, err, want, werr)
		}
	})
}
