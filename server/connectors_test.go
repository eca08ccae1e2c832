package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"lodestone/server"
)

// TestConnectorsServe runs `serve --connectors FILE` against the Mosquitto
// on 127.0.0.1:1883: values published on the topic template are stored as
// telemetry, a bad one is dead-lettered, and the API shows both.
func TestConnectorsServe(t *testing.T) {
	if c, err := net.DialTimeout("tcp", "127.0.0.1:1883", time.Second); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Mosquitto is not reachable at 127.0.0.1:1883 (CI=true requires it): %v", err)
		}
		t.Skipf("Mosquitto is not reachable at 127.0.0.1:1883: %v", err)
	} else {
		c.Close()
	}
	prefix := fmt.Sprintf("lodestone-serve-%d", rand.Uint64())
	file := filepath.Join(t.TempDir(), "connectors.json")
	cfg := fmt.Sprintf(`{"connectors":[{"id":"m","kind":"mqtt","broker":"tcp://127.0.0.1:1883","mappings":[{"topic":"%s/{twin}/{telemetry}","valuePath":"v"}]}]}`, prefix)
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(o *server.Options) { o.Connectors = file })
	ctx, cancel := contextWithTimeout(60 * time.Second)
	defer cancel()
	c := http.DefaultClient
	model := `[{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Meter;1","@type":"Interface","contents":[{"@type":"Telemetry","name":"flow","schema":"double"}]}]`
	if r, err := send(ctx, c, "POST", s.URL()+"/models", []byte(model)); err != nil || r.status != 201 {
		t.Fatalf("models: %v %d %s", err, r.status, r.body)
	}
	if r, err := send(ctx, c, "PUT", s.URL()+"/digitaltwins/ft1", []byte(`{"$metadata":{"$model":"dtmi:test:Meter;1"}}`)); err != nil || r.status != 200 {
		t.Fatalf("twin: %v %d %s", err, r.status, r.body)
	}
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://127.0.0.1:1883").SetClientID(prefix + "-pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	status := func() map[string]any {
		r, err := send(ctx, c, "GET", s.URL()+"/plant/connectors", nil)
		if err != nil || r.status != 200 {
			t.Fatalf("status: %v %d", err, r.status)
		}
		var v struct{ Value []map[string]any }
		json.Unmarshal(r.body, &v)
		if len(v.Value) != 1 {
			return nil
		}
		return v.Value[0]
	}
	for st := status(); st == nil || st["connected"] != true; st = status() {
		if ctx.Err() != nil {
			t.Fatal("connector never connected")
		}
		time.Sleep(100 * time.Millisecond)
	}
	pub.Publish(prefix+"/ft1/flow", 1, false, `{"v": "lots"}`).Wait()
	for i := range 20 {
		pub.Publish(prefix+"/ft1/flow", 1, false, fmt.Sprintf(`{"v": %d}`, i)).Wait()
	}
	for {
		st := status()
		if st != nil && st["stored"] == 20.0 && st["deadLettered"] == 1.0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("status %v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	r, err := send(ctx, c, "GET", s.URL()+"/digitaltwins/ft1/telemetry?name=flow", nil)
	if err != nil || r.status != 200 || strings.Count(string(r.body), `"name":"flow"`) != 20 {
		t.Errorf("telemetry: %v %d %s", err, r.status, r.body)
	}
	r, err = send(ctx, c, "GET", s.URL()+"/plant/connectors/m/dead-letters", nil)
	if err != nil || r.status != 200 || !strings.Contains(string(r.body), "lots") {
		t.Errorf("dead letters: %v %d %s", err, r.status, r.body)
	}
	// The connector sets its lag gauge after each stored batch.
	r, err = send(ctx, c, "GET", s.URL()+"/metrics", nil)
	if err != nil || r.status != 200 || !strings.Contains(string(r.body), `lodestone_connector_lag_seconds{connector="m"}`) {
		t.Errorf("metrics: %v %d: no lodestone_connector_lag_seconds for connector m", err, r.status)
	}
}

// TestConnectorsServeBadFile: a mapping that does not fit the model stops
// the server from starting, naming the field.
func TestConnectorsServeBadFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "connectors.json")
	os.WriteFile(file, []byte(`{"connectors":[{"id":"m","kind":"mqtt","broker":"tcp://127.0.0.1:1883","mappings":[{"topic":"x/y","twin":"nope","telemetry":"flow"}]}]}`), 0o644)
	o := server.DefaultOptions()
	o.DataDir, o.HTTPAddr, o.Connectors = t.TempDir(), "127.0.0.1:0", file
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Start(context.Background())
	if err == nil {
		s.Shutdown(context.Background())
		t.Fatal("started with a mapping to a twin that does not exist")
	}
	if !strings.Contains(err.Error(), "connectors[0].mappings[0].twin") {
		t.Errorf("error %v does not name the field", err)
	}
}

