package sqlcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"lodestone/store"
	"lodestone/store/internal/rowcodec"
	"lodestone/twin"
)

// CheckDoc checks what PutDoc requires of a document before any SQL runs.
func CheckDoc(d *store.Doc) error {
	if d.Kind == "" || d.ID == "" {
		return fmt.Errorf("kind and id are required: %w", store.ErrInvalid)
	}
	if !json.Valid(d.Body) {
		return fmt.Errorf("body is not JSON: %w", store.ErrInvalid)
	}
	return nil
}

// PutDoc implements store.Documents in the write transaction tx at
// transaction time now. The caller has checked d with CheckDoc.
func (c *Core) PutDoc(ctx context.Context, tx Conn, d store.Doc, cond store.Condition, now int64) (store.Doc, error) {
	var etag string
	err := tx.QueryRow(ctx, c.qDocState, d.Kind, d.ID).Scan(&etag)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return store.Doc{}, err
	}
	if err := rowcodec.CheckCond(cond, exists, twin.ETag(etag)); err != nil {
		return store.Doc{}, err
	}
	out := store.Doc{Kind: d.Kind, ID: d.ID, ETag: twin.NewETag(), Body: slices.Clone(d.Body), Updated: NSTime(now)}
	if _, err := tx.Exec(ctx, c.qDocPut, out.Kind, out.ID, string(out.ETag), string(out.Body), now); err != nil {
		return store.Doc{}, err
	}
	return out, nil
}

// GetDoc implements store.Documents on q.
func (c *Core) GetDoc(ctx context.Context, q Conn, kind, id string) (store.Doc, error) {
	d := store.Doc{Kind: kind, ID: id}
	var etag, body string
	var ns int64
	err := q.QueryRow(ctx, c.qDocGet, kind, id).Scan(&etag, &body, &ns)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Doc{}, store.ErrNotFound
	}
	if err != nil {
		return store.Doc{}, err
	}
	d.ETag, d.Body, d.Updated = twin.ETag(etag), json.RawMessage(body), NSTime(ns)
	return d, nil
}

// ListDocs implements store.Documents on q.
func (c *Core) ListDocs(ctx context.Context, q Conn, kind string) ([]store.Doc, error) {
	rows, err := q.Query(ctx, c.qDocList, kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Doc
	for rows.Next() {
		d := store.Doc{Kind: kind}
		var etag, body string
		var ns int64
		if err := rows.Scan(&d.ID, &etag, &body, &ns); err != nil {
			return nil, err
		}
		d.ETag, d.Body, d.Updated = twin.ETag(etag), json.RawMessage(body), NSTime(ns)
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeleteDoc implements store.Documents in the write transaction tx.
func (c *Core) DeleteDoc(ctx context.Context, tx Conn, kind, id string, cond store.Condition) error {
	var etag string
	err := tx.QueryRow(ctx, c.qDocState, kind, id).Scan(&etag)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := rowcodec.CheckCond(cond, true, twin.ETag(etag)); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, c.qDocDelete, kind, id)
	return err
}
