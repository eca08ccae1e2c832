package twin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// ID identifies a twin ("$dtId"). It is unique in a twin graph.
type ID string

// Twin is a digital twin: an instance of a DTDL model with property values.
// Its JSON form is ADT's (see the package documentation).
type Twin struct {
	// ID is the twin's "$dtId".
	ID ID
	// ETag is the entity tag of the stored version; the store sets it.
	ETag ETag
	// Metadata is the twin's "$metadata": its model and update times.
	Metadata Metadata
	// Properties holds the property and component values, keyed by name.
	// Component values are map[string]any holding a "$metadata" object.
	Properties map[string]any
}

// Metadata is the "$metadata" object of a twin.
type Metadata struct {
	// Model is the DTMI of the twin's model ("$model").
	Model string
	// LastUpdateTime is when the twin was last written ("$lastUpdateTime").
	LastUpdateTime time.Time
	// Properties holds per-property metadata, keyed by property name.
	Properties map[string]PropertyMetadata
	// Org is the organisation that owns the twin ("$org"): the org of the
	// principal that created it. "" for twins written without --auth.
	Org string
	// Writer is the subject of the principal of the last write
	// ("$writer"); "" without --auth.
	Writer string
	// Signer is the id of the key that signed the last write's DSSE
	// envelope ("$signer"); "" for an unsigned write.
	Signer string
}

// PropertyMetadata is the metadata of one property value.
type PropertyMetadata struct {
	// LastUpdateTime is when the value was last written (transaction time).
	LastUpdateTime time.Time
	// SourceTime is when the value was observed at its source, as given by
	// the writer; the zero time means none was given.
	SourceTime time.Time
}

// Errors of JSON decoding, checked with errors.Is.
var (
	// ErrInvalidJSON is returned when a twin or relationship document is
	// malformed or misuses a system property.
	ErrInvalidJSON = errors.New("twin: invalid document")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidJSON}, args...)...)
}

// formatTime writes times the way ADT does: RFC 3339 in UTC with the
// fractional seconds that are present.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// MarshalJSON implements json.Marshaler. System properties come first, then
// the properties in key order.
func (m PropertyMetadata) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if !m.LastUpdateTime.IsZero() {
		b.WriteString(`"lastUpdateTime":"` + formatTime(m.LastUpdateTime) + `"`)
	}
	if !m.SourceTime.IsZero() {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(`"sourceTime":"` + formatTime(m.SourceTime) + `"`)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler. Unknown keys are ignored, as
// ADT adds keys (such as "desiredValue") that Lodestone does not keep.
func (m *PropertyMetadata) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return invalidf("property metadata is not JSON")
	}
	pm, err := propertyMetadataFrom(v, "property metadata")
	if err != nil {
		return err
	}
	*m = pm
	return nil
}

// propertyMetadataFrom converts a decoded JSON value to PropertyMetadata.
func propertyMetadataFrom(v any, what string) (PropertyMetadata, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return PropertyMetadata{}, invalidf("%s is not an object", what)
	}
	var pm PropertyMetadata
	var err error
	if pm.LastUpdateTime, err = timeFrom(obj["lastUpdateTime"], what+".lastUpdateTime"); err != nil {
		return PropertyMetadata{}, err
	}
	if pm.SourceTime, err = timeFrom(obj["sourceTime"], what+".sourceTime"); err != nil {
		return PropertyMetadata{}, err
	}
	return pm, nil
}

// timeFrom converts a decoded JSON string to a time; nil gives the zero
// time.
func timeFrom(v any, what string) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, invalidf("%s is not a string", what)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalidf("%s %q is not an RFC 3339 time", what, s)
	}
	return t, nil
}

