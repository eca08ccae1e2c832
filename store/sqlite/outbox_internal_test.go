package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/store"
	"lodestone/twin"
)

// TestRecordsOfRolledBackWrites checks that the queued outbox rows of a
// write that fails after writing its record are dropped with it, whether
// the write runs in a group (its savepoint rolls back) or alone.
func TestRecordsOfRolledBackWrites(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	errWrite := errors.New("write fails after its record")
	write := func(i int) error {
		return db.write(ctx, func(ctx context.Context, tx *sql.Tx, now int64) error {
			r := store.Record{Kind: "test", Op: store.OpCreate, Subject: fmt.Sprint(i), Time: nsTime(now), Data: json.RawMessage(`{}`)}
			if err := db.record(ctx, tx, &r); err != nil {
				return err
			}
			if i%3 == 1 {
				return errWrite
			}
			return nil
		})
	}
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			if err := write(i); (err != nil) != (i%3 == 1) {
				t.Errorf("write %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if err := write(61); !errors.Is(err, errWrite) { // alone
		t.Errorf("write 61: %v", err)
	}
	recs, err := db.PendingRecords(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Subject)
	}
	var want []string
	for i := range 60 {
		if i%3 != 1 {
			want = append(want, fmt.Sprint(i))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outbox subjects (-want +got):\n%s", diff)
	}
}

// TestSeqAfterAckAndReopen checks that seqs keep increasing after every
// record was acked and the database reopened.
func TestSeqAfterAckAndReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "seq.db")
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := int64(0)
	for round := range 3 {
		rec := &store.Recorder{}
		id := fmt.Sprint("dtmi:test:M", round, ";1")
		m := []twin.Model{{ID: id, DTDL: json.RawMessage(`{"@id":"` + id + `"}`)}}
		if _, err := db.PutModels(store.WithRecorder(ctx, rec), m, store.Condition{}); err != nil {
			t.Fatal(err)
		}
		recs := rec.Records()
		if len(recs) != 1 || recs[0].Seq <= last {
			t.Fatalf("round %d: records %+v, want one with seq > %d", round, recs, last)
		}
		last = recs[0].Seq
		if err := db.AckRecords(ctx, []int64{last}); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if db, err = Open(ctx, path, nil); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
}
