package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtVerifier checks JWTs against a fixed JWKS.
type jwtVerifier struct {
	cfg    JWTConfig
	leeway time.Duration
	keys   []jwk // in the order of the set
}

// jwk is one usable key of a JWKS.
type jwk struct {
	kid string
	alg string // the key's "alg", or "" when it names none
	key crypto.PublicKey
}

// rawJWK is the JSON of a key (RFC 7517, RFC 7518 §6, RFC 8037).
type rawJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	// RSA
	N string `json:"n"`
	E string `json:"e"`
	// EC and OKP
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	// A private key member: refused, a JWKS for verification holds none.
	D string `json:"d"`
}

// methodsByKty are the JWS algorithms accepted for each key type. "none"
// and the HMAC ones are never accepted: a public key set cannot verify a
// shared-secret MAC, and accepting one is the classic key-confusion hole.
var methodsByKty = map[string][]string{
	"RSA": {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
	"EC":  {"ES256", "ES384", "ES512"},
	"OKP": {"EdDSA"},
}

// parseJWKS decodes a JSON Web Key Set of public keys: RSA (at least 2048
// bits), EC on P-256/384/521 and OKP Ed25519.
func parseJWKS(b []byte) ([]jwk, error) {
	var set struct {
		Keys []rawJWK `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("jwks: keys: empty")
	}
	var out []jwk
	for i, k := range set.Keys {
		pk, err := k.public()
		if err != nil {
			return nil, fmt.Errorf("jwks: keys[%d] (kid %q): %w", i, k.Kid, err)
		}
		if k.Use != "" && k.Use != "sig" {
			continue // an encryption key verifies nothing
		}
		out = append(out, jwk{kid: k.Kid, alg: k.Alg, key: pk})
	}
	if len(out) == 0 {
		return nil, errors.New("jwks: keys: no signing key")
	}
	return out, nil
}

func b64(field, s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("%s: not base64url", field)
	}
	return b, nil
}

func (k rawJWK) public() (crypto.PublicKey, error) {
	if k.D != "" {
		return nil, errors.New("d: a private key does not belong in a JWKS")
	}
	switch k.Kty {
	case "RSA":
		n, err := b64("n", k.N)
		if err != nil {
			return nil, err
		}
		e, err := b64("e", k.E)
		if err != nil {
			return nil, err
		}
		if len(e) > 4 {
			return nil, errors.New("e: too large")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 {
			return nil, fmt.Errorf("n: %d bits; want at least 2048", pub.N.BitLen())
		}
		if pub.E < 3 || pub.E%2 == 0 {
			return nil, errors.New("e: not an odd exponent ≥ 3")
		}
		return pub, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("crv: %q; want P-256, P-384 or P-521", k.Crv)
		}
		x, err := b64("x", k.X)
		if err != nil {
			return nil, err
		}
		y, err := b64("y", k.Y)
		if err != nil {
			return nil, err
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return nil, fmt.Errorf("x, y: want %d bytes each", size)
		}
		// The parser checks that the point is on the curve.
		raw := append([]byte{4}, append(x, y...)...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, raw)
		if err != nil {
			return nil, fmt.Errorf("x, y: %v", err)
		}
		return pub, nil
	case "OKP":
		if k.Crv != "Ed25519" {
			return nil, fmt.Errorf("crv: %q; want Ed25519", k.Crv)
		}
		x, err := b64("x", k.X)
		if err != nil {
			return nil, err
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("x: %d bytes; want %d", len(x), ed25519.PublicKeySize)
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, fmt.Errorf("kty: %q; want RSA, EC or OKP", k.Kty)
}

func kty(pk crypto.PublicKey) string {
	switch pk.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC"
	case ed25519.PublicKey:
		return "OKP"
	}
	return ""
}

func newJWTVerifier(c JWTConfig, jwks []byte) (*jwtVerifier, error) {
	keys, err := parseJWKS(jwks)
	if err != nil {
		return nil, fmt.Errorf("jwt.jwks_file: %w", err)
	}
	v := &jwtVerifier{cfg: c, leeway: 30 * time.Second, keys: keys}
	if c.Leeway != "" {
		v.leeway, _ = time.ParseDuration(c.Leeway) // checked by Config.check
	}
	if v.cfg.OrgClaim == "" {
		v.cfg.OrgClaim = "org"
	}
	if v.cfg.RolesClaim == "" {
		v.cfg.RolesClaim = "roles"
	}
	return v, nil
}

// keyFor picks the key that verifies t: the one its kid names, or the
// only key of a fitting type when t names none. The key's type must match
// the algorithm, and the key's own alg, when it states one, must equal it.
func (v *jwtVerifier) keyFor(t *jwt.Token) (any, error) {
	alg, _ := t.Header["alg"].(string)
	kid, _ := t.Header["kid"].(string)
	var found []jwk
	for _, k := range v.keys {
		if kid != "" && k.kid != kid {
			continue
		}
		if !contains(methodsByKty[kty(k.key)], alg) || (k.alg != "" && k.alg != alg) {
			continue
		}
		found = append(found, k)
	}
	switch {
	case len(found) == 0 && kid != "":
		return nil, fmt.Errorf("no key with kid %q for alg %s", kid, alg)
	case len(found) == 0:
		return nil, fmt.Errorf("no key for alg %s", alg)
	case len(found) > 1:
		return nil, errors.New("several keys fit and the token names no kid")
	}
	return found[0].key, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (v *jwtVerifier) methods() []string {
	var m []string
	for _, k := range v.keys {
		for _, alg := range methodsByKty[kty(k.key)] {
			if !contains(m, alg) {
				m = append(m, alg)
			}
		}
	}
	return m
}

// verify checks a compact JWS: signature, alg, iss, aud, exp (required),
// nbf and iat, with the leeway; then reads sub, org and roles.
func (v *jwtVerifier) verify(s string, now time.Time) (Principal, time.Time, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(s, claims, v.keyFor,
		jwt.WithValidMethods(v.methods()),
		jwt.WithIssuer(v.cfg.Issuer),
		jwt.WithAudience(v.cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return Principal{}, time.Time{}, fmt.Errorf("jwt: %w", err)
	}
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return Principal{}, time.Time{}, errors.New("jwt: sub: missing")
	}
	org, _ := claims[v.cfg.OrgClaim].(string)
	if org == "" {
		return Principal{}, time.Time{}, fmt.Errorf("jwt: %s: missing (the org claim)", v.cfg.OrgClaim)
	}
	p := Principal{Subject: sub, Org: org, Method: "jwt"}
	var names []string
	switch rs := claims[v.cfg.RolesClaim].(type) {
	case string:
		names = strings.Fields(rs)
	case []any:
		for _, r := range rs {
			if s, ok := r.(string); ok {
				names = append(names, s)
			}
		}
	}
	// Unknown role names (an IdP's own groups) grant nothing and are
	// dropped, not refused: the token still authenticates.
	for _, n := range names {
		if r, err := ParseRole(n); err == nil {
			p.Roles = append(p.Roles, r)
		}
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return Principal{}, time.Time{}, errors.New("jwt: exp: missing")
	}
	// The leeway that let the token pass counts only at the check: the
	// cached principal ends at exp itself.
	return p, exp.Time, nil
}
