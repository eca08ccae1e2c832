package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"lodestone/store"
	"lodestone/twin"
)

// DocModelSignatures is the kind of the store documents that mark a model
// as requiring signed writes (PUT /models/{id}/signatures): the id is the
// model id, the body {"model": "…", "required": true}.
const DocModelSignatures = "model-signatures"

// ErrSignatureRequired is the kind of a write refused because it is not
// signed and a twin it writes is of a model that requires signatures. It
// is an ErrForbidden (the API answers 403 SignatureRequired).
var ErrSignatureRequired = fmt.Errorf("pipeline: signature required: %w", ErrForbidden)

// SignatureRefresh is how long a SignatureMarks keeps the marks it read
// before reading them again: a mark set through another server applies
// within this time; one set through the same server's Invalidate, at once.
const SignatureRefresh = 2 * time.Second

// SignatureMarks is a cached reader of the models that require signed
// writes (documents of kind DocModelSignatures). With it in
// Options.Signatures, the pipeline refuses every unsigned write to a twin
// of a marked model, whatever path it came by: twin PUT and PATCH,
// component PATCH, telemetry, connectors' batches and import entities. It
// is safe for concurrent use; reading the fresh set costs no lock.
type SignatureMarks struct {
	docs store.Documents
	now  func() time.Time

	snap atomic.Pointer[markSnap]
	mu   sync.Mutex // one reader of the store at a time
}

type markSnap struct {
	at  time.Time
	set map[string]bool
}

// NewSignatureMarks returns a reader of the marks in docs; now is its clock
// (nil means time.Now).
func NewSignatureMarks(docs store.Documents, now func() time.Time) *SignatureMarks {
	if now == nil {
		now = time.Now
	}
	return &SignatureMarks{docs: docs, now: now}
}

// Invalidate makes the next Required read the marks again (after a change
// made through this server).
func (s *SignatureMarks) Invalidate() { s.snap.Store(nil) }

// Required returns the set of models that require signed writes, read
// again when the cached set is older than SignatureRefresh. The caller
// must not change the map.
func (s *SignatureMarks) Required(ctx context.Context) (map[string]bool, error) {
	if set, ok := s.fresh(s.now()); ok {
		return set, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if set, ok := s.fresh(now); ok { // read by another caller meanwhile
		return set, nil
	}
	docs, err := s.docs.ListDocs(ctx, DocModelSignatures)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, d := range docs {
		var m struct {
			Model    string `json:"model"`
			Required bool   `json:"required"`
		}
		if err := json.Unmarshal(d.Body, &m); err != nil {
			return nil, fmt.Errorf("pipeline: stored %s %s: %w", DocModelSignatures, d.ID, err)
		}
		if m.Required {
			set[m.Model] = true
		}
	}
	s.snap.Store(&markSnap{at: now, set: set})
	return set, nil
}

func (s *SignatureMarks) fresh(now time.Time) (map[string]bool, bool) {
	sn := s.snap.Load()
	if sn == nil || now.Before(sn.at) || now.Sub(sn.at) >= SignatureRefresh {
		return nil, false
	}
	return sn.set, true
}

// dsseMediaType is the Content-Type of a DSSE envelope (trust/dsse, which
// the pipeline does not import).
const dsseMediaType = "application/vnd.dsse.envelope.v1+json"

// SignatureRequiredMessage is the message of the refusal of an unsigned
// write to a twin of model, the same on every path.
func SignatureRequiredMessage(model string) string {
	return fmt.Sprintf("model %s requires signed writes: send the body as a DSSE envelope (Content-Type %s) signed with a key registered by POST /keys", model, dsseMediaType)
}

// checkSigned refuses a's write to a twin of one of models when the write
// is not signed and the model requires signatures. Without
// Options.Signatures nothing is checked.
func (p *Pipeline) checkSigned(ctx context.Context, a actor, models ...string) error {
	if a.signer != "" || p.opts.Signatures == nil {
		return nil
	}
	req, err := p.opts.Signatures.Required(ctx)
	if err != nil || len(req) == 0 {
		return err
	}
	for _, m := range models {
		if m == "" || !req[m] {
			continue
		}
		return &Error{Code: "SignatureRequired", Message: SignatureRequiredMessage(m), Err: ErrSignatureRequired}
	}
	return nil
}

// signedImport returns in with every twin entity checked as checkSigned
// does: its model, and the model of the twin it replaces. The marks are
// read before the import's transaction (a store may not serve reads of
// other connections while it holds it); the replaced twin is read only
// while some model is marked. The entity's error names the twin.
func (p *Pipeline) signedImport(ctx context.Context, a actor, in iter.Seq2[store.Entity, error]) (iter.Seq2[store.Entity, error], error) {
	if a.signer != "" || p.opts.Signatures == nil {
		return in, nil
	}
	req, err := p.opts.Signatures.Required(ctx)
	if err != nil || len(req) == 0 {
		return in, err
	}
	return func(yield func(store.Entity, error) bool) {
		for e, err := range in {
			if err == nil && e.Twin != nil {
				err = p.checkSignedTwin(ctx, req, e.Twin)
			}
			if !yield(e, err) {
				return
			}
		}
	}, nil
}

func (p *Pipeline) checkSignedTwin(ctx context.Context, req map[string]bool, t *twin.Twin) error {
	model := t.Metadata.Model
	if !req[model] {
		cur, err := p.st.GetTwin(ctx, t.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		if model = cur.Metadata.Model; !req[model] {
			return nil
		}
	}
	return &Error{Code: "SignatureRequired", Err: ErrSignatureRequired,
		Message: "twin " + string(t.ID) + ": " + SignatureRequiredMessage(model) + "; an import is not signed: write such twins one by one"}
}
