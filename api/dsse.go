package api

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"

	"lodestone/pipeline"
	"lodestone/trust/auth"
	"lodestone/trust/dsse"
)

// signableRoutes are the routes whose body may be a DSSE envelope: twin
// writes and telemetry. Their unsigned writes are refused on twins of a
// model that requires signatures.
var signableRoutes = map[string]bool{
	"PUT /digitaltwins/{id}":                              true,
	"PATCH /digitaltwins/{id}":                            true,
	"PATCH /digitaltwins/{id}/components/{name}":          true,
	"POST /digitaltwins/{id}/telemetry":                   true,
	"POST /digitaltwins/{id}/components/{name}/telemetry": true,
}

// signedBody is the DSSE step of a request to a signable route. A body
// sent as application/vnd.dsse.envelope.v1+json (or shaped like an
// envelope) is verified with the keys of POST /keys; the request goes on
// with the payload as its body, the payload type as its Content-Type and
// the signer in its context (auth.WithSigner). An unsigned body is
// refused (403) when the twin's model requires signatures. Other routes
// pass untouched.
//
// Its refusals (a bad envelope or signature, a signature required) are
// logged and published as audit events by the error adapter (denial in
// errors.go), with the guard's own.
func (a *API) signedBody(w http.ResponseWriter, r *http.Request, pattern string) (*http.Request, error) {
	if !signableRoutes[pattern] || r.Body == nil || r.Body == http.NoBody {
		return r, nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	// The envelope of a payload up to MaxBodyBytes is 4/3 of it in base64,
	// plus the signatures.
	limit := a.opts.MaxBodyBytes/3*4 + 64<<10
	if mt != dsse.MediaType {
		limit = a.opts.MaxBodyBytes
	}
	// Not readBody: the media type is the handler's to check, against the
	// payload's type when the body is an envelope.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return r, &Error{Status: http.StatusRequestTimeout, Code: "RequestTimeout", Message: "the request body did not arrive within the server's read timeout", Err: err}
	}
	if err != nil {
		return r, err
	}
	if mt != dsse.MediaType && !dsse.LooksLikeEnvelope(body) {
		// Only the body changes: a shallow copy will do (the handler
		// reads the bytes through readBody without copying them).
		r2 := r.WithContext(r.Context())
		r2.Body, r2.ContentLength = &readBodyBytes{Reader: bytes.NewReader(body), b: body}, int64(len(body))
		return r2, a.checkUnsigned(r2, pattern, body)
	}
	// The envelope's payload and type replace the body and its header.
	r2 := r.Clone(r.Context())
	env, err := dsse.Decode(body)
	if err != nil {
		return r, envelopeError(err)
	}
	pt, _, err := mime.ParseMediaType(env.PayloadType)
	if err != nil || (pt != "application/json" && pt != "application/json-patch+json") {
		e := badRequest("InvalidArgument", "payloadType: %q: want application/json (or application/json-patch+json for a PATCH)", env.PayloadType)
		e.Err = dsse.ErrMalformed // a bad envelope: an audit event (denial)
		return r, e
	}
	var keyErr error
	keys := map[string]SigningKey{}
	keyID, err := dsse.Verify(env, func(id string) (ed25519.PublicKey, bool) {
		k, ok, err := a.signingKey(r.Context(), id)
		if err != nil {
			keyErr = err
			return nil, false
		}
		pub, perr := base64.StdEncoding.DecodeString(k.PublicKey)
		if !ok || perr != nil {
			return nil, false
		}
		keys[id] = k
		return ed25519.PublicKey(pub), true
	})
	if keyErr != nil {
		return r, keyErr
	}
	if err != nil {
		return r, envelopeError(err)
	}
	r2.Body, r2.ContentLength = &readBodyBytes{Reader: bytes.NewReader(env.Payload), b: env.Payload}, int64(len(env.Payload))
	r2.Header.Set("Content-Type", env.PayloadType)
	return r2.WithContext(auth.WithSigner(r2.Context(), auth.Signer{KeyID: keyID, Owner: keys[keyID].Owner})), nil
}

// envelopeError maps a dsse error: a malformed envelope is a 400, a
// signature that does not verify or names no registered key a 401; each
// names the field ("signatures[0]").
func envelopeError(err error) error {
	var de *dsse.Error
	if !errors.As(err, &de) {
		return err
	}
	e := &Error{Status: http.StatusBadRequest, Code: "EnvelopeInvalid", Message: "DSSE envelope: " + de.Field + ": " + de.Reason, Err: err,
		Details: []ErrorDetail{{Code: "EnvelopeInvalid", Message: de.Reason, Path: de.Field}}}
	switch {
	case errors.Is(err, dsse.ErrUnknownKey):
		e.Status, e.Code = http.StatusUnauthorized, "SigningKeyUnknown"
	case errors.Is(err, dsse.ErrBadSignature):
		e.Status, e.Code = http.StatusUnauthorized, "SignatureInvalid"
	}
	e.Details[0].Code = e.Code
	return e
}

// checkUnsigned refuses an unsigned PUT of a twin whose body names a model
// that requires signatures, before the body is read further. The pipeline
// refuses every other unsigned write to a twin of such a model (the stored
// twin's model, on every path: PATCH, component PATCH, telemetry, imports,
// connectors), after it has checked that the caller may write the twin, so
// that the refusal discloses no other org's twin or model.
func (a *API) checkUnsigned(r *http.Request, pattern string, body []byte) error {
	if pattern != "PUT /digitaltwins/{id}" {
		return nil
	}
	required, err := a.requiredSigned(r.Context())
	if err != nil || len(required) == 0 {
		return err
	}
	var t struct {
		Metadata struct {
			Model string `json:"$model"`
		} `json:"$metadata"`
	}
	if json.Unmarshal(body, &t) == nil && required[t.Metadata.Model] {
		return &Error{Status: http.StatusForbidden, Code: "SignatureRequired", Message: pipeline.SignatureRequiredMessage(t.Metadata.Model), Err: pipeline.ErrSignatureRequired}
	}
	return nil
}
