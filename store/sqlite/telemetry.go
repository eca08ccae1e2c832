package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"lodestone/store"
	"lodestone/store/internal/sqlcore"
	"lodestone/twin"
)

const qTelemetryInsert = `INSERT OR IGNORE INTO telemetry(twin_id, name, message_id, source_ns, enqueued_ns, value) VALUES (?, ?, ?, ?, ?, ?)`

func init() { writerQueries = append(writerQueries, qTelemetryInsert) }

// AppendTelemetry implements store.Store. Each point is inserted on its
// own (INSERT OR IGNORE tells which were new) and the records are made of
// the new points' value text.
func (db *DB) AppendTelemetry(ctx context.Context, points []store.Telemetry) (int, error) {
	for _, p := range points {
		if p.TwinID == "" || p.Name == "" || p.MessageID == "" {
			return 0, fmt.Errorf("sqlite: append telemetry: twin id, name and message id are required: %w", store.ErrInvalid)
		}
		if !json.Valid(p.Value) {
			return 0, fmt.Errorf("sqlite: append telemetry %q of %q: value is not JSON: %w", p.Name, p.TwinID, store.ErrInvalid)
		}
	}
	n := 0
	var recs []store.Record
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
		n = 0
		models := map[twin.ID]string{}
		var data sqlcore.TelemetryData
		for i := range points {
			p := &points[i]
			model, seen := models[p.TwinID]
			if !seen {
				var ok bool
				var err error
				model, ok, err = db.twinModel(ctx, tx, p.TwinID)
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("twin %q: %w", p.TwinID, store.ErrNotFound)
				}
				models[p.TwinID] = model
			}
			src := now
			if !p.SourceTime.IsZero() {
				src = timeNS(p.SourceTime)
			}
			res, err := db.txExec(ctx, tx, qTelemetryInsert, string(p.TwinID), p.Name, p.MessageID, src, now, string(p.Value))
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k > 0 {
				n++
				data.Add(p, model, now)
			}
		}
		recs = data.Records()
		return core.InsertRecords(ctx, txConn{db, tx}, recs)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: append telemetry: %w", err)
	}
	sqlcore.Deliver(ctx, recs...)
	return n, nil
}

// QueryTelemetry implements store.Store.
func (db *DB) QueryTelemetry(ctx context.Context, q store.TelemetryQuery) ([]store.Telemetry, error) {
	if q.TwinID == "" {
		return nil, fmt.Errorf("sqlite: query telemetry: twin id is required: %w", store.ErrInvalid)
	}
	pts, err := core.QueryTelemetry(ctx, readConn{db}, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query telemetry of %q: %w", q.TwinID, err)
	}
	return pts, nil
}
