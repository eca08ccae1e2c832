package pipeline

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"lodestone/store"
)

// blockingOutbox's first AckRecords waits for its context to end and
// fails, as an acknowledgement in flight when the server shuts down does;
// the others succeed.
type blockingOutbox struct {
	mu      sync.Mutex
	calls   int
	acked   []int64
	started chan struct{}
}

func (o *blockingOutbox) PendingRecords(context.Context, int64, int) ([]store.Record, error) {
	return nil, nil
}

func (o *blockingOutbox) AckRecords(ctx context.Context, seqs []int64) error {
	o.mu.Lock()
	o.calls++
	first := o.calls == 1
	o.mu.Unlock()
	if first {
		close(o.started)
		<-ctx.Done()
		return ctx.Err()
	}
	o.mu.Lock()
	o.acked = append(o.acked, seqs...)
	o.mu.Unlock()
	return nil
}

// TestRelayShutdownKeepsAcks: records whose removal was in flight when the
// relay stopped are removed by its last flush, not left for a scan to
// publish again at the next start (a CI run of TestCompaction/postgres
// found all but the last write of a run still in the outbox).
func TestRelayShutdownKeepsAcks(t *testing.T) {
	o := &blockingOutbox{started: make(chan struct{})}
	r := newRelay(o, nil, "test", slog.New(slog.DiscardHandler), 40*time.Millisecond, nil)
	r.start()
	r.ack(1, 2, 3)
	select {
	case <-o.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no flush")
	}
	r.ack(4)
	if err := r.shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	got := slices.Clone(o.acked)
	slices.Sort(got)
	if !slices.Equal(got, []int64{1, 2, 3, 4}) {
		t.Errorf("removed %v, want [1 2 3 4]", got)
	}
}
