package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"lodestone/store"
	"lodestone/store/internal/sqlcore"
	"lodestone/twin"
)

// qTelemetryInsert inserts a batch of points given as parallel arrays and
// skips those already stored (dedup on twin, message id and name, also
// within the batch). It writes one outbox record per (twin, message id)
// with new points, in the order the messages came, whose data is the
// object {"name": value, …} of the new points (the values' text as
// given), and returns each record with the number of its points.
var qTelemetryInsert = `WITH pts AS (
	SELECT t.twin_id COLLATE "C" AS twin_id, t.name COLLATE "C" AS name, t.message_id, t.source_ns, t.value, t.ord
	FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $6::text[]) WITH ORDINALITY AS t(twin_id, name, message_id, source_ns, value, ord)),
ins AS (
	INSERT INTO telemetry(twin_id, name, message_id, source_ns, enqueued_ns, value)
	SELECT twin_id, name, message_id, source_ns, $5, value::json FROM pts ORDER BY ord
	ON CONFLICT (twin_id, message_id, name) DO NOTHING
	RETURNING twin_id, name, message_id, value),
g AS (
	SELECT i.twin_id, i.message_id, count(*) AS n, min(o.ord) AS first,
		'{' || string_agg(to_json(i.name)::text || ':' || i.value::text, ',' ORDER BY o.ord) || '}' AS data
	FROM ins i JOIN (SELECT twin_id, message_id, name, min(ord) AS ord FROM pts GROUP BY twin_id, message_id, name) o
		ON o.twin_id = i.twin_id AND o.message_id = i.message_id AND o.name = i.name
	GROUP BY i.twin_id, i.message_id),
ob AS (
	INSERT INTO outbox(` + sqlcore.RecordCols + `)
	SELECT 'telemetry', 'create', g.twin_id, g.message_id, (SELECT model FROM twins WHERE id = g.twin_id), $5, g.data FROM g ORDER BY g.first
	RETURNING seq, subject, key, model, data)
SELECT ob.seq, ob.subject, ob.key, ob.model, ob.data, g.n FROM ob JOIN g ON g.twin_id = ob.subject AND g.message_id = ob.key ORDER BY ob.seq`

// AppendTelemetry implements store.Store. The points go in one statement.
func (db *DB) AppendTelemetry(ctx context.Context, points []store.Telemetry) (int, error) {
	for _, p := range points {
		if p.TwinID == "" || p.Name == "" || p.MessageID == "" {
			return 0, fmt.Errorf("postgres: append telemetry: twin id, name and message id are required: %w", store.ErrInvalid)
		}
		if !json.Valid(p.Value) {
			return 0, fmt.Errorf("postgres: append telemetry %q of %q: value is not JSON: %w", p.Name, p.TwinID, store.ErrInvalid)
		}
	}
	if len(points) == 0 {
		return 0, nil
	}
	n := 0
	var recs []store.Record
	err := db.write(ctx, func(ctx context.Context, tx pgx.Tx, now int64) error {
		n, recs = 0, nil
		var ids []string
		seen := map[twin.ID]bool{}
		for _, p := range points {
			if !seen[p.TwinID] {
				seen[p.TwinID] = true
				ids = append(ids, string(p.TwinID))
			}
		}
		var missing *string
		if err := tx.QueryRow(ctx, `SELECT id FROM unnest($1::text[]) AS w(id) WHERE NOT EXISTS (SELECT 1 FROM twins t WHERE t.id = w.id) LIMIT 1`, ids).Scan(&missing); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if missing != nil {
			return fmt.Errorf("twin %q: %w", *missing, store.ErrNotFound)
		}
		twins, names, msgs, values := make([]string, len(points)), make([]string, len(points)), make([]string, len(points)), make([]string, len(points))
		src := make([]int64, len(points))
		for i, p := range points {
			twins[i], names[i], msgs[i], values[i] = string(p.TwinID), p.Name, p.MessageID, string(p.Value)
			src[i] = now
			if !p.SourceTime.IsZero() {
				src[i] = timeNS(p.SourceTime)
			}
		}
		rows, err := tx.Query(ctx, qTelemetryInsert, twins, names, msgs, src, now, values)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r := store.Record{Kind: store.KindTelemetry, Op: store.OpCreate, Time: sqlcore.NSTime(now)}
			var data string
			var k int
			if err := rows.Scan(&r.Seq, &r.Subject, &r.Key, &r.Model, &data, &k); err != nil {
				return err
			}
			r.Data = []byte(data)
			recs = append(recs, r)
			n += k
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: append telemetry: %w", err)
	}
	sqlcore.Deliver(ctx, recs...)
	return n, nil
}

// QueryTelemetry implements store.Store.
func (db *DB) QueryTelemetry(ctx context.Context, q store.TelemetryQuery) ([]store.Telemetry, error) {
	if q.TwinID == "" {
		return nil, fmt.Errorf("postgres: query telemetry: twin id is required: %w", store.ErrInvalid)
	}
	pts, err := core.QueryTelemetry(ctx, poolConn{db.r}, q)
	if err != nil {
		return nil, fmt.Errorf("postgres: query telemetry of %q: %w", q.TwinID, err)
	}
	return pts, nil
}
