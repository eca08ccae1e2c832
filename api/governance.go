package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"lodestone/org/governance"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust/auth"
	"lodestone/trust/credibility"
	"lodestone/twin"
)

// Governance of the twin (issue 14, item 4; docs/formats/governance.md):
// changes to the governed subjects of Options.Governance go through
// proposal → review → approval, and each applied change is a version.
// Proposals and versions are store documents (kinds below); an approved
// change is applied through the write pipeline like any other write, with
// a context mark that lets it past GovernanceGuard.
const (
	docProposal = "governance.proposal"
	docVersion  = "governance.version"
)

func (a *API) governanceRoutes() []Route {
	return []Route{
		{Pattern: "POST /governance/proposals", Handler: a.govPropose, Summary: "Propose a change to the twin (a write of models, a twin or a relationship) with its reason; writers propose", Body: "GovernanceProposalRequest", Response: "GovernanceProposal"},
		{Pattern: "GET /governance/proposals", Handler: a.govProposals, Summary: "Proposals, oldest first (?status=open|approved|applied|failed)", Response: "GovernanceProposalList"},
		{Pattern: "GET /governance/proposals/{id}", Handler: a.govProposal, Summary: "A proposal with its reviews, approver and version", Response: "GovernanceProposal"},
		{Pattern: "POST /governance/proposals/{id}/reviews", Handler: a.govReview, Summary: "Review a proposal: verdict approve or reject, with a comment; not by its author", Body: "GovernanceReviewRequest", Response: "GovernanceProposal"},
		{Pattern: "POST /governance/proposals/{id}/approve", Handler: a.govApprove, Summary: "Approve a reviewed proposal and apply it through the write pipeline: an admin who is not its author; answers the proposal and its version", Response: "GovernanceApproval"},
		{Pattern: "GET /governance/versions", Handler: a.govVersions, Summary: "The approved changes, version 1 first, each with author, reviewers, approver, reason, credibility evidence and transaction time", Response: "GovernanceVersionList"},
		{Pattern: "GET /governance/versions/{n}", Handler: a.govVersion, Summary: "Version n and the state of its subject as of its transaction time (read the whole graph with /snapshot?asOf= that time)", Response: "GovernanceVersionView"},
	}
}

// GovernanceProposalRequest is the body of POST /governance/proposals.
type GovernanceProposalRequest struct {
	Reason string            `json:"reason"`
	Change governance.Change `json:"change"`
}

// GovernanceReviewRequest is the body of a review.
type GovernanceReviewRequest struct {
	Verdict string `json:"verdict"`
	Comment string `json:"comment,omitempty"`
}

// GovernanceProposalList is the answer of GET /governance/proposals.
type GovernanceProposalList struct {
	Proposals []governance.Proposal `json:"proposals"`
}

// GovernanceApproval is the answer of an approval.
type GovernanceApproval struct {
	Proposal governance.Proposal `json:"proposal"`
	Version  governance.Version  `json:"version"`
}

// GovernanceVersionList is the answer of GET /governance/versions.
type GovernanceVersionList struct {
	Versions []governance.Version `json:"versions"`
}

// GovernanceVersionView is version n with its subject as of its time.
type GovernanceVersionView struct {
	governance.Version
	// AsOf is the version's transaction time, as the asOf of reads.
	AsOfTime string `json:"asOf"`
	// Twin (twin subjects), Relationship (relationship subjects) and
	// Models (model subjects) are the subject as of AsOf; absent when it
	// did not exist then (a deletion).
	Twin         *twin.Twin         `json:"twin,omitempty"`
	Relationship *twin.Relationship `json:"relationship,omitempty"`
	Models       []twin.Model       `json:"models,omitempty"`
}

func init() {
	for name, t := range map[string]reflect.Type{
		"GovernanceProposalRequest": reflect.TypeFor[GovernanceProposalRequest](),
		"GovernanceReviewRequest":   reflect.TypeFor[GovernanceReviewRequest](),
		"GovernanceProposal":        reflect.TypeFor[governance.Proposal](),
		"GovernanceProposalList":    reflect.TypeFor[GovernanceProposalList](),
		"GovernanceApproval":        reflect.TypeFor[GovernanceApproval](),
		"GovernanceVersionList":     reflect.TypeFor[GovernanceVersionList](),
		"GovernanceVersionView":     reflect.TypeFor[GovernanceVersionView](),
	} {
		schemaTypes[name] = t
	}
}

type governedKey struct{}

// asGoverned marks ctx as the application of an approved change, which
// GovernanceGuard lets through.
func asGoverned(ctx context.Context) context.Context {
	return context.WithValue(ctx, governedKey{}, true)
}

