package world

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"lodestone/models"
	"lodestone/org"
	"lodestone/supply"
	"lodestone/twin"
)

// The organisation twin on the twin graph (issues 14 and 16): the actors
// and rules of an org SCENARIO's "org" section as OrgActor and
// DecisionRule twins, and back. An actor's or a rule's id is its twin's
// id, so that decisions read from the graph name the same rules as the
// document's.

// Relationship names of the organisation's models.
const (
	relActor     = "actor"       // DecisionRule → OrgActor: who decides
	relWatches   = "watches"     // DecisionRule → facility twin: the node watched
	relApproval  = "approval"    // DecisionRule → OrgActor, edge latencyDays
	relEscalates = "escalatesTo" // OrgActor → OrgActor, edge latencyDays
)

// OrgTwins converts an organisation's actors and rules to twins of the
// models OrgActor and DecisionRule and their relationships (rule → actor,
// rule → watched node, rule → approver, actor → escalation), each twin
// citing source. It is the inverse of OrgFromTwins (for an organisation
// without alarms, which are plant-twin readings, not twins): the round
// trip gives back the actors and rules in id order. The relationship id
// is its name (at most one of each per twin).
func OrgTwins(o *org.Org, source string) ([]twin.Twin, []twin.Relationship, error) {
	var twins []twin.Twin
	var rels []twin.Relationship
	rel := func(src, name, dst string, latency *int) {
		r := twin.Relationship{ID: name, SourceID: twin.ID(src), TargetID: twin.ID(dst), Name: name}
		if latency != nil {
			r.Properties = map[string]any{"latencyDays": *latency}
		}
		rels = append(rels, r)
	}
	seen := map[string]string{}
	unique := func(id, field string) error {
		if id == "" {
			return fieldErr(field, "required")
		}
		if prev, ok := seen[id]; ok {
			return fieldErr(field, "id %q is also %s: actors and rules are twins, whose ids are unique", id, prev)
		}
		seen[id] = field
		return nil
	}
	props := func() map[string]any {
		p := map[string]any{}
		if source != "" {
			p["source"] = source
		}
		return p
	}
	for i, a := range o.Actors {
		if err := unique(a.ID, fmt.Sprintf("org.actors[%d].id", i)); err != nil {
			return nil, nil, err
		}
		p := props()
		p["role"] = a.Role
		if a.Org != "" {
			p["org"] = a.Org
		}
		if a.AuthorityLimit != nil {
			p["authorityLimit"] = *a.AuthorityLimit
		}
		twins = append(twins, twin.Twin{ID: twin.ID(a.ID), Metadata: twin.Metadata{Model: models.OrgActor}, Properties: p})
		if a.Escalate != nil {
			rel(a.ID, relEscalates, a.Escalate.Actor, &a.Escalate.LatencyDays)
		}
	}
	for i, r := range o.Rules {
		if err := unique(r.ID, fmt.Sprintf("org.rules[%d].id", i)); err != nil {
			return nil, nil, err
		}
		p := props()
		p["signal"] = r.When.Signal
		for k, v := range map[string]string{"control": r.When.Control, "material": r.When.Material, "country": r.When.Country} {
			if v != "" {
				p[k] = v
			}
		}
		if r.When.Below != nil {
			p["below"] = *r.When.Below
		}
		if r.When.Above != nil {
			p["above"] = *r.When.Above
		}
		p["latencyDays"] = r.LatencyDays
		act, err := actionProperty(r.Action)
		if err != nil {
			return nil, nil, fieldErr(fmt.Sprintf("org.rules[%d].action", i), "%v", err)
		}
		p["action"] = act
		twins = append(twins, twin.Twin{ID: twin.ID(r.ID), Metadata: twin.Metadata{Model: models.DecisionRule}, Properties: p})
		rel(r.ID, relActor, r.Actor, nil)
		if r.When.Node != "" {
			rel(r.ID, relWatches, r.When.Node, nil)
		}
		if r.Approval != nil {
			rel(r.ID, relApproval, r.Approval.Actor, &r.Approval.LatencyDays)
		}
	}
	return twins, rels, nil
}

// actionProperty is the value of a rule twin's action: the action's JSON
// object (the fields of docs/formats/org.md, which the DecisionRule
// model's Object schema names alike).
func actionProperty(a org.Action) (map[string]any, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // integers stay integers for the DTDL validator
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				m[k] = i
			} else if f, err := n.Float64(); err == nil {
				m[k] = f
			}
		}
	}
	return m, nil
}

