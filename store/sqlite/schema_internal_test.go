package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/store"
)

// TestMigrateDocsRowid: a version 3 database's documents survive the
// move of docs to a rowid table (migration 4), and keep their
// uniqueness.
func TestMigrateDocsRowid(t *testing.T) {
	ctx := context.Background()
	db := migrateFrom(t, 3, func(exec func(q string, args ...any)) {
		for i := range 20 {
			exec(`INSERT INTO docs(kind, id, etag, body, updated_ns) VALUES (?, ?, ?, ?, ?)`,
				[]string{"job", "tlog.chunk"}[i%2], fmt.Sprintf("%03d", i), fmt.Sprintf(`W/"e%d"`, i), fmt.Sprintf(`{"n":%d}`, i), i)
		}
	})
	var ddl string
	if err := db.r.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'docs'`).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(ddl), "WITHOUT ROWID") {
		t.Errorf("docs is still WITHOUT ROWID: %s", ddl)
	}
	for _, kind := range []string{"job", "tlog.chunk"} {
		docs, err := db.ListDocs(ctx, kind)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != 10 {
			t.Fatalf("%d docs of %s, want 10", len(docs), kind)
		}
		for i, d := range docs {
			if i > 0 && docs[i-1].ID >= d.ID {
				t.Errorf("ListDocs(%s) not ordered by id: %s before %s", kind, docs[i-1].ID, d.ID)
			}
		}
	}
	d, err := db.GetDoc(ctx, "job", "004")
	if err != nil || string(d.Body) != `{"n":4}` || d.ETag != `W/"e4"` {
		t.Fatalf("GetDoc = %+v, %v", d, err)
	}
	if _, err := db.PutDoc(ctx, store.Doc{Kind: "job", ID: "004", Body: []byte(`{}`)}, store.Condition{IfNoneMatch: true}); err == nil {
		t.Error("a second document job/004 was created")
	}
	if _, err := db.PutDoc(ctx, store.Doc{Kind: "job", ID: "004", Body: []byte(`{"n":5}`)}, store.Condition{IfMatch: d.ETag}); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateHistoryRowid: a version 4 database's history versions survive
// the move of the history tables to rowid tables (migration 5), stay
// unique by their former key, and read back as before.
func TestMigrateHistoryRowid(t *testing.T) {
	ctx := context.Background()
	const model = "dtmi:test:Thing;1"
	db := migrateFrom(t, 4, func(exec func(q string, args ...any)) {
		// Twin a: three archived versions written in time order, stored
		// here out of it (as a clustered table returns them: by id).
		for _, v := range []struct {
			id       string
			from, to int64
		}{{"b", 10, 40}, {"a", 20, 30}, {"a", 30, 50}, {"a", 50, 60}} {
			exec(`INSERT INTO twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
				VALUES (?, ?, ?, ?, ?, ?, '{}', 'replace', NULL)`, v.id, v.from, v.to, model, fmt.Sprintf(`W/"%s%d"`, v.id, v.from), fmt.Sprintf(`{"n":%d}`, v.from))
		}
		exec(`INSERT INTO twins(id, model, etag, props, meta, valid_from, op, patch) VALUES ('a', ?, 'W/"a60"', '{"n":60}', '{}', 60, 'replace', NULL)`, model)
		exec(`INSERT INTO relationship_history(source_id, rel_id, valid_from, valid_to, target_id, name, etag, props, op, patch)
			VALUES ('a', 'r1', 5, 25, 'b', 'feeds', 'W/"r5"', '{}', 'create', NULL)`)
	})
	for _, table := range []string{"twin_history", "relationship_history"} {
		var ddl string
		if err := db.r.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&ddl); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToUpper(ddl), "WITHOUT ROWID") {
			t.Errorf("%s is still WITHOUT ROWID: %s", table, ddl)
		}
	}
	// Rows are in archive (valid_to) order.
	rows, err := db.r.QueryContext(ctx, `SELECT id, valid_from FROM twin_history ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id string
		var from int64
		if err := rows.Scan(&id, &from); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s@%d", id, from))
	}
	rows.Close()
	if want := "a@20 b@10 a@30 a@50"; strings.Join(got, " ") != want {
		t.Errorf("history rows by rowid: %v, want %s", got, want)
	}
	// The versions read back through the store, as of a time between.
	tw, err := db.TwinAsOf(ctx, "a", time.Unix(0, 35))
	if err != nil || tw.ETag != `W/"a30"` {
		t.Fatalf("twin a as of 35 = %+v, %v; want etag W/\"a30\"", tw, err)
	}
	// The former key stays unique: archiving a version again replaces it.
	if _, err := db.w.ExecContext(ctx, qTwinArchive, "a", int64(70)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, qTwinArchive, "a", int64(80)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM twin_history WHERE id = 'a' AND valid_from = 60`).Scan(&n); err != nil || n != 1 {
		t.Errorf("versions of a from 60: %d, %v; want 1", n, err)
	}
	if _, err := db.w.ExecContext(ctx, `INSERT INTO relationship_history(source_id, rel_id, valid_from, valid_to, target_id, name, etag, props, op, patch)
		VALUES ('a', 'r1', 5, 26, 'b', 'feeds', 'W/"r5"', '{}', 'create', NULL)`); err == nil {
		t.Error("a second relationship version a/r1 from 5 was stored")
	}
}

// migrateFrom makes a database at schema version v (the first v
// migrations), lets fill write rows into it, and opens it with Open, which
// migrates it to the current version.
func migrateFrom(t *testing.T, v int, fill func(exec func(q string, args ...any))) *DB {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("v%d.db", v))
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range migrations[:v] {
		exec(m)
	}
	fill(exec)
	exec(fmt.Sprintf(`PRAGMA user_version = %d`, v))
	raw.Close()
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