// GovernanceGuard is the pipeline hook that refuses a write touching a
// governed subject unless it is the application of an approved proposal
// (403 Governed, naming the subject and the workflow). While anything is
// governed it also refuses bulk imports made by a request (an import
// could overwrite a governed twin); the server's own demo load at start is
// not a request and passes.
type GovernanceGuard struct {
	Config *governance.Config
	Store  store.Store
}

// Check implements pipeline.Hook.
func (g GovernanceGuard) Check(ctx context.Context, w *pipeline.Write) error {
	if g.Config.Empty() {
		return nil
	}
	if v, _ := ctx.Value(governedKey{}).(bool); v {
		return nil
	}
	t := governance.Target{Kind: string(w.Kind)}
	switch w.Kind {
	case store.KindModel:
		if w.Op == store.OpCreate {
			for _, m := range w.Models {
				t.Models = append(t.Models, m.ID)
			}
		} else {
			t.Models = []string{w.Subject}
		}
	case store.KindTwin:
		if err := g.twinTarget(ctx, w, &t); err != nil {
			return err
		}
	case store.KindRelationship:
		t.Twin, _, _ = strings.Cut(w.Subject, "/relationships/")
	case store.KindImport:
		if _, ok := auth.FromContext(ctx); ok {
			return &Error{Status: http.StatusForbidden, Code: "Governed", Message: "imports are refused while subjects are governed (serve --govern): an import could overwrite a governed twin; write the governed changes through POST /governance/proposals and the rest one by one"}
		}
		return nil
	default:
		return nil
	}
	sub, ok := g.Config.Governs(t)
	if !ok {
		return nil
	}
	return &Error{Status: http.StatusForbidden, Code: "Governed",
		Message: fmt.Sprintf("%s is governed (serve --govern): propose the change with POST /governance/proposals; it is applied once another principal has reviewed it and an admin who is not its author has approved it", sub),
		Details: []ErrorDetail{{Message: "governed subject", Target: sub}}}
}

// twinTarget fills the twin, its model and the property paths a twin
// write changes (from the stored twin to the write's result).
func (g GovernanceGuard) twinTarget(ctx context.Context, w *pipeline.Write, t *governance.Target) error {
	t.Twin = w.Subject
	cur, err := g.Store.GetTwin(ctx, twin.ID(w.Subject))
	switch {
	case errors.Is(err, store.ErrNotFound):
		t.All = true
	case err != nil:
		return err
	}
	t.TwinModel = cur.Metadata.Model
	if w.Op == store.OpDelete || w.Twin == nil {
		t.All = true
		return nil
	}
	if w.Twin.Metadata.Model != cur.Metadata.Model {
		t.All = true
		t.TwinModel = w.Twin.Metadata.Model
		return nil
	}
	t.Paths = diffPaths("", cur.Properties, w.Twin.Properties)
	return nil
}

// diffPaths returns the JSON pointers of the values that differ between a
// and b, descending into objects both sides have.
func diffPaths(prefix string, a, b map[string]any) []string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		p := prefix + "/" + strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
		ma, okA := a[k].(map[string]any)
		mb, okB := b[k].(map[string]any)
		if okA && okB {
			out = append(out, diffPaths(p, ma, mb)...)
			continue
		}
		if !jsonEqual(a[k], b[k]) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Committed implements pipeline.Hook.
func (GovernanceGuard) Committed(context.Context, []store.Record) error { return nil }

// govPrincipal is the request's principal for the workflow's rules.
func govPrincipal(ctx context.Context) governance.Principal {
	p, ok := auth.FromContext(ctx)
	if !ok {
		p = auth.Anonymous
	}
	return governance.Principal{Subject: p.Subject, Org: p.Org, Writer: p.Has(auth.Writer), Admin: p.Has(auth.Admin)}
}

// govError maps the workflow's errors: a field error is a 400, a step the
// principal may not take a 403, a step the state does not allow a 409.
func govError(err error) error {
	var fe *governance.FieldError
	switch {
	case errors.As(err, &fe):
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: err.Error(), Details: []ErrorDetail{{Message: fe.Msg, Path: fe.Field}}, Err: err}
	case errors.Is(err, governance.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "Forbidden", Message: err.Error(), Err: err}
	case errors.Is(err, governance.ErrState):
		return &Error{Status: http.StatusConflict, Code: "Conflict", Message: err.Error(), Err: err}
	}
	return err
}

