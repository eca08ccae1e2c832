package tenancy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"lodestone/tql"
	"lodestone/trust/auth"
	"lodestone/twin"
)

var (
	t0      = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	acme    = auth.Principal{Subject: "alice", Org: "acme", Roles: []auth.Role{auth.Writer}, Method: "token"}
	acmeAdm = auth.Principal{Subject: "ann", Org: "acme", Roles: []auth.Role{auth.Admin}, Method: "token"}
	globex  = auth.Principal{Subject: "gus", Org: "globex", Roles: []auth.Role{auth.Reader}, Method: "token"}
	initech = auth.Principal{Subject: "ivy", Org: "initech", Roles: []auth.Role{auth.Admin}, Method: "token"}
	anon    = auth.Anonymous
)

const mine = "dtmi:x:Mine;1"

func share(props, rels []string, exp time.Time) Agreement {
	return Agreement{ID: "a1", Owner: "acme", ToOrg: "globex", Models: []string{mine}, Properties: props, Relationships: rels, Expires: exp}
}

func TestTwinVisible(t *testing.T) {
	p := NewPolicy([]Agreement{share([]string{"output"}, nil, t0.Add(time.Hour))}, t0)
	expired := NewPolicy([]Agreement{share([]string{"output"}, nil, t0.Add(time.Hour))}, t0.Add(time.Hour))
	cases := []struct {
		name  string
		p     *Policy
		pr    auth.Principal
		org   string
		model string
		want  bool
	}{
		{"anonymous sees all", p, anon, "acme", "dtmi:x:Other;1", true},
		{"own org", p, acme, "acme", "dtmi:x:Other;1", true},
		{"org empty readable by all", p, globex, "", "dtmi:x:Other;1", true},
		{"shared model", p, globex, "acme", mine, true},
		{"unshared model", p, globex, "acme", "dtmi:x:Other;1", false},
		{"model id must match exactly", p, globex, "acme", "dtmi:x:Mine;2", false},
		{"third org", p, initech, "acme", mine, false},
		{"no reverse share", p, acme, "globex", mine, false},
		{"expired at its instant", expired, globex, "acme", mine, false},
		{"nil agreements", NewPolicy(nil, t0), globex, "acme", mine, false},
	}
	for _, c := range cases {
		if got := c.p.TwinVisible(c.pr, c.org, c.model); got != c.want {
			t.Errorf("%s: TwinVisible = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestProjectTwin(t *testing.T) {
	a := share([]string{"output"}, nil, time.Time{})
	b := a
	b.ID, b.Properties = "a2", []string{"site"}
	p := NewPolicy([]Agreement{a, b}, t0)
	tw := twin.Twin{ID: "m1", ETag: "W/\"1\"", Metadata: twin.Metadata{Model: mine, LastUpdateTime: t0, Org: "acme", Writer: "alice", Signer: "k1",
		Properties: map[string]twin.PropertyMetadata{"output": {LastUpdateTime: t0}, "site": {LastUpdateTime: t0}, "secret": {LastUpdateTime: t0}}},
		Properties: map[string]any{"output": 42.0, "site": "x", "secret": "s"}}
	got, ok := p.ProjectTwin(globex, tw)
	if !ok {
		t.Fatal("shared twin hidden")
	}
	want := twin.Twin{ID: "m1", ETag: "W/\"1\"", Metadata: twin.Metadata{Model: mine,
		Properties: map[string]twin.PropertyMetadata{"output": {LastUpdateTime: t0}, "site": {LastUpdateTime: t0}}},
		Properties: map[string]any{"output": 42.0, "site": "x"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("projection (union of two agreements) = %+v, want %+v", got, want)
	}
	if own, _ := p.ProjectTwin(acme, tw); !reflect.DeepEqual(own, tw) {
		t.Errorf("owner's view changed: %+v", own)
	}
	if _, ok := p.ProjectTwin(initech, tw); ok {
		t.Error("third org sees the twin")
	}
	got.Properties["output"] = 1.0
	if tw.Properties["output"] != 42.0 {
		t.Error("projection shares its map with the twin")
	}
}

func TestProjectTwinDoc(t *testing.T) {
	p := NewPolicy([]Agreement{share([]string{"output"}, nil, time.Time{})}, t0)
	d := tql.Doc{"$dtId": "m1", "$etag": "e", "output": 1.0, "secret": 2.0,
		"$metadata": map[string]any{"$model": mine, "$org": "acme", "$writer": "alice", "$lastUpdateTime": "t",
			"output": map[string]any{"lastUpdateTime": "t"}, "secret": map[string]any{"lastUpdateTime": "t"}}}
	got, ok := p.ProjectTwinDoc(globex, d)
	want := tql.Doc{"$dtId": "m1", "$etag": "e", "output": 1.0,
		"$metadata": map[string]any{"$model": mine, "output": map[string]any{"lastUpdateTime": "t"}}}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("ProjectTwinDoc = %v %v, want %v", got, ok, want)
	}
	if _, ok := p.ProjectTwinDoc(initech, d); ok {
		t.Error("third org sees the doc")
	}
	if _, ok := d["secret"]; !ok {
		t.Error("input modified")
	}
}

func TestRelationships(t *testing.T) {
	p := NewPolicy([]Agreement{share([]string{"tonnes"}, []string{"supplies"}, time.Time{})}, t0)
	r := twin.Relationship{ID: "r1", SourceID: "m1", TargetID: "p1", Name: "supplies", Org: "acme", Writer: "alice",
		Properties: map[string]any{"tonnes": 3.0, "price": 9.0}}
	other := r
	other.Name = "owns"
	cases := []struct {
		name     string
		pr       auth.Principal
		r        twin.Relationship
		src, dst bool
		want     bool
	}{
		{"shared name, ends visible", globex, r, true, true, true},
		{"shared name, hidden target", globex, r, true, false, false},
		{"shared name, hidden source", globex, r, false, true, false},
		{"unshared name", globex, other, true, true, false},
		{"own, ends visible", acme, other, true, true, true},
		{"own, hidden end", acme, other, true, false, false},
		{"anonymous", anon, other, false, false, true},
		{"third org", initech, r, true, true, false},
	}
	for _, c := range cases {
		if got := p.RelationshipVisible(c.pr, c.r, c.src, c.dst); got != c.want {
			t.Errorf("%s: RelationshipVisible = %v, want %v", c.name, got, c.want)
		}
	}
	got, ok := p.ProjectRelationship(globex, r)
	if !ok || !reflect.DeepEqual(got.Properties, map[string]any{"tonnes": 3.0}) || got.Writer != "" || got.Org != "acme" {
		t.Errorf("ProjectRelationship = %+v %v", got, ok)
	}
	if _, ok := p.ProjectRelationship(globex, other); ok {
		t.Error("unshared name projected")
	}
	d := tql.Doc{"$relationshipId": "r1", "$sourceId": "m1", "$targetId": "p1", "$relationshipName": "supplies",
		"$org": "acme", "$writer": "alice", "tonnes": 3.0, "price": 9.0}
	gd, ok := p.ProjectRelDoc(globex, d, "")
	wd := tql.Doc{"$relationshipId": "r1", "$sourceId": "m1", "$targetId": "p1", "$relationshipName": "supplies", "$org": "acme", "tonnes": 3.0}
	if !ok || !reflect.DeepEqual(gd, wd) {
		t.Errorf("ProjectRelDoc = %v %v, want %v", gd, ok, wd)
	}
	delete(d, "$org")
	if _, ok := p.ProjectRelDoc(globex, d, "acme"); !ok {
		t.Error("a document without $org does not fall back to its source's org")
	}
	if gd, ok := p.ProjectRelDoc(globex, d, ""); !ok || !reflect.DeepEqual(gd, d) {
		t.Error("a relationship of org \"\" is not visible whole")
	}
}

func TestModelTelemetryWrite(t *testing.T) {
	p := NewPolicy([]Agreement{share([]string{"output"}, nil, time.Time{})}, t0)
	for _, c := range []struct {
		name string
		got  bool
		want bool
	}{
		{"shared model", p.ModelVisible(globex, twin.Model{ID: mine, Org: "acme"}), true},
		{"unshared model", p.ModelVisible(globex, twin.Model{ID: "dtmi:x:Plant;1", Org: "acme"}), false},
		{"model of org \"\"", p.ModelVisible(globex, twin.Model{ID: "dtmi:x:Plant;1"}), true},
		{"listed telemetry", p.TelemetryVisible(globex, "acme", mine, "output"), true},
		{"unlisted telemetry", p.TelemetryVisible(globex, "acme", mine, "temp"), false},
		{"own telemetry", p.TelemetryVisible(acme, "acme", mine, "temp"), true},
		{"writer writes own", p.CanWrite(acme, "acme"), true},
		{"reader does not write own", p.CanWrite(auth.Principal{Org: "acme", Roles: []auth.Role{auth.Reader}, Method: "token"}, "acme"), false},
		{"writer does not write org \"\"", p.CanWrite(acme, ""), false},
		{"admin writes org \"\"", p.CanWrite(acmeAdm, ""), true},
		{"sharing grants no writes", p.CanWrite(globex, "acme"), false},
		{"admin of another org", p.CanWrite(initech, "acme"), false},
		{"anonymous writes all", p.CanWrite(anon, "acme"), true},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	owned := func(id string) bool { return id == mine || id == "dtmi:x:Plant;1" }
	ok := Agreement{ID: "a-1", Owner: "acme", ToOrg: "globex", Models: []string{mine, "dtmi:x:Plant;1"}, Properties: []string{"output"}, Created: t0, Expires: t0.Add(time.Hour)}
	if err := ok.Validate(owned); err != nil {
		t.Fatalf("valid agreement: %v", err)
	}
	cases := []struct {
		name  string
		edit  func(*Agreement)
		field string
	}{
		{"empty id", func(a *Agreement) { a.ID = "" }, "id:"},
		{"bad id", func(a *Agreement) { a.ID = "a/b" }, "id:"},
		{"no receiver", func(a *Agreement) { a.ToOrg = "" }, "to_org:"},
		{"self", func(a *Agreement) { a.ToOrg = "acme" }, "to_org:"},
		{"no models", func(a *Agreement) { a.Models = nil }, "models:"},
		{"model not owned", func(a *Agreement) { a.Models = []string{mine, "dtmi:y:Other;1"} }, "models[1]: model \"dtmi:y:Other;1\" is not owned by org \"acme\""},
		{"duplicate model", func(a *Agreement) { a.Models = []string{mine, mine} }, "models[1]:"},
		{"system property", func(a *Agreement) { a.Properties = []string{"$dtId"} }, "properties[0]:"},
		{"empty relationship", func(a *Agreement) { a.Relationships = []string{""} }, "relationships[0]:"},
		{"expires before creation", func(a *Agreement) { a.Expires = t0.Add(-time.Second) }, "expires:"},
		{"no owner", func(a *Agreement) { a.Owner = "" }, "owner:"},
	}
	for _, c := range cases {
		a := ok
		a.Models = append([]string(nil), ok.Models...)
		c.edit(&a)
		err := a.Validate(owned)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: err = %v, want one naming %q", c.name, err, c.field)
		}
	}
}
