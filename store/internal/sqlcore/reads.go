package sqlcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"lodestone/store"
	"lodestone/twin"
)

// ScanModel reads a row of Dialect.ModelCols.
func ScanModel(sc Row) (twin.Model, error) {
	var m twin.Model
	var dtdl, ext string
	var up int64
	if err := sc.Scan(&m.ID, &dtdl, &up, &m.Decommissioned, &m.Org, &ext); err != nil {
		return m, err
	}
	m.DTDL = json.RawMessage(dtdl)
	m.UploadTime = NSTime(up)
	if err := json.Unmarshal([]byte(ext), &m.Extends); err != nil {
		return m, fmt.Errorf("model %q: extends: %w", m.ID, err)
	}
	if len(m.Extends) == 0 {
		m.Extends = nil
	}
	return m, nil
}

// GetModel implements store.Models on q.
func (c *Core) GetModel(ctx context.Context, q Conn, id string) (twin.Model, error) {
	m, err := ScanModel(q.QueryRow(ctx, c.qModelGet, id))
	if errors.Is(err, sql.ErrNoRows) {
		return twin.Model{}, store.ErrNotFound
	}
	return m, err
}

// ListModels implements store.Models on q.
func (c *Core) ListModels(ctx context.Context, q Conn) ([]twin.Model, error) {
	rows, err := q.Query(ctx, c.qModelList)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []twin.Model
	for rows.Next() {
		m, err := ScanModel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// QueryTelemetry implements store.TelemetryLog on q.
func (c *Core) QueryTelemetry(ctx context.Context, q Conn, tq store.TelemetryQuery) ([]store.Telemetry, error) {
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !tq.From.IsZero() {
		from = tq.From.UnixNano()
	}
	if !tq.To.IsZero() {
		to = tq.To.UnixNano()
	}
	limit := c.d.noLimit
	if tq.Limit > 0 {
		limit = int64(tq.Limit)
	}
	query, args := c.qTelemetryAll, []any{string(tq.TwinID), from, to, limit}
	if tq.Name != "" {
		query, args = c.qTelemetryName, append(args, tq.Name)
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Telemetry
	for rows.Next() {
		p := store.Telemetry{TwinID: tq.TwinID}
		var src, enq int64
		var val string
		if err := rows.Scan(&p.Name, &p.MessageID, &src, &enq, &val); err != nil {
			return nil, err
		}
		p.SourceTime, p.EnqueuedTime, p.Value = NSTime(src), NSTime(enq), json.RawMessage(val)
		out = append(out, p)
	}
	return out, rows.Err()
}
