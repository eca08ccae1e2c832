package retention_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lodestone/store"
	"lodestone/store/postgres"
	"lodestone/store/retention"
	"lodestone/twin"
)

// backends returns the DSNs to test: a SQLite file, and a PostgreSQL
// schema of its own with LODESTONE_TEST_POSTGRES (dropped afterwards).
func backends(t testing.TB) map[string]string {
	out := map[string]string{"sqlite": "sqlite:" + filepath.Join(t.TempDir(), "r.db")}
	dsn := os.Getenv("LODESTONE_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LODESTONE_TEST_POSTGRES is not set under CI")
		}
		return out
	}
	schema := fmt.Sprintf("retention_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		conn, _, err := postgres.ParseDSN(dsn)
		if err != nil {
			return
		}
		c, err := pgx.Connect(context.Background(), conn)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	out["postgres"] = dsn + sep + "schema=" + schema
	return out
}

const model = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:r:M;1","@type":"Interface","contents":[{"@type":"Property","name":"x","schema":"double","writable":true}]}`

// fill writes versions versions of each of twins twins and points
// telemetry points per twin, and acknowledges the outbox (no bus here).
func fill(t testing.TB, st store.Store, twins, versions, points int) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.PutModels(ctx, []twin.Model{{ID: "dtmi:r:M;1", DTDL: []byte(model)}}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	for i := range twins {
		id := twin.ID(fmt.Sprintf("t%05d", i))
		for v := range versions {
			if _, err := st.PutTwin(ctx, twin.Twin{ID: id, Metadata: twin.Metadata{Model: "dtmi:r:M;1"}, Properties: map[string]any{"x": float64(v)}}, store.Condition{}); err != nil {
				t.Fatal(err)
			}
		}
		var pts []store.Telemetry
		for p := range points {
			pts = append(pts, store.Telemetry{TwinID: id, Name: "x", MessageID: fmt.Sprintf("m%d", p), Value: []byte(fmt.Sprint(p))})
		}
		if len(pts) > 0 {
			if _, err := st.AppendTelemetry(ctx, pts); err != nil {
				t.Fatal(err)
			}
		}
	}
	for {
		recs, err := st.PendingRecords(ctx, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return
		}
		seqs := make([]int64, len(recs))
		for i, r := range recs {
			seqs[i] = r.Seq
		}
		if err := st.AckRecords(ctx, seqs); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCompact removes every ended version and all telemetry, in batches
// smaller than the rows, keeps each twin's current version, and calls
// Mark first; a pending outbox record holds the history horizon back.
func TestCompact(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			fill(t, st, 5, 4, 3)
			time.Sleep(time.Millisecond)
			db, err := retention.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			marked := 0
			now := time.Now()
			res, err := db.Compact(ctx, st, retention.Options{HistoryBefore: now, TelemetryBefore: now, Batch: 4,
				Mark: func(context.Context, time.Time, time.Time) error { marked++; return nil }})
			if err != nil {
				t.Fatal(err)
			}
			if res.TwinVersions != 15 || res.Telemetry != 15 || marked != 1 {
				t.Errorf("removed %d versions (want 15), %d points (want 15), marked %d times", res.TwinVersions, res.Telemetry, marked)
			}
			for i := range 5 {
				tw, err := st.GetTwin(ctx, twin.ID(fmt.Sprintf("t%05d", i)))
				if err != nil || tw.Properties["x"] != 3.0 {
					t.Errorf("twin %d after compaction: %v %v", i, err, tw.Properties)
				}
			}
			// A record not yet relayed keeps the versions its event may
			// be rebuilt from.
			if _, err := st.PutTwin(ctx, twin.Twin{ID: "t00000", Metadata: twin.Metadata{Model: "dtmi:r:M;1"}, Properties: map[string]any{"x": 9.0}}, store.Condition{}); err != nil {
				t.Fatal(err)
			}
			pending, _ := st.PendingRecords(ctx, 0, 1)
			res, err = db.Compact(ctx, st, retention.Options{HistoryBefore: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if len(pending) == 0 || !res.HistoryBefore.Equal(pending[0].Time) {
				t.Errorf("history horizon %v, want the pending record's time", res.HistoryBefore)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	for _, dsn := range []string{"", "sqlite:", "sqlite::memory:", "sqlite:" + filepath.Join(t.TempDir(), "none.db"), "mysql://x", "postgres://%zz"} {
		if db, err := retention.Open(ctx, dsn); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "e.db")
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db, err := retention.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Compact(ctx, st, retention.Options{}); err == nil {
		t.Error("a compaction without horizons succeeded")
	}
}

// BenchmarkCompact compacts 2,000 twins of 10 versions and 10 telemetry
// points each down to their current versions, and reports the store's
// bytes before and after (VACUUM on SQLite).
func BenchmarkCompact(b *testing.B) {
	for name, dsn := range backends(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			st, err := store.Open(ctx, dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			fill(b, st, 2000, 10, 10)
			db, err := retention.Open(ctx, dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			b.ResetTimer()
			var res *retention.Result
			for i := range b.N {
				now := time.Now()
				r, err := db.Compact(ctx, st, retention.Options{HistoryBefore: now, TelemetryBefore: now, Vacuum: true})
				if err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					res = r
				}
			}
			b.ReportMetric(float64(res.TwinVersions+res.Telemetry), "rows")
			b.ReportMetric(float64(res.Before.File), "bytes-before")
			b.ReportMetric(float64(res.After.File), "bytes-after")
		})
	}
}
