package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"lodestone/server"
	"lodestone/store"
	"lodestone/store/postgres"
	"lodestone/store/retention"
	"lodestone/trust"
)

const meterModel = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Meter;1","@type":"Interface","contents":[
	{"@type":"Property","name":"n","schema":"integer","writable":true},
	{"@type":"Telemetry","name":"rate","schema":"double"},
	{"@type":"Relationship","name":"feeds"}]}`

// writeDB opens a write connection to a store's database, for tampering.
func writeDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	var db *sql.DB
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		var err error
		if db, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)"); err != nil {
			t.Fatal(err)
		}
	} else {
		conn, schema, err := postgres.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := pgx.ParseConfig(conn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams["search_path"] = schema
		db = stdlib.OpenDB(*cfg)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestCompaction on SQLite, and on PostgreSQL with LODESTONE_TEST_POSTGRES.
func TestCompaction(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testCompaction(t, "") })
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("LODESTONE_TEST_POSTGRES")
		if dsn == "" {
			if os.Getenv("CI") == "true" {
				t.Fatal("LODESTONE_TEST_POSTGRES is not set under CI")
			}
			t.Skip("LODESTONE_TEST_POSTGRES is not set (postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		}
		testCompaction(t, schemaDSN(t, dsn, fmt.Sprintf("compact_%d", time.Now().UnixNano())))
	})
}

// testCompaction writes versions and telemetry on both sides of a
// horizon through a server with a transparency log, compacts before the
// horizon, and checks that verify still holds; then it tampers with
// retained rows (a version that ended after the horizon, a current
// version from before it, telemetry after it) and with the marker, and
// checks that verify reports each.
func testCompaction(t *testing.T, storeDSN string) {
	keyPath, vkey := writeKey(t, t.TempDir())
	dsn := storeDSN
	s := startServer(t, func(o *server.Options) {
		o.LogKey = keyPath
		o.StoreDSN = storeDSN
		if dsn == "" {
			dsn = "sqlite:" + filepath.Join(o.DataDir, "lodestone.db")
		}
	})
	u := s.URL()
	twin := `{"$metadata":{"$model":"dtmi:test:Meter;1"},"n":0}`
	patch := func(n int) string { return fmt.Sprintf(`[{"op":"replace","path":"/n","value":%d}]`, n) }
	tel := func(id string, n int) {
		r, err := send(context.Background(), fastClient(), "POST", u+"/digitaltwins/"+id+"/telemetry", []byte(fmt.Sprintf(`{"rate":%d.5}`, n)), "Message-Id", fmt.Sprintf("m%d", n))
		if err != nil || r.status != 204 {
			t.Fatalf("telemetry %d: %v %d %s", n, err, r.status, r.body)
		}
	}
	call(t, "POST", u+"/models", "["+meterModel+"]", 201)
	// Before the horizon: a created and patched three times, b created
	// and deleted, c created (and current ever after), a relationship
	// created and replaced, three telemetry points.
	for _, id := range []string{"a", "b", "c"} {
		call(t, "PUT", u+"/digitaltwins/"+id, twin, 200)
	}
	for i := 1; i <= 3; i++ {
		call(t, "PATCH", u+"/digitaltwins/a", patch(i), 204)
	}
	call(t, "DELETE", u+"/digitaltwins/b", "", 204)
	rel := `{"$targetId":"c","$relationshipName":"feeds"}`
	call(t, "PUT", u+"/digitaltwins/a/relationships/r1", rel, 200)
	call(t, "PUT", u+"/digitaltwins/a/relationships/r1", rel, 200)
	for i := 1; i <= 3; i++ {
		tel("a", i)
	}
	time.Sleep(10 * time.Millisecond)
	horizon := time.Now()
	time.Sleep(10 * time.Millisecond)
	// After it: two more patches of a, two telemetry points.
	call(t, "PATCH", u+"/digitaltwins/a", patch(4), 204)
	call(t, "PATCH", u+"/digitaltwins/a", patch(5), 204)
	tel("a", 4)
	tel("a", 5)
	ctx := context.Background()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	verify := func(what string) *trust.Report {
		t.Helper()
		rep, err := trust.Verify(ctx, st, vkey)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := verify("before"); !rep.OK {
		t.Fatalf("verify before compaction: %+v", rep.Mismatches)
	}
	o := retention.Options{HistoryBefore: horizon, TelemetryBefore: horizon, Vacuum: true}
	if _, err := server.Compact(ctx, st, dsn, nil, o); err == nil || !strings.Contains(err.Error(), "--log-key") {
		t.Fatalf("compaction of a logged store without its key: %v", err)
	}
	signer, err := trust.LoadSigner(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	res, err := server.Compact(ctx, st, dsn, signer, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("removed %d twin versions, %d relationship versions, %d telemetry points; bytes %d (used %d) before, %d (used %d) after",
		res.TwinVersions, res.RelationshipVersions, res.Telemetry, res.Before.File, res.Before.Used, res.After.File, res.After.Used)
	if res.TwinVersions != 4 || res.RelationshipVersions != 1 || res.Telemetry != 3 {
		// The history horizon moves back to the oldest record still in
		// the outbox: name them, with the horizons, so a failure says why.
		pending, _ := st.PendingRecords(ctx, 0, 100)
		for _, r := range pending {
			t.Logf("pending outbox record seq %d %s %s %s at %s", r.Seq, r.Kind, r.Op, r.Subject, r.Time.Format(time.RFC3339Nano))
		}
		t.Logf("horizon %s, history compacted before %s", horizon.Format(time.RFC3339Nano), res.HistoryBefore.Format(time.RFC3339Nano))
		t.Errorf("removed %d twin versions (want a's first three and b's), %d relationship versions (want 1), %d telemetry points (want 3)",
			res.TwinVersions, res.RelationshipVersions, res.Telemetry)
	}
	rep := verify("after")
	if !rep.OK || rep.Compactions != 1 {
		t.Fatalf("verify after compaction: ok=%v compactions=%d %+v", rep.OK, rep.Compactions, rep.Mismatches)
	}

	// Tampering with what was kept is still found.
	db := writeDB(t, dsn)
	ph := "?1"
	if storeDSN != "" {
		ph = "$1"
	}
	for _, tc := range []struct {
		name, stmt string
		entity     string
	}{
		{"a version that ended after the horizon", "DELETE FROM twin_history WHERE id = 'a' AND valid_to >= " + ph, "twin"},
		{"a current version from before the horizon", "DELETE FROM twins WHERE id = 'c' AND valid_from < " + ph, "twin"},
		{"telemetry after the horizon", "DELETE FROM telemetry WHERE message_id = 'm5' AND enqueued_ns >= " + ph, "telemetry"},
	} {
		r, err := db.ExecContext(ctx, tc.stmt, horizon.UnixNano())
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := r.RowsAffected(); n < 1 {
			t.Fatalf("%s: no row removed", tc.name)
		}
		rep := verify(tc.name)
		found := false
		for _, m := range rep.Mismatches {
			found = found || m.Kind == trust.Missing && m.Entity == tc.entity
		}
		if rep.OK || !found {
			t.Errorf("%s removed after compaction: verify ok=%v %+v", tc.name, rep.OK, rep.Mismatches)
		}
	}
	// A marker with a later horizon that the key did not sign counts for
	// nothing.
	docs, err := st.ListDocs(ctx, trust.DocCompaction)
	if err != nil || len(docs) != 1 {
		t.Fatalf("markers: %v %d", err, len(docs))
	}
	d := docs[0]
	d.Body = []byte(strings.Replace(string(d.Body), "history ", "history 9", 1))
	if _, err := st.PutDoc(ctx, d, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	rep = verify("forged marker")
	altered := false
	for _, m := range rep.Mismatches {
		altered = altered || m.Entity == "compaction" && m.Kind == trust.Altered
	}
	if rep.OK || !altered || rep.Compactions != 0 {
		t.Errorf("a forged marker: ok=%v compactions=%d %+v", rep.OK, rep.Compactions, rep.Mismatches)
	}
}