func (a *API) govPropose(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	reason, c, err := governance.DecodeProposal(body)
	if err != nil {
		return govError(err)
	}
	pr, err := governance.Propose(govPrincipal(r.Context()), "gp-"+strings.ToLower(rand.Text()[:16]), reason, c, a.now().UTC())
	if err != nil {
		return govError(err)
	}
	pr.Governed = a.governedSubject(r.Context(), pr)
	if _, err := a.putProposal(r.Context(), pr, store.Condition{IfNoneMatch: true}); err != nil {
		return err
	}
	w.Header().Set("Location", "/governance/proposals/"+pr.ID)
	return writeJSON(w, http.StatusCreated, pr)
}

// governedSubject is the governed subject a proposal touches ("" when
// none): as the guard would judge the change against the twin now.
func (a *API) governedSubject(ctx context.Context, pr *governance.Proposal) string {
	cfg := a.opts.Governance
	t := governance.Target{Kind: pr.Subject.Kind, Models: pr.Subject.Models, Twin: pr.Subject.Twin, All: true}
	if pr.Change.Op == governance.OpPatchTwin {
		t.All = false
		if p, err := twin.ParsePatch(pr.Change.Patch); err == nil {
			for _, op := range p {
				t.Paths = append(t.Paths, op.Path)
			}
		}
	}
	if t.Kind == "twin" {
		if cur, err := a.opts.Store.GetTwin(ctx, twin.ID(t.Twin)); err == nil {
			t.TwinModel = cur.Metadata.Model
		}
	}
	s, _ := cfg.Governs(t)
	return s
}

func (a *API) putProposal(ctx context.Context, pr *governance.Proposal, cond store.Condition) (store.Doc, error) {
	b, err := json.Marshal(pr)
	if err != nil {
		return store.Doc{}, err
	}
	return a.opts.Store.PutDoc(ctx, store.Doc{Kind: docProposal, ID: pr.ID, Body: b}, cond)
}

// getProposal reads a proposal of the principal's org: another org's is
// not found, as its other things are.
func (a *API) getProposal(ctx context.Context, id string) (*governance.Proposal, store.Doc, error) {
	d, err := a.opts.Store.GetDoc(ctx, docProposal, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, d, notFound("ProposalNotFound", "there is no proposal %s", id)
	}
	if err != nil {
		return nil, d, err
	}
	var pr governance.Proposal
	if err := json.Unmarshal(d.Body, &pr); err != nil {
		return nil, d, fmt.Errorf("proposal %s: %w", id, err)
	}
	if pr.Org != govPrincipal(ctx).Org {
		return nil, d, notFound("ProposalNotFound", "there is no proposal %s", id)
	}
	return &pr, d, nil
}

func (a *API) govProposals(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	if status != "" && !slices.Contains([]string{governance.StatusOpen, governance.StatusApproved, governance.StatusApplied, governance.StatusFailed}, status) {
		return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: fmt.Sprintf("status: unknown status %q (want open, approved, applied or failed)", status), Details: []ErrorDetail{{Message: "unknown status", Path: "status"}}}
	}
	docs, err := a.opts.Store.ListDocs(r.Context(), docProposal)
	if err != nil {
		return err
	}
	org := govPrincipal(r.Context()).Org
	out := GovernanceProposalList{Proposals: []governance.Proposal{}}
	for _, d := range docs {
		var pr governance.Proposal
		if err := json.Unmarshal(d.Body, &pr); err != nil {
			return fmt.Errorf("proposal %s: %w", d.ID, err)
		}
		if (status == "" || pr.Status == status) && pr.Org == org {
			out.Proposals = append(out.Proposals, pr)
		}
	}
	slices.SortStableFunc(out.Proposals, func(x, y governance.Proposal) int { return x.Created.Compare(y.Created) })
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) govProposal(w http.ResponseWriter, r *http.Request) error {
	pr, _, err := a.getProposal(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pr)
}

func (a *API) govReview(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	var req GovernanceReviewRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("ValidationFailed", "review: %s (want {\"verdict\": \"approve\"|\"reject\", \"comment\"})", strings.TrimPrefix(err.Error(), "json: "))
	}
	pr, d, err := a.getProposal(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := pr.AddReview(govPrincipal(r.Context()), req.Verdict, req.Comment, a.now().UTC()); err != nil {
		return govError(err)
	}
	if _, err := a.putProposal(r.Context(), pr, store.Condition{IfMatch: d.ETag}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pr)
}

