package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"lodestone/store"
	"lodestone/store/postgres"
	"lodestone/store/storetest"
	"lodestone/twin"
)

// testDSN returns the database the tests may use. Without
// LODESTONE_TEST_POSTGRES the tests skip, except under CI=true, where they
// fail.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("LODESTONE_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LODESTONE_TEST_POSTGRES is not set, and CI=true requires the PostgreSQL tests to run")
		}
		t.Skip("LODESTONE_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable); skipping the PostgreSQL tests")
	}
	return dsn
}

var schemaSeq atomic.Int64

// newSchemaDSN returns a DSN naming a schema of its own, which does not
// exist yet and is dropped when the test ends, so that test runs never see
// each other's data.
func newSchemaDSN(t testing.TB) string {
	t.Helper()
	base := testDSN(t)
	name := fmt.Sprintf("lodestone_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("schema", name)
	// The name lets the benchmarks find the DB's server processes.
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func openTest(t testing.TB, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, newSchemaDSN(t))
	})
}

func TestStoreOpen(t *testing.T) {
	dsn := newSchemaDSN(t)
	for _, d := range []string{dsn, "postgresql" + dsn[len("postgres"):]} {
		s, err := store.Open(t.Context(), d)
		if err != nil {
			t.Fatalf("store.Open(%q): %v", d, err)
		}
		if _, ok := s.(*postgres.DB); !ok {
			t.Errorf("store.Open gave %T, want *postgres.DB", s)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

func TestParseDSN(t *testing.T) {
	tests := []struct {
		dsn          string
		conn, schema string
		err          bool
	}{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?sslmode=disable", "", false},
		{"postgres://u@h/db?schema=plant_a&sslmode=disable", "postgres://u@h/db?sslmode=disable", "plant_a", false},
		{"postgresql://h/db?schema=A%20b", "postgresql://h/db", "A b", false},
		{"postgres://h/db?schema=", "", "", true},
		{"sqlite:x.db", "", "", true},
		{"postgres://h/db?%zz", "", "", true},
	}
	for _, tt := range tests {
		conn, schema, err := postgres.ParseDSN(tt.dsn)
		if (err != nil) != tt.err {
			t.Errorf("ParseDSN(%q) error = %v, want error %v", tt.dsn, err, tt.err)
			continue
		}
		if conn != tt.conn || schema != tt.schema {
			t.Errorf("ParseDSN(%q) = %q, %q; want %q, %q", tt.dsn, conn, schema, tt.conn, tt.schema)
		}
	}
}

func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"postgres://u@h:5432/db?sslmode=disable&schema=x", "postgresql://h/db?schema=A%20b", "postgres://h/db?schema=", "sqlite:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		conn, schema, err := postgres.ParseDSN(dsn)
		if err != nil {
			return
		}
		// The connection string keeps everything but the schema, so
		// parsing it again finds no schema.
		conn2, schema2, err := postgres.ParseDSN(conn)
		if err != nil {
			t.Fatalf("ParseDSN(%q) = %q, which does not parse: %v", dsn, conn, err)
		}
		if schema2 != "" || conn2 != conn {
			t.Fatalf("ParseDSN(%q) = %q, %q; reparsed %q, %q", dsn, conn, schema, conn2, schema2)
		}
	})
}

const testModel = "dtmi:lodestone:test:Node;1"

func putModel(t testing.TB, s store.Store) {
	t.Helper()
	if _, err := s.PutModels(context.Background(), []twin.Model{{ID: testModel, DTDL: json.RawMessage(`{"@id":"` + testModel + `"}`)}}, store.Condition{}); err != nil {
		t.Fatalf("PutModels: %v", err)
	}
}

