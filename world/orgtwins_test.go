package world_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lodestone/models"
	"lodestone/org"
	"lodestone/supply"
	"lodestone/twin"
	"lodestone/world"
)

func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }

// orgEveryAction is an organisation with one rule per action type of
// org.Actions (every parameter of each set), an approval and an
// escalation, in id order.
func orgEveryAction() *org.Org {
	actions := map[string]org.Action{
		org.ActionActivateArc:        {Type: org.ActionActivateArc, Arc: "mine->oem", Cost: 10},
		org.ActionStartQualification: {Type: org.ActionStartQualification, Arc: "mine->oem", ScreeningDays: ip(3), SamplesDays: ip(4), AuditDays: ip(5)},
		org.ActionReleaseStockpile:   {Type: org.ActionReleaseStockpile, Node: "stock"},
		org.ActionChangePolicy:       {Type: org.ActionChangePolicy, Node: "oem", CoverDays: fp(30.5), Allocation: supply.AllocPriority},
		org.ActionSubstituteGrade:    {Type: org.ActionSubstituteGrade, Node: "oem", RatePerYear: fp(0.1), MaxShare: fp(0.4)},
		org.ActionApplyForLicences:   {Type: org.ActionApplyForLicences, Control: "No. 18"},
		org.ActionStartBuild:         {Type: org.ActionStartBuild, Node: "mine", Cost: 2.5e8, AddCapacityPerPeriod: fp(12.5), RampDays: ip(90), LeadTimeDays: ip(365)},
	}
	o := &org.Org{
		Actors: []org.Actor{
			{ID: "board", Role: "finance", Org: "Acme"},
			{ID: "buyer", Role: "procurement", Org: "Acme"},
			{ID: "cfo", Role: "finance", Org: "Acme", AuthorityLimit: fp(1e6), Escalate: &org.Approval{Actor: "board", LatencyDays: 30}},
		},
	}
	for _, typ := range org.Actions() {
		r := org.Rule{ID: "r-" + typ, Actor: "buyer", When: org.When{Signal: org.SignalDaysOfCover, Node: "oem", Below: fp(20)}, LatencyDays: 5, Action: actions[typ]}
		if typ == org.ActionStartBuild {
			r.Approval = &org.Approval{Actor: "cfo", LatencyDays: 14}
			r.When = org.When{Signal: org.SignalPrice, Material: "NdPr-oxide", Country: "CN", Above: fp(80)}
		}
		o.Rules = append(o.Rules, r)
	}
	slices.SortFunc(o.Rules, func(a, b org.Rule) int { return strings.Compare(a.ID, b.ID) })
	return o
}

