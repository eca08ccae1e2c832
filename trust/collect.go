package trust

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"lodestone/event"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/twin"
)

// collector recomputes the entries of every change the store holds.
type collector struct {
	ctx         context.Context
	st          store.Store
	source      string
	since       time.Time
	importTimes map[string]bool // entry times of logged imports
	rep         *Report
	logged      []*logEntry
	exp         []expected
}

func (c *collector) collect() error {
	sq, ok := c.st.(store.SQLer)
	if !ok {
		return errors.New("trust: verify needs a SQL store (sqlite or postgres)")
	}
	db := sq.ReadDB()
	for _, step := range []func(*sql.DB) error{c.twins, c.twinMeta, c.relationships, c.telemetry} {
		if err := step(db); err != nil {
			return err
		}
	}
	return c.models()
}

// expect adds the entry of a change recomputed from the store.
func (c *collector) expect(rec store.Record, entity, name, version string) error {
	if c.importTimes[rec.Time.UTC().Format(timeFormat)] && (rec.Kind != store.KindModel || rec.Op == store.OpCreate) {
		return nil // written by a logged import, which has one summary entry
	}
	e, err := EntryOf(c.source, rec)
	if err != nil {
		return err
	}
	x := expected{entry: e, entity: entity, name: name, version: version, optional: rec.Time.Before(c.since)}
	if rec.Kind == store.KindModel {
		// Logs written before model events carried the DTDL hold entries
		// of the older data: accepted, and counted (their DTDL is not
		// covered).
		ev := pipeline.EventOf(c.source, rec)
		old := pipeline.LegacyModelEventData(rec.Data)
		if le, err := entryOfEvent(ev, "", old); err == nil {
			x.legacy = string(le.Bytes())
		}
	}
	c.exp = append(c.exp, x)
	return nil
}

func (c *collector) mismatch(kind, entity, name, version, change, why string) {
	c.rep.add(Mismatch{Kind: kind, Entity: entity, Name: name, Version: version, Change: change, Index: -1, Detail: why})
}

// twins walks every version of every twin: a create or replace must hash
// as logged; a patch must hash as logged and turn the previous version
// into the stored one; a delete's data is the last version.
func (c *collector) twins(db *sql.DB) error {
	ids, err := queryStrings(c.ctx, db, `SELECT id FROM twins UNION SELECT id FROM twin_history`)
	if err != nil {
		return fmt.Errorf("trust: list twins: %w", err)
	}
	for _, id := range ids {
		chs, err := c.st.TwinChanges(c.ctx, twin.ID(id), time.Time{}, time.Time{})
		if err != nil {
			c.mismatch(Altered, "twin", id, "", "", "the stored versions cannot be read: "+err.Error())
			continue
		}
		var prev *twin.Twin
		for _, ch := range chs {
			rec := store.Record{Kind: store.KindTwin, Op: ch.Op, Subject: id, Time: ch.Time}
			switch {
			case ch.Op == store.OpDelete:
				if prev == nil {
					c.mismatch(Extra, "twin", id, "", event.TypeTwinDeleted, "a delete of a twin with no version before it")
					continue
				}
				rec.Key = string(prev.ETag)
				rec.Org = prev.Metadata.Org
				rec.Data, _ = json.Marshal(prev)
				prev = nil
			case ch.Twin == nil:
				continue
			case ch.Op == store.OpPatch:
				rec.Key = string(ch.Twin.ETag)
				rec.Org = ch.Twin.Metadata.Org
				rec.Writer, rec.Signer = ch.Twin.Metadata.Writer, ch.Twin.Metadata.Signer
				rec.Data, _ = json.Marshal(ch.Patch)
				if prev != nil {
					want, err := prev.ApplyPatch(ch.Patch, ch.Time)
					if err == nil {
						// A patch records who sent and signed it in the
						// version it makes, not in the patch: the entry's
						// hash covers the writer and signer as stored (see
						// EntryOf), and the org must stay the previous
						// version's.
						want.ETag = ch.Twin.ETag
						want.Metadata.Writer, want.Metadata.Signer = ch.Twin.Metadata.Writer, ch.Twin.Metadata.Signer
						a, _ := json.Marshal(want)
						b, _ := json.Marshal(ch.Twin)
						if !sameJSON(a, b) {
							c.mismatch(Altered, "twin", id, string(ch.Twin.ETag), event.TypeTwinUpdated, "the stored version is not the previous version with the logged patch applied")
							t := want
							prev = &t
							if err := c.expect(rec, "twin", id, rec.Key); err != nil {
								return err
							}
							continue
						}
					}
				}
				t := *ch.Twin
				prev = &t
			default:
				rec.Key = string(ch.Twin.ETag)
				rec.Org = ch.Twin.Metadata.Org
				rec.Data, _ = json.Marshal(ch.Twin)
				t := *ch.Twin
				prev = &t
			}
			if err := c.expect(rec, "twin", id, rec.Key); err != nil {
				return err
			}
		}
	}
	return nil
}

