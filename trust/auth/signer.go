package auth

import "context"

// Signer names the key that signed a write's DSSE envelope: the key's id
// as registered with POST /keys, and the device or org it belongs to.
// The API's DSSE check puts it in the request's context after verifying
// the signature; the write pipeline records it with the change, so that
// provenance can say who signed a value and not only who sent it.
type Signer struct {
	// KeyID is the registered key's id.
	KeyID string `json:"keyid"`
	// Owner is the device or org the key was registered for.
	Owner string `json:"owner,omitempty"`
}

type signerKey struct{}

// WithSigner returns ctx carrying the verified signer of the request body.
func WithSigner(ctx context.Context, s Signer) context.Context {
	return context.WithValue(ctx, signerKey{}, s)
}

// SignerFromContext returns the verified signer of the request body, if
// the body was a DSSE envelope whose signature checked.
func SignerFromContext(ctx context.Context) (Signer, bool) {
	s, ok := ctx.Value(signerKey{}).(Signer)
	return s, ok
}
