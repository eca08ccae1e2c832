package api_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"

	"lodestone/org"
	"lodestone/world"
)

// TestOrgRunGraphRoute: POST /org/run?graph=true over a graph holding two
// mines, an OEM and the organisation (put through the API) answers byte
// for byte what POST /org/run answers for the equivalent SCENARIO; errors
// about a rule name its twin.
func TestOrgRunGraphRoute(t *testing.T) {
	e := start(t, options{noModels: true})
	loadOntology(t, e)
	const orgDoc = `{"actors": [
  {"id": "buyer", "role": "procurement", "org": "Acme"},
  {"id": "cfo", "role": "finance", "org": "Acme", "authority_limit": 1000}],
 "rules": [{"id": "build-mine2", "actor": "buyer", "when": {"signal": "days_of_cover", "node": "oem", "below": 20},
  "latency_days": 3, "action": {"type": "start_build", "node": "mine2", "cost": 100, "add_capacity_per_period": 10, "lead_time_days": 15},
  "approval": {"actor": "cfo", "latency_days": 7}}]}`
	const doc = `{"start": "2025-01-01", "days": 120, "shocks": [{"node": "mine", "from": "2025-01-11", "to": "2025-04-30", "capacity_factor": 0}]}`
	const network = `{"nodes": [
  {"id": "mine", "stage": "mine", "country": "ROW", "capacity_per_period": 10},
  {"id": "mine2", "stage": "mine", "country": "ROW", "capacity_per_period": 0},
  {"id": "oem", "stage": "oem", "country": "ROW", "capacity_per_period": 10, "demand_per_period": 10, "inventory": 300, "loss_per_unit": 1}],
 "arcs": [{"from": "mine", "to": "oem", "ratio": 1}, {"from": "mine2", "to": "oem", "ratio": 1}]}`
	e.putTwin("mine", "dtmi:lodestone:Mine;1", map[string]any{"capacityTonnesPerYear": 3650})
	e.putTwin("mine2", "dtmi:lodestone:Mine;1", map[string]any{"capacityTonnesPerYear": 0})
	e.putTwin("oem", "dtmi:lodestone:OEM;1", map[string]any{"magnetDemandTonnesPerYear": 3650, "inventoryTonnes": 300})
	e.putRel("mine", "feeds-oem", "feeds", "oem", map[string]any{"ratio": 1})
	e.putRel("mine2", "feeds-oem", "feeds", "oem", map[string]any{"ratio": 1})
	var o org.Org
	if err := json.Unmarshal([]byte(orgDoc), &o); err != nil {
		t.Fatal(err)
	}
	twins, rels, err := world.OrgTwins(&o, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, tw := range twins {
		e.putTwin(string(tw.ID), tw.Metadata.Model, tw.Properties)
	}
	for _, r := range rels {
		e.putRel(string(r.SourceID), r.ID, r.Name, string(r.TargetID), r.Properties)
	}
	var m map[string]json.RawMessage
	json.Unmarshal([]byte(doc), &m)
	m["network"], m["org"], m["initial_state"] = json.RawMessage(network), json.RawMessage(orgDoc), json.RawMessage(`"at_rest"`)
	own, _ := json.Marshal(m)
	want := e.mustDo("POST", "/org/run?seed=2&moved=true", string(own), 200)
	got := e.mustDo("POST", "/org/run?seed=2&moved=true&graph=true", doc, 200)
	if !bytes.Equal(got.body, want.body) {
		t.Errorf("graph run differs from the equivalent SCENARIO:\n%s\nwant:\n%s", got.body, want.body)
	}
	if !strings.Contains(string(got.body), `"rule":"build-mine2"`) {
		t.Errorf("no decision of build-mine2: %s", got.body)
	}
	// An empty body is the baseline dates (no shock): still the graph's org.
	e.mustDo("POST", "/org/run?graph=true&zeroLatency=false", "", 200)

	// As of a time before a change of the rule, the graph run is the
	// earlier one; now it is not.
	before := time.Now().UTC()
	time.Sleep(50 * time.Millisecond) // so that the change is stamped after before
	for _, tw := range twins {
		if tw.ID == "build-mine2" {
			p := maps.Clone(tw.Properties)
			p["latencyDays"] = 30
			e.putTwin(string(tw.ID), tw.Metadata.Model, p)
		}
	}
	then := e.mustDo("POST", "/org/run?seed=2&moved=true&graph=true&asOf="+url.QueryEscape(before.Format(time.RFC3339Nano)), doc, 200)
	if !bytes.Equal(then.body, want.body) {
		t.Errorf("graph run as of before the change differs from the earlier run:\n%s", then.body)
	}
	if now := e.mustDo("POST", "/org/run?seed=2&moved=true&graph=true", doc, 200); bytes.Equal(now.body, want.body) {
		t.Error("graph run after the rule's latency changed from 3 to 30 days is unchanged")
	}

	for _, tc := range []struct {
		name, path, body, field string
	}{
		{"asOf without graph", "/org/run?asOf=2025-01-01", string(own), "asOf"},
		{"org with graph", "/org/run?graph=true", `{"org": {"actors": [], "rules": []}}`, "org"},
		{"network with graph", "/org/run?graph=true", `{"network": {"nodes": [], "arcs": []}}`, "network"},
		{"bad graph flag", "/org/run?graph=maybe", doc, "graph"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.mustDo("POST", tc.path, tc.body, 400)
			if _, details := checkErrorShape(t, r); !strings.Contains(string(r.body), `"path":"`+tc.field+`"`) {
				t.Errorf("error %s (details %v), want path %s", r.body, details, tc.field)
			}
		})
	}
	// A rule whose action names a node the network lacks: the error names
	// the rule's twin.
	e.putTwin("bad-rule", "dtmi:lodestone:DecisionRule;1", map[string]any{
		"signal": "days_of_cover", "below": 5, "latencyDays": 0, "action": map[string]any{"type": "start_build", "node": "nowhere", "add_capacity_per_period": 1}})
	e.putRel("bad-rule", "actor", "actor", "buyer", nil)
	e.putRel("bad-rule", "watches", "watches", "oem", nil)
	r := e.mustDo("POST", "/org/run?graph=true", doc, 400)
	if !strings.Contains(string(r.body), "twins[bad-rule].action.node") {
		t.Errorf("unknown node: %s, want the path twins[bad-rule].action.node", r.body)
	}
}
