package dsse

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MediaType is the Content-Type of a request body that is an envelope.
const MediaType = "application/vnd.dsse.envelope.v1+json"

// Envelope is a DSSE envelope with its payload and signatures decoded.
type Envelope struct {
	// PayloadType is the media type of Payload ("application/json",
	// "application/json-patch+json").
	PayloadType string
	Payload     []byte
	Signatures  []Signature
}

// Signature is one signature of an envelope.
type Signature struct {
	// KeyID names the key that made Sig; it is a hint for the verifier,
	// which looks the key up (it is not signed).
	KeyID string
	Sig   []byte
}

// wire is the JSON form of an envelope.
type wire struct {
	PayloadType *string         `json:"payloadType"`
	Payload     *string         `json:"payload"`
	Signatures  []wireSignature `json:"signatures"`
}

type wireSignature struct {
	KeyID string  `json:"keyid"`
	Sig   *string `json:"sig"`
}

// Errors of decoding and verifying, checked with errors.Is; the *Error
// that wraps them names the field.
var (
	// ErrMalformed: the envelope is not valid DSSE JSON.
	ErrMalformed = errors.New("dsse: malformed envelope")
	// ErrUnknownKey: a signature names a key the verifier does not know.
	ErrUnknownKey = errors.New("dsse: unknown key")
	// ErrBadSignature: a signature does not verify.
	ErrBadSignature = errors.New("dsse: signature does not verify")
)

// Error is a decode or verify error: the field at fault ("payload",
// "signatures[0].sig"), the kind (one of the Err… sentinels) and why.
type Error struct {
	Field  string
	Kind   error
	Reason string
}

func (e *Error) Error() string { return "dsse: " + e.Field + ": " + e.Reason }

// Unwrap returns the kind.
func (e *Error) Unwrap() error { return e.Kind }

func malformed(field, format string, args ...any) *Error {
	return &Error{Field: field, Kind: ErrMalformed, Reason: fmt.Sprintf(format, args...)}
}

// maxSignatures bounds the signatures of one envelope; each costs a
// verification.
const maxSignatures = 8

// PAE is DSSE's pre-authentication encoding of a payload and its type:
// "DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload, with LEN the
// decimal byte length. Signatures are over it.
func PAE(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(payload) + len(payloadType) + 32)
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(payloadType)))
	b.WriteByte(' ')
	b.WriteString(payloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(payload)))
	b.WriteByte(' ')
	b.Write(payload)
	return b.Bytes()
}

// Decode reads an envelope. Payload and signatures are base64, standard
// or URL-safe, padded or not (as the DSSE protocol allows). Unknown
// fields are errors.
func Decode(b []byte) (*Envelope, error) {
	var w wire
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, malformed("envelope", "not a DSSE envelope: %v", err)
	}
	if dec.More() {
		return nil, malformed("envelope", "trailing data after the JSON object")
	}
	// encoding/json matches field names without regard to case; DSSE's
	// are exact.
	if err := exactKeys(b); err != nil {
		return nil, err
	}
	if w.PayloadType == nil || *w.PayloadType == "" {
		return nil, malformed("payloadType", "required")
	}
	if w.Payload == nil {
		return nil, malformed("payload", "required")
	}
	payload, err := decodeBase64(*w.Payload)
	if err != nil {
		return nil, malformed("payload", "not base64: %v", err)
	}
	if len(w.Signatures) == 0 {
		return nil, malformed("signatures", "give at least one")
	}
	if len(w.Signatures) > maxSignatures {
		return nil, malformed("signatures", "more than %d", maxSignatures)
	}
	e := &Envelope{PayloadType: *w.PayloadType, Payload: payload}
	for i, s := range w.Signatures {
		at := fmt.Sprintf("signatures[%d]", i)
		if s.KeyID == "" {
			return nil, malformed(at+".keyid", "required (the id of a key registered with POST /keys)")
		}
		if s.Sig == nil || *s.Sig == "" {
			return nil, malformed(at+".sig", "required")
		}
		sig, err := decodeBase64(*s.Sig)
		if err != nil {
			return nil, malformed(at+".sig", "not base64: %v", err)
		}
		if len(sig) == 0 {
			return nil, malformed(at+".sig", "empty")
		}
		e.Signatures = append(e.Signatures, Signature{KeyID: s.KeyID, Sig: sig})
	}
	return e, nil
}