// decodeAction reads a rule twin's action property strictly: an object
// whose fields are those of an org action (unknown fields are refused).
func decodeAction(v any) (org.Action, error) {
	var a org.Action
	if _, ok := v.(map[string]any); !ok {
		return a, fmt.Errorf("must be an object with the fields of an org action (docs/formats/org.md), got %T", v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return a, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return a, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if a.Type == "" {
		return a, fmt.Errorf("type: required (one of %s)", strings.Join(org.Actions(), ", "))
	}
	return a, nil
}

// OrgFromTwins reads the organisation from the twin graph: every OrgActor
// twin is an actor and every DecisionRule twin a rule, each in twin-id
// order (the order of a snapshot's listing does not matter). A rule's
// actor is the target of its actor relationship (required), its node the
// target of watches, its approval the target of approval with the edge's
// latencyDays; an actor's escalation is the target of escalatesTo with
// the edge's latencyDays. Other twins are ignored. What the twins cannot
// say by themselves (an unknown node, a cycle of approvals, a negative
// latency) is checked with the network, by org.Scenario.Validate (see
// OrgGraphScenario). Bad input is a *FieldError naming the twin and the
// property ("twins[ID].PROPERTY") or relationship ("twins[ID].actor").
func OrgFromTwins(twins []twin.Twin, rels []twin.Relationship) (*org.Org, error) {
	var actors, rules []*twin.Twin
	for i := range twins {
		switch twins[i].Metadata.Model {
		case models.OrgActor:
			actors = append(actors, &twins[i])
		case models.DecisionRule:
			rules = append(rules, &twins[i])
		}
	}
	byID := func(a, b *twin.Twin) int { return strings.Compare(string(a.ID), string(b.ID)) }
	slices.SortFunc(actors, byID)
	slices.SortFunc(rules, byID)
	isActor := map[twin.ID]bool{}
	for _, a := range actors {
		isActor[a.ID] = true
	}
	out := map[twin.ID]map[string][]twin.Relationship{}
	for _, r := range rels {
		if out[r.SourceID] == nil {
			out[r.SourceID] = map[string][]twin.Relationship{}
		}
		out[r.SourceID][r.Name] = append(out[r.SourceID][r.Name], r)
	}
	// one returns t's only relationship name (nil when none), whose target
	// must be an actor when toActor.
	one := func(t *twin.Twin, name string, toActor bool) (*twin.Relationship, error) {
		rs := out[t.ID][name]
		if len(rs) == 0 {
			return nil, nil
		}
		if len(rs) > 1 {
			return nil, fieldErr(twinField(t, name), "%d relationships %s, at most one allowed", len(rs), name)
		}
		if toActor && !isActor[rs[0].TargetID] {
			return nil, fieldErr(twinField(t, name), "target %q is not an OrgActor twin", rs[0].TargetID)
		}
		return &rs[0], nil
	}
	approval := func(t *twin.Twin, name string) (*org.Approval, error) {
		r, err := one(t, name, true)
		if err != nil || r == nil {
			return nil, err
		}
		lat, ok, err := intProp(r.Properties, "latencyDays")
		if err != nil {
			return nil, fieldErr(twinField(t, name)+".latencyDays", "%v", err)
		}
		if !ok {
			return nil, fieldErr(twinField(t, name)+".latencyDays", "required on the edge (days to sign off)")
		}
		return &org.Approval{Actor: string(r.TargetID), LatencyDays: lat}, nil
	}
	o := &org.Org{Actors: []org.Actor{}, Rules: []org.Rule{}}
	for _, t := range actors {
		a := org.Actor{ID: string(t.ID)}
		var err error
		if a.Role, err = strProp(t, "role", true); err != nil {
			return nil, err
		}
		if a.Org, err = strProp(t, "org", false); err != nil {
			return nil, err
		}
		if a.AuthorityLimit, err = numProp(t, "authorityLimit"); err != nil {
			return nil, err
		}
		if a.Escalate, err = approval(t, relEscalates); err != nil {
			return nil, err
		}
		o.Actors = append(o.Actors, a)
	}
	for _, t := range rules {
		r, err := ruleFromTwin(t, one, approval)
		if err != nil {
			return nil, err
		}
		o.Rules = append(o.Rules, *r)
	}
	return o, nil
}

// ruleFromTwin reads one DecisionRule twin; one and approval read its
// relationships (see OrgFromTwins).
func ruleFromTwin(t *twin.Twin, one func(*twin.Twin, string, bool) (*twin.Relationship, error), approval func(*twin.Twin, string) (*org.Approval, error)) (*org.Rule, error) {
	r := org.Rule{ID: string(t.ID)}
	var err error
	if r.When.Signal, err = strProp(t, "signal", true); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"control", &r.When.Control}, {"material", &r.When.Material}, {"country", &r.When.Country}} {
		if *f.dst, err = strProp(t, f.name, false); err != nil {
			return nil, err
		}
	}
	if r.When.Below, err = numProp(t, "below"); err != nil {
		return nil, err
	}
	if r.When.Above, err = numProp(t, "above"); err != nil {
		return nil, err
	}
	lat, _, err := intProp(t.Properties, "latencyDays")
	if err != nil {
		return nil, fieldErr(twinField(t, "latencyDays"), "%v", err)
	}
	r.LatencyDays = lat
	v, ok := t.Properties["action"]
	if !ok || v == nil {
		return nil, fieldErr(twinField(t, "action"), "required (an object with the action's type and parameters)")
	}
	if r.Action, err = decodeAction(v); err != nil {
		return nil, fieldErr(twinField(t, "action"), "%v", err)
	}
	actor, err := one(t, relActor, true)
	if err != nil {
		return nil, err
	}
	if actor == nil {
		return nil, fieldErr(twinField(t, relActor), "required: a relationship actor to the OrgActor twin who decides")
	}
	r.Actor = string(actor.TargetID)
	watched, err := one(t, relWatches, false)
	if err != nil {
		return nil, err
	}
	if watched != nil {
		r.When.Node = string(watched.TargetID)
	}
	if r.Approval, err = approval(t, relApproval); err != nil {
		return nil, err
	}
	return &r, nil
}