// ownMetaKeys are the system keys a twin's stored metadata may hold.
var ownMetaKeys = map[string]bool{"$model": true, "$lastUpdateTime": true, "$org": true, "$writer": true, "$signer": true}

// twinMeta checks the model a version's stored metadata names against its
// model column: reads use the column, so a changed copy would otherwise
// go unnoticed.
func (c *collector) twinMeta(db *sql.DB) error {
	rows, err := db.QueryContext(c.ctx, `SELECT id, valid_from, model, meta FROM twins UNION ALL SELECT id, valid_from, model, meta FROM twin_history`)
	if err != nil {
		return fmt.Errorf("trust: list twin metadata: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, model string
		var from int64
		var meta []byte
		if err := rows.Scan(&id, &from, &model, &meta); err != nil {
			return fmt.Errorf("trust: list twin metadata: %w", err)
		}
		var m map[string]json.RawMessage
		ok := json.Unmarshal(meta, &m) == nil
		if ok {
			var s string
			ok = json.Unmarshal(m["$model"], &s) == nil && s == model
			for k := range m {
				if strings.HasPrefix(k, "$") && !ownMetaKeys[k] {
					ok = false
				}
			}
		}
		if !ok {
			c.mismatch(Altered, "twin", id, time.Unix(0, from).UTC().Format(timeFormat), "", "the stored metadata does not name the version's model")
		}
	}
	return rows.Err()
}

// relVersion is one stored version of a relationship.
type relVersion struct {
	source, id string
	from, to   int64
	op         string
	patch      sql.NullString
}

func (c *collector) relationships(db *sql.DB) error {
	rows, err := db.QueryContext(c.ctx, `SELECT source_id, rel_id, valid_from, valid_to, op, patch FROM relationship_history
		UNION ALL SELECT source_id, rel_id, valid_from, 9223372036854775807, op, patch FROM relationships
		ORDER BY 1, 2, 3`)
	if err != nil {
		return fmt.Errorf("trust: list relationships: %w", err)
	}
	var vs []relVersion
	for rows.Next() {
		var v relVersion
		if err := rows.Scan(&v.source, &v.id, &v.from, &v.to, &v.op, &v.patch); err != nil {
			rows.Close()
			return fmt.Errorf("trust: list relationships: %w", err)
		}
		if v.from != v.to {
			vs = append(vs, v)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("trust: list relationships: %w", err)
	}
	var prev *twin.Relationship
	for i, v := range vs {
		subject := v.source + "/relationships/" + v.id
		if i == 0 || vs[i-1].source != v.source || vs[i-1].id != v.id {
			prev = nil
		}
		at := time.Unix(0, v.from).UTC()
		cur, err := c.st.RelationshipAsOf(c.ctx, twin.ID(v.source), v.id, at)
		if err != nil {
			c.mismatch(Altered, "relationship", subject, at.Format(timeFormat), "", "the stored version cannot be read: "+err.Error())
			continue
		}
		rec := store.Record{Kind: store.KindRelationship, Op: store.ChangeOp(v.op), Subject: subject, Key: string(cur.ETag), Org: cur.Org, Time: at}
		if v.op == string(store.OpPatch) && v.patch.Valid {
			p, err := twin.ParsePatch([]byte(v.patch.String))
			if err != nil {
				c.mismatch(Altered, "relationship", subject, string(cur.ETag), event.TypeRelationshipUpdated, "the stored patch does not parse: "+err.Error())
				continue
			}
			rec.Data = []byte(v.patch.String)
			rec.Writer, rec.Signer = cur.Writer, cur.Signer
			if prev != nil {
				if want, err := prev.ApplyPatch(p); err == nil {
					want.ETag = cur.ETag
					want.Writer, want.Signer = cur.Writer, cur.Signer
					a, _ := json.Marshal(want)
					b, _ := json.Marshal(cur)
					if !sameJSON(a, b) {
						c.mismatch(Altered, "relationship", subject, string(cur.ETag), event.TypeRelationshipUpdated, "the stored version is not the previous version with the logged patch applied")
					}
				}
			}
		} else {
			rec.Data, _ = json.Marshal(cur)
		}
		if err := c.expect(rec, "relationship", subject, rec.Key); err != nil {
			return err
		}
		r := cur
		prev = &r
		last := i+1 == len(vs) || vs[i+1].source != v.source || vs[i+1].id != v.id
		if v.to != math.MaxInt64 && (last || vs[i+1].from != v.to) {
			del := store.Record{Kind: store.KindRelationship, Op: store.OpDelete, Subject: subject, Key: string(cur.ETag), Org: cur.Org, Time: time.Unix(0, v.to).UTC()}
			del.Data, _ = json.Marshal(cur)
			if err := c.expect(del, "relationship", subject, del.Key); err != nil {
				return err
			}
			prev = nil
		}
	}
	return nil
}

// telemetry regroups the stored points by twin, message and transaction
// time: one record each, as the store made them.
func (c *collector) telemetry(db *sql.DB) error {
	rows, err := db.QueryContext(c.ctx, `SELECT twin_id, message_id, enqueued_ns, name, value FROM telemetry ORDER BY enqueued_ns, twin_id, message_id, name`)
	if err != nil {
		return fmt.Errorf("trust: list telemetry: %w", err)
	}
	defer rows.Close()
	type key struct {
		twin, msg string
		ns        int64
	}
	var order []key
	data := map[key]map[string]json.RawMessage{}
	for rows.Next() {
		var k key
		var name, value string
		if err := rows.Scan(&k.twin, &k.msg, &k.ns, &name, &value); err != nil {
			return fmt.Errorf("trust: list telemetry: %w", err)
		}
		if data[k] == nil {
			data[k] = map[string]json.RawMessage{}
			order = append(order, k)
		}
		if !json.Valid([]byte(value)) {
			c.mismatch(Altered, "telemetry", k.twin, k.msg, event.TypeTelemetry, fmt.Sprintf("point %q holds no JSON value", name))
			value = "null"
		}
		data[k][name] = json.RawMessage(value)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("trust: list telemetry: %w", err)
	}
	orgs := map[string]string{} // telemetry belongs to its twin's org
	for _, k := range order {
		b, err := json.Marshal(data[k])
		if err != nil {
			return err
		}
		rec := store.Record{Kind: store.KindTelemetry, Op: store.OpCreate, Subject: k.twin, Key: k.msg, Time: time.Unix(0, k.ns).UTC(), Data: b}
		org, ok := orgs[k.twin]
		if !ok {
			if t, err := c.st.TwinAsOf(c.ctx, twin.ID(k.twin), rec.Time); err == nil {
				org = t.Metadata.Org
			} else if chs, err := c.st.TwinChanges(c.ctx, twin.ID(k.twin), time.Time{}, time.Time{}); err == nil && len(chs) > 0 && chs[0].Twin != nil {
				// The version of that time was compacted away: a twin
				// keeps its org, so its oldest kept version tells it.
				org = chs[0].Twin.Metadata.Org
			}
			orgs[k.twin] = org
		}
		rec.Org = org
		if err := c.expect(rec, "telemetry", k.twin, k.msg); err != nil {
			return err
		}
	}
	return nil
}

// models checks the stored models against the log: each has its upload
// entry; a decommissioned one its decommission entry. Deleted models are
// gone from the store, so their entries are accepted as they are.
func (c *collector) models() error {
	ms, err := c.st.ListModels(c.ctx)
	if err != nil {
		return fmt.Errorf("trust: list models: %w", err)
	}
	present := map[string]bool{}
	for _, m := range ms {
		present[m.ID] = true
		up := m
		up.Decommissioned = false
		rec := store.Record{Kind: store.KindModel, Op: store.OpCreate, Subject: m.ID, Key: m.UploadTime.UTC().Format(time.RFC3339Nano), Org: m.Org, Time: m.UploadTime}
		rec.Data, _ = json.Marshal(up)
		if err := c.expect(rec, "model", m.ID, rec.Key); err != nil {
			return err
		}
		var decom *logEntry
		for _, le := range c.logged {
			if le.Subject == m.ID && le.Type == event.TypeModelUpdated {
				decom = le
			}
		}
		switch {
		case m.Decommissioned && decom == nil:
			c.mismatch(Extra, "model", m.ID, "", event.TypeModelUpdated, "the model is decommissioned but the log never recorded it")
		case decom != nil:
			t, _ := time.Parse(timeFormat, decom.Time)
			rec := store.Record{Kind: store.KindModel, Op: store.OpDecommission, Subject: m.ID, Key: decom.Time, Org: m.Org, Time: t}
			rec.Data, _ = json.Marshal(m)
			if err := c.expect(rec, "model", m.ID, rec.Key); err != nil {
				return err
			}
		}
	}
	// Entries of models deleted since: their upload, decommission and
	// delete entries cannot be recomputed from a store that no longer has
	// them; a deleted model must have its delete entry.
	deleted := map[string]bool{}
	for _, le := range c.logged {
		if le.Type == event.TypeModelDeleted {
			deleted[le.Subject] = true
		}
	}
	for _, le := range c.logged {
		if strings.HasPrefix(le.Type, "lodestone.model.") && !present[le.Subject] && deleted[le.Subject] {
			le.matched = true
		}
	}
	return nil
}

func queryStrings(ctx context.Context, db *sql.DB, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// sameJSON reports whether two JSON texts are the same value.
func sameJSON(a, b []byte) bool {
	ca, err1 := Canonical(a)
	cb, err2 := Canonical(b)
	return err1 == nil && err2 == nil && string(ca) == string(cb)
}
