package twin

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// Relationship is a directed, named edge from a source twin to a target twin,
// with its own properties. Its ID is unique among the source's relationships.
type Relationship struct {
	// ID is the "$relationshipId", unique per source twin.
	ID string
	// SourceID is the "$sourceId": the twin the relationship leaves.
	SourceID ID
	// TargetID is the "$targetId": the twin the relationship points to.
	TargetID ID
	// Name is the "$relationshipName" declared in the source's model.
	Name string
	// ETag is the entity tag of the stored version; the store sets it.
	ETag ETag
	// Properties holds the edge properties, keyed by name.
	Properties map[string]any
	// Org is the organisation that owns the relationship ("$org"): the org
	// of the principal that created it; "" without --auth.
	Org string
	// Writer is the subject of the principal of the last write
	// ("$writer"); "" without --auth.
	Writer string
	// Signer is the id of the key that signed the last write ("$signer");
	// "" for an unsigned write.
	Signer string
}

// MarshalJSON implements json.Marshaler with ADT's relationship shape.
func (r Relationship) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"$relationshipId":`)
	writeJSONString(&b, r.ID)
	if r.ETag != "" {
		b.WriteString(`,"$etag":`)
		writeJSONString(&b, string(r.ETag))
	}
	b.WriteString(`,"$sourceId":`)
	writeJSONString(&b, string(r.SourceID))
	b.WriteString(`,"$relationshipName":`)
	writeJSONString(&b, r.Name)
	b.WriteString(`,"$targetId":`)
	writeJSONString(&b, string(r.TargetID))
	writeOwner(&b, r.Org, r.Writer, r.Signer)
	if err := writeProps(&b, r.Properties); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler. Keys not starting with "$" are
// edge properties; unknown system keys are an error.
func (r *Relationship) UnmarshalJSON(data []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return invalidf("relationship is not a JSON object: %v", err)
	}
	if raw == nil {
		return invalidf("relationship is null")
	}
	*r = Relationship{}
	for k, v := range raw {
		if !strings.HasPrefix(k, "$") {
			continue
		}
		var dst *string
		switch k {
		case "$relationshipId":
			dst = &r.ID
		case "$sourceId":
			dst = (*string)(&r.SourceID)
		case "$targetId":
			dst = (*string)(&r.TargetID)
		case "$relationshipName":
			dst = &r.Name
		case "$etag":
			dst = (*string)(&r.ETag)
		case "$org":
			dst = &r.Org
		case "$writer":
			dst = &r.Writer
		case "$signer":
			dst = &r.Signer
		default:
			return invalidf("unknown system property %q", k)
		}
		s, ok := v.(string)
		if !ok {
			return invalidf("%s is not a string", k)
		}
		*dst = s
		delete(raw, k)
	}
	if len(raw) > 0 {
		r.Properties = raw
	}
	return nil
}

// Clone returns a deep copy of r.
func (r Relationship) Clone() Relationship {
	c := r
	c.Properties = cloneMap(r.Properties)
	return c
}

// ApplyPatch returns the relationship that results from applying p to r's
// properties. System properties ("$relationshipId", "$sourceId",
// "$targetId", "$relationshipName", "$etag") are read-only. r is not
// modified.
func (r Relationship) ApplyPatch(p Patch) (Relationship, error) {
	for i, op := range p {
		tok, err := splitPointer(op.Path)
		if err != nil {
			return Relationship{}, &PatchError{Index: i, Op: op.Op, Path: op.Path, Err: err}
		}
		if len(tok) > 0 && strings.HasPrefix(tok[0], "$") {
			return Relationship{}, &PatchError{Index: i, Op: op.Op, Path: op.Path, Err: errors.New("read-only system property")}
		}
	}
	props := r.Properties
	if props == nil {
		props = map[string]any{}
	}
	doc, err := p.Apply(props)
	if err != nil {
		return Relationship{}, err
	}
	out := r
	out.Properties = doc
	if len(doc) == 0 {
		out.Properties = nil
	}
	return out, nil
}
