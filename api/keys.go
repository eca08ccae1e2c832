package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust/auth"
	"lodestone/trust/dsse"
)

// Signing keys and the models that require signed writes are documents
// in the store, so every server on one database verifies with the same
// keys and enforces the same models.
const (
	docSigningKey      = "signing-key"
	docModelSignatures = pipeline.DocModelSignatures
)

// SigningKey is an Ed25519 public key registered for a device or an org
// (POST /keys): DSSE envelopes whose signature names ID are verified
// with it.
type SigningKey struct {
	ID string `json:"id"`
	// Owner is the device or org the key belongs to, recorded as the
	// signer of the writes it signs.
	Owner string `json:"owner"`
	// PublicKey is the key: base64 of its 32 bytes, or a PEM PUBLIC KEY
	// block; it is stored and answered as base64.
	PublicKey string `json:"public_key"`
	// Org is the org of the admin who registered it; only requests of
	// that org may use it.
	Org     string    `json:"org,omitempty"`
	Created time.Time `json:"created"`
}

// ModelSignatures says whether writes to twins of a model must be signed.
type ModelSignatures struct {
	Model    string `json:"model"`
	Required bool   `json:"required"`
}

// The OpenAPI document describes the bodies of the key routes from these
// types (schemaTypes is openapi.go's table).
func init() {
	schemaTypes["SigningKey"] = reflect.TypeFor[SigningKey]()
	schemaTypes["SigningKeyList"] = reflect.TypeFor[struct {
		Value []SigningKey `json:"value"`
	}]()
	schemaTypes["ModelSignatures"] = reflect.TypeFor[ModelSignatures]()
}

func (a *API) keyRoutes() []Route {
	return []Route{
		{Pattern: "POST /keys", Handler: a.postKey, Summary: "Register an Ed25519 public key of a device or org for signed writes (DSSE): {id, owner, public_key (base64 or PEM)}", Body: "SigningKey", Response: "SigningKey"},
		{Pattern: "GET /keys", Handler: a.listKeys, Summary: "List the signing keys of the caller's org", Response: "SigningKeyList"},
		{Pattern: "GET /keys/{id}", Handler: a.getKey, Summary: "Get a signing key", Response: "SigningKey"},
		{Pattern: "DELETE /keys/{id}", Handler: a.deleteKey, Summary: "Delete a signing key; envelopes it signed are refused from then on"},
		{Pattern: "PUT /models/{id}/signatures", Handler: a.putModelSignatures, Summary: "Require (or stop requiring) signed writes to twins of a model: {required: true}", Body: "ModelSignatures", Response: "ModelSignatures"},
		{Pattern: "GET /models/{id}/signatures", Handler: a.getModelSignatures, Summary: "Whether writes to twins of a model must be signed", Response: "ModelSignatures"},
	}
}

// callerOrg is the org of the request's principal ("" without --auth).
func callerOrg(ctx context.Context) string {
	p, _ := auth.FromContext(ctx)
	return p.Org
}