func (a *API) govApprove(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	// One approval at a time per API, so that versions are numbered in
	// the order their changes commit (servers sharing a database number
	// with If-None-Match on the version document).
	a.govMu.Lock()
	defer a.govMu.Unlock()
	pr, d, err := a.getProposal(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := pr.Approve(a.opts.Governance, govPrincipal(ctx), a.now().UTC()); err != nil {
		return govError(err)
	}
	// Claim the proposal before applying it: of two approvals at once,
	// one fails here with 412 and applies nothing.
	if d, err = a.putProposal(ctx, pr, store.Condition{IfMatch: d.ETag}); err != nil {
		return err
	}
	at, aerr := a.applyChange(ctx, pr.Change)
	if aerr != nil {
		pr.Failed(aerr)
		if _, err := a.putProposal(context.WithoutCancel(ctx), pr, store.Condition{IfMatch: d.ETag}); err != nil {
			return errors.Join(aerr, err)
		}
		return aerr
	}
	ev := a.evidence(ctx, pr.Subject)
	v, err := a.putVersion(context.WithoutCancel(ctx), pr, ev, at)
	if err != nil {
		return err
	}
	pr.Applied(v.N)
	if _, err := a.putProposal(context.WithoutCancel(ctx), pr, store.Condition{IfMatch: d.ETag}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, GovernanceApproval{Proposal: *pr, Version: v})
}

// putVersion stores the next version.
func (a *API) putVersion(ctx context.Context, pr *governance.Proposal, ev []governance.Evidence, at time.Time) (governance.Version, error) {
	docs, err := a.opts.Store.ListDocs(ctx, docVersion)
	if err != nil {
		return governance.Version{}, err
	}
	for n := len(docs) + 1; ; n++ {
		v := governance.NewVersion(n, pr, ev, at)
		b, err := json.Marshal(v)
		if err != nil {
			return v, err
		}
		_, err = a.opts.Store.PutDoc(ctx, store.Doc{Kind: docVersion, ID: fmt.Sprintf("%010d", n), Body: b}, store.Condition{IfNoneMatch: true})
		if !errors.Is(err, store.ErrPreconditionFailed) {
			return v, err
		}
	}
}

// applyChange writes an approved change through the pipeline and returns
// its transaction time (that of its records).
func (a *API) applyChange(ctx context.Context, c governance.Change) (time.Time, error) {
	rec := &store.Recorder{}
	ctx = store.WithRecorder(asGoverned(ctx), rec)
	err := a.writeChange(ctx, c)
	recs := rec.Records()
	if err != nil && !(errors.Is(err, pipeline.ErrPublish) && len(recs) > 0) {
		return time.Time{}, err
	}
	var at time.Time
	for _, r := range recs {
		if r.Time.After(at) {
			at = r.Time
		}
	}
	if at.IsZero() {
		at = a.now() // the write changed nothing (no record)
	}
	return at.UTC(), nil
}

func (a *API) writeChange(ctx context.Context, c governance.Change) error {
	var err error
	switch c.Op {
	case governance.OpPutModels:
		_, err = a.pipe.PutModels(ctx, c.Models)
	case governance.OpDecommissionModel:
		err = a.pipe.DecommissionModel(ctx, c.Model)
	case governance.OpPutTwin:
		var t twin.Twin
		if err := decodeJSON(c.Twin, &t); err != nil {
			return err
		}
		if err := checkID("$dtId", string(t.ID)); err != nil {
			return err
		}
		_, _, err = a.pipe.PutTwin(ctx, t, store.Condition{})
	case governance.OpPatchTwin, governance.OpPatchRelationship:
		p, perr := parsePatch(c.Patch)
		if perr != nil {
			return perr
		}
		if c.Op == governance.OpPatchTwin {
			_, err = a.pipe.PatchTwin(ctx, twin.ID(c.TwinID), p, store.Condition{}, "")
		} else {
			_, err = a.pipe.PatchRelationship(ctx, twin.ID(c.TwinID), c.RelationshipID, p, store.Condition{})
		}
	case governance.OpDeleteTwin:
		err = a.pipe.DeleteTwin(ctx, twin.ID(c.TwinID), store.Condition{})
	case governance.OpPutRelationship:
		var rel twin.Relationship
		if err := decodeJSON(c.Relationship, &rel); err != nil {
			return err
		}
		if rel.TargetID == "" || rel.Name == "" {
			return badRequest("ValidationFailed", "change.relationship: $targetId and $relationshipName are required")
		}
		_, err = a.pipe.PutRelationship(ctx, rel, store.Condition{})
	case governance.OpDeleteRelationship:
		err = a.pipe.DeleteRelationship(ctx, twin.ID(c.TwinID), c.RelationshipID, store.Condition{})
	default:
		return badRequest("ValidationFailed", "change.op: unknown op %q", c.Op)
	}
	return err
}

// bodyWriter keeps a handler's answer.
type bodyWriter struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (b *bodyWriter) Header() http.Header {
	if b.h == nil {
		b.h = http.Header{}
	}
	return b.h
}
func (b *bodyWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bodyWriter) WriteHeader(s int)           { b.status = s }

// evidence is the credibility report of each of the subject's twins or
// models after the change (GET /credibility/{id}), by grade.
func (a *API) evidence(ctx context.Context, s governance.Subject) []governance.Evidence {
	ids := s.Models
	if s.Kind != "model" {
		ids = []string{s.Twin}
	}
	out := []governance.Evidence{}
	for _, id := range ids {
		e := governance.Evidence{Subject: id, Link: "/credibility/" + url.PathEscape(id)}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.Link, nil)
		if err != nil {
			e.Note = err.Error()
			out = append(out, e)
			continue
		}
		req.SetPathValue("id", id)
		bw := &bodyWriter{}
		var rep credibility.Report
		if err := a.credibility(bw, req); err != nil {
			e.Note = "no credibility report: " + err.Error()
		} else if err := json.Unmarshal(bw.buf.Bytes(), &rep); err != nil {
			e.Note = "credibility report unreadable: " + err.Error()
		} else {
			e.GeneratedAt, e.Grades = rep.GeneratedAt, map[string]string{}
			for _, f := range rep.Filters {
				e.Grades[f.Name] = f.Grade
			}
		}
		out = append(out, e)
	}
	return out
}

