package rowcodec

import (
	"encoding/json"
	"fmt"
	"time"

	"lodestone/store"
	"lodestone/twin"
)

// CheckCond checks a write precondition against the stored entity: exists
// tells whether it exists, etag is its entity tag. Errors wrap
// store.ErrPreconditionFailed.
func CheckCond(cond store.Condition, exists bool, etag twin.ETag) error {
	if cond.IfNoneMatch && exists {
		return fmt.Errorf("already exists (If-None-Match: *): %w", store.ErrPreconditionFailed)
	}
	if cond.IfMatch != "" {
		if !exists {
			return fmt.Errorf("does not exist (If-Match): %w", store.ErrPreconditionFailed)
		}
		if !etag.Matches(cond.IfMatch) {
			return fmt.Errorf("etag %s does not match %s: %w", etag, cond.IfMatch, store.ErrPreconditionFailed)
		}
	}
	return nil
}

// StampTwin returns t as a put at transaction time ts stores it: a new
// ETag, "$lastUpdateTime" ts, and every property's lastUpdateTime ts with
// the sourceTime the writer gave kept. The result shares t's Properties
// map.
func StampTwin(t twin.Twin, ts time.Time) twin.Twin {
	out := t
	out.ETag = twin.NewETag()
	out.Metadata.LastUpdateTime = ts
	if len(t.Properties) == 0 {
		out.Metadata.Properties = nil
		return out
	}
	md := make(map[string]twin.PropertyMetadata, len(t.Properties))
	for k := range t.Properties {
		md[k] = twin.PropertyMetadata{LastUpdateTime: ts, SourceTime: t.Metadata.Properties[k].SourceTime}
	}
	out.Metadata.Properties = md
	return out
}

// EncodeTwin returns the props and meta columns of t as JSON text. meta
// leaves out the entry of a property whose only metadata is a
// lastUpdateTime equal to the twin's "$lastUpdateTime" (every property
// written by a put), which store.SQLer allows; DecodeTwin puts it back.
// This halves the size of a typical twin row.
func EncodeTwin(t *twin.Twin) (props, meta []byte, err error) {
	props = []byte("{}")
	if len(t.Properties) > 0 {
		if props, err = json.Marshal(t.Properties); err != nil {
			return nil, nil, fmt.Errorf("encode properties: %w: %w", store.ErrInvalid, err)
		}
	}
	md := t.Metadata
	md.Properties = nil
	for k, pm := range t.Metadata.Properties {
		if pm.SourceTime.IsZero() && pm.LastUpdateTime.Equal(md.LastUpdateTime) {
			if _, ok := t.Properties[k]; ok {
				continue
			}
		}
		if md.Properties == nil {
			md.Properties = make(map[string]twin.PropertyMetadata)
		}
		md.Properties[k] = pm
	}
	if meta, err = md.MarshalJSON(); err != nil {
		return nil, nil, fmt.Errorf("encode metadata: %w: %w", store.ErrInvalid, err)
	}
	return props, meta, nil
}

// DecodeTwin rebuilds a twin from its columns (see EncodeTwin).
func DecodeTwin(id, model, etag string, props, meta []byte) (twin.Twin, error) {
	t := twin.Twin{ID: twin.ID(id), ETag: twin.ETag(etag)}
	if err := t.Metadata.UnmarshalJSON(meta); err != nil {
		return t, fmt.Errorf("decode metadata: %w", err)
	}
	t.Metadata.Model = model
	if string(props) != "{}" {
		if err := json.Unmarshal(props, &t.Properties); err != nil {
			return t, fmt.Errorf("decode properties: %w", err)
		}
		if len(t.Properties) == 0 {
			t.Properties = nil
		}
	}
	for k := range t.Properties {
		if _, ok := t.Metadata.Properties[k]; ok {
			continue
		}
		if t.Metadata.Properties == nil {
			t.Metadata.Properties = make(map[string]twin.PropertyMetadata, len(t.Properties))
		}
		t.Metadata.Properties[k] = twin.PropertyMetadata{LastUpdateTime: t.Metadata.LastUpdateTime}
	}
	return t, nil
}

// MetaOrg returns the "$org" of a twin's meta column ("" when it has none
// or the column is not JSON).
func MetaOrg(meta []byte) string {
	var m struct {
		Org string `json:"$org"`
	}
	json.Unmarshal(meta, &m)
	return m.Org
}