func (a *API) postKey(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	var k SigningKey
	if err := decodeJSON(body, &k); err != nil {
		return err
	}
	if err := checkID("id", k.ID); err != nil {
		return err
	}
	if k.Owner == "" {
		return badRequest("InvalidArgument", "owner: required (the device or org the key belongs to)")
	}
	pub, err := dsse.ParsePublicKey(k.PublicKey)
	if err != nil {
		return badRequest("InvalidArgument", "public_key: %v", err)
	}
	k.PublicKey = base64.StdEncoding.EncodeToString(pub)
	k.Org = callerOrg(r.Context())
	k.Created = a.now().UTC()
	b, err := json.Marshal(k)
	if err != nil {
		return err
	}
	_, err = a.docs().PutDoc(r.Context(), store.Doc{Kind: docSigningKey, ID: k.ID, Body: b}, store.Condition{IfNoneMatch: true})
	if errors.Is(err, store.ErrPreconditionFailed) || errors.Is(err, store.ErrConflict) {
		return &Error{Status: http.StatusConflict, Code: "KeyExists", Message: "id: a key " + k.ID + " is already registered; delete it first to replace it"}
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/keys/"+k.ID)
	return writeJSON(w, http.StatusCreated, k)
}

// signingKey returns the registered key id if the caller's org may use
// it; a key of another org is not found (its existence is not disclosed).
func (a *API) signingKey(ctx context.Context, id string) (SigningKey, bool, error) {
	d, err := a.docs().GetDoc(ctx, docSigningKey, id)
	if errors.Is(err, store.ErrNotFound) {
		return SigningKey{}, false, nil
	}
	if err != nil {
		return SigningKey{}, false, err
	}
	var k SigningKey
	if err := json.Unmarshal(d.Body, &k); err != nil {
		return k, false, err
	}
	return k, k.Org == callerOrg(ctx), nil
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := listDocs[SigningKey](r.Context(), a.docs(), docSigningKey)
	if err != nil {
		return err
	}
	org := callerOrg(r.Context())
	keys = slices.DeleteFunc(keys, func(k SigningKey) bool { return k.Org != org })
	return writeJSON(w, http.StatusOK, map[string]any{"value": keys})
}

func (a *API) getKey(w http.ResponseWriter, r *http.Request) error {
	k, ok, err := a.signingKey(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if !ok {
		return notFound("KeyNotFound", "there is no signing key %q", r.PathValue("id"))
	}
	return writeJSON(w, http.StatusOK, k)
}

func (a *API) deleteKey(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	_, ok, err := a.signingKey(r.Context(), id)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("KeyNotFound", "there is no signing key %q", id)
	}
	if err := a.docs().DeleteDoc(r.Context(), docSigningKey, id, store.Condition{}); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) putModelSignatures(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
	if err != nil {
		return err
	}
	var in struct {
		Required *bool `json:"required"`
	}
	if err := decodeJSON(body, &in); err != nil {
		return err
	}
	if in.Required == nil {
		return badRequest("InvalidArgument", "required: give true or false")
	}
	// Only the model's own org marks it: to another org it is not there.
	if m, err := a.opts.Store.GetModel(r.Context(), id); errors.Is(err, store.ErrNotFound) || err == nil && !a.readerOf(r.Context()).canWrite(m.Org) {
		return notFound("ModelNotFound", "there is no model %s", id)
	} else if err != nil {
		return err
	}
	ms := ModelSignatures{Model: id, Required: *in.Required}
	if ms.Required {
		err = a.putDoc(r.Context(), docModelSignatures, id, ms)
	} else if err = a.docs().DeleteDoc(r.Context(), docModelSignatures, id, store.Condition{}); errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	if err != nil {
		return err
	}
	a.invalidateSigned()
	return writeJSON(w, http.StatusOK, ms)
}

func (a *API) getModelSignatures(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	pr, _ := auth.FromContext(r.Context())
	if pr.Method == "" {
		pr = auth.Anonymous
	}
	if m, err := a.opts.Store.GetModel(r.Context(), id); errors.Is(err, store.ErrNotFound) || err == nil && !a.modelVisible(r.Context(), pr, m) {
		return notFound("ModelNotFound", "there is no model %s", id)
	} else if err != nil {
		return err
	}
	req, err := a.requiredSigned(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ModelSignatures{Model: id, Required: req[id]})
}

// signedModels holds the cached set of models that require signed writes
// (pipeline.SignatureMarks), shared with the pipeline the API builds, which
// enforces it on every write path. It is read again after refreshEvery,
// and at once after a change on this server; a change made through another
// server applies here within refreshEvery.
type signedModels struct {
	mu sync.Mutex
	m  *pipeline.SignatureMarks
}

const refreshEvery = pipeline.SignatureRefresh

// of returns the marks, made on first use: the given pipeline's own when
// it has some, else a reader of docs.
func (s *signedModels) of(p *pipeline.Pipeline, docs store.Documents, now func() time.Time) *pipeline.SignatureMarks {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil && p != nil {
		s.m = p.Signatures()
	}
	if s.m == nil {
		s.m = pipeline.NewSignatureMarks(docs, now)
	}
	return s.m
}

func (a *API) invalidateSigned() { a.signed.of(a.pipe, a.docs(), a.now).Invalidate() }

func (a *API) requiredSigned(ctx context.Context) (map[string]bool, error) {
	return a.signed.of(a.pipe, a.docs(), a.now).Required(ctx)
}
