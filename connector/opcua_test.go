package connector_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gopcua/opcua/server"
	"github.com/gopcua/opcua/ua"

	"lodestone/connector"
)

// opcuaServer starts gopcua's own server package (v0.8.0 ships one) on a
// free loopback port with a map namespace holding keys.
func opcuaServer(t testing.TB, keys []string) (*server.MapNamespace, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ns, _, ep := opcuaServerAt(t, keys, port)
	return ns, ep
}

func opcuaServerAt(t testing.TB, keys []string, port int) (*server.MapNamespace, *server.Server, string) {
	t.Helper()
	s := server.New(
		server.EndPoint("127.0.0.1", port),
		server.EnableSecurity("None", ua.MessageSecurityModeNone),
		server.EnableAuthMode(ua.UserTokenTypeAnonymous),
	)
	ns := server.NewMapNamespace(s, "lodestone-test")
	for _, k := range keys {
		ns.Data[k] = 0.0
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return ns, s, fmt.Sprintf("opc.tcp://127.0.0.1:%d", port)
}

// TestOPCUAReconnect: the server goes away and comes back on the same
// port; the connector reconnects, counts it, and stores what follows.
func TestOPCUAReconnect(t *testing.T) {
	f := setup(t, 1)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ns, srv, ep := opcuaServerAt(t, []string{"FT"}, port)
	c, err := connector.DecodeConfig([]byte(fmt.Sprintf(`{"connectors":[{"id":"u","kind":"opcua","intervalMs":10,"endpoint":"%s","mappings":[{"nodeId":"ns=%d;s=FT","twin":"s0","telemetry":"value"}]}]}`, ep, ns.ID())))
	if err != nil {
		t.Fatal(err)
	}
	r := connector.NewRunner(c.Connectors[0], f.pipe, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, func() bool { _, st, _ := r.Counts(); return st >= 1 })
	srv.Close()
	waitFor(t, func() bool { return !r.Status().Connected })
	ns2, _, _ := opcuaServerAt(t, []string{"FT"}, port)
	waitFor(t, func() bool { return r.Status().Connected })
	// The server keeps one value per item between publishes: wait for the
	// reconnect's initial value before changing it.
	waitFor(t, func() bool { got, _, _ := r.Counts(); return got >= 2 })
	ns2.SetValue("FT", 42.0)
	deadline := time.Now().Add(20 * time.Second)
	for _, st, _ := r.Counts(); st < 3; _, st, _ = r.Counts() { // 0 at first connect, 0 at reconnect, 42
		if time.Now().After(deadline) {
			t.Fatalf("status %+v", r.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := r.Status(); st.Reconnects < 1 {
		t.Errorf("status %+v: no reconnect counted", st)
	}
}

// TestOPCUA pushes 10,000 values through 100 nodes of an in-test OPC UA
// server and finds them stored; a value of the wrong type is dead-lettered
// and the connector goes on.
func TestOPCUA(t *testing.T) {
	const twins, perTwin, rounds = 10, 10, 100 // 100 nodes × 100 rounds = 10,000 values
	f := setup(t, twins)
	var keys []string
	cfg := `{"connectors":[{"id":"u","kind":"opcua","intervalMs":10,"endpoint":"%s","mappings":[`
	var maps string
	for i := range twins * perTwin {
		keys = append(keys, fmt.Sprintf("FT-%03d", i))
	}
	ns, ep := opcuaServer(t, keys)
	for i, k := range keys {
		if i > 0 {
			maps += ","
		}
		maps += fmt.Sprintf(`{"nodeId":"ns=%d;s=%s","twin":"s%d","telemetry":"value"}`, ns.ID(), k, i%twins)
	}
	c, err := connector.DecodeConfig([]byte(fmt.Sprintf(cfg, ep) + maps + `]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := connector.NewRunner(c.Connectors[0], f.pipe, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, func() bool { return r.Status().Connected })
	// The server sends the current value of each node first.
	waitFor(t, func() bool { got, _, _ := r.Counts(); return got >= int64(len(keys)) })
	base, _, _ := r.Counts()
	// The server keeps one value per node between publishes, so each
	// round waits until the connector has the last round's values.
	for round := 1; round <= rounds; round++ {
		for _, k := range keys {
			ns.SetValue(k, float64(round))
		}
		want := base + int64(round*len(keys))
		waitFor(t, func() bool { got, _, _ := r.Counts(); return got >= want })
	}
	ns.SetValue(keys[0], "not a number")
	waitFor(t, func() bool { _, _, dl := r.Counts(); return dl >= 1 })
	ns.SetValue(keys[0], 7.0) // and it goes on
	dctx, dcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer dcancel()
	want := base + int64(rounds*len(keys)) + 2
	if err := r.Drain(dctx, want); err != nil {
		t.Fatal(err)
	}
	total := 0
	for i := range twins {
		total += f.count(t, fmt.Sprintf("s%d", i), "value")
	}
	if int64(total) != want-1 {
		t.Errorf("%d values stored, want %d (10,000 pushed, %d initial values, 1 after the bad one)", total, want-1, base)
	}
	st := r.Status()
	if st.DeadLettered != 1 || st.Latency.N == 0 {
		t.Errorf("status %+v", st)
	}
	docs, err := f.st.ListDocs(dctx, connector.KindDeadLetter)
	if err != nil || len(docs) != 1 {
		t.Fatalf("dead letters %v, %v", docs, err)
	}
	t.Logf("%s", docs[0].Body)
}