// exactKeys checks that the envelope's keys and its signatures' keys are
// spelt exactly as DSSE spells them (b already decoded as a wire).
func exactKeys(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return malformed("envelope", "not a JSON object: %v", err)
	}
	for k := range top {
		if k != "payloadType" && k != "payload" && k != "signatures" {
			return malformed("envelope", "unknown field %q", k)
		}
	}
	var sigs []map[string]json.RawMessage
	if raw, ok := top["signatures"]; ok && json.Unmarshal(raw, &sigs) == nil {
		for i, s := range sigs {
			for k := range s {
				if k != "keyid" && k != "sig" {
					return malformed(fmt.Sprintf("signatures[%d]", i), "unknown field %q", k)
				}
			}
		}
	}
	return nil
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// MarshalJSON writes the envelope in its JSON form with standard base64.
func (e Envelope) MarshalJSON() ([]byte, error) {
	sigs := make([]map[string]string, len(e.Signatures))
	for i, s := range e.Signatures {
		sigs[i] = map[string]string{"keyid": s.KeyID, "sig": base64.StdEncoding.EncodeToString(s.Sig)}
	}
	return json.Marshal(map[string]any{
		"payloadType": e.PayloadType,
		"payload":     base64.StdEncoding.EncodeToString(e.Payload),
		"signatures":  sigs,
	})
}

// LooksLikeEnvelope reports whether b is a JSON object whose keys are
// exactly those of an envelope (payloadType, payload, signatures): a body
// sent without the envelope's Content-Type is recognised by them. A twin
// or a patch never has that shape.
func LooksLikeEnvelope(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	// Most bodies are twins and telemetry: rule them out without parsing.
	if !bytes.Contains(b, []byte(`"payloadType"`)) || !bytes.Contains(b, []byte(`"signatures"`)) {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || len(m) != 3 {
		return false
	}
	for _, k := range []string{"payloadType", "payload", "signatures"} {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// Sign returns an envelope of payload signed by key, named keyID.
func Sign(payloadType string, payload []byte, keyID string, key ed25519.PrivateKey) Envelope {
	sig := ed25519.Sign(key, PAE(payloadType, payload))
	return Envelope{PayloadType: payloadType, Payload: payload, Signatures: []Signature{{KeyID: keyID, Sig: sig}}}
}

// Verify checks every signature of e with the key that lookup returns for
// its key id (false: the key is unknown). It returns the id of the first
// signature's key, the signer of record. Errors are *Error naming the
// signature ("signatures[1]") and wrap ErrUnknownKey or ErrBadSignature.
func Verify(e *Envelope, lookup func(keyID string) (ed25519.PublicKey, bool)) (string, error) {
	if len(e.Signatures) == 0 {
		return "", malformed("signatures", "give at least one")
	}
	msg := PAE(e.PayloadType, e.Payload)
	for i, s := range e.Signatures {
		at := fmt.Sprintf("signatures[%d]", i)
		pub, ok := lookup(s.KeyID)
		if !ok {
			return "", &Error{Field: at + ".keyid", Kind: ErrUnknownKey, Reason: fmt.Sprintf("no key %q is registered (POST /keys)", s.KeyID)}
		}
		if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, msg, s.Sig) {
			return "", &Error{Field: at, Kind: ErrBadSignature, Reason: fmt.Sprintf("the signature by key %q does not verify over the payload and its type", s.KeyID)}
		}
	}
	return e.Signatures[0].KeyID, nil
}

// ParsePublicKey reads an Ed25519 public key: base64 (standard or
// URL-safe) of its 32 bytes, or a PEM "PUBLIC KEY" block (PKIX).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		blk, _ := pem.Decode([]byte(s))
		if blk == nil {
			return nil, errors.New("a PEM block that does not parse")
		}
		if blk.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("a PEM %q block; want PUBLIC KEY", blk.Type)
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, err
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("a %T key; want Ed25519", k)
		}
		return pub, nil
	}
	b, err := decodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("neither PEM nor base64: %v", err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%d bytes; an Ed25519 public key is %d", len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// ParsePrivateKey reads an Ed25519 private key from a PEM "PRIVATE KEY"
// block (PKCS #8, as openssl genpkey -algorithm ed25519 and lodestone
// keys gen write it).
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("dsse: private key: no PEM block")
	}
	if blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("dsse: private key: a PEM %q block; want PRIVATE KEY (PKCS #8)", blk.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("dsse: private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("dsse: private key: a %T key; want Ed25519", k)
	}
	return priv, nil
}

// MarshalPrivateKey writes key as a PEM "PRIVATE KEY" block (PKCS #8).
func MarshalPrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
