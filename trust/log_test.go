package trust_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lodestone/pipeline"
	"lodestone/store"
	_ "lodestone/store/postgres" // the postgres:// scheme
	"lodestone/store/sqlite"
	"lodestone/trust"
	"lodestone/twin"
)

// TestCommittedTwice: a record the hook sees again (the relay republishing
// what a request already logged) gets one entry.
func TestCommittedTwice(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	rec := &store.Recorder{}
	if _, _, err := f.p.PutTwin(store.WithRecorder(ctx, rec), asset("x", 1), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	before := f.log.Size()
	if err := f.log.Committed(ctx, rec.Records()); err != nil {
		t.Fatal(err)
	}
	if f.log.Size() != before {
		t.Fatalf("size %d after a repeated record, want %d", f.log.Size(), before)
	}
	if _, ok := f.log.IndexOf(rec.Records()[0].Seq); !ok {
		t.Fatal("IndexOf does not know the record")
	}
}

// TestCrashBeforeLog: a change committed by a server that died before its
// hook ran is in the outbox; the relay of the next server logs it, and
// verify finds the store and log in agreement.
func TestCrashBeforeLog(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	// Written through the store alone: the commit happened, the hook never ran.
	if _, err := f.st.PutTwin(ctx, asset("orphan", 3), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs, err := f.st.PendingRecords(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the relay left %d records", len(recs))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := f.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := trust.Verify(ctx, f.st, testVKey)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("%+v", rep.Mismatches)
	}
}

// TestTwoServers: two logs and pipelines on one store (as two servers
// sharing a database: each log has its own view and they meet only in the
// store's documents) append concurrently; the store ends with one log that verifies, and each
// server reads the other's entries.
func TestTwoServers(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	path := filepath.Join(dir, "lodestone.db")
	var ps [2]*pipeline.Pipeline
	var logs [2]*trust.Log
	var sts [2]*sqlite.DB
	shared := openStore(t, path)
	defer shared.Close()
	for i := range 2 {
		sts[i] = shared
		l, err := trust.NewLog(ctx, sts[i], testSigner, trust.LogOptions{})
		if err != nil {
			t.Fatal(err)
		}
		logs[i] = l
		p, err := pipeline.New(ctx, pipeline.Options{Store: sts[i], Hooks: []pipeline.Hook{l}})
		if err != nil {
			t.Fatal(err)
		}
		ps[i] = p
	}
	if _, err := ps[0].PutModels(ctx, rawModels()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 8 {
		wg.Go(func() {
			p := ps[w%2]
			if _, err := p.Fresh(ctx); err != nil {
				errs <- err
				return
			}
			for k := range 10 {
				if _, _, err := p.PutTwin(ctx, asset(fmt.Sprintf("w%d-%d", w, k), float64(k)), store.Condition{}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, l := range logs {
		if err := l.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if logs[0].Size() != logs[1].Size() || logs[0].Size() != 83 {
		t.Errorf("sizes %d and %d, want 83 (3 models, 80 twins)", logs[0].Size(), logs[1].Size())
	}
	rep, err := trust.Verify(ctx, sts[0], testVKey)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("%+v", rep.Mismatches)
	}
}

// TestPostgres verifies a log kept in PostgreSQL (LODESTONE_TEST_POSTGRES).
func TestPostgres(t *testing.T) {
	dsn := os.Getenv("LODESTONE_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LODESTONE_TEST_POSTGRES is not set (required under CI)")
		}
		t.Skip("LODESTONE_TEST_POSTGRES is not set")
	}
	ctx := context.Background()
	schema := fmt.Sprintf("lodestone_trust_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	st, err := store.Open(ctx, dsn+sep+"schema="+schema)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		st.Close()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	}()
	l, err := trust.NewLog(ctx, st, testSigner, trust.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(ctx, pipeline.Options{Store: st, Hooks: []pipeline.Hook{l}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{log: l, p: p}
	if _, err := p.PutModels(ctx, rawModels()); err != nil {
		t.Fatal(err)
	}
	scenario(t, f, 4)
	if _, err := p.PatchTwin(ctx, "t2", twin.Patch{{Op: "replace", Path: "/name", Value: "pg"}}, store.Condition{}, ""); err != nil {
		t.Fatal(err)
	}
	if err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := trust.Verify(ctx, st, testVKey)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("%+v", rep.Mismatches)
	}
	if rep.Versions < 30 {
		t.Errorf("only %d versions", rep.Versions)
	}
}