// TestOrgTwinsRoundTrip converts an organisation with every action type to
// twins, checks each twin and relationship against the ontology with the
// DTDL validator (through JSON, as the store keeps them), and reads it
// back unchanged.
func TestOrgTwinsRoundTrip(t *testing.T) {
	ms := parseModels(t)
	want := orgEveryAction()
	twins, rels, err := world.OrgTwins(want, "test")
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON, as a snapshot of the store gives them back.
	b, _ := json.Marshal(map[string]any{"twins": twins, "rels": rels})
	var back struct {
		Twins []twin.Twin         `json:"twins"`
		Rels  []twin.Relationship `json:"rels"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	byID := map[twin.ID]string{"oem": models.OEM, "mine": models.Mine, "stock": models.Stockpile}
	for _, tw := range back.Twins {
		byID[tw.ID] = tw.Metadata.Model
		data, _ := json.Marshal(tw)
		var doc map[string]any
		json.Unmarshal(data, &doc)
		if err := ms.Interface(tw.Metadata.Model).ValidateTwin(doc); err != nil {
			t.Errorf("twin %s: ValidateTwin = %v", tw.ID, err)
		}
	}
	for _, r := range back.Rels {
		src, dst := ms.Interface(byID[r.SourceID]), ms.Interface(byID[r.TargetID])
		if err := src.ValidateRelationship(r.Name, dst, r.Properties, 1); err != nil {
			t.Errorf("relationship %s of %s: %v", r.Name, r.SourceID, err)
		}
	}
	// The listing's order does not matter.
	slices.Reverse(back.Twins)
	got, err := world.OrgFromTwins(back.Twins, back.Rels)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	seen := map[string]bool{}
	for _, r := range got.Rules {
		seen[r.Action.Type] = true
	}
	for _, a := range org.Actions() {
		if !seen[a] {
			t.Errorf("action %s not round-tripped", a)
		}
	}
}

// TestOrgTwinsModelEnums checks that the models' enums are org's roles,
// signals and actions.
func TestOrgTwinsModelEnums(t *testing.T) {
	ms := parseModels(t)
	actor, rule := ms.Interface(models.OrgActor), ms.Interface(models.DecisionRule)
	for _, role := range org.Roles() {
		if err := actor.ValidateProperty("/role", role); err != nil {
			t.Errorf("role %s: %v", role, err)
		}
	}
	if actor.ValidateProperty("/role", "board") == nil {
		t.Error("role board accepted")
	}
	for _, s := range []string{org.SignalDaysOfCover, org.SignalInventory, org.SignalFillRate, org.SignalStockout, org.SignalLost, org.SignalControl, org.SignalPrice, org.SignalLicenceRefused, org.SignalPlantAlarm} {
		if err := rule.ValidateProperty("/signal", s); err != nil {
			t.Errorf("signal %s: %v", s, err)
		}
	}
	for _, a := range org.Actions() {
		if err := rule.ValidateProperty("/action", map[string]any{"type": a}); err != nil {
			t.Errorf("action %s: %v", a, err)
		}
	}
	if rule.ValidateProperty("/action", map[string]any{"type": "activate_arc", "lane": "a->b"}) == nil {
		t.Error("an action field unknown to org accepted by the model")
	}
}

// TestOrgTwinsErrors: an organisation whose ids cannot be twin ids.
func TestOrgTwinsErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		o     org.Org
		field string
	}{
		{"actor without id", org.Org{Actors: []org.Actor{{Role: "finance"}}}, "org.actors[0].id"},
		{"rule without id", org.Org{Rules: []org.Rule{{Actor: "a"}}}, "org.rules[0].id"},
		{"rule named as an actor", org.Org{Actors: []org.Actor{{ID: "a", Role: "finance"}}, Rules: []org.Rule{{ID: "a", Actor: "a", Action: org.Action{Type: org.ActionActivateArc}}}}, "org.rules[0].id"},
		{"two actors alike", org.Org{Actors: []org.Actor{{ID: "a", Role: "finance"}, {ID: "a", Role: "policy"}}}, "org.actors[1].id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := world.OrgTwins(&tc.o, "")
			var fe *world.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("err = %v, want field %s", err, tc.field)
			}
		})
	}
}

// orgGraph is a small valid organisation graph: an actor, an approver and
// a rule watching node oem.
func orgGraph() ([]twin.Twin, []twin.Relationship) {
	return []twin.Twin{
			{ID: "buyer", Metadata: twin.Metadata{Model: models.OrgActor}, Properties: map[string]any{"role": "procurement"}},
			{ID: "cfo", Metadata: twin.Metadata{Model: models.OrgActor}, Properties: map[string]any{"role": "finance", "authorityLimit": 5.0}},
			{ID: "r1", Metadata: twin.Metadata{Model: models.DecisionRule}, Properties: map[string]any{
				"signal": "days_of_cover", "below": 20.0, "latencyDays": 3.0, "action": map[string]any{"type": "activate_arc", "arc": "mine->oem"}}},
			{ID: "oem", Metadata: twin.Metadata{Model: models.OEM}},
		}, []twin.Relationship{
			{ID: "actor", SourceID: "r1", TargetID: "buyer", Name: "actor"},
			{ID: "watches", SourceID: "r1", TargetID: "oem", Name: "watches"},
			{ID: "approval", SourceID: "r1", TargetID: "cfo", Name: "approval", Properties: map[string]any{"latencyDays": 7.0}},
		}
}

// TestOrgFromTwinsErrors: bad twins give an error naming the twin and the
// property or relationship.
func TestOrgFromTwinsErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func([]twin.Twin, []twin.Relationship) ([]twin.Twin, []twin.Relationship)
		field string
		msg   string
	}{
		{"no role", func(ts []twin.Twin, rs []twin.Relationship) ([]twin.Twin, []twin.Relationship) {
			delete(ts[0].Properties, "role")
			return ts, rs
		}, "twins[buyer].role", "required"},
		{"limit not a number", func(ts []twin.Twin, rs []twin.Relationship) ([]twin.Twin, []twin.Relationship) {
			ts[1].Properties["authorityLimit"] = "lots"
			return ts, rs
		}, "twins[cfo].authorityLimit", "finite number"},
		{"no signal", func(ts []twin.Twin, rs []twin.Relationship) ([]twin.Twin, []twin.Relationship) {
			delete(ts[2].Properties, "signal")
			return ts, rs
		}, "twins[r1].signal", "required"},
		{"fractional latency", func(ts []twin.Twin, rs []twin.Relationship) ([]twin.Twin, []twin.Relationship) {
			ts[2].Properties["latencyDays"] = 2.5
			return ts, rs
		}, "twins[r1].latencyDays", "whole number"},
		{"no action", func(ts []twin.Twin, rs []twin.Relationship) ([]twin.Twin, []twin.Relationship) {
			delete(ts[2].Properties, "action")
			return ts, rs
		}, "twins[r1].action", "required"},
		{"action not an object", func(ts []twin.Twin, rs []twin.Relationship) ([]twin.Twin, []twin.Relationship) {
			ts[2].Properties["action"] = "activate"
			return ts, rs
		}, "twins[r1].action", "must be an object"},
		{"action unknown field", func(ts []twin.Twin, rs []twin.Relationship) ([]twin.Twin, []twin.Relationship) {
			ts[2].Properties["action"] = map[string]any{"type": "activate_arc", "lane": "x"}
			return ts, rs
		}, "twins[r1].action", `unknown field "lane"`},
		{"action without type", func(ts []twin.Twin, rs []twin.Relationship) ([]twin.Twin, []twin.Relationship) {
			ts[2].Properties["action"] = map[string]any{"arc": "x"}
			return ts, rs
		}, "twins[r1].action", "type: required"},
		{"no actor", func(ts []twin.Twin, rs []twin.Relationship) ([]twin.Twin, []twin.Relationship) {
			return ts, rs[1:]
		}, "twins[r1].actor", "required"},
		{"actor not an actor", func(ts []twin.Twin, rs []twin.Relationship) ([]twin.Twin, []twin.Relationship) {
			rs[0].TargetID = "oem"
			return ts, rs
		}, "twins[r1].actor", "not an OrgActor"},
		{"two watches", func(ts []twin.Twin, rs []twin.Relationship) ([]twin.Twin, []twin.Relationship) {
			return ts, append(rs, twin.Relationship{ID: "w2", SourceID: "r1", TargetID: "buyer", Name: "watches"})
		}, "twins[r1].watches", "at most one"},
		{"approval without latency", func(ts []twin.Twin, rs []twin.Relationship) ([]twin.Twin, []twin.Relationship) {
			rs[2].Properties = nil
			return ts, rs
		}, "twins[r1].approval.latencyDays", "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, rs := tc.edit(orgGraph())
			_, err := world.OrgFromTwins(ts, rs)
			var fe *world.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *world.FieldError", err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Msg, tc.msg) {
				t.Errorf("err = %v, want field %s and %q", err, tc.field, tc.msg)
			}
		})
	}
}

// smallNetwork is a mine feeding an OEM, with a standby lane.
func smallNetwork() *supply.Network {
	return &supply.Network{Nodes: []supply.Node{
		{ID: "mine", Stage: supply.StageMine, Country: "ROW", CapacityPerPeriod: 10},
		{ID: "oem", Stage: supply.StageOEM, Country: "ROW", CapacityPerPeriod: 10, DemandPerPeriod: 10, Inventory: 300, LossPerUnit: 1},
	}, Arcs: []supply.Arc{{From: "mine", To: "oem", Ratio: 1, Standby: true}}}
}

// TestOrgGraphScenario: errors that need the network (org's checks) name
// the twin; an "org" in the document is refused; a valid graph validates.
func TestOrgGraphScenario(t *testing.T) {
	ts, rs := orgGraph()
	sc, err := world.OrgGraphScenario([]byte(`{"start":"2025-01-01","days":60}`), smallNetwork(), ts, rs)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Supply.InitialState != supply.InitialAtRest || len(sc.Org.Rules) != 1 || sc.Org.Rules[0].When.Node != "oem" {
		t.Errorf("scenario = %+v, org %+v", sc.Supply, sc.Org)
	}
	_, err = world.OrgGraphScenario([]byte(`{"org":{"actors":[],"rules":[]}}`), smallNetwork(), ts, rs)
	var we *world.FieldError
	if !errors.As(err, &we) || we.Field != "org" {
		t.Errorf("document with org: err = %v, want field org", err)
	}
	rs[1].TargetID = "nowhere"
	_, err = world.OrgGraphScenario(nil, smallNetwork(), ts, rs)
	var oe *org.FieldError
	if !errors.As(err, &oe) || !strings.HasPrefix(oe.Field, "twins[r1].") || !strings.Contains(oe.Msg, "nowhere") {
		t.Errorf("unknown node: err = %v, want a field of twins[r1] naming the node", err)
	}
}

// FuzzOrgFromTwins feeds arbitrary JSON as a rule's action: no panic, and
// whatever is read converts back to the same twins' organisation.
func FuzzOrgFromTwins(f *testing.F) {
	for _, a := range orgEveryAction().Rules {
		b, _ := json.Marshal(a.Action)
		f.Add(b)
	}
	f.Add([]byte(`{"type":"activate_arc","arc":5}`))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte(`{"type":"x","cost":1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		ts, rs := orgGraph()
		ts[2].Properties["action"] = v
		o, err := world.OrgFromTwins(ts, rs)
		if err != nil {
			return
		}
		ts2, rs2, err := world.OrgTwins(o, "")
		if err != nil {
			t.Fatalf("OrgTwins of what OrgFromTwins read: %v", err)
		}
		o2, err := world.OrgFromTwins(ts2, rs2)
		if err != nil {
			t.Fatalf("second read: %v", err)
		}
		if d := cmp.Diff(o, o2); d != "" {
			t.Errorf("round trip (-first +second):\n%s", d)
		}
	})
}
