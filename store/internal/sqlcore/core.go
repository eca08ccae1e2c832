package sqlcore

import (
	"context"
	"fmt"
	"time"

	"lodestone/store"
)

// Core holds the statements of this package rendered for one dialect. It
// is safe for concurrent use.
type Core struct {
	d Dialect

	qRecordInsert                                     string
	qRecordsPending, qRecordsPendingAll, qRecordsAck  string
	qDocState, qDocPut, qDocGet, qDocList, qDocDelete string
	qVersion, qVersionBump                            string

	qModelInsert, qExtendsInsert, qModelRow, qModelBases, qModelDecommission string
	qModelUsed, qModelDeleteExtends, qModelDelete                            string

	qTwinAsOf, qRelationshipAsOf, qTwinVersions string
	qModelGet, qModelList                       string
	qTelemetryAll, qTelemetryName               string
	qTwinMetaAt, qRelPropsAt                    string
}

// New renders the statements for d.
func New(d Dialect) *Core {
	c := &Core{d: d}
	vt, vc := d.versionTable, d.versionColumn
	for _, q := range []struct {
		dst *string
		sql string
	}{
		{&c.qRecordInsert, `INSERT INTO outbox(` + RecordCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq`},
		{&c.qRecordsPending, qPending + ` LIMIT $2`},
		{&c.qRecordsPendingAll, qPending},
		{&c.qRecordsAck, `DELETE FROM outbox WHERE seq IN (` + d.seqList + `)`},
		{&c.qDocState, `SELECT etag FROM docs WHERE kind = $1 AND id = $2`},
		{&c.qDocPut, `INSERT INTO docs(kind, id, etag, body, updated_ns) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (kind, id) DO UPDATE SET etag = excluded.etag, body = excluded.body, updated_ns = excluded.updated_ns`},
		{&c.qDocGet, `SELECT etag, body, updated_ns FROM docs WHERE kind = $1 AND id = $2`},
		{&c.qDocList, `SELECT id, etag, body, updated_ns FROM docs WHERE kind = $1 ORDER BY id`},
		{&c.qDocDelete, `DELETE FROM docs WHERE kind = $1 AND id = $2`},
		{&c.qVersion, `SELECT ` + vc + ` FROM ` + vt},
		{&c.qVersionBump, `UPDATE ` + vt + ` SET ` + vc + ` = ` + vc + ` + 1 RETURNING ` + vc},
		{&c.qModelInsert, qModelInsert},
		{&c.qExtendsInsert, qExtendsInsert},
		{&c.qModelRow, qModelRow},
		{&c.qModelBases, qModelBases},
		{&c.qModelDecommission, qModelDecommission},
		{&c.qModelUsed, qModelUsed},
		{&c.qModelDeleteExtends, qModelDeleteExtends},
		{&c.qModelDelete, qModelDelete},
		{&c.qTwinAsOf, qTwinAsOf},
		{&c.qRelationshipAsOf, qRelationshipAsOf},
		{&c.qTwinVersions, qTwinVersions},
		{&c.qTwinMetaAt, qTwinMetaAt},
		{&c.qRelPropsAt, qRelPropsAt},
		{&c.qModelGet, `SELECT ` + d.ModelCols() + ` FROM models WHERE id = $1`},
		{&c.qModelList, `SELECT ` + d.ModelCols() + ` FROM models ORDER BY id`},
		{&c.qTelemetryAll, `SELECT name, message_id, source_ns, enqueued_ns, ` + fmt.Sprintf(d.jsonText, "value") + ` FROM telemetry
			WHERE twin_id = $1 AND source_ns >= $2 AND source_ns < $3 ORDER BY source_ns, enqueued_ns, name LIMIT $4`},
		{&c.qTelemetryName, `SELECT name, message_id, source_ns, enqueued_ns, ` + fmt.Sprintf(d.jsonText, "value") + ` FROM telemetry
			WHERE twin_id = $1 AND name = $5 AND source_ns >= $2 AND source_ns < $3 ORDER BY source_ns, enqueued_ns LIMIT $4`},
	} {
		*q.dst = d.Rebind(q.sql)
	}
	return c
}

// Dialect returns the dialect of c.
func (c *Core) Dialect() Dialect { return c.d }

// WriteQueries returns the statements c runs in write transactions, for a
// backend that prepares its writer's statements ahead.
func (c *Core) WriteQueries() []string {
	return []string{c.qRecordInsert, c.qRecordsAck, c.qDocState, c.qDocPut, c.qDocDelete, c.qVersionBump,
		c.qModelInsert, c.qExtendsInsert, c.qModelRow, c.qModelBases, c.qModelDecommission, c.qModelUsed,
		c.qModelDeleteExtends, c.qModelDelete}
}

// NSTime converts Unix nanoseconds, the stores' transaction times, to a
// time in UTC.
func NSTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// Deliver adds the records of a committed write to the recorder of ctx,
// if it has one. Backends call it once the write's transaction has
// committed, and never for a write that failed.
func Deliver(ctx context.Context, recs ...store.Record) {
	if r := store.RecorderFrom(ctx); r != nil && len(recs) > 0 {
		r.Add(recs...)
	}
}
