package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/store"
)

// TestMigrateDocsRowid: a version 3 database's documents survive the
// move of docs to a rowid table (migration 4), and keep their
// uniqueness.
func TestMigrateDocsRowid(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v3.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	for _, m := range migrations[:3] {
		if _, err := raw.ExecContext(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if _, err := raw.ExecContext(ctx, `INSERT INTO docs(kind, id, etag, body, updated_ns) VALUES (?, ?, ?, ?, ?)`,
			[]string{"job", "tlog.chunk"}[i%2], fmt.Sprintf("%03d", i), fmt.Sprintf(`W/"e%d"`, i), fmt.Sprintf(`{"n":%d}`, i), i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.ExecContext(ctx, `PRAGMA user_version = 3`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
