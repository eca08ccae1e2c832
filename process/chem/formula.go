package chem

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Formula maps element symbols to atom counts in one formula unit.
type Formula map[string]int

// Limits of the parser. They keep counts far from integer overflow.
const (
	maxDigits = 9   // longest count written after a symbol, group or hydrate
	maxDepth  = 8   // deepest nesting of parentheses
	maxAtoms  = 1e9 // bound (exclusive) on the count of one element in a formula unit
)

// ParseError reports a malformed formula.
type ParseError struct {
	Formula string
	Pos     int // byte offset of the problem
	Msg     string
	Err     error // underlying cause, e.g. an *UnknownSymbolError, or nil
}

// Error describes the problem and where it is.
func (e *ParseError) Error() string {
	return fmt.Sprintf("chem: parse formula %q at byte %d: %s", e.Formula, e.Pos, e.Msg)
}

// Unwrap returns the underlying cause.
func (e *ParseError) Unwrap() error { return e.Err }

// ParseFormula parses a chemical formula such as "Nd2(C2O4)3·10H2O" into
// element counts. Hydrate parts may be joined by "·" (U+00B7), "•", "*" or
// "." and may start with a coefficient. Every symbol must be in the element
// table; an unknown one gives a *ParseError wrapping an *UnknownSymbolError.
func ParseFormula(s string) (Formula, error) {
	p := parser{src: s}
	f := Formula{}
	if s == "" {
		return nil, p.errf("empty formula")
	}
	for {
		coef := 1
		if p.pos < len(s) && isDigit(s[p.pos]) {
			n, err := p.number()
			if err != nil {
				return nil, err
			}
			coef = n
		}
		part, err := p.group(0)
		if err != nil {
			return nil, err
		}
		if len(part) == 0 {
			return nil, p.errf("expected an element symbol or '('")
		}
		if err := f.add(part, coef, &p); err != nil {
			return nil, err
		}
		if p.pos == len(s) {
			return f, nil
		}
		if !p.separator() {
			return nil, p.errf(fmt.Sprintf("unexpected %q", p.peekRune()))
		}
		if p.pos == len(s) {
			return nil, p.errf("formula ends after a hydrate separator")
		}
	}
}

// MustParseFormula is like ParseFormula but panics on error. It is meant for
// formulas written in code.
func MustParseFormula(s string) Formula {
	f, err := ParseFormula(s)
	if err != nil {
		panic(err)
	}
	return f
}

// MolarMass returns the molar mass of one formula unit in g/mol. Symbols not
// in the element table (impossible for a parsed formula) count as zero.
func (f Formula) MolarMass() float64 {
	// Sum in a fixed order so that the result is the same bits every time.
	var m float64
	for _, sym := range f.Symbols() {
		if i, ok := bySymbol[sym]; ok {
			m += float64(f[sym]) * elements[i].AtomicWeight
		}
	}
	return m
}

// String writes f in Hill order (C, then H, then the others alphabetically;
// alphabetical throughout when there is no carbon), counts of 1 omitted.
func (f Formula) String() string {
	var b strings.Builder
	for _, sym := range f.Symbols() {
		if f[sym] == 0 {
			continue
		}
		b.WriteString(sym)
		if f[sym] != 1 {
			b.WriteString(strconv.Itoa(f[sym]))
		}
	}
	return b.String()
}

// Symbols returns the element symbols of f in Hill order (C, then H, then
// the others alphabetically; alphabetical throughout when there is no
// carbon), zero counts included. It is the order String writes and MolarMass
// sums in: a caller that sums over a formula (with its own atomic weights,
// say) should range over Symbols, not over the map, to get the same bits
// every run.
func (f Formula) Symbols() []string {
	syms := make([]string, 0, len(f))
	for s := range f {
		syms = append(syms, s)
	}
	_, hasC := f["C"]
	rank := func(s string) int {
		if !hasC {
			return 2
		}
		switch s {
		case "C":
			return 0
		case "H":
			return 1
		}
		return 2
	}
	sort.Slice(syms, func(i, j int) bool {
		ri, rj := rank(syms[i]), rank(syms[j])
		if ri != rj {
			return ri < rj
		}
		return syms[i] < syms[j]
	})
	return syms
}

func (f Formula) add(g Formula, mult int, p *parser) error {
	for s, n := range g {
		v := float64(f[s]) + float64(n)*float64(mult)
		if v >= maxAtoms {
			return p.errf("atom count too large")
		}
		f[s] += n * mult
	}
	return nil
}

type parser struct {
	src string
	pos int
}

func (p *parser) errf(msg string) *ParseError {
	return &ParseError{Formula: p.src, Pos: p.pos, Msg: msg}
}

func (p *parser) peekRune() rune {
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return r
}

func (p *parser) separator() bool {
	for _, sep := range []string{"·", "•", "*", "."} {
		if strings.HasPrefix(p.src[p.pos:], sep) {
			p.pos += len(sep)
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number reads a positive integer count of at most maxDigits digits.
func (p *parser) number() (int, error) {
	start := p.pos
	for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
		p.pos++
		if p.pos-start > maxDigits {
			p.pos = start
			return 0, p.errf(fmt.Sprintf("count longer than %d digits", maxDigits))
		}
	}
	n, _ := strconv.Atoi(p.src[start:p.pos])
	if n == 0 {
		p.pos = start
		return 0, p.errf("count of zero")
	}
	return n, nil
}

// optCount reads an optional count after a symbol or group.
func (p *parser) optCount() (int, error) {
	if p.pos < len(p.src) && isDigit(p.src[p.pos]) {
		return p.number()
	}
	return 1, nil
}

// group reads symbols and parenthesised groups until a closing bracket, a
// separator or the end.
func (p *parser) group(depth int) (Formula, error) {
	f := Formula{}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '(' || c == '[':
			if depth >= maxDepth {
				return nil, p.errf("parentheses nested too deep")
			}
			closer := byte(')')
			if c == '[' {
				closer = ']'
			}
			open := p.pos
			p.pos++
			inner, err := p.group(depth + 1)
			if err != nil {
				return nil, err
			}
			if p.pos >= len(p.src) || p.src[p.pos] != closer {
				p.pos = open
				return nil, p.errf(fmt.Sprintf("unclosed %q", c))
			}
			if len(inner) == 0 {
				return nil, p.errf("empty parentheses")
			}
			p.pos++
			n, err := p.optCount()
			if err != nil {
				return nil, err
			}
			if err := f.add(inner, n, p); err != nil {
				return nil, err
			}
		case c >= 'A' && c <= 'Z':
			start := p.pos
			p.pos++
			if p.pos < len(p.src) && p.src[p.pos] >= 'a' && p.src[p.pos] <= 'z' {
				p.pos++
			}
			sym := p.src[start:p.pos]
			if _, ok := bySymbol[sym]; !ok {
				p.pos = start
				e := p.errf(fmt.Sprintf("unknown element symbol %q", sym))
				e.Err = &UnknownSymbolError{Symbol: sym}
				return nil, e
			}
			n, err := p.optCount()
			if err != nil {
				return nil, err
			}
			if err := f.add(Formula{sym: 1}, n, p); err != nil {
				return nil, err
			}
		case c == ')' || c == ']':
			if depth == 0 {
				return nil, p.errf(fmt.Sprintf("unmatched %q", c))
			}
			return f, nil
		default:
			return f, nil
		}
	}
	return f, nil
}
