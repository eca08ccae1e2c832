package trust_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"lodestone/trust"
)

// tamper changes one thing in a copy of a store and says what.
type tamper func(t *testing.T, rng *rand.Rand, db *sql.DB) string

// TestTamper changes stored bytes at random, in hundreds of trials, and
// Verify must report every change; on the untouched copy it reports
// nothing.
func TestTamper(t *testing.T) {
	tmpl := buildTemplate(t)
	rep := verifyCopy(t, tmpl, nil, nil)
	if !rep.OK {
		t.Fatalf("untouched store: %+v", rep.Mismatches)
	}
	tampers := map[string]tamper{
		"twin value byte":        byteIn(`SELECT 'twins', id, valid_from, props FROM twins UNION ALL SELECT 'twin_history', id, valid_from, props FROM twin_history`, "props", "id"),
		"twin metadata byte":     byteIn(`SELECT 'twins', id, valid_from, meta FROM twins UNION ALL SELECT 'twin_history', id, valid_from, meta FROM twin_history`, "meta", "id"),
		"relationship byte":      byteIn(`SELECT 'relationships', source_id || char(0) || rel_id, valid_from, props FROM relationships UNION ALL SELECT 'relationship_history', source_id || char(0) || rel_id, valid_from, props FROM relationship_history`, "props", "rel"),
		"relationship target":    byteIn(`SELECT 'relationships', source_id || char(0) || rel_id, valid_from, target_id FROM relationships UNION ALL SELECT 'relationship_history', source_id || char(0) || rel_id, valid_from, target_id FROM relationship_history`, "target_id", "rel"),
		"telemetry value byte":   byteIn(`SELECT 'telemetry', twin_id || char(0) || message_id || char(0) || name, 0, value FROM telemetry`, "value", "tel"),
		"checkpoint byte":        byteIn(`SELECT 'docs', kind || char(0) || id, 0, body FROM docs WHERE kind = 'tlog.checkpoint'`, "body", "doc"),
		"log entry byte":         byteIn(`SELECT 'docs', kind || char(0) || id, 0, body FROM docs WHERE kind = 'tlog.chunk'`, "body", "doc"),
		"history row deleted":    deleteRow,
		"history row inserted":   insertRow,
		"checkpoint rolled back": rollBack,
	}
	names := make([]string, 0, len(tampers))
	for n := range tampers {
		names = append(names, n)
	}
	slicesSort(names)
	trials := 200
	if testing.Short() || raceEnabled {
		trials = 50
	}
	rng := rand.New(rand.NewPCG(12, 2026))
	for i := range trials {
		name := names[i%len(names)]
		var what string
		rep := verifyCopy(t, tmpl, func(db *sql.DB) { what = tampers[name](t, rng, db) }, nil)
		if rep.OK {
			t.Errorf("trial %d: %s: %s: not detected", i, name, what)
		}
	}
}

// buildTemplate writes the scenario with two checkpoints and returns the
// closed store's directory.
func buildTemplate(t *testing.T) string {
	f := setup(t)
	scenario(t, f, 4)
	ctx := context.Background()
	if _, _, err := f.p.PutTwin(ctx, asset("late", 7), storeCond()); err != nil {
		t.Fatal(err)
	}
	if err := f.log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	f.p.Shutdown(ctx)
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}
	return f.dir
}

