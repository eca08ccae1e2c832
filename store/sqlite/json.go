package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"lodestone/store"
	"lodestone/twin"
)

// GetTwinJSON implements store.Store. It splices the stored props text into
// the document instead of decoding it; only the small metadata column is
// decoded, to put back the entries rowcodec.EncodeTwin left out.
//
// With the document cache on (Options.DocCacheMiB), a twin read before
// and not written since is served from memory; the document returned is
// then shared and must not be modified (no caller does: store.Twins).
func (db *DB) GetTwinJSON(ctx context.Context, id twin.ID) ([]byte, twin.ETag, error) {
	var gen uint64
	if db.docs != nil {
		d, g, ok := db.docs.get(id)
		if ok {
			return d.doc, d.etag, nil
		}
		gen = g
	}
	var model, etag, props, meta string
	err := db.readRow(ctx, qTwinCurrent, string(id)).Scan(&model, &etag, &props, &meta)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("sqlite: get twin %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: get twin %q: %w", id, err)
	}
	b, err := twinJSON(id, model, etag, props, meta)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: get twin %q: %w", id, err)
	}
	if db.docs != nil {
		db.docs.put(id, cachedDoc{doc: b, etag: twin.ETag(etag)}, gen)
	}
	return b, twin.ETag(etag), nil
}

// twinJSON builds the document twin.Twin.MarshalJSON would write for the
// twin stored in these columns. The meta column is what Metadata.MarshalJSON
// wrote (rowcodec.EncodeTwin), so the document's "$metadata" is that text
// with the column's model and with an entry put back, in key order, for
// each property whose entry EncodeTwin left out: spliceMeta writes it
// without decoding. Text it cannot vouch for (escaped names, names or
// members Metadata.MarshalJSON does not write) takes the decoding path,
// which gives the same bytes (FuzzSpliceMeta).
func twinJSON(id twin.ID, model, etag, props, meta string) ([]byte, error) {
	pm, err := members(props)
	if err != nil {
		return nil, fmt.Errorf("stored properties: %w", err)
	}
	idJSON, _ := json.Marshal(string(id))
	etagJSON, _ := json.Marshal(etag)
	out := make([]byte, 0, len(props)+len(meta)+len(idJSON)+len(etagJSON)+64+48*len(pm))
	out = append(out, `{"$dtId":`...)
	out = append(out, idJSON...)
	if etag != "" {
		out = append(out, `,"$etag":`...)
		out = append(out, etagJSON...)
	}
	out = append(out, `,"$metadata":`...)
	if spliced, ok := spliceMeta(out, model, meta, props, pm); ok {
		out = spliced
	} else {
		mdJSON, err := decodedMeta(model, meta, props, pm)
		if err != nil {
			return nil, err
		}
		out = append(out, mdJSON...)
	}
	if len(pm) > 0 {
		out = append(out, ',')
		out = append(out, props[1:len(props)-1]...)
	}
	out = append(out, '}')
	return out, nil
}

// decodedMeta is the document's "$metadata" by decoding the meta column
// and marshalling it again (see twinJSON).
func decodedMeta(model, meta, props string, pm []member) ([]byte, error) {
	var md twin.Metadata
	if err := md.UnmarshalJSON([]byte(meta)); err != nil {
		return nil, fmt.Errorf("stored metadata: %w", err)
	}
	md.Model = model
	for _, m := range pm {
		k, err := m.name(props)
		if err != nil {
			return nil, fmt.Errorf("stored properties: %w", err)
		}
		if _, ok := md.Properties[k]; ok {
			continue
		}
		if md.Properties == nil {
			md.Properties = make(map[string]twin.PropertyMetadata, len(pm))
		}
		md.Properties[k] = twin.PropertyMetadata{LastUpdateTime: md.LastUpdateTime}
	}
	return md.MarshalJSON()
}

