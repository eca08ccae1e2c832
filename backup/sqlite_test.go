package backup_test

import (
	"database/sql"
	"testing"

	"lodestone/twin"
)

// makeEmptySQLite writes an SQLite database with one unrelated table.
func makeEmptySQLite(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE IF NOT EXISTS notes (x TEXT)"); err != nil {
		t.Fatal(err)
	}
}

func twinID(s string) twin.ID { return twin.ID(s) }
