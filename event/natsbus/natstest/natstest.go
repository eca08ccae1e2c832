package natstest

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is nodes in this process, clustered with routes, JetStream on
// each with file storage in the test's folders.
type Cluster struct {
	Nodes []*server.Server
	URLs  string // the client URLs, comma separated
}

// Start starts n nodes and waits until each accepts clients, not until the
// cluster has elected its leaders (see WaitReady). The nodes shut down when
// the test ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	ports := make([]int, n)
	var routes []*url.URL
	for i := range ports {
		ports[i] = freePort(t)
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[i])})
	}
	c := &Cluster{}
	for i := range n {
		ns, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("node-%d", i), Host: "127.0.0.1", Port: server.RANDOM_PORT,
			JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "lodestone-test", Host: "127.0.0.1", Port: ports[i]},
			Routes:  routes,
		})
		if err != nil {
			t.Fatal(err)
		}
		ns.Start()
		t.Cleanup(ns.Shutdown)
		c.Nodes = append(c.Nodes, ns)
	}
	var urls []string
	for _, ns := range c.Nodes {
		if !ns.ReadyForConnections(20 * time.Second) {
			t.Fatalf("natstest: %s did not start", ns.Name())
		}
		urls = append(urls, ns.ClientURL())
	}
	c.URLs = strings.Join(urls, ",")
	return c
}

// WaitReady waits until Ready, failing the test after d.
func (c *Cluster) WaitReady(t testing.TB, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !c.Ready() {
		if time.Now().After(deadline) {
			t.Fatalf("natstest: the JetStream cluster elected no meta leader in %v", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Ready says whether one node leads the JetStream meta group and every
// running node is current with it.
func (c *Cluster) Ready() bool {
	leaders := 0
	for _, ns := range c.Nodes {
		if !ns.Running() {
			continue
		}
		if ns.JetStreamIsLeader() {
			leaders++
		}
		if !ns.JetStreamIsCurrent() {
			return false
		}
	}
	return leaders == 1
}

// StreamLeader returns the node that leads stream (in the global account),
// or nil.
func (c *Cluster) StreamLeader(stream string) *server.Server {
	for _, ns := range c.Nodes {
		if ns.Running() && ns.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return ns
		}
	}
	return nil
}

// freePort returns a loopback TCP port that was free a moment ago, never
// 4222.
func freePort(t testing.TB) int {
	t.Helper()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if port != 4222 {
			return port
		}
	}
}