// TestTwoServers runs two DBs on one schema, as two API servers would:
// they migrate together, see each other's writes at once, never lose an
// update made under If-Match, and agree on one history whose transaction
// times strictly increase.
func TestTwoServers(t *testing.T) {
	dsn := newSchemaDSN(t)
	ctx := t.Context()
	var dbs [2]*postgres.DB
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = postgres.Open(ctx, dsn, nil) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	a, b := dbs[0], dbs[1]
	putModel(t, a)

	// Read-your-writes across servers.
	put, err := a.PutTwin(ctx, twin.Twin{ID: "shared", Metadata: twin.Metadata{Model: testModel}, Properties: map[string]any{"n": 0.0}}, store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.GetTwin(ctx, "shared")
	if err != nil || got.ETag != put.ETag {
		t.Fatalf("GetTwin on the other server = %v, %v; want etag %s", got.ETag, err, put.ETag)
	}

	// Both servers increment the same counters under If-Match, and
	// create and replace the same twins without conditions.
	const workers, increments = 3, 15
	counters := []twin.ID{"shared", "c2"}
	if _, err := b.PutTwin(ctx, twin.Twin{ID: "c2", Metadata: twin.Metadata{Model: testModel}, Properties: map[string]any{"n": 0.0}}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	fail := make(chan error, 2*workers*increments*4)
	for _, s := range dbs {
		for w := range workers {
			wg.Go(func() {
				for i := range increments {
					id := counters[(w+i)%len(counters)]
					for {
						cur, err := s.GetTwin(ctx, id)
						if err != nil {
							fail <- err
							return
						}
						p := twin.Patch{{Op: twin.OpReplace, Path: "/n", Value: cur.Properties["n"].(float64) + 1}}
						_, err = s.PatchTwin(ctx, id, p, store.Condition{IfMatch: cur.ETag})
						if errors.Is(err, store.ErrPreconditionFailed) {
							continue
						}
						if err != nil {
							fail <- err
							return
						}
						break
					}
					free := twin.ID(fmt.Sprintf("free-%d", i%4))
					if _, err := s.PutTwin(ctx, twin.Twin{ID: free, Metadata: twin.Metadata{Model: testModel}, Properties: map[string]any{"by": s.Schema()}}, store.Condition{}); err != nil {
						fail <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(fail)
	for err := range fail {
		t.Error(err)
	}
	total := 0.0
	for _, id := range counters {
		tw, err := a.GetTwin(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		total += tw.Properties["n"].(float64)
	}
	if want := float64(2 * workers * increments); total != want {
		t.Errorf("counters add up to %v, want %v (lost updates)", total, want)
	}

	// One history: each server reads the same change list, with strictly
	// increasing times, and every version's interval ends where the next
	// begins.
	for _, id := range append(counters, "free-0", "free-3") {
		ca, err := a.TwinChanges(ctx, id, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		cb, err := b.TwinChanges(ctx, id, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ca, cb); diff != "" {
			t.Errorf("servers disagree on the changes of %s:\n%s", id, diff)
		}
		for i := 1; i < len(ca); i++ {
			if !ca[i].Time.After(ca[i-1].Time) {
				t.Errorf("%s: change %d at %v is not after %v", id, i, ca[i].Time, ca[i-1].Time)
			}
			prev, err := a.TwinAsOf(ctx, id, ca[i].Time.Add(-time.Nanosecond))
			if err != nil || prev.ETag != ca[i-1].Twin.ETag {
				t.Errorf("%s as of just before change %d = %v, %v; want version %s", id, i, prev.ETag, err, ca[i-1].Twin.ETag)
			}
		}
	}
	ch, _ := a.TwinChanges(ctx, "shared", time.Time{}, time.Time{})
	chc2, _ := a.TwinChanges(ctx, "c2", time.Time{}, time.Time{})
	if n := len(ch) + len(chc2); n != 2*workers*increments+2 {
		t.Errorf("counters have %d changes, want %d", n, 2*workers*increments+2)
	}
}

// TestReadDBReadOnly checks that the pool handed to the query compiler
// cannot write.
func TestReadDBReadOnly(t *testing.T) {
	db := openTest(t, newSchemaDSN(t))
	defer db.Close()
	putModel(t, db)
	if _, err := db.ReadDB().ExecContext(t.Context(), `DELETE FROM models`); err == nil {
		t.Error("DELETE through ReadDB succeeded")
	}
	var n int
	if err := db.ReadDB().QueryRowContext(t.Context(), `SELECT count(*) FROM models`).Scan(&n); err != nil || n != 1 {
		t.Errorf("models through ReadDB = %d, %v; want 1", n, err)
	}
}

// TestBadText checks that text PostgreSQL cannot store is ErrInvalid, not
// an internal error, and changes nothing.
func TestBadText(t *testing.T) {
	db := openTest(t, newSchemaDSN(t))
	defer db.Close()
	putModel(t, db)
	ctx := t.Context()
	tests := []struct {
		name string
		tw   twin.Twin
	}{
		{"NUL in a property", twin.Twin{ID: "a", Metadata: twin.Metadata{Model: testModel}, Properties: map[string]any{"s": "x\x00y"}}},
		{"NUL in the id", twin.Twin{ID: "a\x00b", Metadata: twin.Metadata{Model: testModel}}},
		{"invalid UTF-8 in the id", twin.Twin{ID: "a\xffb", Metadata: twin.Metadata{Model: testModel}}},
	}
	for _, tt := range tests {
		_, err := db.PutTwin(ctx, tt.tw, store.Condition{})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutTwin(%s) error = %v, want ErrInvalid", tt.name, err)
		}
	}
	snap, err := db.Snapshot(ctx, time.Time{})
	if err != nil || len(snap.Twins) != 0 {
		t.Errorf("Snapshot after bad writes = %+v, %v; want no twins", snap, err)
	}
	// A good write in the same group still goes through.
	if _, err := db.PutTwin(ctx, twin.Twin{ID: "ok", Metadata: twin.Metadata{Model: testModel}}, store.Condition{}); err != nil {
		t.Errorf("PutTwin after bad writes: %v", err)
	}
}

// TestReopen checks that a second Open of a migrated schema keeps its data
// and that transaction times keep increasing.
func TestReopen(t *testing.T) {
	dsn := newSchemaDSN(t)
	db := openTest(t, dsn)
	putModel(t, db)
	v1, err := db.PutTwin(t.Context(), twin.Twin{ID: "a", Metadata: twin.Metadata{Model: testModel}}, store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openTest(t, dsn)
	defer db.Close()
	v2, err := db.PutTwin(t.Context(), twin.Twin{ID: "a", Metadata: twin.Metadata{Model: testModel}}, store.Condition{IfMatch: v1.ETag})
	if err != nil {
		t.Fatalf("PutTwin after reopen: %v", err)
	}
	if !v2.Metadata.LastUpdateTime.After(v1.Metadata.LastUpdateTime) {
		t.Errorf("time after reopen %v is not after %v", v2.Metadata.LastUpdateTime, v1.Metadata.LastUpdateTime)
	}
}

func ExampleOpen() {
	ctx := context.Background()
	db, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&schema=lodestone", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	tw, err := db.GetTwin(ctx, "mine-1")
	fmt.Println(tw.ID, err)
}

// TestGroupFailures runs concurrent writes, so that they share
// transactions, where every other one fails inside PostgreSQL (jsonb
// refuses "\u0000") or before it: the failures roll back alone and every
// other write commits.
func TestGroupFailures(t *testing.T) {
	db := openTest(t, newSchemaDSN(t))
	defer db.Close()
	putModel(t, db)
	ctx := t.Context()
	const n = 120
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			tw := twin.Twin{ID: twin.ID(fmt.Sprintf("t%03d", i)), Metadata: twin.Metadata{Model: testModel}, Properties: map[string]any{"i": float64(i)}}
			switch i % 4 {
			case 1:
				tw.Properties["bad"] = "\x00"
			case 3:
				tw.Metadata.Model = "dtmi:unknown;1"
			}
			_, errs[i] = db.PutTwin(ctx, tw, store.Condition{})
		})
	}
	wg.Wait()
	for i, err := range errs {
		want := i%2 == 0
		if want && err != nil {
			t.Errorf("PutTwin(t%03d): %v", i, err)
		}
		if !want && !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutTwin(t%03d) error = %v, want ErrInvalid", i, err)
		}
	}
	snap, err := db.Snapshot(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tw := range snap.Twins {
		got = append(got, string(tw.ID))
	}
	var want []string
	for i := 0; i < n; i += 2 {
		want = append(want, fmt.Sprintf("t%03d", i))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("twins after mixed writes (-want +got):\n%s", diff)
	}
}