// TwinDoc returns the ADT JSON document of t, byte for byte what
// t.MarshalJSON writes, from the props column EncodeTwin made of it: the
// properties are spliced in rather than encoded again. Writes use it for
// the data of their outbox records.
func TwinDoc(t *twin.Twin, props []byte) ([]byte, error) {
	md, err := t.Metadata.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	b := make([]byte, 0, len(t.ID)+len(t.ETag)+len(md)+len(props)+40)
	b = append(b, `{"$dtId":`...)
	b = appendString(b, string(t.ID))
	if t.ETag != "" {
		b = append(b, `,"$etag":`...)
		b = appendString(b, string(t.ETag))
	}
	b = append(b, `,"$metadata":`...)
	b = append(b, md...)
	return appendMembers(b, props), nil
}

// RelationshipDoc returns the JSON of r, byte for byte what r.MarshalJSON
// writes, from its props column (JSON of r.Properties, "{}" when empty).
func RelationshipDoc(r *twin.Relationship, props []byte) []byte {
	b := make([]byte, 0, len(r.ID)+len(r.ETag)+len(r.SourceID)+len(r.TargetID)+len(r.Name)+len(props)+100)
	b = append(b, `{"$relationshipId":`...)
	b = appendString(b, r.ID)
	if r.ETag != "" {
		b = append(b, `,"$etag":`...)
		b = appendString(b, string(r.ETag))
	}
	b = append(b, `,"$sourceId":`...)
	b = appendString(b, string(r.SourceID))
	b = append(b, `,"$relationshipName":`...)
	b = appendString(b, r.Name)
	b = append(b, `,"$targetId":`...)
	b = appendString(b, string(r.TargetID))
	return appendMembers(b, props)
}

// appendMembers appends the members of the JSON object obj (compact, as
// json.Marshal writes it) after a comma, and closes the object.
func appendMembers(b, obj []byte) []byte {
	if len(obj) > 2 {
		b = append(b, ',')
		b = append(b, obj[1:len(obj)-1]...)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string as encoding/json writes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			v, _ := json.Marshal(s) // a string always marshals
			return append(b, v...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// EncodeProps returns a relationship's props column: its properties as
// JSON, "{}" when it has none.
func EncodeProps(p map[string]any) ([]byte, error) {
	if len(p) == 0 {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode properties: %w: %w", store.ErrInvalid, err)
	}
	return b, nil
}

// EncodeRelProps returns a relationship's props column: its properties
// and its owner ("$org", "$signer", "$writer", those that are set) as
// JSON, "{}" when it has none. The owner keys sort before every property
// name json.Marshal writes after "$", so the column spliced into
// RelationshipDoc gives the relationship's JSON as MarshalJSON writes it.
func EncodeRelProps(r *twin.Relationship) ([]byte, error) {
	if r.Org == "" && r.Writer == "" && r.Signer == "" {
		return EncodeProps(r.Properties)
	}
	m := make(map[string]any, len(r.Properties)+3)
	for k, v := range r.Properties {
		m[k] = v
	}
	for k, v := range map[string]string{"$org": r.Org, "$writer": r.Writer, "$signer": r.Signer} {
		if v != "" {
			m[k] = v
		}
	}
	return EncodeProps(m)
}

// DecodeRelProps reads a relationship's props column into r: its
// properties and its owner keys (see EncodeRelProps).
func DecodeRelProps(b []byte, r *twin.Relationship) error {
	p, err := DecodeProps(b)
	if err != nil {
		return err
	}
	for _, k := range [...]string{"$org", "$writer", "$signer"} {
		v, ok := p[k]
		if !ok {
			continue
		}
		s, _ := v.(string)
		switch k {
		case "$org":
			r.Org = s
		case "$writer":
			r.Writer = s
		default:
			r.Signer = s
		}
		delete(p, k)
	}
	if len(p) == 0 {
		p = nil
	}
	r.Properties = p
	return nil
}

// DecodeProps reads a relationship's props column.
func DecodeProps(b []byte) (map[string]any, error) {
	if string(b) == "{}" {
		return nil, nil
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode properties: %w", err)
	}
	if len(p) == 0 {
		return nil, nil
	}
	return p, nil
}
