package server_test

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"lodestone/api"
	"lodestone/org"
	"lodestone/server"
	"lodestone/world"
)

// TestDemoOrgOnGraph: lodestone demo loads the April 2025 actors and
// rules as twins; GET /demo/story names them; reading the graph's
// snapshot back gives the org section of examples/org/april-2025.json
// (the one the story runs); the rule's relationships show who watches
// which node and who approves.
func TestDemoOrgOnGraph(t *testing.T) {
	o := server.DefaultOptions()
	o.DataDir, o.HTTPAddr, o.LoadDemo = t.TempDir(), "127.0.0.1:0", true
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	}()
	base := s.URL()
	var story server.DemoStory
	getJSON(t, base+"/demo/story", &story)
	want, err := org.DecodeScenario(story.OrgScenario)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range want.Org.Actors {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(story.OrgActors, ids) || len(story.OrgRules) != len(want.Org.Rules) || len(ids) == 0 {
		t.Errorf("story names actors %v and rules %v; the org section has actors %v and %d rules", story.OrgActors, story.OrgRules, ids, len(want.Org.Rules))
	}
	var snap api.Snapshot
	getJSON(t, base+"/snapshot", &snap)
	got, err := world.OrgFromTwins(snap.Twins, snap.Relationships)
	if err != nil {
		t.Fatal(err)
	}
	wantOrg := want.Org
	slices.SortFunc(wantOrg.Actors, func(a, b org.Actor) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(wantOrg.Rules, func(a, b org.Rule) int { return cmp.Compare(a.ID, b.ID) })
	if d := gocmp.Diff(&wantOrg, got); d != "" {
		t.Errorf("organisation read from the demo graph (-file +graph):\n%s", d)
	}
	for _, r := range want.Org.Rules {
		var rels struct {
			Value []struct {
				Name   string `json:"$relationshipName"`
				Target string `json:"$targetId"`
			} `json:"value"`
		}
		getJSON(t, base+"/digitaltwins/"+r.ID+"/relationships", &rels)
		seen := map[string]string{}
		for _, x := range rels.Value {
			seen[x.Name] = x.Target
		}
		if seen["actor"] != r.Actor || seen["watches"] != r.When.Node || r.Approval != nil && seen["approval"] != r.Approval.Actor {
			t.Errorf("rule %s relationships %v, want actor %s, watches %s, approval %+v", r.ID, seen, r.Actor, r.When.Node, r.Approval)
		}
	}
	res, err := http.Get(base + "/digitaltwins/" + story.OrgActors[0])
	if err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("GET the actor twin: %v %v", res.Status, err)
	}
	res.Body.Close()
}
