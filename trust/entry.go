package trust

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"lodestone/event"
	"lodestone/pipeline"
	"lodestone/store"
)

// Entry is one change as the log records it: ids and hashes, never
// values. Org is the owner org of the changed entity (the event's "org"
// extension; "" for things written without --auth).
type Entry struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Subject    string `json:"subject"`
	Org        string `json:"org"`
	ETag       string `json:"etag"`
	Time       string `json:"time"`
	DataSHA256 string `json:"data_sha256"`
}

// timeFormat is the entry's time: RFC 3339 in UTC with as many fraction
// digits as needed (the store's nanosecond transaction time).
const timeFormat = time.RFC3339Nano

// EntryOf returns the entry of a committed change's CloudEvent. The etag
// is the record's key for twins and relationships (the version's entity
// tag) and "" for the other kinds, whose key is no entity tag.
//
// A patch's data (the JSON Patch) does not name who made the version it
// makes: for a patch with a writer or signer (rec.Writer, rec.Signer)
// data_sha256 is the hash of PatchData, which does.
func EntryOf(source string, rec store.Record) (Entry, error) {
	ev := pipeline.EventOf(source, rec)
	etag := ""
	if rec.Kind == store.KindTwin || rec.Kind == store.KindRelationship {
		etag = rec.Key
	}
	data := ev.Data
	if rec.Op == store.OpPatch && etag != "" && (rec.Writer != "" || rec.Signer != "") {
		data = PatchData(ev.Data, rec.Writer, rec.Signer)
	}
	return entryOfEvent(ev, etag, data)
}

// PatchData is the JSON a patch's data_sha256 covers when the version it
// made has a writer or signer: {"$signer": signer, "$writer": writer,
// "patch": patch}, an empty writer or signer left out.
func PatchData(patch json.RawMessage, writer, signer string) json.RawMessage {
	if len(patch) == 0 {
		patch = json.RawMessage("null")
	}
	d := struct {
		Signer string          `json:"$signer,omitempty"`
		Writer string          `json:"$writer,omitempty"`
		Patch  json.RawMessage `json:"patch"`
	}{signer, writer, patch}
	b, err := json.Marshal(d)
	if err != nil {
		return patch // a patch that is not JSON: DataSHA256 reports it
	}
	return b
}

func entryOfEvent(ev event.Event, etag string, data json.RawMessage) (Entry, error) {
	sum, err := DataSHA256(data)
	if err != nil {
		return Entry{}, fmt.Errorf("trust: entry of event %s: data: %w", ev.ID, err)
	}
	return Entry{ID: ev.ID, Type: ev.Type, Subject: ev.Subject, Org: ev.Extensions["org"], ETag: etag,
		Time: ev.Time.UTC().Format(timeFormat), DataSHA256: sum}, nil
}

// DataSHA256 is the hex SHA-256 of the canonical JSON of data; absent data
// counts as JSON null.
func DataSHA256(data json.RawMessage) (string, error) {
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	sum, err := canonicalSHA256(data)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(sum[:]), nil
}

// Bytes returns the entry as the log stores it: its RFC 8785 canonical
// JSON. Its members are strings, so it is written directly (keys in
// canonical order, strings as Canonical writes them) unless a field is not
// valid UTF-8, which json.Marshal replaces first.
func (e Entry) Bytes() []byte {
	fields := [...][2]string{{"data_sha256", e.DataSHA256}, {"etag", e.ETag}, {"id", e.ID}, {"org", e.Org},
		{"subject", e.Subject}, {"time", e.Time}, {"type", e.Type}}
	n := 2
	for _, f := range fields {
		if !utf8.ValidString(f[1]) {
			return e.marshalled()
		}
		n += len(f[0]) + len(f[1]) + 6
	}
	var out bytes.Buffer
	out.Grow(n)
	out.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteByte('"')
		out.WriteString(f[0])
		out.WriteString(`":`)
		writeCanonicalString(&out, f[1])
	}
	out.WriteByte('}')
	return out.Bytes()
}

// marshalled is Bytes by json.Marshal and Canonical.
func (e Entry) marshalled() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	c, err := Canonical(b)
	if err != nil {
		panic(err) // json.Marshal gives valid UTF-8 and no duplicates
	}
	return c
}

// ParseEntry decodes a stored entry and checks that it is canonical and
// has every field.
func ParseEntry(b []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytesReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("trust: entry: %w", err)
	}
	// Exactly the seven fields, spelled as specified, in canonical form:
	// decoding alone would accept other spellings and missing fields.
	if string(e.Bytes()) != string(b) {
		return Entry{}, fmt.Errorf("trust: entry: not the RFC 8785 canonical JSON of id, type, subject, org, etag, time and data_sha256")
	}
	if e.ID == "" || e.Type == "" || e.Time == "" || len(e.DataSHA256) != 64 {
		return Entry{}, fmt.Errorf("trust: entry: id, type, time and data_sha256 are required")
	}
	return e, nil
}
