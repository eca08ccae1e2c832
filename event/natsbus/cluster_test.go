package natsbus_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"lodestone/event/natsbus"
)

// TestOpenWhileClusterForms opens a bus with three replicas on a cluster
// whose nodes have only just started: no meta leader yet, peers still
// joining. Open waits for the cluster instead of failing (CI once saw a
// server's start fail after the client's 5 s API timeout while the stream's
// Raft group was electing).
func TestOpenWhileClusterForms(t *testing.T) {
	const n = 3
	ports := make([]int, n)
	var routes []*url.URL
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[i])})
	}
	var urls []string
	for i := range n {
		ns, err := natsserver.NewServer(&natsserver.Options{
			ServerName: fmt.Sprintf("node-%d", i), Host: "127.0.0.1", Port: natsserver.RANDOM_PORT,
			JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
			Cluster: natsserver.ClusterOpts{Name: "natsbus-forming", Host: "127.0.0.1", Port: ports[i]},
			Routes:  routes,
		})
		if err != nil {
			t.Fatal(err)
		}
		ns.Start()
		t.Cleanup(ns.Shutdown)
		if !ns.ReadyForConnections(20 * time.Second) {
			t.Fatalf("node %d did not start", i)
		}
		urls = append(urls, ns.ClientURL())
	}
	if urls[0] == "" || strings.Contains(urls[0], ":4222") {
		t.Fatalf("client URL %q", urls[0])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	t0 := time.Now()
	b, err := natsbus.Open(ctx, natsbus.Options{URL: strings.Join(urls, ","), Replicas: 3})
	if err != nil {
		t.Fatalf("Open on a forming cluster: %v", err)
	}
	defer b.Close()
	t.Logf("the R3 stream was in place %v after the nodes started", time.Since(t0).Round(time.Millisecond))
}
