package event

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// SpecVersion is the CloudEvents specification version this package writes
// and the only one it reads.
const SpecVersion = "1.0"

// ContentType is the media type of a CloudEvent in JSON structured mode
// (CloudEvents JSON Event Format 1.0, section 4).
const ContentType = "application/cloudevents+json"

// Event types of the twin graph. Lodestone names them in the reverse-DNS
// style the CloudEvents specification recommends; [ADTType] maps them to the
// names Azure Digital Twins uses.
const (
	TypeTwinCreated         = "lodestone.twin.created"
	TypeTwinUpdated         = "lodestone.twin.updated"
	TypeTwinDeleted         = "lodestone.twin.deleted"
	TypeRelationshipCreated = "lodestone.relationship.created"
	TypeRelationshipUpdated = "lodestone.relationship.updated"
	TypeRelationshipDeleted = "lodestone.relationship.deleted"
	TypeModelCreated        = "lodestone.model.created"
	TypeModelUpdated        = "lodestone.model.updated"
	TypeModelDeleted        = "lodestone.model.deleted"
	TypeTelemetry           = "lodestone.telemetry"
	// TypeImportCompleted is the one event of a committed bulk import: its
	// data counts what was imported and lists the models.
	TypeImportCompleted = "lodestone.import.completed"
)

// ErrInvalid is returned, wrapped, for an event that breaks the CloudEvents
// rules (a missing required attribute, a bad extension name, data that is not
// JSON). It is checked with errors.Is.
var ErrInvalid = errors.New("event: invalid event")

// Event is a CloudEvents 1.0 event. Data is kept as raw JSON: the bus never
// looks inside it, and the producer decides its shape (ADT sends a JSON Patch
// for Twin.Update and the whole twin for Twin.Create).
//
// The zero Time means "absent". An empty SpecVersion is written as
// [SpecVersion].
type Event struct {
	// SpecVersion is the CloudEvents version; only "1.0" is accepted.
	SpecVersion string
	// ID identifies the event; source+id is unique per distinct event, and a
	// retry of the same change carries the same id (see [StableID]).
	ID string
	// Source is the context in which the event happened, as a URI-reference
	// (the Lodestone instance, e.g. "lodestone://localhost").
	Source string
	// Type is the kind of event, one of the Type constants or a user type.
	Type string
	// Subject is what the event is about within the source: a twin id, a
	// relationship path "twin/relationships/rel" or a model id.
	Subject string
	// Time is when the change happened (transaction time).
	Time time.Time
	// DataContentType is the media type of Data; when empty, Data is JSON
	// (CloudEvents JSON format, section 3.1).
	DataContentType string
	// DataSchema is a URI of the schema Data follows (for telemetry, the
	// twin's model id, as ADT does).
	DataSchema string
	// Data is the payload as one JSON value, or nil.
	Data json.RawMessage
	// Extensions are further context attributes. Names are lower-case ASCII
	// letters and digits; values are strings (CloudEvents integers and
	// booleans arrive in their canonical string form).
	Extensions map[string]string
}

// reserved lists the names that cannot be used as extension names.
var reserved = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "subject": true,
	"time": true, "datacontenttype": true, "dataschema": true, "data": true, "data_base64": true,
}

// Validate reports whether e is a valid CloudEvent: the required attributes
// id, source and type are set, the spec version is 1.0, extension names are
// well formed and Data, when set, is one JSON value. Errors wrap [ErrInvalid].
func (e *Event) Validate() error {
	if err := e.validateAttributes(); err != nil {
		return err
	}
	if e.Data != nil && !json.Valid(e.Data) {
		return errDataNotJSON
	}
	return nil
}

// errDataNotJSON is Validate's error for Data that is not one JSON value.
var errDataNotJSON = fmt.Errorf("%w: data is not valid JSON", ErrInvalid)

// validateAttributes is Validate without the check of Data.
func (e *Event) validateAttributes() error {
	if e.SpecVersion != "" && e.SpecVersion != SpecVersion {
		return fmt.Errorf("%w: specversion %q is not %q", ErrInvalid, e.SpecVersion, SpecVersion)
	}
	if e.ID == "" {
		return fmt.Errorf("%w: id is required", ErrInvalid)
	}
	if e.Source == "" {
		return fmt.Errorf("%w: source is required", ErrInvalid)
	}
	if e.Type == "" {
		return fmt.Errorf("%w: type is required", ErrInvalid)
	}
	for name := range e.Extensions {
		if err := checkExtensionName(name); err != nil {
			return err
		}
	}
	return nil
}

