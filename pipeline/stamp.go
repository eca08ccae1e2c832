package pipeline

import (
	"context"

	"lodestone/store"
	"lodestone/trust/auth"
	"lodestone/twin"
)

// actor is who a write comes from, as the pipeline records it in the
// stored entity: the owner org of what it creates ("$org"), its subject
// ("$writer") and the key that signed the body ("$signer").
type actor struct {
	// on is false without a principal or for the anonymous principal of
	// a server without --auth: nothing is checked, and the owner fields
	// are "" (except the signer, which a server without --auth may still
	// verify).
	on     bool
	pr     auth.Principal
	signer string
}

// actorOf returns the actor of a write's context.
func actorOf(ctx context.Context) actor {
	var a actor
	if s, ok := auth.SignerFromContext(ctx); ok {
		a.signer = s.KeyID
	}
	pr, ok := auth.FromContext(ctx)
	if !ok || pr.Method == "anonymous" {
		return a
	}
	a.on, a.pr = true, pr
	return a
}

// org is the owner org of what the actor creates.
func (a actor) org() string {
	if !a.on {
		return ""
	}
	return a.pr.Org
}

// writer is the "$writer" the actor's writes record.
func (a actor) writer() string {
	if !a.on {
		return ""
	}
	return a.pr.Subject
}

// stamp is the store.Stamp of a's writes.
func (a actor) stamp() store.Stamp {
	return store.Stamp{Writer: a.writer(), Signer: a.signer, Org: a.org()}
}

// mayWrite reports whether the actor may change things of org: its own
// org with the writer role, org "" as an admin (the rule of
// tenancy.Policy.CanWrite, which the pipeline cannot import).
func (a actor) mayWrite(org string) bool {
	switch {
	case !a.on:
		return true
	case org == "":
		return a.pr.Has(auth.Admin)
	case org == a.pr.Org:
		return a.pr.Has(auth.Writer)
	}
	return false
}

// stampTwin sets t's owner fields for a write by a of a twin whose current
// version is cur (exists false for a create): a create gets a's org, a
// replace keeps cur's. Whatever the client sent in "$org", "$writer" and
// "$signer" is ignored.
func (a actor) stampTwin(t *twin.Twin, cur twin.Twin, exists bool) {
	t.Metadata.Org = a.org()
	if exists {
		t.Metadata.Org = cur.Metadata.Org
	}
	t.Metadata.Writer, t.Metadata.Signer = a.writer(), a.signer
}

// stampRel is stampTwin for a relationship.
func (a actor) stampRel(r *twin.Relationship, cur twin.Relationship, exists bool) {
	r.Org = a.org()
	if exists {
		r.Org = cur.Org
	}
	r.Writer, r.Signer = a.writer(), a.signer
}

// notYours is the refusal of a write to another org's entity: "not found",
// so that the write discloses no more than a read would.
func notYours(code, format string, args ...any) error {
	return refuse(ErrNotYours, code, format, args...)
}

// forbidden refuses a write the actor's roles do not cover in its own org
// (a reader, or a non-admin writing things of org "").
func forbidden(format string, args ...any) error {
	return refuse(ErrForbidden, "Forbidden", format, args...)
}

// stampPatchRecords sets Writer and Signer, as the store wrote them in the
// version, on the patch records of ctx's recorder: a patch's data does not
// name them, and the transparency log's entry covers them. The pipeline's
// recorder holds the records of one write only.
func stampPatchRecords(ctx context.Context, writer, signer string) {
	rec := store.RecorderFrom(ctx)
	if rec == nil || writer == "" && signer == "" {
		return
	}
	rs := rec.Records()
	for i := range rs {
		if rs[i].Op == store.OpPatch && (rs[i].Kind == store.KindTwin || rs[i].Kind == store.KindRelationship) {
			rs[i].Writer, rs[i].Signer = writer, signer
		}
	}
	rec.Reset()
	rec.Add(rs...)
}
