package sqlcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"lodestone/store"
	"lodestone/store/internal/rowcodec"
	"lodestone/twin"
)

// RecordCols are the columns of an outbox row besides seq, in the order
// of the values a backend gives when it folds the insert of a record into
// a statement of its own:
//
//	kind, op, subject, key, model, time_ns, data
//
// seq is the row's INTEGER PRIMARY KEY AUTOINCREMENT (SQLite) or
// bigserial (PostgreSQL, allocated under the clock lock): it increases in
// commit order, and no seq is handed out twice.
const RecordCols = `kind, op, subject, key, model, time_ns, data`

// RecordArgs returns the values of RecordCols for r: its data is left out
// when it is Rebuilt.
func RecordArgs(r *store.Record) []any {
	return []any{string(r.Kind), string(r.Op), r.Subject, r.Key, r.Model, r.Time.UnixNano(), StoredData(r)}
}

// Rebuilt reports whether the outbox stores r without its data, which
// PendingRecords rebuilds from the twin version r names (subject and
// time): the document of a twin create or replace is that version's row,
// so storing it again would double the bytes the most common write
// writes. Versions are never changed once written (a newer one moves them
// to the history table as they are), so the rebuilt document is the one
// the write made.
func Rebuilt(r *store.Record) bool {
	return r.Kind == store.KindTwin && (r.Op == store.OpCreate || r.Op == store.OpReplace)
}

// StoredData is the text of the data column of r's outbox row: "" when r
// is Rebuilt.
func StoredData(r *store.Record) string {
	if Rebuilt(r) {
		return ""
	}
	return string(r.Data)
}

// qPending reads outbox rows, with the columns of the twin version a
// twin record names (for a record without data, and for the owner org of
// a patch).
const qPending = `SELECT o.seq, o.kind, o.op, o.subject, o.key, o.model, o.time_ns, o.data,
	coalesce(t.etag, h.etag), coalesce(t.props, h.props), coalesce(t.meta, h.meta)
	FROM outbox o
	LEFT JOIN twins t ON o.kind = 'twin' AND o.op <> 'delete' AND t.id = o.subject AND t.valid_from = o.time_ns
	LEFT JOIN twin_history h ON o.kind = 'twin' AND o.op <> 'delete' AND t.id IS NULL AND h.id = o.subject AND h.valid_from = o.time_ns
	WHERE o.seq > $1 ORDER BY o.seq`

// qTwinMetaAt reads the meta column of the version of twin $1 current at
// transaction time $2 (the owner of a telemetry record), and
// qRelPropsAt the props column of relationship $1/$2 written at $3 (the
// owner of a relationship patch).
const (
	qTwinMetaAt = `SELECT meta FROM twins WHERE id = $1 AND valid_from <= $2
		UNION ALL SELECT meta FROM twin_history WHERE id = $1 AND valid_from <= $2 AND valid_to > $2`
	qRelPropsAt = `SELECT props FROM relationships WHERE source_id = $1 AND rel_id = $2 AND valid_from = $3
		UNION ALL SELECT props FROM relationship_history WHERE source_id = $1 AND rel_id = $2 AND valid_from = $3`
)

// TwinDocFunc builds the ADT JSON document of a twin from its row (see
// rowcodec.DecodeTwin).
type TwinDocFunc func(id twin.ID, model, etag string, props, meta []byte) ([]byte, error)

// DecodedTwinDoc is a TwinDocFunc that decodes the row and marshals the
// twin.
func DecodedTwinDoc(id twin.ID, model, etag string, props, meta []byte) ([]byte, error) {
	t, err := rowcodec.DecodeTwin(string(id), model, etag, props, meta)
	if err != nil {
		return nil, err
	}
	return json.Marshal(t)
}

// RecordWriter is implemented by a write transaction's Conn whose backend
// writes outbox rows itself: SQLite's single writer numbers them and
// inserts the rows of a whole group of writes in a few multi-row
// statements just before the group commits.
type RecordWriter interface {
	// WriteRecord sets r.Seq, greater than every seq handed out before,
	// and has r's row written before the transaction commits (unless the
	// write that wrote it rolls back).
	WriteRecord(r *store.Record) error
}