// spliceMeta appends the document's "$metadata" to out from the meta
// column's text (see twinJSON), or reports false, with out unchanged in
// its length, when the text is not in the form Metadata.MarshalJSON
// writes: "$model", then "$lastUpdateTime" and the owner members, then
// property entries in increasing key order, no name escaped.
func spliceMeta(out []byte, model, meta, props string, pm []member) ([]byte, bool) {
	mm, err := members(meta)
	if err != nil || len(mm) == 0 || meta[mm[0].key+1:mm[0].keyEnd] != "$model" || mm[0].escaped {
		return out, false
	}
	var last string // the raw "$lastUpdateTime" value, quotes included
	i := 1
	for ; i < len(mm); i++ {
		m := mm[i]
		if m.escaped {
			return out, false
		}
		k := meta[m.key+1 : m.keyEnd]
		if k == "" || k[0] != '$' {
			break
		}
		switch k {
		case "$lastUpdateTime":
			if i != 1 {
				return out, false
			}
			last = meta[m.val:m.end]
		case "$org", "$writer", "$signer":
		default:
			return out, false
		}
	}
	if last == "" && len(pm) > 0 {
		// A property without an entry would get a zero one: not a form the
		// writer makes.
		return out, false
	}
	n := len(out)
	out = append(out, `{"$model":`...)
	out = appendJSONString(out, model)
	for _, m := range mm[1:i] {
		out = append(out, ',')
		out = append(out, meta[m.key:m.end]...)
	}
	// Merge the meta column's property entries with the properties, both
	// in increasing key order.
	rest, prev := mm[i:], ""
	for j := 0; len(rest) > 0 || j < len(pm); {
		var k string
		fromMeta := len(rest) > 0
		if fromMeta {
			if rest[0].escaped {
				return out[:n], false
			}
			k = meta[rest[0].key+1 : rest[0].keyEnd]
		}
		if j < len(pm) {
			if pm[j].escaped {
				return out[:n], false
			}
			pk := props[pm[j].key+1 : pm[j].keyEnd]
			switch {
			case !fromMeta || pk < k:
				k, fromMeta = pk, false
			case pk == k:
				j++ // the meta column has its entry
			}
		}
		if k <= prev && prev != "" || k == "" || k[0] == '$' {
			return out[:n], false
		}
		prev = k
		out = append(out, ',')
		if fromMeta {
			out = append(out, meta[rest[0].key:rest[0].end]...)
			rest = rest[1:]
			continue
		}
		out = append(out, '"')
		out = append(out, k...)
		out = append(out, `":{"lastUpdateTime":`...)
		out = append(out, last...)
		out = append(out, '}')
		j++
	}
	return append(out, '}'), true
}

// appendJSONString appends s as a JSON string, as encoding/json writes it.
func appendJSONString(out []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			b, _ := json.Marshal(s)
			return append(out, b...)
		}
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"')
}

// member is one member of a JSON object text: its name from the opening
// quote at key to the closing one at keyEnd, its value from val to end.
type member struct {
	key, keyEnd, val, end int
	escaped               bool // the name holds escapes
}

// name returns the member's name, unescaped, from the object text s.
func (m member) name(s string) (string, error) {
	k := s[m.key+1 : m.keyEnd]
	if m.escaped {
		if err := json.Unmarshal([]byte(s[m.key:m.keyEnd+1]), &k); err != nil {
			return "", err
		}
	}
	return k, nil
}

// members scans the members of a compact JSON object (as json.Marshal
// writes it), in order, without decoding the values.
func members(s string) ([]member, error) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, errors.New("not a JSON object")
	}
	i := 1
	if s[i] == '}' {
		return nil, nil
	}
	mm := make([]member, 0, 8)
	for {
		// A member name.
		if s[i] != '"' {
			return nil, fmt.Errorf("expected a member name at offset %d", i)
		}
		end, escaped := scanString(s, i)
		if end < 0 {
			return nil, errors.New("unterminated string")
		}
		m := member{key: i, keyEnd: end, escaped: escaped}
		i = end + 1
		if i >= len(s) || s[i] != ':' {
			return nil, fmt.Errorf("expected ':' at offset %d", i)
		}
		i++
		m.val = i
		// Skip the value.
		depth := 0
		for ; i < len(s); i++ {
			c := s[i]
			if c == '"' {
				end, _ := scanString(s, i)
				if end < 0 {
					return nil, errors.New("unterminated string")
				}
				i = end
				continue
			}
			if c == '{' || c == '[' {
				depth++
			} else if c == '}' || c == ']' {
				if depth == 0 {
					break // the object's closing brace
				}
				depth--
			} else if c == ',' && depth == 0 {
				break
			}
		}
		if i >= len(s) {
			return nil, errors.New("unterminated object")
		}
		m.end = i
		if m.end == m.val {
			return nil, fmt.Errorf("expected a value at offset %d", i)
		}
		mm = append(mm, m)
		if s[i] == '}' {
			if i != len(s)-1 {
				return nil, errors.New("trailing data")
			}
			return mm, nil
		}
		i++ // the comma
	}
}

// scanString returns the index of the closing quote of the JSON string that
// opens at s[i], or -1, and whether it contains escapes.
func scanString(s string, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j, escaped
		}
	}
	return -1, escaped
}
