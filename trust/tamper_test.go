package trust_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"lodestone/trust"
)

// want is what a tamper did and what Verify must report for it: a
// mismatch naming one of targets.
type want struct {
	what    string
	targets []target
}

// target is a mismatch that names the tampered thing: its entity and name,
// the version when not "" and one of kinds when not empty.
type target struct {
	entity, name, version string
	kinds                 []string
	// detail, when not "", must be in the mismatch's Detail.
	detail string
}

func (tg target) match(m trust.Mismatch) bool {
	return m.Entity == tg.entity && m.Name == tg.name && (tg.version == "" || m.Version == tg.version) &&
		(len(tg.kinds) == 0 || slices.Contains(tg.kinds, m.Kind)) && strings.Contains(m.Detail, tg.detail)
}

// tamper changes one thing in the working store and says what Verify
// must report.
type tamper func(t *testing.T, rng *rand.Rand, db *sql.DB) want

// tamperTrials is the number of trials of TestTamper, with and without the
// race detector: the "hundreds of trials". A trial changes the
// working store in place and puts it back from a pristine copy, so it
// costs one Verify and a few statements, not a copy and two opens of the
// store.
const tamperTrials = 224

// TestTamper changes stored bytes at random, in hundreds of trials (stored
// values and metadata of current and history rows, relationships and
// their targets, telemetry, models, log entries and checkpoints; history
// rows deleted, inserted and moved in time; checkpoints rolled back), and
// Verify must report every change with a mismatch that names the tampered
// twin, relationship, model, telemetry message or checkpoint, and the
// version and kind of change where the tamper decides them. On the
// untouched store it reports nothing, before and after the trials (which
// checks that each trial's change was undone).
func TestTamper(t *testing.T) {
	tmpl := buildTemplate(t)
	work, pristine := t.TempDir(), t.TempDir()
	for _, dir := range []string{work, pristine} {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			copyFile(t, filepath.Join(tmpl, "lodestone.db"+suffix), filepath.Join(dir, "lodestone.db"+suffix))
		}
	}
	st := openStore(t, filepath.Join(work, "lodestone.db"))
	defer st.Close()
	// No fsync: the working copy is thrown away, and a trial's commits
	// then cost no disk flush.
	db, err := sql.Open("sqlite", filepath.Join(work, "lodestone.db")+"?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // the one connection that has pristine attached
	if _, err := db.Exec(`ATTACH DATABASE ? AS pristine`, filepath.Join(pristine, "lodestone.db")); err != nil {
		t.Fatal(err)
	}
	verify := func() *trust.Report {
		t.Helper()
		rep, err := trust.Verify(context.Background(), st, testVKey)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := verify(); !rep.OK {
		t.Fatalf("untouched store: %+v", rep.Mismatches)
	}
	tampers := map[string]tamper{
		"twin value byte":            byteIn(`SELECT 'twins', id, valid_from, etag, props FROM twins UNION ALL SELECT 'twin_history', id, valid_from, etag, props FROM twin_history`, "props", "twin"),
		"twin metadata byte":         byteIn(`SELECT 'twins', id, valid_from, etag, meta FROM twins UNION ALL SELECT 'twin_history', id, valid_from, etag, meta FROM twin_history`, "meta", "twin"),
		"relationship byte":          byteIn(`SELECT 'relationships', source_id || char(0) || rel_id, valid_from, etag, props FROM relationships UNION ALL SELECT 'relationship_history', source_id || char(0) || rel_id, valid_from, etag, props FROM relationship_history`, "props", "relationship"),
		"relationship target":        byteIn(`SELECT 'relationships', source_id || char(0) || rel_id, valid_from, etag, target_id FROM relationships UNION ALL SELECT 'relationship_history', source_id || char(0) || rel_id, valid_from, etag, target_id FROM relationship_history`, "target_id", "relationship"),
		"telemetry value byte":       byteIn(`SELECT 'telemetry', twin_id || char(0) || message_id || char(0) || name, 0, '', value FROM telemetry`, "value", "telemetry"),
		"model upload time":          modelTime,
		"model DTDL byte":            byteIn(`SELECT 'models', id, upload_ns, '', dtdl FROM models`, "dtdl", "model"),
		"checkpoint byte":            byteIn(`SELECT 'docs', kind || char(0) || id, 0, '', body FROM docs WHERE kind = 'tlog.checkpoint'`, "body", "checkpoint"),
		"log entry byte":             byteIn(`SELECT 'docs', kind || char(0) || id, 0, '', body FROM docs WHERE kind = 'tlog.chunk'`, "body", "log"),
		"history row deleted":        deleteRow,
		"history row inserted":       insertRow,
		"history row moved":          moveRow,
		"model row deleted":          deleteModel,
		"model decommission flipped": flipDecommission,
		"checkpoint rolled back":     rollBack,
	}
	names := make([]string, 0, len(tampers))
	for n := range tampers {
		names = append(names, n)
	}
	slicesSort(names)
	trials := tamperTrials
	if testing.Short() {
		trials = len(names) * 2
	}
	rng := rand.New(rand.NewPCG(12, 2026))
	start := time.Now()
	for i := range trials {
		name := names[i%len(names)]
		w := tampers[name](t, rng, db)
		rep := verify()
		switch {
		case rep.OK:
			t.Errorf("trial %d: %s: %s: not detected", i, name, w.what)
		case !slices.ContainsFunc(rep.Mismatches, func(m trust.Mismatch) bool {
			return slices.ContainsFunc(w.targets, func(tg target) bool { return tg.match(m) })
		}):
			t.Errorf("trial %d: %s: %s: no mismatch names it (want one of %+v); got %+v", i, name, w.what, w.targets, rep.Mismatches)
		}
		restore(t, db)
	}
	t.Logf("%d trials in %v", trials, time.Since(start).Round(time.Millisecond))
	if rep := verify(); !rep.OK {
		t.Fatalf("the store after the trials (each put back from the pristine copy): %+v", rep.Mismatches)
	}
}

// restore puts every table a tamper may touch back as the pristine copy
// has it.
func restore(t *testing.T, db *sql.DB) {
	t.Helper()
	q := "BEGIN;"
	for _, table := range []string{"twins", "twin_history", "relationships", "relationship_history", "telemetry", "models", "docs"} {
		q += " DELETE FROM main." + table + "; INSERT INTO main." + table + " SELECT * FROM pristine." + table + ";"
	}
	if _, err := db.Exec(q + " COMMIT;"); err != nil {
		t.Fatalf("restore: %v", err)
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

// relName is a relationship's name in a mismatch: src/relationships/id.
func relName(key string) string {
	src, id, _ := strings.Cut(key, "\x00")
	return src + "/relationships/" + id
}

// byteIn changes one random byte of column col in a random row of q (rows
// of table, key, valid_from, etag, value), of an entity of kind entity.
func byteIn(q, col, entity string) tamper {
	return func(t *testing.T, rng *rand.Rand, db *sql.DB) want {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			table, key, etag string
			from             int64
			val              []byte
		}
		var rs []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.table, &r.key, &r.from, &r.etag, &r.val); err != nil {
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
		switch entity {
		case "twin":
			where, args = "id = ? AND valid_from = ?", append(args, r.key, r.from)
		case "relationship":
			where, args = "source_id || char(0) || rel_id = ? AND valid_from = ?", append(args, r.key, r.from)
		case "telemetry":
			where, args = "twin_id || char(0) || message_id || char(0) || name = ?", append(args, r.key)
		case "model":
			where, args = "id = ?", append(args, r.key)
		case "checkpoint", "log":
			where, args = "kind || char(0) || id = ?", append(args, r.key)
		}
		res, err := db.Exec(fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s", r.table, col, where), args...)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("tamper changed %d rows", n)
		}
		w := want{what: fmt.Sprintf("%s %q byte %d %q→%q", r.table, r.key, pos, old, nb)}
		switch entity {
		case "twin":
			// The version's entry, or (a value that no longer decodes)
			// the twin whose versions cannot be read.
			w.targets = []target{{entity: "twin", name: r.key, version: r.etag}, {entity: "twin", name: r.key, version: "", kinds: []string{trust.Altered}}}
		case "relationship":
			w.targets = []target{{entity: "relationship", name: relName(r.key), version: r.etag}, {entity: "relationship", name: relName(r.key), kinds: []string{trust.Altered}}}
		case "telemetry":
			tw, rest, _ := strings.Cut(r.key, "\x00")
			msg, _, _ := strings.Cut(rest, "\x00")
			w.targets = []target{{entity: "telemetry", name: tw, version: msg, kinds: []string{trust.Altered}}}
		case "model":
			w.targets = []target{{entity: "model", name: r.key, version: time.Unix(0, r.from).UTC().Format(time.RFC3339Nano), kinds: []string{trust.Altered}}}
		case "checkpoint":
			_, id, _ := strings.Cut(r.key, "\x00")
			w.targets = []target{{entity: "checkpoint", name: id, kinds: []string{trust.Altered}}}
		case "log":
			// A changed entry changes the root every later checkpoint
			// signs; a chunk that no longer decodes is named itself.
			_, id, _ := strings.Cut(r.key, "\x00")
			w.targets = []target{{entity: "log", name: id, kinds: []string{trust.Altered}}}
			for _, cp := range checkpointIDs(t, db) {
				w.targets = append(w.targets, target{entity: "checkpoint", name: cp, kinds: []string{trust.Altered}})
			}
		}
		return w
	}
}

// checkpointIDs returns the ids of the stored checkpoints.
func checkpointIDs(t *testing.T, db *sql.DB) []string {
	rows, err := db.Query(`SELECT id FROM docs WHERE kind = 'tlog.checkpoint' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		out = append(out, id)
	}
	return out
}

// historyRow picks a random row of a history table: its twin id or
// relationship name, valid_from and etag.
func historyRow(t *testing.T, rng *rand.Rand, db *sql.DB, table string) (name string, from int64, etag string) {
	key := "id"
	if table == "relationship_history" {
		key = "source_id || char(0) || rel_id"
	}
	var n int
	db.QueryRow("SELECT count(*) FROM " + table).Scan(&n)
	if n == 0 {
		t.Fatalf("%s is empty", table)
	}
	if err := db.QueryRow("SELECT "+key+", valid_from, etag FROM "+table+" ORDER BY 1, 2 LIMIT 1 OFFSET ?", rng.IntN(n)).Scan(&name, &from, &etag); err != nil {
		t.Fatal(err)
	}
	if table == "relationship_history" {
		name = relName(name)
	}
	return name, from, etag
}

// historyWhere is the WHERE clause of one history row picked by
// historyRow.
func historyWhere(table, name string, from int64) (string, []any) {
	if table == "relationship_history" {
		src, id, _ := strings.Cut(name, "/relationships/")
		return "source_id = ? AND rel_id = ? AND valid_from = ?", []any{src, id, from}
	}
	return "id = ? AND valid_from = ?", []any{name, from}
}

// deleteRow deletes a random history row: its version's entry is missing.
func deleteRow(t *testing.T, rng *rand.Rand, db *sql.DB) want {
	table := []string{"twin_history", "relationship_history"}[rng.IntN(2)]
	name, from, etag := historyRow(t, rng, db, table)
	where, args := historyWhere(table, name, from)
	if _, err := db.Exec("DELETE FROM "+table+" WHERE "+where, args...); err != nil {
		t.Fatal(err)
	}
	entity := strings.TrimSuffix(table, "_history")
	// When the next version is a delete at the deleted row's time, Verify
	// reports the pair (the logged version missing, a delete of another
	// version extra) once, as altered, naming the logged version.
	return want{what: fmt.Sprintf("%s row %s %s deleted", table, name, etag),
		targets: []target{{entity: entity, name: name, version: etag, kinds: []string{trust.Missing}},
			{entity: entity, name: name, kinds: []string{trust.Altered}, detail: "logged as " + "lodestone." + entity + ".updated " + etag}}}
}

// insertRow inserts a version into a twin's history: a copy of one of its
// versions, 1 ns later (inside that version's interval). The log never
// recorded a second version with that entity tag: extra.
func insertRow(t *testing.T, rng *rand.Rand, db *sql.DB) want {
	name, from, etag := historyRow(t, rng, db, "twin_history")
	res, err := db.Exec(`INSERT INTO twin_history(id, valid_from, valid_to, model, etag, props, meta, op, patch)
		SELECT id, valid_from + 1, valid_to, model, etag, props, meta, op, patch FROM twin_history WHERE id = ? AND valid_from = ?`, name, from)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := res.RowsAffected(); c != 1 {
		t.Fatalf("inserted %d rows", c)
	}
	return want{what: fmt.Sprintf("twin_history row %s %s copied 1 ns later", name, etag),
		targets: []target{{entity: "twin", name: name, version: etag, kinds: []string{trust.Extra}}}}
}

// moveRow moves a history row 1 µs later in time, its data unchanged:
// the version is in the log, at another time: reordered.
func moveRow(t *testing.T, rng *rand.Rand, db *sql.DB) want {
	table := []string{"twin_history", "relationship_history"}[rng.IntN(2)]
	name, from, etag := historyRow(t, rng, db, table)
	where, args := historyWhere(table, name, from)
	if _, err := db.Exec("UPDATE "+table+" SET valid_from = valid_from + 1000 WHERE "+where, args...); err != nil {
		t.Fatal(err)
	}
	return want{what: fmt.Sprintf("%s row %s %s moved 1 µs later", table, name, etag),
		targets: []target{{entity: strings.TrimSuffix(table, "_history"), name: name, version: etag, kinds: []string{trust.Reordered}}}}
}

// deleteModel deletes a random model: its logged upload is missing.
func deleteModel(t *testing.T, rng *rand.Rand, db *sql.DB) want {
	ids := modelIDs(t, db)
	id := ids[rng.IntN(len(ids))]
	if _, err := db.Exec(`DELETE FROM models WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	return want{what: "model " + id + " deleted", targets: []target{{entity: "model", name: id, kinds: []string{trust.Missing}}}}
}

// flipDecommission decommissions a model the log never saw decommissioned
// (extra), or takes the decommission off one (altered: its logged
// decommission no longer matches).
func flipDecommission(t *testing.T, rng *rand.Rand, db *sql.DB) want {
	ids := modelIDs(t, db)
	id := ids[rng.IntN(len(ids))]
	var d int
	db.QueryRow(`SELECT decommissioned FROM models WHERE id = ?`, id).Scan(&d)
	if _, err := db.Exec(`UPDATE models SET decommissioned = ? WHERE id = ?`, 1-d, id); err != nil {
		t.Fatal(err)
	}
	kind := trust.Extra
	if d == 1 {
		kind = trust.Altered
	}
	return want{what: fmt.Sprintf("model %s decommissioned %d→%d", id, d, 1-d), targets: []target{{entity: "model", name: id, kinds: []string{kind}}}}
}

// modelIDs returns the stored models' ids.
func modelIDs(t *testing.T, db *sql.DB) []string {
	rows, err := db.Query(`SELECT id FROM models ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		out = append(out, id)
	}
	if len(out) == 0 {
		t.Fatal("no models")
	}
	return out
}

// modelTime moves a random model's upload time by 1 µs: the logged
// upload is missing, and the stored one extra.
func modelTime(t *testing.T, rng *rand.Rand, db *sql.DB) want {
	ids := modelIDs(t, db)
	id := ids[rng.IntN(len(ids))]
	if _, err := db.Exec(`UPDATE models SET upload_ns = upload_ns + 1000 WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	return want{what: "model " + id + " upload time moved 1 µs", targets: []target{{entity: "model", name: id}}}
}

// rollBack removes the latest checkpoint or puts the first in its place:
// the entries after the checkpoint before the latest are signed by none.
func rollBack(t *testing.T, rng *rand.Rand, db *sql.DB) want {
	what := "latest checkpoint replaced by the first"
	q := `UPDATE docs SET body = (SELECT body FROM docs WHERE kind = 'tlog.checkpoint' ORDER BY id LIMIT 1)
		WHERE kind = 'tlog.checkpoint' AND id = (SELECT max(id) FROM docs WHERE kind = 'tlog.checkpoint')`
	if rng.IntN(2) == 0 {
		what = "latest checkpoint deleted"
		q = `DELETE FROM docs WHERE kind = 'tlog.checkpoint' AND id = (SELECT max(id) FROM docs WHERE kind = 'tlog.checkpoint')`
	}
	cps := checkpointIDs(t, db) // in order
	if len(cps) < 3 {
		t.Fatalf("checkpoints %v: want at least three", cps)
	}
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
	before, err := strconv.ParseInt(cps[len(cps)-2], 10, 64)
	if err != nil {
		t.Fatalf("checkpoint id %q: %v", cps[len(cps)-2], err)
	}
	return want{what: what, targets: []target{{entity: "log", name: strconv.FormatInt(before, 10), kinds: []string{trust.Unsigned}}}}
}
