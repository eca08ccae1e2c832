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