// listVersions lists the versions of the principal's org. Versions are
// numbered across orgs: another org's numbers are gaps.
func (a *API) listVersions(ctx context.Context) ([]governance.Version, error) {
	docs, err := a.opts.Store.ListDocs(ctx, docVersion)
	if err != nil {
		return nil, err
	}
	org := govPrincipal(ctx).Org
	out := []governance.Version{}
	for _, d := range docs {
		var v governance.Version
		if err := json.Unmarshal(d.Body, &v); err != nil {
			return nil, fmt.Errorf("version %s: %w", d.ID, err)
		}
		if v.Org == org {
			out = append(out, v)
		}
	}
	return out, nil
}

func (a *API) govVersions(w http.ResponseWriter, r *http.Request) error {
	vs, err := a.listVersions(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, GovernanceVersionList{Versions: vs})
}

func (a *API) govVersion(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		return badRequest("InvalidArgument", "n: %q is not a version number (1, 2, …)", r.PathValue("n"))
	}
	d, err := a.opts.Store.GetDoc(ctx, docVersion, fmt.Sprintf("%010d", n))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("VersionNotFound", "there is no version %d", n)
	}
	if err != nil {
		return err
	}
	var v GovernanceVersionView
	if err := json.Unmarshal(d.Body, &v.Version); err != nil {
		return fmt.Errorf("version %d: %w", n, err)
	}
	if v.Org != govPrincipal(ctx).Org {
		return notFound("VersionNotFound", "there is no version %d", n)
	}
	v.AsOfTime = v.Version.AsOf()
	if err := a.versionState(ctx, &v); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// versionState reads the version's subject as of its time, as the
// principal sees it (the same tenancy as every other read).
func (a *API) versionState(ctx context.Context, v *GovernanceVersionView) error {
	vw := a.viewerOf(ctx)
	switch v.Subject.Kind {
	case "twin":
		t, err := a.opts.Store.TwinAsOf(ctx, twin.ID(v.Subject.Twin), v.Time)
		if err == nil {
			if p, ok := vw.twin(t); ok {
				v.Twin = &p
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	case "relationship":
		pr, _, err := a.getProposal(ctx, v.Proposal)
		if err != nil {
			return err
		}
		id := pr.Change.RelationshipID
		if id == "" {
			var head struct {
				ID string `json:"$relationshipId"`
			}
			_ = json.Unmarshal(pr.Change.Relationship, &head)
			id = head.ID
		}
		rel, err := a.opts.Store.RelationshipAsOf(ctx, twin.ID(v.Subject.Twin), id, v.Time)
		if errors.Is(err, store.ErrNotFound) {
			break
		} else if err != nil {
			return err
		}
		p, ok, err := a.rel(ctx, vw, rel, v.Time, nil)
		if err != nil {
			return err
		}
		if ok {
			v.Relationship = &p
		}
	case "model":
		for _, id := range v.Subject.Models {
			m, err := a.opts.Store.GetModel(ctx, id)
			if err == nil {
				if vw.model(m) {
					v.Models = append(v.Models, m)
				}
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	return nil
}
