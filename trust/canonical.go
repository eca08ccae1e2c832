package trust

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
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
	out := make([]byte, 0, len(data))
	return appendCanonical(out, data)
}

// appendCanonical appends the canonical form of data to out. The parser
// writes straight into out: an object's members are written as they come
// and reordered in place only when they were not in order already.
func appendCanonical(out, data []byte) ([]byte, error) {
	p := &jcsParser{in: data, out: out}
	p.skipSpace()
	if err := p.value(0); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.in) {
		return nil, p.errorf("unexpected %q after the value", p.in[p.pos])
	}
	return p.out, nil
}

// canonicalSHA256 is the SHA-256 of Canonical(data), canonicalised in a
// pooled buffer.
func canonicalSHA256(data []byte) ([sha256.Size]byte, error) {
	bp := canonPool.Get().(*[]byte)
	c, err := appendCanonical((*bp)[:0], data)
	var sum [sha256.Size]byte
	if err == nil {
		sum = sha256.Sum256(c)
		*bp = c
	}
	if cap(*bp) <= 1<<16 {
		canonPool.Put(bp)
	}
	return sum, err
}

var canonPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 1000

type jcsParser struct {
	in      []byte
	pos     int
	out     []byte
	members []member // stack of the open objects' members
	scratch []byte   // unescaped names, and the copy of reordered members
}

// member is one object member as written to out: the name at
// out[start+1 : start+1+len(name)] when the name had no escapes, otherwise
// in scratch.
type member struct {
	name       []byte // the decoded name (in p.in, p.out or a copy)
	start, end int    // the written `"name":value` in out
	nameAt     int    // offset of the decoded name in scratch, or -1
	nameLen    int
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

func (p *jcsParser) value(depth int) error {
	if depth > maxDepth {
		return p.errorf("nested deeper than %d", maxDepth)
	}
	if p.pos >= len(p.in) {
		return p.errorf("unexpected end of input")
	}
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.stringValue()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(p.in)-p.pos >= len(lit) && string(p.in[p.pos:p.pos+len(lit)]) == lit {
			p.pos += len(lit)
			p.out = append(p.out, lit...)
			return nil
		}
	}
	return p.errorf("unexpected %q", p.in[p.pos])
}

// stringValue reads a string and writes it canonically.
func (p *jcsParser) stringValue() error {
	s, plain, err := p.str()
	if err != nil {
		return err
	}
	if plain {
		// Nothing to escape: the input's bytes are the canonical form.
		p.out = append(p.out, '"')
		p.out = append(p.out, s...)
		p.out = append(p.out, '"')
		return nil
	}
	p.out = appendCanonicalString(p.out, s)
	return nil
}

func (p *jcsParser) object(depth int) error {
	p.pos++ // {
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		p.out = append(p.out, "{}"...)
		return nil
	}
	p.out = append(p.out, '{')
	base, names := len(p.members), len(p.scratch)
	defer func() { p.members, p.scratch = p.members[:base], p.scratch[:names] }()
	for {
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != '"' {
			return p.errorf("object member name expected")
		}
		if len(p.members) > base {
			p.out = append(p.out, ',')
		}
		m := member{start: len(p.out), nameAt: -1}
		name, plain, err := p.str()
		if err != nil {
			return err
		}
		if plain {
			m.name = name // in p.in, which is not written to
		} else {
			// An unescaped copy may be in p.scratch, which grows: keep
			// its offset and resolve it once all names are read.
			m.nameAt, m.nameLen = len(p.scratch), len(name)
			p.scratch = append(p.scratch, name...)
		}
		p.out = appendCanonicalString(p.out, name)
		p.skipSpace()
		if p.pos >= len(p.in) || p.in[p.pos] != ':' {
			return p.errorf("':' expected after member name %q", name)
		}
		p.pos++
		p.out = append(p.out, ':')
		p.skipSpace()
		if err := p.value(depth + 1); err != nil {
			return err
		}
		m.end = len(p.out)
		p.members = append(p.members, m)
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
	if err := p.order(p.members[base:]); err != nil {
		return err
	}
	p.out = append(p.out, '}')
	return nil
}

