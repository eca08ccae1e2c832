package natsbus_test

import (
	"context"
	"testing"
	"time"

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
