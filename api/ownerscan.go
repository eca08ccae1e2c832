package api

import "bytes"

// twinDocOwner finds "$metadata"."$model" and "$metadata"."$org" of a twin
// document (the store's ADT JSON) without decoding it: it walks the
// top-level object's members and the "$metadata" object's, skipping the
// other values. A read of a twin under --auth needs only these two to
// decide what the principal sees, and decoding the whole document for
// them cost more than reading it from the store.
//
// For valid JSON it agrees with json.Unmarshal into twinOwner, or says
// ok = false: when the document is not an object, a wanted value is not
// a plain string (escapes, null, another type), or a key at either level
// has escapes or matches "$metadata", "$model" or "$org" only without
// regard to case (json.Unmarshal's fallback). The caller then decodes.
// Absent members are empty, as json.Unmarshal leaves them.
// The documents the store returns are valid JSON.
func twinDocOwner(b []byte) (model, org []byte, ok bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, nil, false
	}
	ok = true
	end := members(b, i, func(key []byte, v int) int {
		switch {
		case !ok:
			return -1
		case string(key) == "$metadata":
			if b[v] != '{' {
				// json.Unmarshal refuses anything but an object or null
				// here; null changes nothing.
				if bytes.HasPrefix(b[v:], []byte("null")) {
					return v + 4
				}
				ok = false
				return -1
			}
			// A repeated "$metadata" sets what it names over the
			// earlier one's, as json.Unmarshal does.
			return members(b, v, func(key []byte, v int) int {
				switch {
				case string(key) == "$model":
					model, ok = plainString(b, v)
				case string(key) == "$org":
					org, ok = plainString(b, v)
				case bytes.EqualFold(key, []byte("$model")) || bytes.EqualFold(key, []byte("$org")) || key == nil:
					ok = false
				}
				if !ok {
					return -1
				}
				return skipValue(b, v)
			})
		case bytes.EqualFold(key, []byte("$metadata")) || key == nil:
			ok = false
			return -1
		}
		return skipValue(b, v)
	})
	if !ok || end < 0 || skipWS(b, end) != len(b) {
		return nil, nil, false
	}
	return model, org, true
}

// members calls fn for each member of the object that starts at b[i]
// ('{') with its key (nil when it has escapes) and the index of its
// value; fn returns the index after the value, or -1 to stop. members
// returns the index after the object, or -1.
func members(b []byte, i int, fn func(key []byte, v int) int) int {
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for i < len(b) {
		if b[i] != '"' {
			return -1
		}
		end, esc := skipString(b, i)
		if end < 0 {
			return -1
		}
		key := b[i+1 : end-1]
		if esc {
			key = nil
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return -1
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return -1
		}
		if i = fn(key, i); i < 0 {
			return -1
		}
		i = skipWS(b, i)
		switch {
		case i >= len(b):
			return -1
		case b[i] == '}':
			return i + 1
		case b[i] != ',':
			return -1
		}
		i = skipWS(b, i+1)
	}
	return -1
}

// plainString returns the contents of the string at b[i] when it has no
// escapes.
func plainString(b []byte, i int) ([]byte, bool) {
	if b[i] != '"' {
		return nil, false
	}
	end, esc := skipString(b, i)
	if end < 0 || esc {
		return nil, false
	}
	return b[i+1 : end-1], true
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i]
// ('"'), or -1, and whether it has escapes.
func skipString(b []byte, i int) (int, bool) {
	esc := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			esc = true
			j++
		case '"':
			return j + 1, esc
		}
	}
	return -1, esc
}

// skipValue returns the index after the JSON value that starts at b[i],
// or -1. It does not validate what it skips.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		end, _ := skipString(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := skipString(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	for j := i; j < len(b); j++ {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
	}
	return len(b)
}