// order sorts an object's members (written in out in input order) by
// their names' UTF-16 code units and refuses duplicate names. Members in
// order already, the usual case, are left where they are.
func (p *jcsParser) order(ms []member) error {
	for i := range ms {
		if ms[i].nameAt >= 0 {
			ms[i].name = p.scratch[ms[i].nameAt : ms[i].nameAt+ms[i].nameLen]
		}
	}
	sorted := true
	for i := 1; i < len(ms); i++ {
		switch c := compareUTF16(ms[i-1].name, ms[i].name); {
		case c == 0:
			return p.errorf("duplicate member name %q", ms[i].name)
		case c > 0:
			sorted = false
		}
	}
	if sorted {
		return nil
	}
	// Copy the members aside (past the names in scratch) and write them
	// back in order.
	first := ms[0].start
	region := append(p.scratch[len(p.scratch):len(p.scratch)], p.out[first:]...)
	slices.SortFunc(ms, func(a, b member) int { return compareUTF16(a.name, b.name) })
	for i := 1; i < len(ms); i++ {
		if compareUTF16(ms[i-1].name, ms[i].name) == 0 {
			return p.errorf("duplicate member name %q", ms[i].name)
		}
	}
	p.out = p.out[:first]
	for i, m := range ms {
		if i > 0 {
			p.out = append(p.out, ',')
		}
		p.out = append(p.out, region[m.start-first:m.end-first]...)
	}
	return nil
}

// compareUTF16 compares two valid UTF-8 strings by their UTF-16 code
// units (RFC 8785 §3.2.3). UTF-8 byte order is code point order, which is
// UTF-16 order except that a supplementary character (a surrogate pair,
// D800–DBFF first) sorts before BMP characters from U+E000.
func compareUTF16(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) {
		return len(a) - len(b)
	}
	// Back up to the start of the runes that differ.
	for i > 0 && !utf8.RuneStart(a[i]) {
		i--
	}
	ra, _ := utf8.DecodeRune(a[i:])
	rb, _ := utf8.DecodeRune(b[i:])
	return int(utf16Key(ra)) - int(utf16Key(rb))
}

// utf16Key orders a rune as its first UTF-16 code unit does, ties between
// supplementary characters broken by the code point (their second units
// follow the same order).
func utf16Key(r rune) rune {
	if r >= 0x10000 {
		return 0xD800 + (r - 0x10000) // D800…DBFF first units, in order
	}
	if r >= 0xD800 {
		return r + 0x100000 // E000–FFFF sort after every surrogate pair
	}
	return r
}

func (p *jcsParser) array(depth int) error {
	p.pos++ // [
	p.out = append(p.out, '[')
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		p.out = append(p.out, ']')
		return nil
	}
	for i := 0; ; i++ {
		if i > 0 {
			p.out = append(p.out, ',')
		}
		p.skipSpace()
		if err := p.value(depth + 1); err != nil {
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
		p.out = append(p.out, ']')
		return nil
	}
}

// str reads a JSON string and returns its value; lone surrogates and
// invalid UTF-8 are refused (RFC 8785 §3.2.2.2 requires I-JSON). plain
// reports a string without escapes and without characters that need
// one: its value is then the input's bytes (not a copy), written as is.
// Otherwise the value is unescaped into p.scratch's spare capacity and
// valid until the next str.
func (p *jcsParser) str() (s []byte, plain bool, err error) {
	p.pos++ // "
	start := p.pos
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			return p.in[start : p.pos-1], true, nil
		case c < 0x20:
			return nil, false, p.errorf("control character 0x%02x in string", c)
		case c == '\\':
			return p.strSlow(start)
		case c < utf8.RuneSelf:
			p.pos++
		default:
			r, n := utf8.DecodeRune(p.in[p.pos:])
			if r == utf8.RuneError && n <= 1 {
				return nil, false, p.errorf("invalid UTF-8 in string")
			}
			p.pos += n
		}
	}
	return nil, false, p.errorf("unterminated string")
}

