package governance

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestDecodeConfigErrors(t *testing.T) {
	for _, tc := range []struct{ in, field string }{
		{`{"models":["Mine"]}`, "models[0]"},
		{`{"twins":[""]}`, "twins[0]"},
		{`{"properties":[{"path":"/x"}]}`, "properties[0]"},
		{`{"properties":[{"twin":"a","model":"dtmi:x;1","path":"/x"}]}`, "properties[0]"},
		{`{"properties":[{"twin":"a","path":"x"}]}`, "properties[0].path"},
		{`{"properties":[{"model":"x","path":"/x"}]}`, "properties[0].model"},
		{`{"min_reviews":-1}`, "min_reviews"},
		{`{"nope":1}`, "config"},
		{`{} {}`, "config"},
		{`{"twins":"a"}`, "twins"},
	} {
		_, err := DecodeConfig([]byte(tc.in))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: got %v, want a field error at %s", tc.in, err, tc.field)
		}
	}
}

func TestGoverns(t *testing.T) {
	c, err := DecodeConfig([]byte(`{"models":["dtmi:lodestone:Mine"],"twins":["mine-a"],
		"properties":[{"twin":"sep-1","path":"/capacityTonnesPerYear"},{"model":"dtmi:lodestone:Plant;1","path":"/setpoints/temp"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		t    Target
		want string
	}{
		{"model any version", Target{Kind: "model", Models: []string{"dtmi:lodestone:Mine;3"}}, "model dtmi:lodestone:Mine;3"},
		{"other model", Target{Kind: "model", Models: []string{"dtmi:lodestone:Mines;1"}}, ""},
		{"whole twin", Target{Kind: "twin", Twin: "mine-a", Paths: []string{"/name"}}, "twin mine-a"},
		{"twin's relationship", Target{Kind: "relationship", Twin: "mine-a"}, "twin mine-a"},
		{"property of twin", Target{Kind: "twin", Twin: "sep-1", Paths: []string{"/capacityTonnesPerYear"}}, "property sep-1/capacityTonnesPerYear"},
		{"other property", Target{Kind: "twin", Twin: "sep-1", Paths: []string{"/name"}}, ""},
		{"create twin", Target{Kind: "twin", Twin: "sep-1", All: true}, "property sep-1/capacityTonnesPerYear"},
		{"relationship of property twin", Target{Kind: "relationship", Twin: "sep-1"}, ""},
		{"model property parent", Target{Kind: "twin", Twin: "p", TwinModel: "dtmi:lodestone:Plant;1", Paths: []string{"/setpoints"}}, "property p/setpoints/temp"},
		{"model property child", Target{Kind: "twin", Twin: "p", TwinModel: "dtmi:lodestone:Plant;1", Paths: []string{"/setpoints/temp/x"}}, "property p/setpoints/temp"},
		{"model property sibling", Target{Kind: "twin", Twin: "p", TwinModel: "dtmi:lodestone:Plant;1", Paths: []string{"/setpoints/tempo"}}, ""},
		{"model property other version", Target{Kind: "twin", Twin: "p", TwinModel: "dtmi:lodestone:Plant;2", Paths: []string{"/setpoints"}}, ""},
	} {
		got, _ := c.Governs(tc.t)
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	var none *Config
	if _, ok := none.Governs(Target{Kind: "twin", Twin: "x", All: true}); ok {
		t.Error("nil config governs")
	}
}

func TestChangeValidate(t *testing.T) {
	for _, tc := range []struct {
		c     Change
		field string
		sub   string
	}{
		{Change{}, "change.op", ""},
		{Change{Op: "drop"}, "change.op", ""},
		{Change{Op: OpPatchTwin, TwinID: "a"}, "change.patch", ""},
		{Change{Op: OpPatchTwin, TwinID: "a", Patch: json.RawMessage(`[]`), Model: "dtmi:x;1"}, "change.model", ""},
		{Change{Op: OpPatchTwin, TwinID: "a", Patch: json.RawMessage(`[]`)}, "", "twin a"},
		{Change{Op: OpPutTwin, Twin: json.RawMessage(`{"x":1}`)}, "change.twin.$dtId", ""},
		{Change{Op: OpPutTwin, Twin: json.RawMessage(`{"$dtId":"b"}`)}, "", "twin b"},
		{Change{Op: OpPutModels, Models: []json.RawMessage{json.RawMessage(`{"@id":"x"}`)}}, "change.models[0].@id", ""},
		{Change{Op: OpPutModels, Models: []json.RawMessage{json.RawMessage(`{"@id":"dtmi:a:B;1"}`)}}, "", "model dtmi:a:B;1"},
		{Change{Op: OpDecommissionModel, Model: "B"}, "change.model", ""},
		{Change{Op: OpPutRelationship, Relationship: json.RawMessage(`{"$sourceId":"s","$relationshipId":"r"}`)}, "", "relationship s"},
		{Change{Op: OpDeleteRelationship, TwinID: "s", RelationshipID: "r"}, "", "relationship s"},
	} {
		sub, err := tc.c.Validate()
		var fe *FieldError
		switch {
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%+v: got %v, want field %s", tc.c, err, tc.field)
		case tc.field == "" && (err != nil || sub.String() != tc.sub):
			t.Errorf("%+v: got %v %q, want %q", tc.c, err, sub, tc.sub)
		}
	}
}

var (
	writer  = Principal{Subject: "w", Org: "acme", Writer: true}
	writer2 = Principal{Subject: "w2", Org: "acme", Writer: true}
	admin   = Principal{Subject: "a", Org: "acme", Writer: true, Admin: true}
	reader  = Principal{Subject: "r", Org: "acme"}
)

func newProposal(t *testing.T) *Proposal {
	t.Helper()
	pr, err := Propose(writer, "p1", "raise capacity after the audit", Change{Op: OpPatchTwin, TwinID: "sep-1", Patch: json.RawMessage(`[{"op":"replace","path":"/capacityTonnesPerYear","value":5}]`)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// TestWorkflow walks the state machine: who may do what, in which state.
func TestWorkflow(t *testing.T) {
	if _, err := Propose(reader, "p", "why", Change{Op: OpDeleteTwin, TwinID: "a"}, t0); !errors.Is(err, ErrForbidden) {
		t.Errorf("a reader proposed: %v", err)
	}
	if _, err := Propose(writer, "p", " ", Change{Op: OpDeleteTwin, TwinID: "a"}, t0); err == nil || !strings.Contains(err.Error(), "reason") {
		t.Errorf("no reason: %v", err)
	}
	var c Config
	pr := newProposal(t)
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"approve without review", func() error { return pr.Approve(&c, admin, t0) }, ErrState},
		{"author reviews", func() error { return pr.AddReview(writer, VerdictApprove, "", t0) }, ErrForbidden},
		{"reader reviews", func() error { return pr.AddReview(reader, VerdictApprove, "", t0) }, ErrForbidden},
		{"another org's writer reviews", func() error {
			return pr.AddReview(Principal{Subject: "w2", Org: "globex", Writer: true}, VerdictApprove, "", t0)
		}, ErrForbidden},
		{"admin reviews", func() error { return pr.AddReview(admin, VerdictApprove, "", t0) }, nil},
		{"approver's own review does not count", func() error { return pr.Approve(&c, admin, t0) }, ErrState},
		{"second writer rejects", func() error { return pr.AddReview(writer2, VerdictReject, "source?", t0) }, nil},
		{"rejected", func() error { return pr.Approve(&c, admin, t0) }, ErrState},
		{"second writer approves", func() error { return pr.AddReview(writer2, VerdictApprove, "ok", t0) }, nil},
		{"author approves", func() error {
			return pr.Approve(&c, Principal{Subject: "w", Org: "acme", Writer: true, Admin: true}, t0)
		}, ErrForbidden},
		{"writer approves", func() error { return pr.Approve(&c, writer2, t0) }, ErrForbidden},
		{"another org's admin approves", func() error {
			return pr.Approve(&c, Principal{Subject: "a", Org: "globex", Writer: true, Admin: true}, t0)
		}, ErrForbidden},
		{"admin approves", func() error { return pr.Approve(&c, admin, t0) }, nil},
		{"approve twice", func() error { return pr.Approve(&c, admin, t0) }, ErrState},
		{"review after approval", func() error { return pr.AddReview(writer2, VerdictApprove, "", t0) }, ErrState},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.want) || (s.want == nil) != (err == nil) {
			t.Fatalf("%s: got %v, want %v", s.name, err, s.want)
		}
	}
	if pr.Status != StatusApproved || pr.Approver != "acme/a" {
		t.Fatalf("after approval: %+v", pr)
	}
	pr.Applied(3)
	v := NewVersion(3, pr, nil, t0.Add(time.Second))
	if v.Author != "acme/w" || len(v.Reviewers) != 1 || v.Reviewers[0] != "acme/w2" || v.Approver != "acme/a" || v.Reason == "" || v.Subject.Twin != "sep-1" {
		t.Errorf("version: %+v", v)
	}
	if len(pr.Reviews) != 2 {
		t.Errorf("a second review by the same principal should replace the first: %+v", pr.Reviews)
	}
}

func TestFailedMayBeApprovedAgain(t *testing.T) {
	pr := newProposal(t)
	c := Config{MinReviews: 2}
	for _, p := range []Principal{writer2, {Subject: "w3", Org: "acme", Writer: true}} {
		if err := pr.AddReview(p, VerdictApprove, "", t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := pr.Approve(&c, admin, t0); err != nil {
		t.Fatal(err)
	}
	pr.Failed(errors.New("pipeline: twin not found"))
	if pr.Status != StatusFailed || pr.LastError == "" {
		t.Fatalf("%+v", pr)
	}
	if err := pr.Approve(&c, admin, t0); err != nil {
		t.Fatalf("approve after failure: %v", err)
	}
}

func TestDecodeProposal(t *testing.T) {
	for _, tc := range []struct{ in, field string }{
		{`{"reason":"x"}`, "change"},
		{`{"reason":"x","change":{"op":"delete_twin"}}`, "change.twin_id"},
		{`{"reason":"x","change":{"op":"delete_twin","twin_id":"a"},"extra":1}`, "proposal"},
		{`[`, "proposal"},
	} {
		_, _, err := DecodeProposal([]byte(tc.in))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: got %v, want field %s", tc.in, err, tc.field)
		}
	}
	r, c, err := DecodeProposal([]byte(`{"reason":"x","change":{"op":"delete_twin","twin_id":"a"}}`))
	if err != nil || r != "x" || c.TwinID != "a" {
		t.Errorf("got %q %+v %v", r, c, err)
	}
}

func FuzzDecodeConfig(f *testing.F) {
	f.Add([]byte(`{"models":["dtmi:a:B"],"twins":["x"],"properties":[{"twin":"x","path":"/a"}]}`))
	f.Add([]byte(`{"min_reviews":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeConfig(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("decoded config does not validate: %v", err)
		}
		c.Governs(Target{Kind: "twin", Twin: "x", Paths: []string{"/a"}})
	})
}

func FuzzDecodeProposal(f *testing.F) {
	f.Add([]byte(`{"reason":"x","change":{"op":"patch_twin","twin_id":"a","patch":[]}}`))
	f.Add([]byte(`{"reason":"x","change":{"op":"put_models","models":[{"@id":"dtmi:a:B;1"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, c, err := DecodeProposal(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		if _, err := c.Validate(); err != nil {
			t.Fatalf("decoded change does not validate: %v", err)
		}
	})
}
