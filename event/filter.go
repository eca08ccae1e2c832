package event

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits of a parsed filter; they bound the work a client of /events can
// ask of the server.
const (
	maxFilterPatterns  = 64
	maxFilterPatternLn = 1024
)

// Filter selects events by glob patterns on their type, source, subject and
// dataschema (the four attributes ADT's route filters take).
// In a pattern, '*' matches any run of characters (dots included, possibly
// none) and '?' matches exactly one character; every other character matches
// itself. An event matches when, for each non-empty list, at least one of its
// patterns matches: lists are ANDed, the patterns of one list are ORed. The
// zero Filter matches every event.
type Filter struct {
	Types       []string // patterns on the event type
	Sources     []string // patterns on the event source
	Subjects    []string // patterns on the event subject
	DataSchemas []string // patterns on the dataschema (a telemetry event's model id)
	// Where, when not nil, must also hold. It sees the event's
	// attributes and maybe not its data (a bus may call it before
	// decoding the data, to skip the events it refuses cheaply). In
	// process only: ParseFilter and String leave it out. A bus calls it
	// from the subscription's Next, so it may read state of the goroutine
	// that calls Next.
	Where func(e *Event) bool
}

// ParseFilter parses a filter written like a URL query:
//
//	type=lodestone.twin.*&subject=mine-*
//
// The keys are type, source, subject and dataschema; a key may repeat
// (type=a&type=b means a or b). Values are percent-decoded, so "%26" stands
// for '&' and "%25" for '%'. The empty string is the filter that matches
// everything.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	if s == "" {
		return f, nil
	}
	n := 0
	for part := range strings.SplitSeq(s, "&") {
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return Filter{}, fmt.Errorf("event: filter %q: term %q is not key=pattern", s, part)
		}
		p, err := url.PathUnescape(value)
		if err != nil {
			return Filter{}, fmt.Errorf("event: filter %q: %s: %w", s, key, err)
		}
		if p == "" {
			return Filter{}, fmt.Errorf("event: filter %q: empty pattern for %s", s, key)
		}
		if len(p) > maxFilterPatternLn {
			return Filter{}, fmt.Errorf("event: filter: pattern for %s longer than %d bytes", key, maxFilterPatternLn)
		}
		if n++; n > maxFilterPatterns {
			return Filter{}, fmt.Errorf("event: filter: more than %d patterns", maxFilterPatterns)
		}
		switch key {
		case "type":
			f.Types = append(f.Types, p)
		case "source":
			f.Sources = append(f.Sources, p)
		case "subject":
			f.Subjects = append(f.Subjects, p)
		case "dataschema":
			f.DataSchemas = append(f.DataSchemas, p)
		default:
			return Filter{}, fmt.Errorf("event: filter %q: unknown key %q (want type, source, subject or dataschema)", s, key)
		}
	}
	return f, nil
}

// String returns f in the syntax [ParseFilter] reads; parsing it gives f
// back.
func (f Filter) String() string {
	var b strings.Builder
	write := func(key string, patterns []string) {
		for _, p := range patterns {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(key)
			b.WriteByte('=')
			b.WriteString(escapePattern(p))
		}
	}
	write("type", f.Types)
	write("source", f.Sources)
	write("subject", f.Subjects)
	write("dataschema", f.DataSchemas)
	return b.String()
}

// escapePattern percent-encodes the bytes that would end or confuse a term:
// '%', '&', '=', '+', '#', controls, space and non-ASCII bytes.
func escapePattern(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("%&=+#", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// IsZero reports whether f has no patterns and so matches every event.
func (f Filter) IsZero() bool {
	return len(f.Types) == 0 && len(f.Sources) == 0 && len(f.Subjects) == 0 && len(f.DataSchemas) == 0 && f.Where == nil
}

// Match reports whether e passes the filter.
func (f Filter) Match(e *Event) bool {
	return matchAny(f.Types, e.Type) && matchAny(f.Sources, e.Source) &&
		matchAny(f.Subjects, e.Subject) && matchAny(f.DataSchemas, e.DataSchema) &&
		(f.Where == nil || f.Where(e))
}

// matchAny reports whether s matches one of patterns; an empty list matches.
func matchAny(patterns []string, s string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if Glob(p, s) {
			return true
		}
	}
	return false
}

// Glob reports whether s matches pattern, where '*' matches any run of
// characters and '?' one character (a UTF-8 sequence, or one byte of an
// invalid one). It runs in O(len(pattern)·len(s)) time at worst, with no
// recursion.
func Glob(pattern, s string) bool {
	// Classic greedy matcher: remember the last star and the position in s
	// it was tried at; on a mismatch, let that star absorb one more character.
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[sx:])
				px++
				sx += n
				continue
			default:
				if c == s[sx] {
					px++
					sx++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		px, sx = starP+1, starS
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
