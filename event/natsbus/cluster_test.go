package natsbus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lodestone/event"
	"lodestone/event/natsbus"
	"lodestone/event/natsbus/natstest"
)

// TestOpenWhileClusterForms opens a bus with three replicas on a cluster
// whose nodes have only just started: no meta leader yet, peers still
// joining. A stream request sent before the meta leader exists gets no
// answer at all; Open asks again (internal/jsretry) instead of failing (CI
// once saw a server's start fail after the client's 5 s API timeout).
func TestOpenWhileClusterForms(t *testing.T) {
	c := natstest.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	t0 := time.Now()
	b, err := natsbus.Open(ctx, natsbus.Options{URL: c.URLs, Replicas: 3})
	if err != nil {
		t.Fatalf("Open on a forming cluster: %v", err)
	}
	defer b.Close()
	// The stream Open made is a replicated stream of the cluster: one of
	// the nodes leads it (soon after Open, once the node has applied it).
	for deadline := time.Now().Add(10 * time.Second); c.StreamLeader(natsbus.DefaultStream) == nil; {
		if time.Now().After(deadline) {
			t.Fatal("no node leads the stream 10 s after Open")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the R3 stream was in place %v after the nodes started", time.Since(t0).Round(time.Millisecond))
}

// TestPublishBatchAcrossLeaderLoss publishes batches on an R3 stream and
// kills the node that leads it while they are under way. A message sent to
// the dead leader is never acknowledged; every batch must still succeed
// (its unacknowledged events sent again once their ack is overdue, not
// failed after the minute of the asynchronous publish timeout, as before
// 2026-12-08, when writes and a study stalled 60 s on it), and the stream
// must hold every event exactly once.
func TestPublishBatchAcrossLeaderLoss(t *testing.T) {
	c := natstest.Start(t, 3)
	c.WaitReady(t, 60*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b, err := natsbus.Open(ctx, natsbus.Options{URL: c.URLs, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var leader *server.Server
	for deadline := time.Now().Add(10 * time.Second); leader == nil; leader = c.StreamLeader(natsbus.DefaultStream) {
		if time.Now().After(deadline) {
			t.Fatal("no node leads the stream 10 s after Open")
		}
		time.Sleep(20 * time.Millisecond)
	}

	const batches, size = 6, 2000
	batch := func(k int) []event.Event {
		es := make([]event.Event, size)
		for i := range es {
			n := k*size + i
			subject := fmt.Sprintf("t-%d", n)
			es[i] = event.Event{ID: event.ChangeID("lodestone://test", uint64(n+1), event.TypeTwinCreated, subject),
				Source: "lodestone://test", Type: event.TypeTwinCreated, Subject: subject}
		}
		return es
	}
	for k := range batches {
		done := make(chan error, 1)
		t0 := time.Now()
		go func() { done <- b.PublishBatch(ctx, batch(k)) }()
		if k == 1 { // kill the leader with the batch's messages in flight
			time.Sleep(20 * time.Millisecond)
			leader.Shutdown()
		}
		if err := <-done; err != nil {
			t.Fatalf("batch %d: %v after %v", k, err, time.Since(t0).Round(time.Millisecond))
		}
		t.Logf("batch %d: %v", k, time.Since(t0).Round(time.Millisecond))
	}

	// Every event once: count the stream's messages on a surviving node.
	nc, err := nats.Connect(c.URLs)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var msgs uint64
	for deadline := time.Now().Add(30 * time.Second); ; {
		st, err := js.Stream(ctx, natsbus.DefaultStream)
		if err == nil {
			var info *jetstream.StreamInfo
			if info, err = st.Info(ctx); err == nil {
				if msgs = info.State.Msgs; msgs == batches*size {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream holds %d messages (last error %v), want %d: each event once", msgs, err, batches*size)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
