package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lodestone/server"
)

// sharedEnv is the PostgreSQL DSN and NATS URL that several servers share,
// from LODESTONE_TEST_POSTGRES and LODESTONE_TEST_NATS; the test skips
// without them (and fails under CI=true).
func sharedEnv(t *testing.T) (dsn, natsURL string) {
	t.Helper()
	dsn, natsURL = os.Getenv("LODESTONE_TEST_POSTGRES"), os.Getenv("LODESTONE_TEST_NATS")
	if dsn == "" || natsURL == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LODESTONE_TEST_POSTGRES and LODESTONE_TEST_NATS must be set under CI")
		}
		t.Skip("LODESTONE_TEST_POSTGRES and LODESTONE_TEST_NATS are not both set (postgres://postgres@127.0.0.1:5432/test?sslmode=disable, nats://127.0.0.1:4222)")
	}
	return dsn, natsURL
}

// startShared starts n servers on one PostgreSQL schema and one JetStream
// stream of their own (dropped and deleted when the test ends).
func startShared(t *testing.T, n int) []*server.Server {
	t.Helper()
	dsn, natsURL := sharedEnv(t)
	tag := fmt.Sprintf("multi_%d", time.Now().UnixNano())
	storeDSN := schemaDSN(t, dsn, tag)
	// Cleanups run last first: the stream goes after the servers.
	t.Cleanup(func() { deleteStream(t, natsURL, strings.ToUpper(tag)) })
	var out []*server.Server
	for range n {
		s := startServer(t, func(o *server.Options) {
			o.StoreDSN = storeDSN
			o.NATSURL = natsURL
			o.NATSStream = strings.ToUpper(tag)
			o.NATSPrefix = tag
			o.Source = "lodestone://" + tag
			o.WebhookAllow = "127.0.0.0/8" // the test's webhook receiver
		})
		out = append(out, s)
	}
	return out
}