// MarshalJSON implements json.Marshaler. It runs on every store write, so
// it formats the common update time once.
func (m Metadata) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.Grow(64 + 80*len(m.Properties))
	b.WriteString(`{"$model":`)
	writeJSONString(&b, m.Model)
	var last []byte
	if !m.LastUpdateTime.IsZero() {
		last = m.LastUpdateTime.UTC().AppendFormat(nil, time.RFC3339Nano)
		b.WriteString(`,"$lastUpdateTime":"`)
		b.Write(last)
		b.WriteByte('"')
	}
	writeOwner(&b, m.Org, m.Writer, m.Signer)
	for _, k := range slices.Sorted(maps.Keys(m.Properties)) {
		pm := m.Properties[k]
		b.WriteByte(',')
		writeJSONString(&b, k)
		if pm.SourceTime.IsZero() && last != nil && pm.LastUpdateTime.Equal(m.LastUpdateTime) {
			b.WriteString(`:{"lastUpdateTime":"`)
			b.Write(last)
			b.WriteString(`"}`)
			continue
		}
		b.WriteByte(':')
		v, _ := pm.MarshalJSON()
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *Metadata) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return invalidf("$metadata is not JSON")
	}
	md, err := metadataFrom(v)
	if err != nil {
		return err
	}
	*m = md
	return nil
}

// metadataFrom converts a decoded "$metadata" object.
func metadataFrom(v any) (Metadata, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Metadata{}, invalidf("$metadata is not an object")
	}
	var m Metadata
	for k, v := range obj {
		switch {
		case k == "$model":
			s, ok := v.(string)
			if !ok {
				return Metadata{}, invalidf("$metadata.$model is not a string")
			}
			m.Model = s
		case k == "$lastUpdateTime":
			t, err := timeFrom(v, "$metadata.$lastUpdateTime")
			if err != nil {
				return Metadata{}, err
			}
			m.LastUpdateTime = t
		case k == "$org" || k == "$writer" || k == "$signer":
			s, ok := v.(string)
			if !ok {
				return Metadata{}, invalidf("$metadata.%s is not a string", k)
			}
			*m.ownerField(k) = s
		case strings.HasPrefix(k, "$"):
			// ADT adds read-only keys here in some versions; keep none.
		default:
			pm, err := propertyMetadataFrom(v, "$metadata."+k)
			if err != nil {
				return Metadata{}, err
			}
			if m.Properties == nil {
				m.Properties = make(map[string]PropertyMetadata, len(obj))
			}
			m.Properties[k] = pm
		}
	}
	return m, nil
}

// ownerField returns the field of the owner key k ("$org", "$writer" or
// "$signer").
func (m *Metadata) ownerField(k string) *string {
	switch k {
	case "$org":
		return &m.Org
	case "$writer":
		return &m.Writer
	}
	return &m.Signer
}

// writeOwner appends ,"$org":…,"$signer":…,"$writer":… for the non-empty
// ones, in key order (the order json.Marshal gives a map, which the
// stores' spliced documents rely on).
func writeOwner(b *bytes.Buffer, org, writer, signer string) {
	for _, kv := range [3][2]string{{"$org", org}, {"$signer", signer}, {"$writer", writer}} {
		if kv[1] == "" {
			continue
		}
		b.WriteString(`,"` + kv[0] + `":`)
		writeJSONString(b, kv[1])
	}
}

// writeJSONString writes s as a JSON string, with the fast path of a
// string that needs no escaping (the usual id, name or DTMI).
func writeJSONString(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			v, _ := json.Marshal(s) // a string always marshals
			b.Write(v)
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
}

// writeProps appends ,"k":v for every property in key order.
func writeProps(b *bytes.Buffer, props map[string]any) error {
	for _, k := range slices.Sorted(maps.Keys(props)) {
		v, err := json.Marshal(props[k])
		if err != nil {
			return fmt.Errorf("twin: property %q: %w", k, err)
		}
		b.WriteByte(',')
		writeJSONString(b, k)
		b.WriteByte(':')
		b.Write(v)
	}
	return nil
}