// InsertRecord writes r to the outbox in the write transaction tx and sets
// r.Seq: through tx if it is a RecordWriter, else with an INSERT that the
// database numbers.
func (c *Core) InsertRecord(ctx context.Context, tx Conn, r *store.Record) error {
	if w, ok := tx.(RecordWriter); ok {
		return w.WriteRecord(r)
	}
	if err := tx.QueryRow(ctx, c.qRecordInsert, RecordArgs(r)...).Scan(&r.Seq); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// InsertRecords writes recs to the outbox in order and sets their Seqs.
func (c *Core) InsertRecords(ctx context.Context, tx Conn, recs []store.Record) error {
	for i := range recs {
		if err := c.InsertRecord(ctx, tx, &recs[i]); err != nil {
			return err
		}
	}
	return nil
}

// PendingRecords implements store.Outbox on q. doc rebuilds the data of
// the records stored without it (see Rebuilt).
func (c *Core) PendingRecords(ctx context.Context, q Conn, after int64, limit int, doc TwinDocFunc) ([]store.Record, error) {
	var rows Rows
	var err error
	if limit > 0 {
		rows, err = q.Query(ctx, c.qRecordsPending, after, int64(limit))
	} else {
		rows, err = q.Query(ctx, c.qRecordsPendingAll, after)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		var r store.Record
		var kind, op, data string
		var ns int64
		var etag *string
		var props, meta []byte
		if err := rows.Scan(&r.Seq, &kind, &op, &r.Subject, &r.Key, &r.Model, &ns, &data, &etag, &props, &meta); err != nil {
			return nil, err
		}
		r.Kind, r.Op, r.Time = store.Kind(kind), store.ChangeOp(op), NSTime(ns)
		switch {
		case data != "":
			r.Data = json.RawMessage(data)
		case etag != nil:
			b, err := doc(twin.ID(r.Subject), r.Model, *etag, props, meta)
			if err != nil {
				return nil, fmt.Errorf("record %d: twin %q version %s: %w", r.Seq, r.Subject, TimeKey(ns), err)
			}
			r.Data = b
		case Rebuilt(&r):
			return nil, fmt.Errorf("record %d: twin %q has no version %s", r.Seq, r.Subject, TimeKey(ns))
		}
		r.Org = orgOfRecord(&r, meta)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	// A twin's org is the same in all its versions unless it was deleted
	// and created again by another org, so one look-up per twin serves
	// the telemetry records of a page (a page of a connector's backlog
	// holds thousands of one twin's).
	orgs := map[string]string{}
	for i := range out {
		r := &out[i]
		if r.Kind == store.KindTelemetry {
			if org, ok := orgs[r.Subject]; ok {
				r.Org = org
				continue
			}
		}
		if err := c.lookUpOrg(ctx, q, r); err != nil {
			return nil, err
		}
		if r.Kind == store.KindTelemetry {
			orgs[r.Subject] = r.Org
		}
	}
	return out, nil
}

// orgOfRecord returns the owner org of a record read back from the
// outbox, which does not store it: from the twin version's meta column,
// or the data's "$org" ("$metadata.$org" of a twin, "org" of a model or an
// import summary).
// Telemetry and relationship patches are left to lookUpOrg.
func orgOfRecord(r *store.Record, meta []byte) string {
	switch {
	case r.Kind == store.KindTwin && r.Op != store.OpDelete:
		return rowcodec.MetaOrg(meta)
	case r.Kind == store.KindTwin:
		var d struct {
			Metadata struct {
				Org string `json:"$org"`
			} `json:"$metadata"`
		}
		json.Unmarshal(r.Data, &d)
		return d.Metadata.Org
	case r.Kind == store.KindRelationship && r.Op != store.OpPatch:
		var d struct {
			Org string `json:"$org"`
		}
		json.Unmarshal(r.Data, &d)
		return d.Org
	case r.Kind == store.KindModel:
		var m twin.Model
		json.Unmarshal(r.Data, &m)
		return m.Org
	case r.Kind == store.KindImport:
		var sum importSummary
		json.Unmarshal(r.Data, &sum)
		return sum.Org
	}
	return ""
}

// lookUpOrg sets the owner org of a telemetry record (its twin's, at the
// record's time) and of a relationship patch (the patched version's).
func (c *Core) lookUpOrg(ctx context.Context, q Conn, r *store.Record) error {
	var b []byte
	var err error
	switch {
	case r.Kind == store.KindTelemetry:
		err = q.QueryRow(ctx, c.qTwinMetaAt, r.Subject, r.Time.UnixNano()).Scan(&b)
		if err == nil {
			r.Org = rowcodec.MetaOrg(b)
		}
	case r.Kind == store.KindRelationship && r.Op == store.OpPatch:
		src, id, ok := strings.Cut(r.Subject, "/relationships/")
		if !ok {
			return nil
		}
		err = q.QueryRow(ctx, c.qRelPropsAt, src, id, r.Time.UnixNano()).Scan(&b)
		if err == nil {
			var rel twin.Relationship
			err = rowcodec.DecodeRelProps(b, &rel)
			r.Org = rel.Org
		}
	default:
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil // the twin is gone: the org cannot be told
	}
	if err != nil {
		return fmt.Errorf("record %d: owner: %w", r.Seq, err)
	}
	return nil
}

// AckRecords implements store.Outbox in the write transaction tx.
func (c *Core) AckRecords(ctx context.Context, tx Conn, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	list := make([]byte, 0, 2+12*len(seqs))
	list = append(list, '[')
	for i, s := range seqs {
		if i > 0 {
			list = append(list, ',')
		}
		list = strconv.AppendInt(list, s, 10)
	}
	list = append(list, ']')
	_, err := tx.Exec(ctx, c.qRecordsAck, string(list))
	return err
}

// RelationshipSubject is the subject of a relationship's records:
// "<source>/relationships/<id>", as ADT names a relationship's events.
func RelationshipSubject(source twin.ID, id string) string {
	return string(source) + "/relationships/" + id
}

// TimeKey formats a transaction time (Unix ns) as the key of the records
// that have no entity tag (models, imports): RFC 3339 with nanoseconds.
func TimeKey(ns int64) string { return NSTime(ns).Format(time.RFC3339Nano) }

// TwinRecord returns the record of a twin write at transaction time now.
// key is the new version's ETag, or the deleted version's.
func TwinRecord(op store.ChangeOp, id twin.ID, key twin.ETag, model string, now int64, data []byte) store.Record {
	return store.Record{Kind: store.KindTwin, Op: op, Subject: string(id), Key: string(key), Model: model, Time: NSTime(now), Data: data}
}

// RelationshipRecord returns the record of a relationship write; model is
// the source twin's.
func RelationshipRecord(op store.ChangeOp, source twin.ID, id string, key twin.ETag, model string, now int64, data []byte) store.Record {
	return store.Record{Kind: store.KindRelationship, Op: op, Subject: RelationshipSubject(source, id), Key: string(key), Model: model, Time: NSTime(now), Data: data}
}

// ModelRecord returns the record of a model change: m as it is after the
// change (as it was, for a delete). An upload's key is its upload time,
// the others' the transaction time.
func ModelRecord(op store.ChangeOp, m twin.Model, now int64) (store.Record, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return store.Record{}, fmt.Errorf("model %q: %w", m.ID, err)
	}
	key := TimeKey(now)
	if op == store.OpCreate {
		key = m.UploadTime.UTC().Format(time.RFC3339Nano)
	}
	return store.Record{Kind: store.KindModel, Op: op, Subject: m.ID, Key: key, Org: m.Org, Time: NSTime(now), Data: data}, nil
}

// importSummary is the data of an import record. Org is the importer's
// org (left out without one): the outbox keeps only the data, so the
// record's owner is read back from it.
type importSummary struct {
	Models        []string `json:"models"`
	Twins         int      `json:"twins"`
	Relationships int      `json:"relationships"`
	Org           string   `json:"org,omitempty"`
}

// ImportRecord returns the summary record of an import that stored the
// models named and twins and rels twins and relationships. Its owner org
// is the org of ctx's store.Stamp (the importer's; "" without one).
func ImportRecord(ctx context.Context, models []string, twins, rels int, now int64) store.Record {
	if models == nil {
		models = []string{}
	}
	s, _ := store.StampFrom(ctx)
	data, _ := json.Marshal(importSummary{Models: models, Twins: twins, Relationships: rels, Org: s.Org}) // cannot fail
	return store.Record{Kind: store.KindImport, Op: store.OpCreate, Key: TimeKey(now), Org: s.Org, Time: NSTime(now), Data: data}
}

// TelemetryData accumulates the data of telemetry records: one JSON
// object {"name": value, …} per (twin, message id), in the order the
// points came, built from the values' text without decoding them.
type TelemetryData struct {
	recs  []store.Record
	index map[[2]string]int
}

// Add adds a newly stored point of twin id (whose model is model) at
// transaction time now.
func (d *TelemetryData) Add(p *store.Telemetry, model string, now int64) {
	k := [2]string{string(p.TwinID), p.MessageID}
	i, ok := d.index[k]
	if !ok {
		if d.index == nil {
			d.index = make(map[[2]string]int)
		}
		i = len(d.recs)
		d.index[k] = i
		d.recs = append(d.recs, store.Record{Kind: store.KindTelemetry, Op: store.OpCreate, Subject: string(p.TwinID),
			Key: p.MessageID, Model: model, Time: NSTime(now), Data: []byte{'{'}})
	}
	r := &d.recs[i]
	if len(r.Data) > 1 {
		r.Data = append(r.Data, ',')
	}
	name, _ := json.Marshal(p.Name) // a string always marshals
	r.Data = append(r.Data, name...)
	r.Data = append(r.Data, ':')
	r.Data = append(r.Data, p.Value...)
}

// Records returns the records, each object closed.
func (d *TelemetryData) Records() []store.Record {
	for i := range d.recs {
		d.recs[i].Data = append(d.recs[i].Data, '}')
	}
	return d.recs
}