const counterModel = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Counter;1","@type":"Interface","contents":[
	{"@type":"Property","name":"n","schema":"integer","writable":true},
	{"@type":"Property","name":"label","schema":"string","writable":true}]}`

// TestServersShareOneGraph runs two servers on one PostgreSQL schema and
// one NATS: a model uploaded through one is in force on the other for the
// next request, each server's event stream shows the other's writes, event
// routes deliver writes made through either, and 16 clients split over both
// keep an If-Match counter exact.
func TestServersShareOneGraph(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers on PostgreSQL and NATS; skipped with -short")
	}
	srv := startShared(t, 2)
	a, b := srv[0].URL(), srv[1].URL()

	// Events on B, from now on.
	events := streamEvents(t, b)

	// A model via A, a twin of it via B in the very next request.
	call(t, "POST", a+"/models", "["+counterModel+"]", 201)
	call(t, "PUT", b+"/digitaltwins/c1", `{"$metadata":{"$model":"dtmi:test:Counter;1"},"n":0}`, 200)
	var ms struct{ Value []struct{ ID string } }
	json.Unmarshal(call(t, "GET", b+"/models", "", 200), &ms)
	if len(ms.Value) != 1 || ms.Value[0].ID != "dtmi:test:Counter;1" {
		t.Errorf("models on B = %+v", ms.Value)
	}

	// B's event stream shows a write made through A.
	call(t, "PUT", a+"/digitaltwins/from-a", `{"$metadata":{"$model":"dtmi:test:Counter;1"},"n":1}`, 200)
	events.wait(t, "lodestone.twin.created", "from-a")
	events.wait(t, "lodestone.twin.created", "c1")

	// An event route created through A delivers writes made through B,
	// once each, whichever server holds its lease.
	var mu sync.Mutex
	got := map[string]int{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ ID, Subject string }
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &ev)
		mu.Lock()
		got[ev.Subject]++
		mu.Unlock()
	}))
	defer hook.Close()
	call(t, "PUT", a+"/endpoints/hook", fmt.Sprintf(`{"kind":"webhook","url":%q}`, hook.URL), 200)
	call(t, "PUT", a+"/eventroutes/all", `{"endpointName":"hook","filter":"type=lodestone.twin.created"}`, 204)
	var routes struct{ Value []struct{ ID string } }
	json.Unmarshal(call(t, "GET", b+"/eventroutes", "", 200), &routes)
	if len(routes.Value) != 1 || routes.Value[0].ID != "all" {
		t.Errorf("routes on B = %+v", routes.Value)
	}
	for i := range 5 {
		call(t, "PUT", fmt.Sprintf("%s/digitaltwins/routed-%d", b, i), `{"$metadata":{"$model":"dtmi:test:Counter;1"},"n":1}`, 200)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := 0
		for i := range 5 {
			if got[fmt.Sprintf("routed-%d", i)] > 0 {
				n++
			}
		}
		mu.Unlock()
		if n == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the route delivered %d of 5 events made through B", n)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// 16 clients over both servers increment one counter under If-Match.
	const clients, each = 16, 15
	c := fastClient()
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		base := a
		if i%2 == 1 {
			base = b
		}
		wg.Go(func() {
			for done := 0; done < each; {
				res, err := send(t.Context(), c, "GET", base+"/digitaltwins/c1", nil)
				if err != nil || res.status != 200 {
					errs <- fmt.Errorf("GET: %v %d %s", err, res.status, res.body)
					return
				}
				var tw struct{ N int }
				json.Unmarshal(res.body, &tw)
				patch := fmt.Appendf(nil, `[{"op":"replace","path":"/n","value":%d}]`, tw.N+1)
				res, err = send(t.Context(), c, "PATCH", base+"/digitaltwins/c1", patch, "If-Match", res.header.Get("ETag"))
				switch {
				case err != nil:
					errs <- err
					return
				case res.status == http.StatusPreconditionFailed:
					conflicts.Add(1)
				case res.status == http.StatusNoContent:
					done++
				default:
					errs <- fmt.Errorf("PATCH = %d %s", res.status, res.body)
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
	var tw struct{ N int }
	json.Unmarshal(call(t, "GET", a+"/digitaltwins/c1", "", 200), &tw)
	if tw.N != clients*each {
		t.Errorf("counter = %d after %d acknowledged increments (%d conflicts retried)", tw.N, clients*each, conflicts.Load())
	}
	t.Logf("%d increments over two servers, %d If-Match conflicts retried by the clients", clients*each, conflicts.Load())

	// A decommission through B is in force on A for the next request.
	call(t, "PATCH", b+"/models/dtmi:test:Counter;1", `[{"op":"replace","path":"/decommissioned","value":true}]`, 204)
	body := call(t, "PUT", a+"/digitaltwins/late", `{"$metadata":{"$model":"dtmi:test:Counter;1"},"n":1}`, 400)
	if !strings.Contains(string(body), "ModelDecommissioned") {
		t.Errorf("PUT through A after decommission through B = %s", body)
	}
}

// eventStream reads the Server-Sent Events of one server.
type eventStream struct {
	mu   sync.Mutex
	seen map[string]bool // type + " " + subject
}

func streamEvents(t *testing.T, base string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("GET /events = %d", res.StatusCode)
	}
	es := &eventStream{seen: map[string]bool{}}
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev struct{ Type, Subject string }
			if json.Unmarshal([]byte(line), &ev) == nil {
				es.mu.Lock()
				es.seen[ev.Type+" "+ev.Subject] = true
				es.mu.Unlock()
			}
		}
	}()
	return es
}

func (es *eventStream) wait(t *testing.T, typ, subject string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		es.mu.Lock()
		ok := es.seen[typ+" "+subject]
		es.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the event stream has no %s event for %s", typ, subject)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deleteStream removes a JetStream stream a test created on a shared NATS.
func deleteStream(t *testing.T, url, name string) {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Errorf("delete stream %s: %v", name, err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Errorf("delete stream %s: %v", name, err)
		return
	}
	ctx, cancel := contextWithTimeout(5 * time.Second)
	defer cancel()
	if err := js.DeleteStream(ctx, name); err != nil {
		t.Errorf("delete stream %s: %v", name, err)
	}
}