// TestConnectorTwins: a twin of dtmi:lodestone:Connector;1 runs as a
// connector (created after the start: started from its event; values
// published on its topic are stored), enabled false stops it, an invalid
// one is reported in its status, and after a restart the twin's connector
// runs from the start.
func TestConnectorTwins(t *testing.T) {
	if c, err := net.DialTimeout("tcp", "127.0.0.1:1883", time.Second); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Mosquitto is not reachable at 127.0.0.1:1883 (CI=true requires it): %v", err)
		}
		t.Skipf("Mosquitto is not reachable at 127.0.0.1:1883: %v", err)
	} else {
		c.Close()
	}
	dir := t.TempDir()
	prefix := fmt.Sprintf("lodestone-twin-%d", rand.Uint64())
	ctx, cancel := contextWithTimeout(90 * time.Second)
	defer cancel()
	c := http.DefaultClient
	o := server.DefaultOptions()
	o.DataDir, o.HTTPAddr = dir, "127.0.0.1:0"
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := send(ctx, c, "POST", s.URL()+"/models", ontologyBody()); err != nil || r.status != 201 {
		t.Fatalf("models: %v %d %s", err, r.status, r.body)
	}
	meter := `[{"@context":"dtmi:dtdl:context;3","@id":"dtmi:test:Meter;1","@type":"Interface","contents":[{"@type":"Telemetry","name":"flow","schema":"double"}]}]`
	if r, err := send(ctx, c, "POST", s.URL()+"/models", []byte(meter)); err != nil || r.status != 201 {
		t.Fatalf("models: %v %d %s", err, r.status, r.body)
	}
	if r, err := send(ctx, c, "PUT", s.URL()+"/digitaltwins/ft1", []byte(`{"$metadata":{"$model":"dtmi:test:Meter;1"}}`)); err != nil || r.status != 200 {
		t.Fatalf("twin: %v %d %s", err, r.status, r.body)
	}
	conn := fmt.Sprintf(`{"$metadata":{"$model":"dtmi:lodestone:Connector;1"},"kind":"mqtt","broker":"tcp://127.0.0.1:1883","mappings":[{"topic":"%s/{twin}/{telemetry}","valuePath":"v"}]}`, prefix)
	if r, err := send(ctx, c, "PUT", s.URL()+"/digitaltwins/mq1", []byte(conn)); err != nil || r.status != 200 {
		t.Fatalf("connector twin: %v %d %s", err, r.status, r.body)
	}
	// No broker: a twin the model accepts but that is no connector.
	if r, err := send(ctx, c, "PUT", s.URL()+"/digitaltwins/bad1", []byte(`{"$metadata":{"$model":"dtmi:lodestone:Connector;1"},"kind":"mqtt","mappings":[{"topic":"x/{twin}/{telemetry}"}]}`)); err != nil || r.status != 200 {
		t.Fatalf("connector twin: %v %d %s", err, r.status, r.body)
	}
	status := func(s *server.Server, id string) map[string]any {
		r, err := send(ctx, c, "GET", s.URL()+"/plant/connectors", nil)
		if err != nil || r.status != 200 {
			t.Fatalf("status: %v %d", err, r.status)
		}
		var v struct{ Value []map[string]any }
		json.Unmarshal(r.body, &v)
		for _, st := range v.Value {
			if st["id"] == id {
				return st
			}
		}
		return nil
	}
	waitState := func(s *server.Server, id, key string, want any) map[string]any {
		for {
			st := status(s, id)
			if st != nil && st[key] == want {
				return st
			}
			if ctx.Err() != nil {
				t.Fatalf("%s: %s never %v: %v", id, key, want, st)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitState(s, "mq1", "connected", true)
	if st := waitState(s, "bad1", "state", "invalid"); !strings.Contains(fmt.Sprint(st["lastError"]), "twin bad1.broker") {
		t.Errorf("invalid connector twin: %v", st)
	}
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://127.0.0.1:1883").SetClientID(prefix + "-pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	for i := range 10 {
		pub.Publish(prefix+"/ft1/flow", 1, false, fmt.Sprintf(`{"v": %d}`, i)).Wait()
	}
	waitState(s, "mq1", "stored", 10.0)
	// Disabled: the connector stops.
	if r, err := send(ctx, c, "PATCH", s.URL()+"/digitaltwins/mq1", []byte(`[{"op":"add","path":"/enabled","value":false}]`)); err != nil || r.status != 204 && r.status != 200 {
		t.Fatalf("patch: %v %d %s", err, r.status, r.body)
	}
	waitState(s, "mq1", "state", "disabled")
	// Enabled again, and the server restarted: it runs from the start.
	if r, err := send(ctx, c, "PATCH", s.URL()+"/digitaltwins/mq1", []byte(`[{"op":"replace","path":"/enabled","value":true}]`)); err != nil || r.status != 204 && r.status != 200 {
		t.Fatalf("patch: %v %d %s", err, r.status, r.body)
	}
	waitState(s, "mq1", "connected", true)
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := startServer(t, func(o *server.Options) { o.DataDir = dir })
	waitState(s2, "mq1", "connected", true)
	pub.Publish(prefix+"/ft1/flow", 1, false, `{"v": 99}`).Wait()
	waitState(s2, "mq1", "stored", 1.0)
	r, err := send(ctx, c, "GET", s2.URL()+"/digitaltwins/ft1/telemetry?name=flow", nil)
	if err != nil || r.status != 200 || strings.Count(string(r.body), `"name":"flow"`) != 11 {
		t.Errorf("telemetry: %v %d %s", err, r.status, r.body)
	}
}
