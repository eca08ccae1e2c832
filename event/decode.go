package event

import (
	"bytes"
	"encoding/json"
	"time"
)

// decodeFast is Decode for the events this package writes: an object whose
// keys and attribute values are plain strings (printable ASCII without
// escapes, see plainString), each key once, and data of any JSON. It reads
// the event in one pass plus one over data (json.Compact, which also
// validates it), where Decode's general path scans the whole event three
// times and builds a map. ok is false for anything else, valid or not:
// Decode then takes its general path, which gives the same event or the
// error. An event decodeFast accepts is one the general path accepts, with
// the same fields.
func decodeFast(b []byte) (e Event, ok bool) { return decodeFastData(b, true) }

// DecodeAttributes reads the attributes of an event in the form this
// package writes (see decodeFast), skipping data: a cheap look before a
// full Decode, for a subscriber that wants few of the events it is sent
// (Filter.Where). ok is false when b is not in that form; only Decode
// can then tell.
func DecodeAttributes(b []byte) (e Event, ok bool) { return decodeFastData(b, false) }

func decodeFastData(b []byte, withData bool) (e Event, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return Event{}, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return Event{}, false // no specversion: the general path says so
	}
	var seen uint16
	for {
		key, j, ok := plainAt(b, i)
		if !ok {
			return Event{}, false
		}
		j = skipSpace(b, j)
		if j >= len(b) || b[j] != ':' {
			return Event{}, false
		}
		j = skipSpace(b, j+1)
		end, ok := valueEnd(b, j)
		if !ok {
			return Event{}, false
		}
		if key == "data" && !withData {
			if seen&seenData != 0 {
				return Event{}, false
			}
			seen |= seenData
		} else if !e.setFast(key, b[j:end], &seen) {
			return Event{}, false
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return Event{}, false
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return Event{}, false
		}
		i = skipSpace(b, i+1)
	}
	if skipSpace(b, i+1) != len(b) || e.SpecVersion == "" || e.validateAttributes() != nil {
		return Event{}, false
	}
	return e, true
}

// Bits of decodeFast's seen: each attribute may come once.
const (
	seenSpec = 1 << iota
	seenID
	seenSource
	seenType
	seenSubject
	seenTime
	seenContentType
	seenSchema
	seenData
)

// setFast sets attribute key from its raw value v; false sends Decode to
// its general path.
func (e *Event) setFast(key string, v []byte, seen *uint16) bool {
	if key == "data" {
		if *seen&seenData != 0 {
			return false
		}
		*seen |= seenData
		if string(v) == "null" {
			return true
		}
		var buf bytes.Buffer
		if json.Compact(&buf, v) != nil {
			return false
		}
		e.Data = json.RawMessage(buf.Bytes())
		return true
	}
	s, ok := plainString(v)
	if !ok {
		return false // null, a number, an escape: the general path
	}
	var bit uint16
	var dst *string
	switch key {
	case "specversion":
		bit, dst = seenSpec, &e.SpecVersion
	case "id":
		bit, dst = seenID, &e.ID
	case "source":
		bit, dst = seenSource, &e.Source
	case "type":
		bit, dst = seenType, &e.Type
	case "subject":
		bit, dst = seenSubject, &e.Subject
	case "datacontenttype":
		bit, dst = seenContentType, &e.DataContentType
	case "dataschema":
		bit, dst = seenSchema, &e.DataSchema
	case "time":
		if *seen&seenTime != 0 {
			return false
		}
		*seen |= seenTime
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return false
		}
		e.Time = t.UTC()
		return true
	case "data_base64":
		return false
	default:
		if _, dup := e.Extensions[key]; dup {
			return false
		}
		if e.Extensions == nil {
			e.Extensions = make(map[string]string, 1)
		}
		e.Extensions[key] = s
		return true
	}
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	*dst = s
	return true
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainAt reads the plain string (see plainString) that starts at b[i] and
// returns it and the index after it.
func plainAt(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return string(b[i+1 : j]), j + 1, true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return "", 0, false
		}
	}
	return "", 0, false
}

// valueEnd returns the index after the JSON value that starts at b[i]. It
// only finds the extent (strings, escapes and nesting); the caller
// validates what it takes (plainString, json.Compact), and a wrong extent
// of invalid JSON fails that check or the structure around it.
func valueEnd(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, true
			}
		}
		return 0, false
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			case '"':
				end, ok := valueEnd(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			}
		}
		return 0, false
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j, j > i
}