// verifyCopy copies the store in dir, lets change tamper with it and
// verifies it.
func verifyCopy(t *testing.T, dir string, change func(*sql.DB), _ any) *trust.Report {
	t.Helper()
	cp := t.TempDir()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		copyFile(t, filepath.Join(dir, "lodestone.db"+suffix), filepath.Join(cp, "lodestone.db"+suffix))
	}
	if change != nil {
		db, err := sql.Open("sqlite", filepath.Join(cp, "lodestone.db"))
		if err != nil {
			t.Fatal(err)
		}
		change(db)
		db.Close()
	}
	st := openStore(t, filepath.Join(cp, "lodestone.db"))
	defer st.Close()
	rep, err := trust.Verify(context.Background(), st, testVKey)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func copyFile(t *testing.T, from, to string) {
	in, err := os.Open(from)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// byteIn changes one random byte of column col in a random row of q
// (rows of table, key, valid_from, value).
func byteIn(q, col, keyKind string) tamper {
	return func(t *testing.T, rng *rand.Rand, db *sql.DB) string {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			table, key string
			from       int64
			val        []byte
		}
		var rs []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.table, &r.key, &r.from, &r.val); err != nil {
				t.Fatal(err)
			}
			if len(r.val) > 0 {
				rs = append(rs, r)
			}
		}
		rows.Close()
		if len(rs) == 0 {
			t.Fatalf("no rows for %s", q)
		}
		r := rs[rng.IntN(len(rs))]
		pos := rng.IntN(len(r.val))
		old := r.val[pos]
		nb := old
		for nb == old {
			nb = byte(0x20 + rng.IntN(0x5f))
		}
		r.val[pos] = nb
		var where string
		args := []any{string(r.val)}
		switch keyKind {
		case "id":
			where, args = "id = ? AND valid_from = ?", append(args, r.key, r.from)
		case "rel":
			where, args = "source_id || char(0) || rel_id = ? AND valid_from = ?", append(args, r.key, r.from)
		case "tel":
			where, args = "twin_id || char(0) || message_id || char(0) || name = ?", append(args, r.key)
		case "doc":
			where, args = "kind || char(0) || id = ?", append(args, r.key)
		}
		res, err := db.Exec(fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s", r.table, col, where), args...)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("tamper changed %d rows", n)
		}
		return fmt.Sprintf("%s %q byte %d %q→%q", r.table, r.key, pos, old, nb)
	}
}

func deleteRow(t *testing.T, rng *rand.Rand, db *sql.DB) string {
	table := []string{"twin_history", "relationship_history"}[rng.IntN(2)]
	var n int
	db.QueryRow("SELECT count(*) FROM " + table).Scan(&n)
	k := rng.IntN(n)
	if _, err := db.Exec("DELETE FROM "+table+" WHERE rowid IN (SELECT rowid FROM "+table+" LIMIT 1 OFFSET ?)", k); err != nil {
		// WITHOUT ROWID tables: delete by the k-th primary key.
		var err2 error
		if table == "twin_history" {
			_, err2 = db.Exec("DELETE FROM twin_history WHERE (id, valid_from) IN (SELECT id, valid_from FROM twin_history ORDER BY id, valid_from LIMIT 1 OFFSET ?)", k)
		} else {
			_, err2 = db.Exec("DELETE FROM relationship_history WHERE (source_id, rel_id, valid_from) IN (SELECT source_id, rel_id, valid_from FROM relationship_history ORDER BY 1, 2, 3 LIMIT 1 OFFSET ?)", k)
		}
		if err2 != nil {
			t.Fatal(err2)
		}
	}
	return fmt.Sprintf("%s row %d of %d deleted", table, k, n)
}

// insertRow inserts a version into a twin's history: a copy of one of
// its versions, moved to a time inside that version's interval.
func insertRow(t *testing.T, rng *rand.Rand, db *sql.DB) string {
	var n int
	db.QueryRow("SELECT count(*) FROM twin_history").Scan(&n)
	k := rng.IntN(n)
	res, err := db.Exec(`INSERT INTO twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
		SELECT id, valid_from + 1, valid_to, model, etag, props, meta, op, patch FROM twin_history ORDER BY id, valid_from LIMIT 1 OFFSET ?`, k)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := res.RowsAffected(); c != 1 {
		t.Fatalf("inserted %d rows", c)
	}
	return fmt.Sprintf("twin_history row %d of %d copied 1 ns later", k, n)
}

// rollBack removes the latest checkpoint or puts an older one in its
// place.
func rollBack(t *testing.T, rng *rand.Rand, db *sql.DB) string {
	if rng.IntN(2) == 0 {
		if _, err := db.Exec(`DELETE FROM docs WHERE kind = 'tlog.checkpoint' AND id = (SELECT max(id) FROM docs WHERE kind = 'tlog.checkpoint')`); err != nil {
			t.Fatal(err)
		}
		return "latest checkpoint deleted"
	}
	if _, err := db.Exec(`UPDATE docs SET body = (SELECT body FROM docs WHERE kind = 'tlog.checkpoint' ORDER BY id LIMIT 1)
		WHERE kind = 'tlog.checkpoint' AND id = (SELECT max(id) FROM docs WHERE kind = 'tlog.checkpoint')`); err != nil {
		t.Fatal(err)
	}
	return "latest checkpoint replaced by the first"
}