func twinField(t *twin.Twin, p string) string { return "twins[" + string(t.ID) + "]." + p }

func strProp(t *twin.Twin, p string, required bool) (string, error) {
	v, ok := t.Properties[p]
	if !ok || v == nil {
		if required {
			return "", fieldErr(twinField(t, p), "required")
		}
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", fieldErr(twinField(t, p), "must be a string, got %T", v)
	}
	if required && s == "" {
		return "", fieldErr(twinField(t, p), "required")
	}
	return s, nil
}

// numProp reads an optional finite number.
func numProp(t *twin.Twin, p string) (*float64, error) {
	v, ok := t.Properties[p]
	if !ok || v == nil {
		return nil, nil
	}
	f, isNum := toFloat(v)
	if !isNum || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fieldErr(twinField(t, p), "must be a finite number, got %v", v)
	}
	return &f, nil
}

// intProp reads an optional whole number of days (the range is org's to
// check, so that its message is the same as for the document).
func intProp(m map[string]any, p string) (int, bool, error) {
	v, ok := m[p]
	if !ok || v == nil {
		return 0, false, nil
	}
	f, isNum := toFloat(v)
	if !isNum || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, true, fmt.Errorf("must be a whole number of days, got %v", v)
	}
	return int(f), true, nil
}

// orgPath matches the field of an org error about one actor or rule.
var orgPath = regexp.MustCompile(`^org\.(actors|rules)\[(\d+)\](.*)$`)

// OrgGraphScenario makes the org SCENARIO of `lodestone org run --graph`:
// the supply scenario of GraphScenario(doc, net), starting at rest unless
// doc sets initial_state (as `supply run --graph`), and the organisation
// read from the twins by OrgFromTwins. doc must not carry "org" (nor
// "network"): both come from the graph. The scenario is validated; an
// error about an actor or rule names its twin ("twins[ID].when.node"),
// the rest of the path being the field of docs/formats/org.md.
func OrgGraphScenario(doc []byte, net *supply.Network, twins []twin.Twin, rels []twin.Relationship) (*org.Scenario, error) {
	var head map[string]json.RawMessage
	if len(bytes.TrimSpace(doc)) > 0 {
		if err := json.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("world: scenario: %w", err)
		}
	}
	if _, ok := head["org"]; ok {
		return nil, fieldErr("org", "not allowed with the twin graph: the actors and rules come from the graph (OrgActor and DecisionRule twins)")
	}
	sc, err := GraphScenario(doc, net)
	if err != nil {
		return nil, err
	}
	if _, ok := head["initial_state"]; !ok {
		sc.InitialState = supply.InitialAtRest
	}
	o, err := OrgFromTwins(twins, rels)
	if err != nil {
		return nil, err
	}
	s := &org.Scenario{Supply: sc, Org: *o}
	if err := s.Validate(); err != nil {
		return nil, twinError(err, o)
	}
	return s, nil
}

// twinError renames an org error about the i-th actor or rule after its
// twin.
func twinError(err error, o *org.Org) error {
	fe, ok := err.(*org.FieldError)
	if !ok {
		return err
	}
	m := orgPath.FindStringSubmatch(fe.Field)
	if m == nil {
		return err
	}
	var i int
	fmt.Sscan(m[2], &i)
	id := ""
	if m[1] == "actors" && i < len(o.Actors) {
		id = o.Actors[i].ID
	} else if m[1] == "rules" && i < len(o.Rules) {
		id = o.Rules[i].ID
	}
	if id == "" {
		return err
	}
	return &org.FieldError{Field: "twins[" + id + "]" + m[3], Msg: fe.Msg}
}
