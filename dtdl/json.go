package dtdl

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// kind is the JSON type of a node.
type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

func (k kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// node is one JSON value. Objects keep their member order, so errors and
// synthesized identifiers are deterministic.
type node struct {
	kind kind
	b    bool
	str  string // string value, or the literal text of a number
	arr  []*node
	keys []string
	vals []*node
	size int // bytes of JSON text an object spans
}

// get returns the member named key of an object node, or nil.
func (n *node) get(key string) *node {
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// isInt reports whether a number node is an integer literal.
func (n *node) isInt() bool {
	if n.kind != kNumber {
		return false
	}
	for i := 0; i < len(n.str); i++ {
		c := n.str[i]
		if c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

// jsonParser is a small recursive-descent JSON parser with a nesting limit.
// It is used instead of encoding/json because DTDL needs member order,
// duplicate-key detection and a depth limit that turns hostile input into an
// error rather than a stack overflow.
type jsonParser struct {
	data     []byte
	pos      int
	depth    int
	maxDepth int
	slab     []node            // nodes are carved from here to save allocations
	keys     []string          // scratch stack of member names of open objects
	vals     []*node           // scratch stack of member values of open objects
	arr      []*node           // scratch stack of elements of open arrays
	intern   map[string]string // member names seen so far, shared
}

// newNode returns a zeroed node from the slab.
func (p *jsonParser) newNode(k kind) *node {
	if len(p.slab) == 0 {
		p.slab = make([]node, 256)
	}
	n := &p.slab[0]
	p.slab = p.slab[1:]
	n.kind = k
	return n
}

type jsonError struct {
	off int
	msg string
}

func (e *jsonError) Error() string { return fmt.Sprintf("invalid JSON at byte %d: %s", e.off, e.msg) }

// parseJSON decodes one JSON value from data (after an optional UTF-8 BOM).
func parseJSON(data []byte, maxDepth int) (*node, error) {
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		data = data[3:]
	}
	p := &jsonParser{data: data, maxDepth: maxDepth, intern: map[string]string{}}
	p.skipWS()
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.pos != len(p.data) {
		return nil, p.errf("unexpected data after the top-level value")
	}
	return n, nil
}

func (p *jsonParser) errf(format string, args ...any) error {
	return &jsonError{off: p.pos, msg: fmt.Sprintf(format, args...)}
}

func (p *jsonParser) skipWS() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (*node, error) {
	if p.pos >= len(p.data) {
		return nil, p.errf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.string(false)
		if err != nil {
			return nil, err
		}
		n := p.newNode(kString)
		n.str = s
		return n, nil
	case c == 't':
		n := p.newNode(kBool)
		n.b = true
		return p.literal("true", n)
	case c == 'f':
		return p.literal("false", p.newNode(kBool))
	case c == 'n':
		return p.literal("null", p.newNode(kNull))
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, p.errf("unexpected character %q", c)
	}
}

func (p *jsonParser) literal(lit string, n *node) (*node, error) {
	if len(p.data)-p.pos < len(lit) || string(p.data[p.pos:p.pos+len(lit)]) != lit {
		return nil, p.errf("invalid literal")
	}
	p.pos += len(lit)
	return n, nil
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > p.maxDepth {
		return p.errf("nesting deeper than %d levels", p.maxDepth)
	}
	return nil
}

func (p *jsonParser) object() (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	start := p.pos
	p.pos++ // '{'
	n := p.newNode(kObject)
	base := len(p.keys)
	defer func() {
		p.keys = p.keys[:base]
		p.vals = p.vals[:base]
	}()
	var index map[string]bool // member names, once the object is large
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.depth--
		n.size = 2
		return n, nil
	}
	for {
		p.skipWS()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errf("expected a member name")
		}
		k, err := p.string(true)
		if err != nil {
			return nil, err
		}
		members := p.keys[base:]
		if index == nil && len(members) >= 16 {
			index = make(map[string]bool, 32)
			for _, prev := range members {
				index[prev] = true
			}
		}
		if index != nil {
			if index[k] {
				return nil, p.errf("duplicate member name %q", k)
			}
			index[k] = true
		} else {
			for _, prev := range members {
				if prev == k {
					return nil, p.errf("duplicate member name %q", k)
				}
			}
		}
		p.skipWS()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errf("expected ':'")
		}
		p.pos++
		p.skipWS()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		p.keys = append(p.keys, k)
		p.vals = append(p.vals, v)
		p.skipWS()
		if p.pos >= len(p.data) {
			return nil, p.errf("unexpected end of input in object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.depth--
			n.size = p.pos - start
			n.keys = append([]string(nil), p.keys[base:]...)
			n.vals = append([]*node(nil), p.vals[base:]...)
			return n, nil
		default:
			return nil, p.errf("expected ',' or '}'")
		}
	}
}

func (p *jsonParser) array() (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // '['
	n := p.newNode(kArray)
	base := len(p.arr)
	defer func() { p.arr = p.arr[:base] }()
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return n, nil
	}
	for {
		p.skipWS()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		p.arr = append(p.arr, v)
		p.skipWS()
		if p.pos >= len(p.data) {
			return nil, p.errf("unexpected end of input in array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.depth--
			n.arr = append([]*node(nil), p.arr[base:]...)
			return n, nil
		default:
			return nil, p.errf("expected ',' or ']'")
		}
	}
}

func (p *jsonParser) number() (*node, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		s := p.pos
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
		}
		return p.pos - s
	}
	intStart := p.pos
	if digits() == 0 {
		return nil, p.errf("invalid number")
	}
	if p.data[intStart] == '0' && p.pos-intStart > 1 {
		return nil, p.errf("invalid number: leading zero")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errf("invalid number")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errf("invalid number")
		}
	}
	n := p.newNode(kNumber)
	n.str = string(p.data[start:p.pos])
	return n, nil
}

// string reads a JSON string; member names (key) are interned, since the
// same few names repeat throughout a model.
func (p *jsonParser) string(key bool) (string, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := p.data[start:p.pos]
			p.pos++
			if !utf8.Valid(s) {
				return string([]rune(string(s))), nil
			}
			if key {
				if k, ok := p.intern[string(s)]; ok {
					return k, nil
				}
				k := string(s)
				p.intern[k] = k
				return k, nil
			}
			return string(s), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.errf("control character in string")
		}
		p.pos++
	}
	buf := append([]byte(nil), p.data[start:p.pos]...)
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			if !utf8.Valid(buf) {
				return string([]rune(string(buf))), nil
			}
			return string(buf), nil
		case c < 0x20:
			return "", p.errf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.pos++
			continue
		}
		p.pos++
		if p.pos >= len(p.data) {
			break
		}
		e := p.data[p.pos]
		p.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
					p.pos += 2
					if x, ok := p.hex4(); ok {
						r2 = x
					}
				}
				r = utf16.DecodeRune(r, r2)
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.errf("invalid escape \\%c", e)
		}
	}
	return "", p.errf("unterminated string")
}

func (p *jsonParser) hex4() (rune, bool) {
	if len(p.data)-p.pos < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.data[p.pos:p.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.pos += 4
	return rune(v), true
}
