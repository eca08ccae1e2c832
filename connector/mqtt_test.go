package connector_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"lodestone/connector"
	"lodestone/store"
)

const broker = "127.0.0.1:1883"

// mqttRun starts an MQTT connector on a topic prefix of its own (other
// tests may share the broker) and a publisher.
func mqttRun(t testing.TB, f *fixture, batch int) (*connector.Runner, mqtt.Client, string, func()) {
	t.Helper()
	return mqttRunSpec(t, f, batch, nil)
}

// mqttRunSpec is mqttRun with the connector's spec changed by edit first.
func mqttRunSpec(t testing.TB, f *fixture, batch int, edit func(*connector.Spec)) (*connector.Runner, mqtt.Client, string, func()) {
	t.Helper()
	needService(t, broker, "Mosquitto")
	prefix := fmt.Sprintf("lodestone-test-%d", rand.Uint64())
	cfg := fmt.Sprintf(`{"connectors":[{"id":"m","kind":"mqtt","broker":"tcp://%s","batch":%d,"mappings":[
		{"topic":"%s/{twin}/{telemetry}","valuePath":"value","timePath":"ts","unitPath":"unit"},
		{"topic":"%s/{twin}/sp","property":"setpoint","valuePath":"v"}]}]}`, broker, batch, prefix, prefix)
	c, err := connector.DecodeConfig([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&c.Connectors[0])
	}
	r := connector.NewRunner(c.Connectors[0], f.pipe, nil)
	r.OnLag(f.onLag)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Run(ctx); err != nil {
			t.Error(err)
		}
	})
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + broker).SetClientID(prefix + "-pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher connect: %v", tok.Error())
	}
	waitFor(t, func() bool { return r.Status().Connected })
	time.Sleep(100 * time.Millisecond) // the subscriptions follow the connect
	stop := func() {
		pub.Disconnect(100)
		cancel()
		wg.Wait()
	}
	return r, pub, prefix, stop
}

func waitFor(t testing.TB, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// publish sends n values spread over twins s0…s(twins-1), keeping no more
// than a window in flight beyond what the connector has received (the
// broker drops QoS 1 messages past its queue limit for a slow subscriber).
func publish(t testing.TB, r *connector.Runner, pub mqtt.Client, prefix string, n, twins int) {
	t.Helper()
	base, _, _ := r.Counts()
	var toks []mqtt.Token
	for i := range n {
		for {
			got, _, _ := r.Counts()
			if int64(i)-(got-base) <= 500 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		body := fmt.Sprintf(`{"value": %d, "ts": %q}`, i, time.Now().UTC().Format(time.RFC3339Nano))
		toks = append(toks, pub.Publish(fmt.Sprintf("%s/s%d/value", prefix, i%twins), 1, false, body))
	}
	for _, tok := range toks {
		if tok.Wait(); tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
}

// TestMQTT pushes 10,000 values through Mosquitto and finds them stored;
// bad payloads are dead-lettered and the connector goes on.
func TestMQTT(t *testing.T) {
	f := setup(t, 10)
	r, pub, prefix, stop := mqttRun(t, f, 500)
	defer stop()
	const n = 10000
	publish(t, r, pub, prefix, n, 10)
	bad := map[string]string{
		prefix + "/s0/value":       `{"value": "high"}`,           // wrong type for a double
		prefix + "/s1/value":       `{"valu": 1}`,                 // no value at the path
		prefix + "/s2/value":       `not json`,                    // not JSON
		prefix + "/s3/nosuchname":  `{"value": 1}`,                // telemetry the model lacks
		prefix + "/ghost/value":    `{"value": 1}`,                // no such twin
		prefix + "/s4/temperature": `{"value": 1, "unit": "bar"}`, // a pressure for a temperature
		prefix + "/s5/sp":          `{"v": "fast"}`,               // wrong type for a property
	}
	for topic, body := range bad {
		pub.Publish(topic, 1, false, body).Wait()
	}
	// Good messages after the bad ones: a unit conversion and a property.
	pub.Publish(prefix+"/s6/temperature", 1, false, `{"value": 212, "unit": "degreeFahrenheit"}`).Wait()
	pub.Publish(prefix+"/s7/sp", 1, false, `{"v": 4.5}`).Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.Drain(ctx, n+int64(len(bad))+2); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if got := f.count(t, fmt.Sprintf("s%d", i), "value"); got != n/10 {
			t.Errorf("s%d: %d values stored, want %d", i, got, n/10)
		}
	}
	pts, err := f.st.QueryTelemetry(ctx, store.TelemetryQuery{TwinID: "s6", Name: "temperature"})
	var c float64
	if err == nil && len(pts) == 1 {
		json.Unmarshal(pts[0].Value, &c)
	}
	if math.Abs(c-100) > 1e-9 {
		t.Errorf("212 °F stored as %v (%v), want 100 (°C, the model's unit)", pts, err)
	}
	tw, err := f.st.GetTwin(ctx, "s7")
	if err != nil || tw.Properties["setpoint"] != 4.5 {
		t.Errorf("setpoint: %v, %v", tw.Properties["setpoint"], err)
	}
	st := r.Status()
	if st.Stored != n+2 || st.DeadLettered != int64(len(bad)) || st.Latency.N == 0 {
		t.Errorf("status %+v", st)
	}
	// The server's lodestone_connector_lag_seconds gauge is set from the
	// lag function: told once per stored batch, never a negative age.
	if n, lag := f.lags.Load(), time.Duration(f.lastLag.Load()); n == 0 || n > st.Batches || lag < 0 {
		t.Errorf("lag told %d times (batches %d), last %v", n, st.Batches, lag)
	}
	docs, err := f.st.ListDocs(ctx, connector.KindDeadLetter)
	if err != nil || len(docs) != len(bad) {
		if len(docs) > 0 {
			t.Logf("%s", docs[0].Body)
		}
		t.Fatalf("%d dead letters stored (%v), want %d", len(docs), err, len(bad))
	}
	for i, d := range docs {
		if i < 3 {
			t.Logf("%s", d.Body)
		}
		var dl connector.DeadLetter
		json.Unmarshal(d.Body, &dl)
		if dl.Reason == "" || bad[dl.Source] == "" || !strings.HasPrefix(d.ID, "m/") {
			t.Errorf("dead letter %s: %+v", d.ID, dl)
		}
	}
}

// BenchmarkMQTT measures values per second from an MQTT publisher through
// Mosquitto and the connector into the store (SQLite, one file).
func BenchmarkMQTT(b *testing.B) {
	f := setup(b, 10)
	r, pub, prefix, stop := mqttRun(b, f, 500)
	defer stop()
	const n = 10000
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		publish(b, r, pub, prefix, n, 10)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		if err := r.Drain(ctx, int64(n*(i+1))); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
	el, cpu := time.Since(start), cpuTime()-cpu0
	b.ReportMetric(float64(n*b.N)/el.Seconds(), "values/s")
	// The process's CPU time per value (publisher, broker client,
	// connector and SQLite together; Mosquitto excluded): on a shared
	// machine the wall-clock rate shows the load, this shows the cost.
	b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "cpu-µs/value")
	st := r.Status()
	b.ReportMetric(float64(st.Stored)/float64(max(st.Batches, 1)), "values/batch")
	b.ReportMetric(st.Latency.P50, "p50-ms")
	b.ReportMetric(st.Latency.P99, "p99-ms")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