// MarshalJSON implements json.Marshaler with ADT's twin shape.
func (t Twin) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"$dtId":`)
	writeJSONString(&b, string(t.ID))
	if t.ETag != "" {
		b.WriteString(`,"$etag":`)
		writeJSONString(&b, string(t.ETag))
	}
	b.WriteString(`,"$metadata":`)
	md, _ := t.Metadata.MarshalJSON()
	b.Write(md)
	if err := writeProps(&b, t.Properties); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler with ADT's twin shape. Every key
// not starting with "$" is a property or component. Unknown system keys
// (starting with "$") are an error, so that a typo such as "$dtid" is not
// silently stored as a property. "$dtId" and "$metadata" may be absent (the
// API takes the id from the URL).
func (t *Twin) UnmarshalJSON(data []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return invalidf("twin is not a JSON object: %v", err)
	}
	if raw == nil {
		return invalidf("twin is null")
	}
	return t.fromMap(raw)
}

// fromMap fills t from a decoded twin document, taking ownership of raw.
func (t *Twin) fromMap(raw map[string]any) error {
	*t = Twin{}
	for k, v := range raw {
		if !strings.HasPrefix(k, "$") {
			continue
		}
		switch k {
		case "$dtId":
			s, ok := v.(string)
			if !ok {
				return invalidf("$dtId is not a string")
			}
			t.ID = ID(s)
		case "$etag":
			s, ok := v.(string)
			if !ok {
				return invalidf("$etag is not a string")
			}
			t.ETag = ETag(s)
		case "$metadata":
			md, err := metadataFrom(v)
			if err != nil {
				return err
			}
			t.Metadata = md
		default:
			return invalidf("unknown system property %q", k)
		}
		delete(raw, k)
	}
	if len(raw) > 0 {
		t.Properties = raw
	}
	return nil
}

// Clone returns a deep copy of t; the copy shares no maps or slices with t.
func (t Twin) Clone() Twin {
	c := t
	c.Properties = cloneMap(t.Properties)
	c.Metadata.Properties = maps.Clone(t.Metadata.Properties)
	return c
}

// Doc returns the twin as the JSON document a patch applies to: the
// properties plus "$metadata" with "$model" and the per-property metadata.
// "$dtId" and "$etag" are left out because patches may not change them. The
// result shares nothing with t.
func (t Twin) Doc() map[string]any {
	doc := cloneMap(t.Properties)
	if doc == nil {
		doc = make(map[string]any, 1)
	}
	md := map[string]any{"$model": t.Metadata.Model}
	for k, pm := range t.Metadata.Properties {
		m := map[string]any{}
		if !pm.LastUpdateTime.IsZero() {
			m["lastUpdateTime"] = formatTime(pm.LastUpdateTime)
		}
		if !pm.SourceTime.IsZero() {
			m["sourceTime"] = formatTime(pm.SourceTime)
		}
		md[k] = m
	}
	doc["$metadata"] = md
	return doc
}

// ApplyPatch returns the twin that results from applying p to t at time now.
// Every property or component property that the patch touches gets
// lastUpdateTime now, as does the twin; a removed property loses its
// metadata. Patching "$dtId" or "$etag" is an error. The ETag is left
// unchanged for the store to set. t is not modified.
func (t Twin) ApplyPatch(p Patch, now time.Time) (Twin, error) {
	metaTouched := false
	for i, op := range p {
		tok, err := splitPointer(op.Path)
		if err != nil {
			return Twin{}, &PatchError{Index: i, Op: op.Op, Path: op.Path, Err: err}
		}
		if len(tok) == 0 || !strings.HasPrefix(tok[0], "$") {
			continue
		}
		switch tok[0] {
		case "$metadata":
			if len(tok) > 1 && (tok[1] == "$org" || tok[1] == "$writer" || tok[1] == "$signer") {
				return Twin{}, &PatchError{Index: i, Op: op.Op, Path: op.Path, Err: errors.New("read-only system property: the server records the owner, writer and signer")}
			}
			metaTouched = true
		case "$dtId", "$etag":
			return Twin{}, &PatchError{Index: i, Op: op.Op, Path: op.Path, Err: errors.New("read-only system property")}
		default:
			return Twin{}, &PatchError{Index: i, Op: op.Op, Path: op.Path, Err: errors.New("unknown system property")}
		}
	}
	var out Twin
	var err error
	if metaTouched {
		out, err = t.applyWithMetadata(p, now)
	} else {
		out, err = t.applyToProperties(p, now)
	}
	if err != nil {
		return Twin{}, err
	}
	for _, op := range p {
		tok, _ := splitPointer(op.Path)
		if len(tok) == 0 || tok[0] == "$metadata" {
			continue
		}
		name := tok[0]
		if _, live := out.Properties[name]; !live {
			continue
		}
		if out.Metadata.Properties == nil {
			out.Metadata.Properties = make(map[string]PropertyMetadata)
		}
		pm := out.Metadata.Properties[name]
		pm.LastUpdateTime = now
		out.Metadata.Properties[name] = pm
		if len(tok) >= 2 {
			touchComponent(out.Properties[name], tok[1], now)
		}
	}
	return out, nil
}

// applyToProperties applies a patch that leaves "$metadata" alone: the
// properties are patched and the metadata of live properties carried over.
func (t Twin) applyToProperties(p Patch, now time.Time) (Twin, error) {
	props, err := p.Apply(t.Properties)
	if err != nil {
		return Twin{}, err
	}
	out := Twin{ID: t.ID, ETag: t.ETag, Metadata: Metadata{Model: t.Metadata.Model, LastUpdateTime: now,
		Org: t.Metadata.Org, Writer: t.Metadata.Writer, Signer: t.Metadata.Signer}}
	if len(props) > 0 {
		out.Properties = props
	}
	for k, pm := range t.Metadata.Properties {
		if _, live := props[k]; !live {
			continue
		}
		if out.Metadata.Properties == nil {
			out.Metadata.Properties = make(map[string]PropertyMetadata, len(props))
		}
		out.Metadata.Properties[k] = pm
	}
	return out, nil
}

// applyWithMetadata applies a patch that writes "$metadata" (the model or
// a source time) to the twin's full document.
func (t Twin) applyWithMetadata(p Patch, now time.Time) (Twin, error) {
	doc, err := p.Apply(t.Doc())
	if err != nil {
		return Twin{}, err
	}
	out := Twin{ID: t.ID, ETag: t.ETag}
	mdRaw, ok := doc["$metadata"].(map[string]any)
	if !ok {
		return Twin{}, &PatchError{Index: -1, Path: "/$metadata", Err: errors.New("$metadata must stay an object")}
	}
	delete(doc, "$metadata")
	model, ok := mdRaw["$model"].(string)
	if !ok || model == "" {
		return Twin{}, &PatchError{Index: -1, Path: "/$metadata/$model", Err: errors.New("$model must be a non-empty string")}
	}
	out.Metadata.Model = model
	out.Metadata.LastUpdateTime = now
	out.Metadata.Org, out.Metadata.Writer, out.Metadata.Signer = t.Metadata.Org, t.Metadata.Writer, t.Metadata.Signer
	for k, v := range mdRaw {
		if strings.HasPrefix(k, "$") {
			continue
		}
		if _, live := doc[k]; !live {
			continue // metadata of a removed property goes with it
		}
		pm, err := propertyMetadataFrom(v, "$metadata."+k)
		if err != nil {
			return Twin{}, &PatchError{Index: -1, Path: "/$metadata/" + escapeToken(k), Err: err}
		}
		if out.Metadata.Properties == nil {
			out.Metadata.Properties = make(map[string]PropertyMetadata)
		}
		out.Metadata.Properties[k] = pm
	}
	if len(doc) > 0 {
		out.Properties = doc
	}
	return out, nil
}

// touchComponent sets lastUpdateTime of property prop in the "$metadata" of
// a component value, if v is a component (an object with "$metadata").
func touchComponent(v any, prop string, now time.Time) {
	c, ok := v.(map[string]any)
	if !ok {
		return
	}
	md, ok := c["$metadata"].(map[string]any)
	if !ok || strings.HasPrefix(prop, "$") {
		return
	}
	if _, live := c[prop]; !live {
		delete(md, prop)
		return
	}
	pm, _ := md[prop].(map[string]any)
	if pm == nil {
		pm = map[string]any{}
	}
	pm["lastUpdateTime"] = formatTime(now)
	md[prop] = pm
}
