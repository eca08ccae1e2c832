package trust

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Canonical returns the RFC 8785 (JSON Canonicalization Scheme) form of a
// JSON text: no whitespace, object members sorted by the UTF-16 code units
// of their names, strings with the minimal escapes, numbers as ECMAScript
// prints an IEEE 754 double. Input that is not I-JSON (invalid UTF-8, lone
// surrogates, duplicate member names, numbers out of double range) is
// refused: two different texts must never canonicalise alike by accident.
func Canonical(data []byte) ([]byte, error) {
	p := &jcsParser{in: data}
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

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 1000

type jcsParser struct {
	in  []byte
	pos int
}

func (p *jcsParser) errorf(format string, args ...any) error {
	return fmt.Errorf("canonical json: offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *jcsParser) skipSpace() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jcsParser) value(out *bytes.Buffer, depth int) error {
	if depth > maxDepth {
		return p.errorf("nested deeper than %d", maxDepth)
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
		writeCanonicalString(out, s)
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

func (p *jcsParser) object(out *bytes.Buffer, depth int) error {
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
		writeCanonicalString(out, m.name)
		out.WriteByte(':')
		out.Write(m.val)
	}
	out.WriteByte('}')
	return nil
}

func (p *jcsParser) array(out *bytes.Buffer, depth int) error {
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
func (p *jcsParser) str() (string, error) {
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

func (p *jcsParser) escape() (rune, error) {
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

func (p *jcsParser) hex4() (rune, error) {
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
func (p *jcsParser) number(out *bytes.Buffer) error {
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
	s, err := FormatNumber(f)
	if err != nil {
		return err
	}
	out.WriteString(s)
	return nil
}

// errNotFinite is returned for NaN and infinities, which JSON cannot hold.
var errNotFinite = errors.New("canonical json: NaN and infinities are not JSON numbers")

// FormatNumber prints a double as ECMAScript's Number.prototype.toString
// does (ECMA-262 §7.1.12.1, the rule RFC 8785 §3.2.2.3 adopts): the
// shortest digits that round-trip, in plain notation for decimal
// exponents from -6 to 20 and in exponent notation ("1e+21", "5e-324")
// otherwise. -0 prints as "0".
func FormatNumber(f float64) (string, error) {
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

// writeCanonicalString writes s with the escapes of RFC 8785 §3.2.2.2:
// \" \\ \b \f \n \r \t, \u00xx (lowercase hex) for the other controls,
// everything else as UTF-8.
func writeCanonicalString(out *bytes.Buffer, s string) {
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
