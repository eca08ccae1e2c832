package pipeline

import (
	"encoding/json"
	"strings"

	"lodestone/event"
	"lodestone/store"
	"lodestone/twin"
)

// ModelData is the data of a model event: Azure Digital Twins' ModelData,
// the DTDL document included (as GET /models/{id}?includeModelDefinition
// gives it).
type ModelData struct {
	ID             string            `json:"id"`
	DisplayName    map[string]string `json:"displayName,omitempty"`
	Description    map[string]string `json:"description,omitempty"`
	UploadTime     string            `json:"uploadTime"`
	Decommissioned bool              `json:"decommissioned"`
	// Model is the interface's DTDL, so that the transparency log's
	// entry of a model change (which hashes this data) covers the model's
	// definition, not only its name and times.
	Model json.RawMessage `json:"model,omitempty"`
}

// EventOf returns the CloudEvent of a committed change. It depends on the
// record and source only, so the request that made the change and a relay
// that publishes the record after a crash publish the same event (same id:
// the bus drops the second).
func EventOf(source string, rec store.Record) event.Event {
	ev := event.Event{
		Source:  source,
		Subject: rec.Subject,
		Time:    rec.Time,
		Data:    rec.Data,
	}
	if rec.Org != "" {
		// The owner org, for subscribers that filter by tenant and for
		// the transparency log's entries.
		ev.Extensions = map[string]string{"org": rec.Org}
	}
	switch rec.Kind {
	case store.KindTwin:
		ev.Type = pick(rec.Op, event.TypeTwinCreated, event.TypeTwinUpdated, event.TypeTwinDeleted)
		ev.DataSchema = rec.Model
	case store.KindRelationship:
		ev.Type = pick(rec.Op, event.TypeRelationshipCreated, event.TypeRelationshipUpdated, event.TypeRelationshipDeleted)
	case store.KindModel:
		ev.Type = pick(rec.Op, event.TypeModelCreated, event.TypeModelUpdated, event.TypeModelDeleted)
		ev.Data = modelEventData(rec.Data)
	case store.KindTelemetry:
		ev.Type = event.TypeTelemetry
		ev.DataSchema = rec.Model
		ev.Subject, ev.Data = telemetrySubject(rec.Subject, rec.Data)
		ev.ID = event.TelemetryID(source, ev.Subject, rec.Key)
		return ev
	case store.KindImport:
		ev.Type = event.TypeImportCompleted
	default:
		ev.Type = "lodestone." + string(rec.Kind) + "." + string(rec.Op)
	}
	ev.ID = event.StableID(ev.Type, string(rec.Op), rec.Subject, rec.Key)
	return ev
}

// pick maps a change op to the created, updated or deleted event type.
func pick(op store.ChangeOp, created, updated, deleted string) string {
	switch op {
	case store.OpCreate:
		return created
	case store.OpDelete:
		return deleted
	}
	return updated
}

// modelEventData turns a model record's twin.Model into ModelData; the
// record data is returned as it is if it is not a model.
func modelEventData(raw json.RawMessage) json.RawMessage {
	return modelData(raw, true)
}

// LegacyModelEventData is the data model events had before they carried
// the DTDL (ModelData.Model): the form the transparency log's entries of
// those events hash, which verify still accepts (trust.Report's
// LegacyModelEntries).
func LegacyModelEventData(raw json.RawMessage) json.RawMessage {
	return modelData(raw, false)
}

func modelData(raw json.RawMessage, withDTDL bool) json.RawMessage {
	var m twin.Model
	if json.Unmarshal(raw, &m) != nil || m.ID == "" {
		return raw
	}
	d := ModelData{ID: m.ID, Decommissioned: m.Decommissioned, UploadTime: m.UploadTime.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")}
	d.DisplayName, d.Description = ModelStrings(m.DTDL)
	if withDTDL && json.Valid(m.DTDL) {
		d.Model = m.DTDL
	}
	b, err := json.Marshal(d)
	if err != nil {
		return raw
	}
	return b
}

// ModelStrings reads a DTDL interface's displayName and description, each
// either "text" or {"en": "text"}.
func ModelStrings(dtdl json.RawMessage) (displayName, description map[string]string) {
	var head struct {
		DisplayName json.RawMessage `json:"displayName"`
		Description json.RawMessage `json:"description"`
	}
	if json.Unmarshal(dtdl, &head) != nil {
		return nil, nil
	}
	return langString(head.DisplayName), langString(head.Description)
}

func langString(raw json.RawMessage) map[string]string {
	if len(raw) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return map[string]string{"en": s}
	}
	var m map[string]string
	if json.Unmarshal(raw, &m) == nil {
		return m
	}
	return nil
}

// telemetrySubject gives a telemetry event the subject and data ADT uses:
// a message whose points all belong to one component ("comp/name") is the
// component's, with the names relative to it.
func telemetrySubject(twinID string, data json.RawMessage) (string, json.RawMessage) {
	var pts map[string]json.RawMessage
	if json.Unmarshal(data, &pts) != nil || len(pts) == 0 {
		return twinID, data
	}
	comp := ""
	for name := range pts {
		c, _, ok := strings.Cut(name, "/")
		if !ok || c == "" || (comp != "" && c != comp) {
			return twinID, data
		}
		comp = c
	}
	rel := make(map[string]json.RawMessage, len(pts))
	for name, v := range pts {
		rel[strings.TrimPrefix(name, comp+"/")] = v
	}
	b, err := json.Marshal(rel)
	if err != nil {
		return twinID, data
	}
	return event.ComponentSubject(twinID, comp), b
}
