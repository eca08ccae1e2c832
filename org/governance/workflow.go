package governance

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrForbidden means the principal may not take this step (its role, or
// it is the author); ErrState that the proposal is not in a state that
// allows it. Both are checked with errors.Is.
var (
	ErrForbidden = errors.New("governance: forbidden")
	ErrState     = errors.New("governance: wrong state")
)

// Principal is who takes a step: the trust layer's principal reduced to
// what the rules need. Writer means it holds the writer role (an admin
// does too), Admin the admin role.
type Principal struct {
	Subject string `json:"subject"`
	Org     string `json:"org,omitempty"`
	Writer  bool   `json:"-"`
	Admin   bool   `json:"-"`
}

// Key is "org/subject", the identity compared between steps.
func (p Principal) Key() string { return p.Org + "/" + p.Subject }

// The operations of a Change.
const (
	OpPutModels          = "put_models"          // Models: DTDL documents to upload
	OpDecommissionModel  = "decommission_model"  // Model
	OpPutTwin            = "put_twin"            // Twin: the twin document ($dtId, $metadata.$model, properties)
	OpPatchTwin          = "patch_twin"          // TwinID, Patch (JSON Patch)
	OpDeleteTwin         = "delete_twin"         // TwinID
	OpPutRelationship    = "put_relationship"    // Relationship ($sourceId, $relationshipId, …)
	OpPatchRelationship  = "patch_relationship"  // TwinID (source), RelationshipID, Patch
	OpDeleteRelationship = "delete_relationship" // TwinID (source), RelationshipID
)

// Ops lists the operations a change may have.
func Ops() []string {
	return []string{OpPutModels, OpDecommissionModel, OpPutTwin, OpPatchTwin, OpDeleteTwin, OpPutRelationship, OpPatchRelationship, OpDeleteRelationship}
}

// Change is the write a proposal asks for, as the write pipeline takes it.
type Change struct {
	Op             string            `json:"op"`
	Models         []json.RawMessage `json:"models,omitempty"`
	Model          string            `json:"model,omitempty"`
	Twin           json.RawMessage   `json:"twin,omitempty"`
	TwinID         string            `json:"twin_id,omitempty"`
	Patch          json.RawMessage   `json:"patch,omitempty"`
	Relationship   json.RawMessage   `json:"relationship,omitempty"`
	RelationshipID string            `json:"relationship_id,omitempty"`
}

// Subject names what the change writes: the twin id (a relationship's
// source), or the model ids. It is filled by Validate.
type Subject struct {
	Kind   string   `json:"kind"` // model, twin or relationship
	Twin   string   `json:"twin,omitempty"`
	Models []string `json:"models,omitempty"`
}

// String is "twin ID", "relationship SRC/ID" or "model ID, ID".
func (s Subject) String() string {
	if s.Kind == "model" {
		return "model " + strings.Join(s.Models, ", ")
	}
	return s.Kind + " " + s.Twin
}

// Validate checks the change's shape (the pipeline checks its content
// when it is applied) and returns its subject; errors name the field under
// "change".
func (c *Change) Validate() (Subject, error) {
	want := map[string][]string{
		OpPutModels: {"models"}, OpDecommissionModel: {"model"}, OpPutTwin: {"twin"},
		OpPatchTwin: {"twin_id", "patch"}, OpDeleteTwin: {"twin_id"}, OpPutRelationship: {"relationship"},
		OpPatchRelationship: {"twin_id", "relationship_id", "patch"}, OpDeleteRelationship: {"twin_id", "relationship_id"},
	}
	fields, ok := want[c.Op]
	if !ok {
		if c.Op == "" {
			return Subject{}, fieldErr("change.op", "required (one of %s)", strings.Join(Ops(), ", "))
		}
		return Subject{}, fieldErr("change.op", "unknown op %q (want one of %s)", c.Op, strings.Join(Ops(), ", "))
	}
	set := map[string]bool{"models": len(c.Models) > 0, "model": c.Model != "", "twin": len(c.Twin) > 0,
		"twin_id": c.TwinID != "", "patch": len(c.Patch) > 0, "relationship": len(c.Relationship) > 0, "relationship_id": c.RelationshipID != ""}
	for _, f := range []string{"models", "model", "twin", "twin_id", "patch", "relationship", "relationship_id"} {
		if slices.Contains(fields, f) && !set[f] {
			return Subject{}, fieldErr("change."+f, "required with op %s", c.Op)
		}
		if !slices.Contains(fields, f) && set[f] {
			return Subject{}, fieldErr("change."+f, "does not go with op %s", c.Op)
		}
	}
	switch c.Op {
	case OpPutModels:
		var ids []string
		for i, m := range c.Models {
			var head struct {
				ID string `json:"@id"`
			}
			if err := json.Unmarshal(m, &head); err != nil || !strings.HasPrefix(head.ID, "dtmi:") {
				return Subject{}, fieldErr(fmt.Sprintf("change.models[%d].@id", i), "want a DTDL interface with an @id dtmi:…")
			}
			ids = append(ids, head.ID)
		}
		return Subject{Kind: "model", Models: ids}, nil
	case OpDecommissionModel:
		if !strings.HasPrefix(c.Model, "dtmi:") {
			return Subject{}, fieldErr("change.model", "%q is not a model id", c.Model)
		}
		return Subject{Kind: "model", Models: []string{c.Model}}, nil
	case OpPutTwin:
		var head struct {
			ID string `json:"$dtId"`
		}
		if err := json.Unmarshal(c.Twin, &head); err != nil || head.ID == "" {
			return Subject{}, fieldErr("change.twin.$dtId", "want a twin document with a $dtId")
		}
		return Subject{Kind: "twin", Twin: head.ID}, nil
	case OpPutRelationship:
		var head struct {
			Src string `json:"$sourceId"`
			ID  string `json:"$relationshipId"`
		}
		if err := json.Unmarshal(c.Relationship, &head); err != nil || head.Src == "" || head.ID == "" {
			return Subject{}, fieldErr("change.relationship", "want a relationship with $sourceId and $relationshipId")
		}
		return Subject{Kind: "relationship", Twin: head.Src}, nil
	case OpPatchRelationship, OpDeleteRelationship:
		return Subject{Kind: "relationship", Twin: c.TwinID}, nil
	}
	return Subject{Kind: "twin", Twin: c.TwinID}, nil
}

// The states of a proposal.
const (
	StatusOpen     = "open"     // proposed; reviews may come
	StatusApproved = "approved" // approved, being applied
	StatusApplied  = "applied"  // applied: a version
	StatusFailed   = "failed"   // approved but the pipeline refused it (LastError); may be approved again
)

// Verdicts of a review.
const (
	VerdictApprove = "approve"
	VerdictReject  = "reject"
)

// Review is one principal's verdict on a proposal (a later review by the
// same principal replaces its earlier one).
type Review struct {
	By      string    `json:"by"` // Principal.Key
	Verdict string    `json:"verdict"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// Proposal is a change on its way through the workflow.
type Proposal struct {
	ID     string `json:"id"`
	Author string `json:"author"` // Principal.Key
	// Org is the author's org: only principals of that org see, review
	// and approve the proposal.
	Org        string    `json:"org,omitempty"`
	Reason     string    `json:"reason"`
	Change     Change    `json:"change"`
	Subject    Subject   `json:"subject"`
	Governed   string    `json:"governed,omitempty"` // the governed subject it touches, "" when none
	Status     string    `json:"status"`
	Reviews    []Review  `json:"reviews"`
	Approver   string    `json:"approver,omitempty"`
	ApprovedAt time.Time `json:"approved_at,omitzero"`
	Version    int       `json:"version,omitempty"` // set once applied
	LastError  string    `json:"last_error,omitempty"`
	Created    time.Time `json:"created"`
}

// Propose checks a new proposal by p and returns it open. Only writers
// propose; a reason is required.
func Propose(p Principal, id, reason string, c Change, now time.Time) (*Proposal, error) {
	if !p.Writer {
		return nil, fmt.Errorf("%w: proposing needs the writer role; %s has not got it", ErrForbidden, p.Key())
	}
	if strings.TrimSpace(reason) == "" {
		return nil, fieldErr("reason", "required: why the change is made")
	}
	sub, err := c.Validate()
	if err != nil {
		return nil, err
	}
	return &Proposal{ID: id, Author: p.Key(), Org: p.Org, Reason: reason, Change: c, Subject: sub, Status: StatusOpen, Reviews: []Review{}, Created: now}, nil
}

// AddReview records p's verdict. Writers and admins review; the author may
// not review its own proposal; only an open or failed proposal takes
// reviews.
func (pr *Proposal) AddReview(p Principal, verdict, comment string, now time.Time) error {
	if !p.Writer {
		return fmt.Errorf("%w: reviewing needs the writer or admin role; %s has neither", ErrForbidden, p.Key())
	}
	if p.Org != pr.Org {
		return fmt.Errorf("%w: proposal %s belongs to another org", ErrForbidden, pr.ID)
	}
	if p.Key() == pr.Author {
		return fmt.Errorf("%w: %s is the author of proposal %s and may not review it", ErrForbidden, p.Key(), pr.ID)
	}
	if verdict != VerdictApprove && verdict != VerdictReject {
		return fieldErr("verdict", "want %q or %q, got %q", VerdictApprove, VerdictReject, verdict)
	}
	if pr.Status != StatusOpen && pr.Status != StatusFailed {
		return fmt.Errorf("%w: proposal %s is %s and takes no more reviews", ErrState, pr.ID, pr.Status)
	}
	pr.Reviews = slices.DeleteFunc(pr.Reviews, func(r Review) bool { return r.By == p.Key() })
	pr.Reviews = append(pr.Reviews, Review{By: p.Key(), Verdict: verdict, Comment: comment, At: now})
	return nil
}

// Approve checks that p may approve the proposal under c and marks it
// approved (the caller then applies it and calls Applied or Failed). The
// approver holds the admin role and is not the author; the proposal has at
// least c.MinReviews approving reviews by principals other than the author
// and the approver, and no standing rejection.
func (pr *Proposal) Approve(c *Config, p Principal, now time.Time) error {
	if !p.Admin {
		return fmt.Errorf("%w: approving needs the admin role; %s has not got it", ErrForbidden, p.Key())
	}
	if p.Org != pr.Org {
		return fmt.Errorf("%w: proposal %s belongs to another org", ErrForbidden, pr.ID)
	}
	if p.Key() == pr.Author {
		return fmt.Errorf("%w: %s is the author of proposal %s and may not approve its own change", ErrForbidden, p.Key(), pr.ID)
	}
	if pr.Status != StatusOpen && pr.Status != StatusFailed {
		return fmt.Errorf("%w: proposal %s is %s, not open", ErrState, pr.ID, pr.Status)
	}
	n := 0
	for _, r := range pr.Reviews {
		if r.Verdict == VerdictReject {
			return fmt.Errorf("%w: proposal %s was rejected by %s (a new review by them replaces it)", ErrState, pr.ID, r.By)
		}
		if r.By != p.Key() && r.By != pr.Author {
			n++
		}
	}
	if need := c.minReviews(); n < need {
		return fmt.Errorf("%w: proposal %s has %d approving review(s) by principals other than its author and approver; it needs %d", ErrState, pr.ID, n, need)
	}
	pr.Status, pr.Approver, pr.ApprovedAt, pr.LastError = StatusApproved, p.Key(), now, ""
	return nil
}

// Applied records that the approved change is version n.
func (pr *Proposal) Applied(n int) {
	pr.Status, pr.Version = StatusApplied, n
}

// Failed records that the pipeline refused the approved change.
func (pr *Proposal) Failed(err error) {
	pr.Status, pr.LastError = StatusFailed, err.Error()
}

// Reviewers returns the principals whose approving review counted.
func (pr *Proposal) Reviewers() []string {
	out := []string{}
	for _, r := range pr.Reviews {
		if r.Verdict == VerdictApprove && r.By != pr.Approver && r.By != pr.Author {
			out = append(out, r.By)
		}
	}
	return out
}

// Evidence is the credibility evidence of a version: the report of GET
// /credibility/{id} for its subject when it was approved (each filter's
// grade), or why there is none.
type Evidence struct {
	Subject     string            `json:"subject"`
	Link        string            `json:"link"` // "/credibility/{id}"
	Grades      map[string]string `json:"grades,omitempty"`
	GeneratedAt string            `json:"generated_at,omitempty"`
	Note        string            `json:"note,omitempty"`
}

// Version is an applied change: the twin as of Time is the twin after it.
type Version struct {
	N         int        `json:"n"`
	Proposal  string     `json:"proposal"`
	Subject   Subject    `json:"subject"`
	Governed  string     `json:"governed,omitempty"`
	Op        string     `json:"op"`
	Author    string     `json:"author"`
	Org       string     `json:"org,omitempty"` // the author's org: only its principals see the version
	Reviewers []string   `json:"reviewers"`
	Approver  string     `json:"approver"`
	Reason    string     `json:"reason"`
	Evidence  []Evidence `json:"evidence"`
	// Time is the transaction time of the change: read the graph with
	// asOf=Time to see the twin as of this version.
	Time       time.Time `json:"time"`
	ApprovedAt time.Time `json:"approved_at"`
}

// NewVersion builds version n of an applied proposal.
func NewVersion(n int, pr *Proposal, ev []Evidence, at time.Time) Version {
	if ev == nil {
		ev = []Evidence{}
	}
	return Version{N: n, Proposal: pr.ID, Subject: pr.Subject, Governed: pr.Governed, Op: pr.Change.Op, Author: pr.Author, Org: pr.Org,
		Reviewers: pr.Reviewers(), Approver: pr.Approver, Reason: pr.Reason, Evidence: ev, Time: at, ApprovedAt: pr.ApprovedAt}
}

// DecodeProposal decodes the body of POST /governance/proposals strictly:
// {"reason", "change"}.
func DecodeProposal(data []byte) (reason string, c Change, err error) {
	var body struct {
		Reason string  `json:"reason"`
		Change *Change `json:"change"`
	}
	if err := strict(data, &body, "proposal"); err != nil {
		return "", Change{}, err
	}
	if body.Change == nil {
		return "", Change{}, fieldErr("change", "required")
	}
	if _, err := body.Change.Validate(); err != nil {
		return "", Change{}, err
	}
	return body.Reason, *body.Change, nil
}

// AsOf is the version's time as the asOf parameter of reads take it
// (RFC 3339 with nanoseconds).
func (v Version) AsOf() string { return v.Time.UTC().Format(time.RFC3339Nano) }
