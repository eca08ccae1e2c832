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
func (db *DB) GetTwinJSON(ctx context.Context, id twin.ID) ([]byte, twin.ETag, error) {
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
	return b, twin.ETag(etag), nil
}

// twinJSON builds the document twin.Twin.MarshalJSON would write for the
// twin stored in these columns.
func twinJSON(id twin.ID, model, etag, props, meta string) ([]byte, error) {
	keys, err := topLevelKeys(props)
	if err != nil {
		return nil, fmt.Errorf("stored properties: %w", err)
	}
	var md twin.Metadata
	if err := md.UnmarshalJSON([]byte(meta)); err != nil {
		return nil, fmt.Errorf("stored metadata: %w", err)
	}
	md.Model = model
	for _, k := range keys {
		if _, ok := md.Properties[k]; ok {
			continue
		}
		if md.Properties == nil {
			md.Properties = make(map[string]twin.PropertyMetadata, len(keys))
		}
		md.Properties[k] = twin.PropertyMetadata{LastUpdateTime: md.LastUpdateTime}
	}
	mdJSON, err := md.MarshalJSON()
	if err != nil {
		return nil, err
	}
	idJSON, _ := json.Marshal(string(id))
	etagJSON, _ := json.Marshal(etag)
	out := make([]byte, 0, len(props)+len(mdJSON)+len(idJSON)+len(etagJSON)+32)
	out = append(out, `{"$dtId":`...)
	out = append(out, idJSON...)
	if etag != "" {
		out = append(out, `,"$etag":`...)
		out = append(out, etagJSON...)
	}
	out = append(out, `,"$metadata":`...)
	out = append(out, mdJSON...)
	if len(keys) > 0 {
		out = append(out, ',')
		out = append(out, props[1:len(props)-1]...)
	}
	out = append(out, '}')
	return out, nil
}

// topLevelKeys returns the member names of a compact JSON object (as
// json.Marshal writes it), in order, without decoding the values.
func topLevelKeys(s string) ([]string, error) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, errors.New("not a JSON object")
	}
	var keys []string
	i := 1
	if s[i] == '}' {
		return nil, nil
	}
	for {
		// A member name.
		if s[i] != '"' {
			return nil, fmt.Errorf("expected a member name at offset %d", i)
		}
		end, escaped := scanString(s, i)
		if end < 0 {
			return nil, errors.New("unterminated string")
		}
		key := s[i+1 : end]
		if escaped {
			if err := json.Unmarshal([]byte(s[i:end+1]), &key); err != nil {
				return nil, err
			}
		}
		keys = append(keys, key)
		i = end + 1
		if i >= len(s) || s[i] != ':' {
			return nil, fmt.Errorf("expected ':' at offset %d", i)
		}
		i++
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
		if s[i] == '}' {
			if i != len(s)-1 {
				return nil, errors.New("trailing data")
			}
			return keys, nil
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
