package api_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"lodestone/connector"
	"lodestone/store"
)

func TestPlantConnectorRoutes(t *testing.T) {
	e := start(t, options{})
	e.mustDo("PUT", "/digitaltwins/a1", `{"$metadata":{"$model":"dtmi:test:Asset;1"},"name":"a","gauge":{"$metadata":{}}}`, 200)
	// A mapping to a property of the wrong type is refused naming the field.
	bad := `{"connectors":[{"id":"m","kind":"mqtt","broker":"tcp://127.0.0.1:1883","mappings":[{"topic":"p/a1/n","twin":"a1","property":"name","type":"double"}]}]}`
	r := e.mustDo("POST", "/plant/connectors/check", bad, 400)
	if !strings.Contains(string(r.body), "connectors[0].mappings[0].property") {
		t.Errorf("check: %s", r.body)
	}
	ok := `{"connectors":[{"id":"m","kind":"mqtt","broker":"tcp://127.0.0.1:1883","mappings":[{"topic":"p/{twin}/{telemetry}"},{"topic":"p/a1/cap","twin":"a1","property":"capacity"}]}]}`
	if got := e.mustDo("POST", "/plant/connectors/check", ok, 200).json(t); got["ok"] != true || got["mappings"] != 2.0 {
		t.Errorf("check ok: %v", got)
	}
	e.mustDo("POST", "/plant/connectors/check", `{"connectors":[{"id":"m","kind":"kafka"}]}`, 400)
	if got := e.mustDo("GET", "/plant/connectors", nil, 200).json(t); len(got["value"].([]any)) != 0 {
		t.Errorf("no connectors: %v", got)
	}
	e.mustDo("GET", "/plant/connectors/m/dead-letters", nil, 404)
	// What a running connector stores (see package connector's tests).
	ctx := context.Background()
	st, _ := json.Marshal(connector.Status{ID: "m", Kind: "mqtt", State: "connected", Received: 3, Stored: 2, DeadLettered: 1, Latency: connector.Latency{N: 2, P50: 1.5}})
	dl, _ := json.Marshal(connector.DeadLetter{Connector: "m", Seq: 1, Source: "p/a1/temperature", Payload: "x", Reason: "payload: not JSON"})
	if _, err := e.srv.Store.PutDoc(ctx, store.Doc{Kind: connector.KindStatus, ID: "m", Body: st}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Store.PutDoc(ctx, store.Doc{Kind: connector.KindDeadLetter, ID: "m/000000000001", Body: dl}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	got := e.mustDo("GET", "/plant/connectors", nil, 200).json(t)["value"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["latencyMs"].(map[string]any)["p50"] != 1.5 || got[0].(map[string]any)["deadLettered"] != 1.0 {
		t.Errorf("status: %v", got)
	}
	dls := e.mustDo("GET", "/plant/connectors/m/dead-letters", nil, 200).json(t)["value"].([]any)
	if len(dls) != 1 || dls[0].(map[string]any)["reason"] != "payload: not JSON" {
		t.Errorf("dead letters: %v", dls)
	}
}

func TestPlantInspectRoutes(t *testing.T) {
	e := start(t, options{noModels: true})
	b, err := os.ReadFile("../plant/inspect/testdata/inspect.json")
	if err != nil {
		t.Fatal(err)
	}
	got := e.mustDo("POST", "/plant/inspect", b, 200).json(t)
	if n := len(got["findings"].([]any)); n != 4 {
		t.Errorf("%d findings: %v", n, got)
	}
	r := e.mustDo("POST", "/plant/inspect", `{"rules":[{"id":"a","kind":"twin","tag":"x"}],"samples":[{"t_h":2,"tag":"x"},{"t_h":1,"tag":"x"}]}`, 400)
	if !strings.Contains(string(r.body), "samples[1].t_h") {
		t.Errorf("unsorted: %s", r.body)
	}
	fs := e.mustDo("POST", "/plant/inspect/fault-study", `{"duration_h": 12, "faults": [{"name":"bias","kind":"bias","sensor":"xrf-raff-Nd","size":5,"start_h":10}]}`, 200).json(t)
	if fs["synthetic"] != true || len(fs["results"].([]any)) != 1 {
		t.Errorf("fault study: %v", fs)
	}
	e.mustDo("POST", "/plant/inspect/fault-study", `{"faults": [{"name":"x","kind":"bias","sensor":"nope","start_h":1}]}`, 400)
}
