package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lodestone/api"
	"lodestone/models"
	"lodestone/org/governance"
	"lodestone/server"
	"lodestone/trust/auth"
	"lodestone/world"
)

// govEnv is a server with --auth (two writers, two admins, a reader, all
// of org acme), the demo world and a --govern file that governs the
// capacity of sep-cn, the twin plant-x and the model Refinery.
func govEnv(t *testing.T) (*secureEnv, func(who string) []string) {
	t.Helper()
	dir := t.TempDir()
	people := map[string]string{"alice": "writer", "bob": "writer", "carol": "admin", "dave": "admin", "rita": "reader"}
	var toks []string
	for who, role := range people {
		toks = append(toks, fmt.Sprintf(`{"token":"%s-token-0123456789","subject":%q,"org":"acme","roles":[%q]}`, who, who, role))
	}
	// An admin of another org sees none of acme's proposals and versions.
	toks = append(toks, `{"token":"gina-token-0123456789","subject":"gina","org":"globex","roles":["admin"]}`)
	// startSecure uploads the test models as its admin.
	toks = append(toks, fmt.Sprintf(`{"token":%q,"subject":"admin-user","org":"acme","roles":["admin"]}`, roleTokens[auth.Admin]))
	authFile := filepath.Join(dir, "auth.json")
	govFile := filepath.Join(dir, "govern.json")
	if err := os.WriteFile(authFile, []byte(`{"tokens":[`+strings.Join(toks, ",")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	gov := `{"twins":["plant-x"],"models":["dtmi:lodestone:Refinery"],"properties":[{"twin":"sep-cn","path":"/capacityTonnesPerYear"}]}`
	if err := os.WriteFile(govFile, []byte(gov), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startSecure(t, func(o *server.Options) {
		o.Auth, o.Govern = authFile, govFile
	})
	as := func(who string) []string { return []string{"Authorization", "Bearer " + who + "-token-0123456789"} }
	// The default world's models and twins, written by alice (org acme)
	// one by one: imports are refused while anything is governed.
	var raws []json.RawMessage
	for _, f := range models.Files() {
		raws = append(raws, f.Data)
	}
	e.mustDo("POST", "/models", raws, 201, as("carol")...)
	w, err := world.Load()
	if err != nil {
		t.Fatal(err)
	}
	twins, rels := w.Twins()
	for _, tw := range twins {
		if tw.ID == "sep-cn" {
			// Creating a twin with a governed property is governed too.
			e.mustDo("PUT", "/digitaltwins/"+string(tw.ID), tw, 403, as("alice")...)
			doc, err := json.Marshal(tw)
			if err != nil {
				t.Fatal(err)
			}
			if v := govApply(t, e, as, map[string]any{"reason": "the default world", "change": map[string]any{"op": "put_twin", "twin": json.RawMessage(doc)}}); v.N != 1 {
				t.Fatalf("creation = version %d, want 1", v.N)
			}
			continue
		}
		e.mustDo("PUT", "/digitaltwins/"+string(tw.ID), tw, 200, as("alice")...)
	}
	for _, r := range rels {
		e.mustDo("PUT", "/digitaltwins/"+string(r.SourceID)+"/relationships/"+r.ID, r, 200, as("alice")...)
	}
	return e, as
}

func decodeInto(t *testing.T, r res, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%v\n%s", err, r.body)
	}
}

func capacityPatch(v float64) map[string]any {
	return map[string]any{"reason": "capacity from the 2025 audit", "change": map[string]any{"op": "patch_twin", "twin_id": "sep-cn",
		"patch": []any{map[string]any{"op": "replace", "path": "/capacityTonnesPerYear", "value": v}}}}
}

// propose, review and approve a change; returns the version.
func govApply(t *testing.T, e *secureEnv, as func(string) []string, body any) governance.Version {
	t.Helper()
	var pr governance.Proposal
	decodeInto(t, e.mustDo("POST", "/governance/proposals", body, 201, as("alice")...), &pr)
	e.mustDo("POST", "/governance/proposals/"+pr.ID+"/reviews", map[string]any{"verdict": "approve", "comment": "checked"}, 200, as("bob")...)
	var ap api.GovernanceApproval
	decodeInto(t, e.mustDo("POST", "/governance/proposals/"+pr.ID+"/approve", nil, 200, as("carol")...), &ap)
	return ap.Version
}

// scenarioResult runs the graph scenario of the test (as of asOf when set)
// and returns its stored result as JSON.
func scenarioResult(t *testing.T, e *secureEnv, as []string, asOf string) string {
	t.Helper()
	body := map[string]any{"graph": true, "days": 240, "shocks": []any{map[string]any{"node": "sep-my-lynas", "from": "2025-02-01", "to": "2025-06-30", "capacity_factor": 0.2}}}
	if asOf != "" {
		body["asOf"] = asOf
	}
	var run api.ScenarioRun
	decodeInto(t, e.mustDo("POST", "/scenarios", body, 201, as...), &run)
	var stored struct {
		Result json.RawMessage `json:"result"`
	}
	decodeInto(t, e.mustDo("GET", "/scenarios/"+run.ID, nil, 200, as...), &stored)
	var buf bytes.Buffer
	if err := json.Compact(&buf, stored.Result); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestGovernance is the acceptance test of issue 14's governance: a change
// to a governed subject without approval is refused; the workflow's rules
// hold (the author may not review or approve, a reader may not propose,
// approval needs a review); an approved change is a version, with author,
// reviewers, approver, reason and credibility evidence, and is in the
// twin's history; and a scenario run on the graph as of an earlier
// version reproduces that version's result bit for bit.
func TestGovernance(t *testing.T) {
	e, as := govEnv(t)
	patch := []any{map[string]any{"op": "replace", "path": "/capacityTonnesPerYear", "value": 1000.0}}
	for _, who := range []string{"alice", "carol"} {
		r := e.mustDo("PATCH", "/digitaltwins/sep-cn", patch, 403, as(who)...)
		if code := r.errCode(t); code != "Governed" || !strings.Contains(string(r.body), "property sep-cn/capacityTonnesPerYear is governed") {
			t.Errorf("direct patch by %s: %s %s", who, code, r.body)
		}
	}
	e.mustDo("PUT", "/digitaltwins/plant-x", map[string]any{"$metadata": map[string]any{"$model": "dtmi:test:Owner;1"}}, 403, as("carol")...)
	e.mustDo("POST", "/models", []json.RawMessage{json.RawMessage(`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:lodestone:Refinery;1","@type":"Interface"}`)}, 403, as("carol")...)
	// An ungoverned property of the same twin is written directly.
	e.mustDo("PATCH", "/digitaltwins/sep-cn", []any{map[string]any{"op": "add", "path": "/name", "value": "China separation"}}, 204, as("alice")...)

	before := scenarioResult(t, e, as("alice"), "")

	// The workflow's refusals.
	e.mustDo("POST", "/governance/proposals", capacityPatch(1), 403, as("rita")...)
	e.mustDo("POST", "/governance/proposals", map[string]any{"change": capacityPatch(1)["change"]}, 400, as("alice")...)
	var pr governance.Proposal
	decodeInto(t, e.mustDo("POST", "/governance/proposals", capacityPatch(30000), 201, as("alice")...), &pr)
	if pr.Governed != "property sep-cn/capacityTonnesPerYear" || pr.Status != governance.StatusOpen || pr.Author != "acme/alice" {
		t.Fatalf("proposal = %+v", pr)
	}
	path := "/governance/proposals/" + pr.ID
	e.mustDo("POST", path+"/approve", nil, 409, as("carol")...)                                  // no review yet
	e.mustDo("POST", path+"/reviews", map[string]any{"verdict": "approve"}, 403, as("alice")...) // the author
	e.mustDo("POST", path+"/reviews", map[string]any{"verdict": "maybe"}, 400, as("bob")...)
	e.mustDo("POST", path+"/reviews", map[string]any{"verdict": "approve"}, 200, as("bob")...)
	e.mustDo("POST", path+"/approve", nil, 403, as("alice")...) // the author, and no admin
	e.mustDo("POST", path+"/approve", nil, 403, as("bob")...)   // no admin
	var ap api.GovernanceApproval
	decodeInto(t, e.mustDo("POST", path+"/approve", nil, 200, as("carol")...), &ap)
	v1 := ap.Version
	if v1.N != 2 || v1.Author != "acme/alice" || len(v1.Reviewers) != 1 || v1.Reviewers[0] != "acme/bob" || v1.Approver != "acme/carol" ||
		v1.Reason != "capacity from the 2025 audit" || len(v1.Evidence) != 1 || len(v1.Evidence[0].Grades) != 3 || v1.Time.IsZero() {
		t.Fatalf("version 1 = %+v", v1)
	}
	e.mustDo("POST", path+"/approve", nil, 409, as("dave")...) // applied already
	after1 := scenarioResult(t, e, as("alice"), "")
	if after1 == before {
		t.Fatal("the approved capacity change did not change the scenario's result")
	}

	v2 := govApply(t, e, as, capacityPatch(10000))
	if v2.N != 3 || !v2.Time.After(v1.Time) {
		t.Fatalf("version 2 = %+v", v2)
	}
	if now := scenarioResult(t, e, as("alice"), ""); now == after1 {
		t.Fatal("version 2 did not change the result")
	}
	if old := scenarioResult(t, e, as("alice"), v1.AsOf()); old != after1 {
		t.Errorf("the run as of version 1 differs from the run made at version 1:\n%.400s\n%.400s", old, after1)
	}

	var vs api.GovernanceVersionList
	decodeInto(t, e.mustDo("GET", "/governance/versions", nil, 200, as("rita")...), &vs)
	if len(vs.Versions) != 3 || vs.Versions[0].N != 1 || vs.Versions[2].N != 3 || vs.Versions[0].Op != "put_twin" {
		t.Fatalf("versions = %+v", vs)
	}
	var view api.GovernanceVersionView
	decodeInto(t, e.mustDo("GET", "/governance/versions/2", nil, 200, as("rita")...), &view)
	if view.Twin == nil || view.Twin.Properties["capacityTonnesPerYear"] != 30000.0 {
		t.Errorf("version 2 view = %+v", view.Twin)
	}
	e.mustDo("GET", "/governance/versions/4", nil, 404, as("rita")...)
	// Both versions are in the twin's history, at their transaction times.
	var hist struct {
		Value []struct {
			Time string `json:"time"`
		} `json:"value"`
	}
	decodeInto(t, e.mustDo("GET", "/digitaltwins/sep-cn/history", nil, 200, as("rita")...), &hist)
	found := 0
	for _, c := range hist.Value {
		if c.Time == v1.AsOf() || c.Time == v2.AsOf() {
			found++
		}
	}
	if found != 2 {
		t.Errorf("history has %d of the 2 versions' changes: %+v (versions at %s, %s)", found, hist.Value, v1.AsOf(), v2.AsOf())
	}
	var list api.GovernanceProposalList
	decodeInto(t, e.mustDo("GET", "/governance/proposals?status=applied", nil, 200, as("rita")...), &list)
	if len(list.Proposals) != 3 {
		t.Errorf("applied proposals = %d, want 3", len(list.Proposals))
	}

	// Another org's admin: nothing of acme's workflow is there for it.
	decodeInto(t, e.mustDo("GET", "/governance/proposals", nil, 200, as("gina")...), &list)
	decodeInto(t, e.mustDo("GET", "/governance/versions", nil, 200, as("gina")...), &vs)
	if len(list.Proposals) != 0 || len(vs.Versions) != 0 {
		t.Errorf("another org lists %d proposals and %d versions, want none", len(list.Proposals), len(vs.Versions))
	}
	e.mustDo("GET", path, nil, 404, as("gina")...)
	e.mustDo("POST", path+"/reviews", map[string]any{"verdict": "reject"}, 404, as("gina")...)
	e.mustDo("GET", "/governance/versions/2", nil, 404, as("gina")...)
}

// TestGovernanceFailedApply: an approved change the pipeline refuses
// leaves the proposal failed with the reason, and no version.
func TestGovernanceFailedApply(t *testing.T) {
	e, as := govEnv(t)
	var pr governance.Proposal
	body := map[string]any{"reason": "retire", "change": map[string]any{"op": "delete_twin", "twin_id": "no-such-twin"}}
	decodeInto(t, e.mustDo("POST", "/governance/proposals", body, 201, as("alice")...), &pr)
	e.mustDo("POST", "/governance/proposals/"+pr.ID+"/reviews", map[string]any{"verdict": "approve"}, 200, as("bob")...)
	e.mustDo("POST", "/governance/proposals/"+pr.ID+"/approve", nil, 404, as("carol")...)
	decodeInto(t, e.mustDo("GET", "/governance/proposals/"+pr.ID, nil, 200, as("rita")...), &pr)
	if pr.Status != governance.StatusFailed || pr.LastError == "" {
		t.Errorf("proposal after a refused apply = %+v", pr)
	}
	var vs api.GovernanceVersionList
	decodeInto(t, e.mustDo("GET", "/governance/versions", nil, 200, as("rita")...), &vs)
	if len(vs.Versions) != 1 {
		t.Errorf("versions = %+v, want only the creation of sep-cn", vs.Versions)
	}
}
