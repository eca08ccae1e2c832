package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"time"

	"lodestone/store"
	"lodestone/store/internal/rowcodec"
	"lodestone/twin"
)

// The statements of history reads, the same on both databases.
const (
	qTwinAsOf = `SELECT model, etag, props, meta FROM twins WHERE id = $1 AND valid_from <= $2
		UNION ALL SELECT model, etag, props, meta FROM twin_history WHERE id = $1 AND valid_from <= $2 AND valid_to > $2
		LIMIT 1`
	relCols           = `source_id, rel_id, target_id, name, etag, props`
	qRelationshipAsOf = `SELECT ` + relCols + ` FROM relationships WHERE source_id = $1 AND rel_id = $2 AND valid_from <= $3
		UNION ALL SELECT ` + relCols + ` FROM relationship_history WHERE source_id = $1 AND rel_id = $2 AND valid_from <= $3 AND valid_to > $3
		LIMIT 1`
	// qTwinVersions lists every version of a twin, the current one with
	// an open interval.
	qTwinVersions = `SELECT valid_from, valid_to, model, etag, props, meta, op, patch FROM (
		SELECT valid_from, valid_to, model, etag, props, meta, op, patch FROM twin_history WHERE id = $1
		UNION ALL SELECT valid_from, ` + maxNS + `, model, etag, props, meta, op, patch FROM twins WHERE id = $1) v
		ORDER BY valid_from`
	maxNS = "9223372036854775807"
)

// ScanRelationship reads a row of relCols (source_id, rel_id, target_id,
// name, etag, props).
func ScanRelationship(sc Row) (twin.Relationship, error) {
	var r twin.Relationship
	var src, tgt, etag string
	var props []byte
	if err := sc.Scan(&src, &r.ID, &tgt, &r.Name, &etag, &props); err != nil {
		return r, err
	}
	r.SourceID, r.TargetID, r.ETag = twin.ID(src), twin.ID(tgt), twin.ETag(etag)
	return r, rowcodec.DecodeRelProps(props, &r)
}

// TwinAsOf implements store.History on q. Errors are not wrapped with the
// operation; ErrNotFound is returned bare.
func (c *Core) TwinAsOf(ctx context.Context, q Conn, id twin.ID, at time.Time) (twin.Twin, error) {
	var model, etag string
	var props, meta []byte
	err := q.QueryRow(ctx, c.qTwinAsOf, string(id), at.UnixNano()).Scan(&model, &etag, &props, &meta)
	if errors.Is(err, sql.ErrNoRows) {
		return twin.Twin{}, store.ErrNotFound
	}
	if err != nil {
		return twin.Twin{}, err
	}
	return rowcodec.DecodeTwin(string(id), model, etag, props, meta)
}

// RelationshipAsOf implements store.History on q.
func (c *Core) RelationshipAsOf(ctx context.Context, q Conn, source twin.ID, id string, at time.Time) (twin.Relationship, error) {
	r, err := ScanRelationship(q.QueryRow(ctx, c.qRelationshipAsOf, string(source), id, at.UnixNano()))
	if errors.Is(err, sql.ErrNoRows) {
		return twin.Relationship{}, store.ErrNotFound
	}
	return r, err
}

// version is one stored version of a twin.
type version struct {
	from, to int64
	t        twin.Twin
	op       string
	patch    *string
}

// TwinChanges implements store.History on q. The change list is derived
// from the versions: each version records the operation that made it, and
// a version whose interval ends without a successor starting at that
// instant was deleted then.
func (c *Core) TwinChanges(ctx context.Context, q Conn, id twin.ID, from, to time.Time) ([]store.Change, error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = from.UnixNano()
	}
	if !to.IsZero() {
		hi = to.UnixNano()
	}
	rows, err := q.Query(ctx, c.qTwinVersions, string(id))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var vs []version
	for rows.Next() {
		var v version
		var model, etag string
		var props, meta []byte
		if err := rows.Scan(&v.from, &v.to, &model, &etag, &props, &meta, &v.op, &v.patch); err != nil {
			return nil, err
		}
		if v.t, err = rowcodec.DecodeTwin(string(id), model, etag, props, meta); err != nil {
			return nil, err
		}
		if v.from == v.to {
			continue // superseded in its own transaction (an import naming the twin twice)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []store.Change
	add := func(c store.Change, ns int64) {
		if ns >= lo && ns < hi {
			out = append(out, c)
		}
	}
	for i, v := range vs {
		c := store.Change{Time: NSTime(v.from), Op: store.ChangeOp(v.op)}
		tw := v.t
		c.Twin = &tw
		if v.patch != nil {
			p, err := twin.ParsePatch([]byte(*v.patch))
			if err != nil {
				return nil, fmt.Errorf("stored patch: %w", err)
			}
			c.Patch = p
		}
		add(c, v.from)
		if v.to != math.MaxInt64 && (i+1 == len(vs) || vs[i+1].from != v.to) {
			add(store.Change{Time: NSTime(v.to), Op: store.OpDelete}, v.to)
		}
	}
	return out, nil
}

// Snapshot collects the twins and relationships of an export as of at
// into a store.Snapshot taken at snapAt.
func Snapshot(export iter.Seq2[store.Entity, error], snapAt time.Time) (*store.Snapshot, error) {
	snap := &store.Snapshot{At: snapAt}
	for e, err := range export {
		if err != nil {
			return nil, err
		}
		switch {
		case e.Twin != nil:
			snap.Twins = append(snap.Twins, *e.Twin)
		case e.Relationship != nil:
			snap.Relationships = append(snap.Relationships, *e.Relationship)
		}
	}
	return snap, nil
}

// AsOfRelation returns the table expression of the versions of a table
// pair (current, history) current at asOf, or of the current ones when
// asOf is zero: the union of the current versions that started by then and
// the history versions whose interval contains it. cols are the columns it
// has.
func AsOfRelation(current, history, cols string, asOf time.Time) string {
	if asOf.IsZero() {
		return `(SELECT ` + cols + ` FROM ` + current + `)`
	}
	t := strconv.FormatInt(asOf.UnixNano(), 10)
	return `(SELECT ` + cols + ` FROM ` + current + ` WHERE valid_from <= ` + t +
		` UNION ALL SELECT ` + cols + ` FROM ` + history + ` WHERE valid_from <= ` + t + ` AND valid_to > ` + t + `)`
}
