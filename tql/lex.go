package tql

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tLParen   // (
	tRParen   // )
	tLBrack   // [
	tRBrack   // ]
	tComma    // ,
	tDot      // .
	tDotDot   // ..
	tStar     // *
	tEq       // =
	tNe       // != or <>
	tLt       // <
	tLe       // <=
	tGt       // >
	tGe       // >=
	tMinus    // -
	tPipe     // |
	tColon    // :
	tSemi     // ;
	tIllegal  // any other character
	tUnclosed // unterminated string or escaped name
)

// token is one lexical token. Text is the identifier (without [[ ]]), the
// decoded string or the number text.
type token struct {
	kind    tokKind
	text    string
	escaped bool // identifier written as [[name]]
	pos     Pos
}

// String names the token kind for error messages.
func (k tokKind) String() string {
	switch k {
	case tEOF:
		return "end of query"
	case tIdent:
		return "name"
	case tString:
		return "string"
	case tNumber:
		return "number"
	case tUnclosed:
		return "unterminated text"
	}
	if s, ok := punct[k]; ok {
		return strconv.Quote(s)
	}
	return "character"
}

var punct = map[tokKind]string{
	tLParen: "(", tRParen: ")", tLBrack: "[", tRBrack: "]", tComma: ",", tDot: ".",
	tDotDot: "..", tStar: "*", tEq: "=", tNe: "!=", tLt: "<", tLe: "<=", tGt: ">",
	tGe: ">=", tMinus: "-", tPipe: "|", tColon: ":", tSemi: ";",
}

// describe renders a token for an error message.
func (t token) describe() string {
	switch t.kind {
	case tIdent:
		return strconv.Quote(t.text)
	case tString:
		return "string " + strconv.Quote(t.text)
	case tNumber:
		return "number " + t.text
	case tIllegal:
		return "character " + strconv.Quote(t.text)
	}
	return t.kind.String()
}

// lexer splits a query into tokens. Positions count lines from 1 and columns
// in bytes from 1.
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func (l *lexer) pos() Pos { return Pos{Offset: l.off, Line: l.line, Col: l.col} }

// advance moves past n bytes, none of them a newline.
func (l *lexer) advance(n int) { l.off += n; l.col += n }

func (l *lexer) skipSpace() {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == '\n':
			l.off++
			l.line++
			l.col = 1
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			l.advance(1)
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(l.src[l.off:])
			if !unicode.IsSpace(r) {
				return
			}
			l.advance(n)
		default:
			return
		}
	}
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || c == '@' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

// next returns the next token.
func (l *lexer) next() token {
	l.skipSpace()
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: p}
	}
	c := l.src[l.off]
	two := ""
	if l.off+1 < len(l.src) {
		two = l.src[l.off : l.off+2]
	}
	tk := func(k tokKind, n int) token {
		t := token{kind: k, text: l.src[l.off : l.off+n], pos: p}
		l.advance(n)
		return t
	}
	switch {
	case isIdentStart(c):
		n := 1
		for l.off+n < len(l.src) && isIdentPart(l.src[l.off+n]) {
			n++
		}
		return tk(tIdent, n)
	case '0' <= c && c <= '9':
		return l.number(p)
	case c == '\'' || c == '"':
		return l.str(p, c)
	case two == "[[":
		end := strings.Index(l.src[l.off+2:], "]]")
		if end < 0 || strings.ContainsAny(l.src[l.off+2:l.off+2+end], "\n") {
			t := token{kind: tUnclosed, text: "[[", pos: p}
			l.advance(len(l.src) - l.off)
			return t
		}
		t := token{kind: tIdent, text: l.src[l.off+2 : l.off+2+end], escaped: true, pos: p}
		l.advance(end + 4)
		return t
	case two == "..":
		return tk(tDotDot, 2)
	case two == "!=" || two == "<>":
		return tk(tNe, 2)
	case two == "<=":
		return tk(tLe, 2)
	case two == ">=":
		return tk(tGe, 2)
	}
	switch c {
	case '(':
		return tk(tLParen, 1)
	case ')':
		return tk(tRParen, 1)
	case '[':
		return tk(tLBrack, 1)
	case ']':
		return tk(tRBrack, 1)
	case ',':
		return tk(tComma, 1)
	case '.':
		return tk(tDot, 1)
	case '*':
		return tk(tStar, 1)
	case '=':
		return tk(tEq, 1)
	case '<':
		return tk(tLt, 1)
	case '>':
		return tk(tGt, 1)
	case '-':
		return tk(tMinus, 1)
	case '|':
		return tk(tPipe, 1)
	case ':':
		return tk(tColon, 1)
	case ';':
		return tk(tSemi, 1)
	}
	_, n := utf8.DecodeRuneInString(l.src[l.off:])
	return tk(tIllegal, n)
}

// number lexes digits with an optional fraction and exponent. A dot followed
// by a second dot is a range (*1..3), not a fraction.
func (l *lexer) number(p Pos) token {
	s := l.src[l.off:]
	n := 0
	for n < len(s) && '0' <= s[n] && s[n] <= '9' {
		n++
	}
	if n+1 < len(s) && s[n] == '.' && '0' <= s[n+1] && s[n+1] <= '9' {
		n++
		for n < len(s) && '0' <= s[n] && s[n] <= '9' {
			n++
		}
	}
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		m := n + 1
		if m < len(s) && (s[m] == '+' || s[m] == '-') {
			m++
		}
		if m < len(s) && '0' <= s[m] && s[m] <= '9' {
			for m < len(s) && '0' <= s[m] && s[m] <= '9' {
				m++
			}
			n = m
		}
	}
	t := token{kind: tNumber, text: s[:n], pos: p}
	l.advance(n)
	return t
}

// str lexes a quoted string. A backslash escapes the next character; \n, \t,
// \r and \uXXXX have their usual meaning.
func (l *lexer) str(p Pos, q byte) token {
	var b strings.Builder
	i := l.off + 1
	for i < len(l.src) {
		c := l.src[i]
		switch {
		case c == q:
			t := token{kind: tString, text: b.String(), pos: p}
			l.advance(i + 1 - l.off)
			return t
		case c == '\n':
			i = len(l.src)
		case c == '\\' && i+1 < len(l.src) && l.src[i+1] != '\n':
			e := l.src[i+1]
			i += 2
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'u':
				if i+4 <= len(l.src) {
					if v, err := strconv.ParseUint(l.src[i:i+4], 16, 32); err == nil {
						b.WriteRune(rune(v))
						i += 4
						continue
					}
				}
				b.WriteByte('u')
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	t := token{kind: tUnclosed, text: string(q), pos: p}
	// Skip to the end of the line so that the error is reported once.
	rest := l.src[l.off:]
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		l.advance(nl)
	} else {
		l.advance(len(rest))
	}
	return t
}