// strSlow continues str from the first escape, unescaping into scratch.
func (p *jcsParser) strSlow(start int) ([]byte, bool, error) {
	buf := append(p.scratch[len(p.scratch):len(p.scratch)], p.in[start:p.pos]...)
	for {
		if p.pos >= len(p.in) {
			return nil, false, p.errorf("unterminated string")
		}
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			return buf, false, nil
		case c < 0x20:
			return nil, false, p.errorf("control character 0x%02x in string", c)
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return nil, false, err
			}
			buf = utf8.AppendRune(buf, r)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			p.pos++
		default:
			r, n := utf8.DecodeRune(p.in[p.pos:])
			if r == utf8.RuneError && n <= 1 {
				return nil, false, p.errorf("invalid UTF-8 in string")
			}
			buf = append(buf, p.in[p.pos:p.pos+n]...)
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
	var v rune
	for _, c := range p.in[p.pos : p.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, p.errorf("invalid \\u escape %q", p.in[p.pos:p.pos+4])
		}
	}
	p.pos += 4
	return v, nil
}

// number reads a JSON number (RFC 8259 grammar) and writes its canonical
// form.
func (p *jcsParser) number() error {
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
	lit := p.in[start:p.pos]
	if n := len(lit); n <= 15 && lit[0] != '-' && (lit[0] != '0' || n == 1) && allDigits(lit) {
		// A non-negative integer below 10^15 is its own shortest form.
		p.out = append(p.out, lit...)
		return nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return p.errorf("number %s is outside the IEEE 754 double range", lit)
	}
	p.out, err = appendNumber(p.out, f)
	return err
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// errNotFinite is returned for NaN and infinities, which JSON cannot hold.
var errNotFinite = errors.New("canonical json: NaN and infinities are not JSON numbers")

// FormatNumber prints a double as ECMAScript's Number.prototype.toString
// does (ECMA-262 §7.1.12.1, the rule RFC 8785 §3.2.2.3 adopts): the
// shortest digits that round-trip, in plain notation for decimal
// exponents from -6 to 20 and in exponent notation ("1e+21", "5e-324")
// otherwise. -0 prints as "0".
func FormatNumber(f float64) (string, error) {
	var buf [32]byte
	b, err := appendNumber(buf[:0], f)
	return string(b), err
}

// appendNumber appends FormatNumber(f) to out.
func appendNumber(out []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return out, errNotFinite
	}
	if f == 0 {
		return append(out, '0'), nil
	}
	if f < 0 {
		out, f = append(out, '-'), -f
	}
	// strconv's shortest 'e' form gives the digits d1.d2…dk and the
	// exponent; n is ECMAScript's (the decimal point's position).
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	at := bytes.IndexByte(e, 'e')
	x, _ := strconv.Atoi(string(e[at+1:]))
	var dbuf [24]byte
	ds := append(dbuf[:0], e[0])
	if at > 1 {
		ds = append(ds, e[2:at]...) // skip the '.'
	}
	k, n := len(ds), x+1
	switch {
	case k <= n && n <= 21:
		out = append(out, ds...)
		for range n - k {
			out = append(out, '0')
		}
	case 0 < n && n <= 21:
		out = append(append(append(out, ds[:n]...), '.'), ds[n:]...)
	case -6 < n && n <= 0:
		out = append(out, "0."...)
		for range -n {
			out = append(out, '0')
		}
		out = append(out, ds...)
	default:
		out = append(out, ds[0])
		if k > 1 {
			out = append(append(out, '.'), ds[1:]...)
		}
		if n-1 >= 0 {
			out = strconv.AppendInt(append(out, "e+"...), int64(n-1), 10)
		} else {
			out = strconv.AppendInt(append(out, "e-"...), int64(1-n), 10)
		}
	}
	return out, nil
}

// appendCanonicalString appends s with the escapes of RFC 8785
// §3.2.2.2: \" \\ \b \f \n \r \t, \u00xx (lowercase hex) for the other
// controls, everything else as UTF-8.
func appendCanonicalString[S ~string | ~[]byte](out []byte, s S) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			out = append(out, `\"`...)
		case '\\':
			out = append(out, `\\`...)
		case '\b':
			out = append(out, `\b`...)
		case '\f':
			out = append(out, `\f`...)
		case '\n':
			out = append(out, `\n`...)
		case '\r':
			out = append(out, `\r`...)
		case '\t':
			out = append(out, `\t`...)
		default:
			if c < 0x20 {
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				out = append(out, c)
			}
		}
	}
	return append(out, '"')
}

// writeCanonicalString writes s as appendCanonicalString does.
func writeCanonicalString(out *bytes.Buffer, s string) {
	out.Write(appendCanonicalString(out.AvailableBuffer(), s))
}
