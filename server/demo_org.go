package server

import (
	"fmt"
	"slices"

	"lodestone/examples"
	"lodestone/models"
	"lodestone/org"
	"lodestone/twin"
	"lodestone/world"
)

// demoOrgSource is the citation of the demo organisation's twins: the
// numbers (trigger, latencies) are assumptions, each with its reason in
// the examples' README.
const demoOrgSource = "examples/org/april-2025.json, section org: the buyer's trigger and latency and the DLA's approval latency are ASSUMPTIONS, each with its reason and reference in examples/org/README.md"

// demoOrg is the organisation of the demo's story as twins (issue 16,
// item 1): the actors and rules of examples/org/april-2025.json's org
// section as OrgActor and DecisionRule twins (world.OrgTwins), loaded with
// the world through the one import path, so that the graph shows who
// watches which node and who approves, and `org run --graph` reads them.
// The document is decoded and checked as `org run` would, so the twins
// are those of a valid scenario.
func demoOrg() ([]twin.Twin, []twin.Relationship, error) {
	b, ok := examples.Demo("org", "april-2025")
	if !ok {
		return nil, nil, fmt.Errorf("server: demo: examples/org/april-2025.json is not bundled")
	}
	sc, err := org.DecodeScenario(b)
	if err != nil {
		return nil, nil, fmt.Errorf("server: demo: examples/org/april-2025.json: %w", err)
	}
	return world.OrgTwins(&sc.Org, demoOrgSource)
}

// demoOrgIDs lists the ids of the demo organisation's twins (actors, then
// rules, each in id order: the order the graph gives them back), for
// GET /demo/story.
func demoOrgIDs() (actors, rules []string) {
	twins, _, err := demoOrg()
	if err != nil {
		return nil, nil // DemoStoryDoc reports the bundle's errors
	}
	for _, t := range twins {
		if t.Metadata.Model == models.OrgActor {
			actors = append(actors, string(t.ID))
		} else {
			rules = append(rules, string(t.ID))
		}
	}
	slices.Sort(actors)
	slices.Sort(rules)
	return actors, rules
}