// checkExtensionName applies the CloudEvents naming rule: lower-case ASCII
// letters and digits (spec 1.0, "Attribute Naming Convention"). The
// recommended 20-character limit is a SHOULD and is not enforced.
func checkExtensionName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty extension name", ErrInvalid)
	}
	if reserved[name] {
		return fmt.Errorf("%w: extension name %q is a reserved attribute", ErrInvalid, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return fmt.Errorf("%w: extension name %q: only a-z and 0-9 are allowed", ErrInvalid, name)
		}
	}
	return nil
}

// MarshalJSON encodes e in the CloudEvents JSON structured format. Attributes
// come in a fixed order (required ones first, extensions sorted by name, data
// last) and Data is compacted, so the same event always encodes to the same
// bytes. An invalid event is an error.
func (e Event) MarshalJSON() ([]byte, error) {
	// Data is checked by compacting it: one pass over it, not two.
	if err := e.validateAttributes(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(160 + len(e.Data))
	b.WriteString(`{"specversion":"1.0"`)
	field := func(name, value string) {
		b.WriteString(`,"`)
		b.WriteString(name)
		b.WriteString(`":`)
		b.Write(appendJSONString(b.AvailableBuffer(), value))
	}
	field("id", e.ID)
	field("source", e.Source)
	field("type", e.Type)
	if e.Subject != "" {
		field("subject", e.Subject)
	}
	if !e.Time.IsZero() {
		field("time", e.Time.UTC().Format(time.RFC3339Nano))
	}
	if e.DataContentType != "" {
		field("datacontenttype", e.DataContentType)
	}
	if e.DataSchema != "" {
		field("dataschema", e.DataSchema)
	}
	if len(e.Extensions) == 1 {
		for name, v := range e.Extensions {
			field(name, v)
		}
	} else {
		for _, name := range slices.Sorted(maps.Keys(e.Extensions)) {
			field(name, e.Extensions[name])
		}
	}
	if e.Data != nil {
		b.WriteString(`,"data":`)
		if err := json.Compact(&b, e.Data); err != nil {
			return nil, errDataNotJSON
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON decodes e from the CloudEvents JSON structured format; see
// [Decode].
func (e *Event) UnmarshalJSON(b []byte) error {
	d, err := Decode(b)
	if err != nil {
		return err
	}
	*e = d
	return nil
}

// Decode parses one CloudEvent in JSON structured format and validates it.
// Time is returned in UTC and Data compacted. A JSON null attribute counts as absent, as the specification says.
// Binary data ("data_base64") is rejected: the bus carries JSON payloads only.
// Errors wrap [ErrInvalid].
func Decode(b []byte) (Event, error) {
	if e, ok := decodeFast(b); ok {
		return e, nil
	}
	return decodeGeneral(b)
}

// decodeGeneral is Decode for any input (see decodeFast).
func decodeGeneral(b []byte) (Event, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if raw == nil {
		return Event{}, fmt.Errorf("%w: not a JSON object", ErrInvalid)
	}
	var e Event
	for name, v := range raw {
		if bytes.Equal(v, []byte("null")) {
			continue
		}
		switch name {
		case "data":
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return Event{}, fmt.Errorf("%w: data: %v", ErrInvalid, err)
			}
			e.Data = json.RawMessage(buf.Bytes())
			continue
		case "data_base64":
			return Event{}, fmt.Errorf("%w: data_base64 is not supported", ErrInvalid)
		}
		s, err := attributeString(name, v)
		if err != nil {
			return Event{}, err
		}
		switch name {
		case "specversion":
			e.SpecVersion = s
		case "id":
			e.ID = s
		case "source":
			e.Source = s
		case "type":
			e.Type = s
		case "subject":
			e.Subject = s
		case "datacontenttype":
			e.DataContentType = s
		case "dataschema":
			e.DataSchema = s
		case "time":
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return Event{}, fmt.Errorf("%w: time %q is not RFC 3339", ErrInvalid, s)
			}
			e.Time = t.UTC()
		default:
			if e.Extensions == nil {
				e.Extensions = make(map[string]string)
			}
			e.Extensions[name] = s
		}
	}
	if e.SpecVersion == "" {
		return Event{}, fmt.Errorf("%w: specversion is required", ErrInvalid)
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// attributeString returns the canonical string form of a context attribute:
// JSON strings as they are, and, for extensions only, integers and booleans
// in their CloudEvents canonical string encoding.
func attributeString(name string, v json.RawMessage) (string, error) {
	if s, ok := plainString(v); ok {
		return s, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	if reserved[name] {
		return "", fmt.Errorf("%w: attribute %q must be a string", ErrInvalid, name)
	}
	switch string(v) {
	case "true", "false":
		return string(v), nil
	}
	n, err := strconv.ParseInt(string(v), 10, 32) // CloudEvents Integer is a signed 32-bit integer
	if err != nil {
		return "", fmt.Errorf("%w: extension %q must be a string, an integer or a boolean", ErrInvalid, name)
	}
	return strconv.FormatInt(n, 10), nil
}

// plainString returns the value of a JSON string made only of printable
// ASCII without escapes, the common case, without the reflection of
// json.Unmarshal; ok is false for anything else.
func plainString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	inner := v[1 : len(v)-1]
	for _, c := range inner {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(inner), true
}

// appendJSONString appends s to dst as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does, and U+2028 and U+2029 are escaped so the
// output is also valid JavaScript.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// idNamespace is the UUID namespace of Lodestone event ids (a random UUID
// chosen once; changing it changes every id).
var idNamespace = [16]byte{0x8a, 0x0a, 0xf9, 0x13, 0x30, 0xef, 0x45, 0x69, 0x89, 0xa9, 0xee, 0xca, 0x91, 0x05, 0xb2, 0xea}

// StableID returns a deterministic event id for the given parts: the same
// parts always give the same id, so a producer that retries a publish after
// a crash or timeout sends the same id and the bus drops the duplicate
// (JetStream's Nats-Msg-Id window). The id is a name-based UUID (RFC 9562
// version 5, SHA-1) over the length-prefixed parts, so ("ab","c") and
// ("a","bc") differ.
func StableID(parts ...string) string {
	h := sha1.New()
	h.Write(idNamespace[:])
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:], u[10:])
	return string(out[:])
}

// ChangeID returns the stable id of the event for one committed change of
// the twin graph: the store's sequence number of the change, the event type
// and the subject, within a source. A retried publish of the same change
// therefore carries the same id.
func ChangeID(source string, storeSeq uint64, typ, subject string) string {
	return StableID(source, strconv.FormatUint(storeSeq, 10), typ, subject)
}

// TelemetryID returns the stable id of a telemetry event from the message id
// the sender gave (ADT's Message-Id header): a resent message keeps its id.
func TelemetryID(source, twinID, messageID string) string {
	return StableID(source, TypeTelemetry, twinID, messageID)
}

// RelationshipSubject returns the subject of a relationship event in the
// form ADT uses: "<sourceTwinID>/relationships/<relationshipID>".
func RelationshipSubject(twinID, relationshipID string) string {
	return twinID + "/relationships/" + relationshipID
}

// ComponentSubject returns the subject of a telemetry event sent on behalf
// of a component, as ADT writes it: "<twinID>/components/<component>".
func ComponentSubject(twinID, component string) string {
	return twinID + "/components/" + component
}

// adtTypes maps Lodestone event types to Azure Digital Twins event types
// (learn.microsoft.com/azure/digital-twins/concepts-event-notifications).
// ADT has no model lifecycle events, so model types have no entry.
var adtTypes = map[string]string{
	TypeTwinCreated:         "Microsoft.DigitalTwins.Twin.Create",
	TypeTwinUpdated:         "Microsoft.DigitalTwins.Twin.Update",
	TypeTwinDeleted:         "Microsoft.DigitalTwins.Twin.Delete",
	TypeRelationshipCreated: "Microsoft.DigitalTwins.Relationship.Create",
	TypeRelationshipUpdated: "Microsoft.DigitalTwins.Relationship.Update",
	TypeRelationshipDeleted: "Microsoft.DigitalTwins.Relationship.Delete",
	TypeTelemetry:           "microsoft.iot.telemetry",
}

// ADTType returns the Azure Digital Twins name of a Lodestone event type,
// and false for types ADT does not have (model lifecycle, user types).
func ADTType(typ string) (string, bool) {
	t, ok := adtTypes[typ]
	return t, ok
}

// FromADTType returns the Lodestone event type for an Azure Digital Twins
// event type, and false when there is none.
func FromADTType(adt string) (string, bool) {
	for k, v := range adtTypes {
		if v == adt {
			return k, true
		}
	}
	return "", false
}
