package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lodestone/trust/auth"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// testKeys are generated once per test binary: RSA key generation is the
// slow part of these tests.
type testKeys struct {
	rsa, rsaOther *rsa.PrivateKey
	ed            ed25519.PrivateKey
	ec            *ecdsa.PrivateKey
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func getKeys(t testing.TB) testKeys {
	keysOnce.Do(func() {
		var err error
		if keys.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if keys.rsaOther, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if _, keys.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
		if keys.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
	return keys
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwks writes the public keys as a JWKS: kids "rsa", "ed" and "ec".
func jwks(k testKeys) []byte {
	pad := func(b []byte, n int) []byte { return append(make([]byte, n-len(b)), b...) }
	ecRaw, _ := k.ec.PublicKey.Bytes() // 0x04 || X || Y
	set := map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "kid": "rsa", "use": "sig", "alg": "RS256", "n": b64u(k.rsa.N.Bytes()), "e": b64u(big.NewInt(int64(k.rsa.E)).Bytes())},
		{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64u(k.ed.Public().(ed25519.PublicKey))},
		{"kty": "EC", "kid": "ec", "crv": "P-256", "x": b64u(pad(ecRaw[1:33], 32)), "y": b64u(pad(ecRaw[33:], 32))},
	}}
	b, _ := json.Marshal(set)
	return b
}

const (
	issuer   = "https://idp.example"
	audience = "lodestone"
)

func newJWTAuth(t *testing.T, extra string) *auth.Authenticator {
	t.Helper()
	cfg, err := auth.ParseConfig([]byte(`{"jwt":{"issuer":"` + issuer + `","audience":"` + audience + `","jwks_file":"k.json"` + extra + `}}`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(cfg, jwks(getKeys(t)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func sign(t *testing.T, m jwt.SigningMethod, kid string, key crypto.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWT(t *testing.T) {
	k := getKeys(t)
	a := newJWTAuth(t, "")
	now := time.Unix(1_800_000_000, 0)
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": issuer, "aud": audience, "sub": "carol", "org": "acme", "roles": []string{"writer", "idp-group"},
			"exp": now.Add(time.Hour).Unix(), "iat": now.Add(-time.Minute).Unix()}
	}
	with := func(key string, v any) jwt.MapClaims {
		c := good()
		if v == nil {
			delete(c, key)
		} else {
			c[key] = v
		}
		return c
	}
	noneTok := func() string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodNone, good()).SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"RS256", sign(t, jwt.SigningMethodRS256, "rsa", k.rsa, good()), true},
		{"EdDSA", sign(t, jwt.SigningMethodEdDSA, "ed", k.ed, good()), true},
		{"ES256", sign(t, jwt.SigningMethodES256, "ec", k.ec, good()), true},
		{"EdDSA without kid (one Ed25519 key)", sign(t, jwt.SigningMethodEdDSA, "", k.ed, good()), true},
		{"expired within the leeway", sign(t, jwt.SigningMethodEdDSA, "ed", k.ed, with("exp", now.Add(-10*time.Second).Unix())), true},
		{"expired", sign(t, jwt.SigningMethodRS256, "rsa", k.rsa, with("exp", now.Add(-time.Hour).Unix())), false},
		{"no exp", sign(t, jwt.SigningMethodEdDSA, "ed", k.ed, with("exp", nil)), false},
		{"not yet valid", sign(t, jwt.SigningMethodEdDSA, "ed", k.ed, with("nbf", now.Add(time.Hour).Unix())), false},
		{"issued in the future", sign(t, jwt.SigningMethodEdDSA, "ed", k.ed, with("iat", now.Add(time.Hour).Unix())), false},
		{"wrong issuer", sign(t, jwt.SigningMethodRS256, "rsa", k.rsa, with("iss", "https://evil.example")), false},
		{"wrong audience", sign(t, jwt.SigningMethodEdDSA, "ed", k.ed, with("aud", "other")), false},
		{"no audience", sign(t, jwt.SigningMethodEdDSA, "ed", k.ed, with("aud", nil)), false},
		{"wrong key, right kid", sign(t, jwt.SigningMethodRS256, "rsa", k.rsaOther, good()), false},
		{"unknown kid", sign(t, jwt.SigningMethodRS256, "other", k.rsa, good()), false},
		{"kid of another key type", sign(t, jwt.SigningMethodRS256, "ed", k.rsa, good()), false},
		{"alg other than the key's alg", sign(t, jwt.SigningMethodRS512, "rsa", k.rsa, good()), false},
		{"alg none", noneTok(), false},
		{"HS256 keyed with the RSA public key", sign(t, jwt.SigningMethodHS256, "rsa", pubDER, good()), false},
		{"no org", sign(t, jwt.SigningMethodEdDSA, "ed", k.ed, with("org", nil)), false},
		{"no sub", sign(t, jwt.SigningMethodEdDSA, "ed", k.ed, with("sub", nil)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Authenticate(bearer("Bearer "+tt.token), now)
			if !tt.ok {
				if !errors.Is(err, auth.ErrInvalid) {
					t.Errorf("Authenticate = %+v, %v; want ErrInvalid", p, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if p.Subject != "carol" || p.Org != "acme" || p.Method != "jwt" || len(p.Roles) != 1 || p.Roles[0] != auth.Writer {
				t.Errorf("principal = %+v; want carol of acme, writer only (idp-group dropped)", p)
			}
		})
	}
	// A verified token is cached, but never past its exp.
	cached := sign(t, jwt.SigningMethodEdDSA, "ed", k.ed, good())
	for _, at := range []time.Time{now, now.Add(time.Minute)} {
		if _, err := a.Authenticate(bearer("Bearer "+cached), at); err != nil {
			t.Fatalf("at %v: %v", at, err)
		}
	}
	if _, err := a.Authenticate(bearer("Bearer "+cached), now.Add(2*time.Hour)); !errors.Is(err, auth.ErrInvalid) {
		t.Errorf("a cached token after its exp: %v, want ErrInvalid", err)
	}
	// A changed payload with the original signature.
	tok := sign(t, jwt.SigningMethodEdDSA, "ed", k.ed, good())
	parts := strings.Split(tok, ".")
	forged, _ := json.Marshal(with("roles", []string{"admin"}))
	parts[1] = b64u(forged)
	if _, err := a.Authenticate(bearer("Bearer "+strings.Join(parts, ".")), now); !errors.Is(err, auth.ErrInvalid) {
		t.Errorf("forged payload: %v, want ErrInvalid", err)
	}
}

func TestJWTClaimNames(t *testing.T) {
	k := getKeys(t)
	a := newJWTAuth(t, `,"org_claim":"tenant","roles_claim":"scope"`)
	now := time.Unix(1_800_000_000, 0)
	tok := sign(t, jwt.SigningMethodEdDSA, "ed", k.ed, jwt.MapClaims{"iss": issuer, "aud": []string{"x", audience}, "sub": "dev-7",
		"tenant": "globex", "scope": "reader auditor", "exp": now.Add(time.Minute).Unix()})
	p, err := a.Authenticate(bearer("Bearer "+tok), now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Org != "globex" || !p.Has(auth.Reader) || !p.Has(auth.Auditor) || p.Has(auth.Writer) {
		t.Errorf("principal = %+v", p)
	}
}

func TestLoad(t *testing.T) {
	k := getKeys(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keys.json"), jwks(k), 0o600)
	path := filepath.Join(dir, "auth.json")
	os.WriteFile(path, []byte(`{"tokens":[{"token":"t-0123456789abcdef","subject":"alice","org":"acme","roles":["admin"]}],
		"jwt":{"issuer":"`+issuer+`","audience":"`+audience+`","jwks_file":"keys.json"}}`), 0o600)
	a, err := auth.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := a.Authenticate(bearer("Bearer t-0123456789abcdef"), time.Now()); err != nil || p.Subject != "alice" {
		t.Errorf("token: %+v, %v", p, err)
	}
	now := time.Now()
	tok := sign(t, jwt.SigningMethodRS256, "rsa", k.rsa, jwt.MapClaims{"iss": issuer, "aud": audience, "sub": "carol", "org": "acme", "roles": "admin", "exp": now.Add(time.Minute).Unix()})
	if p, err := a.Authenticate(bearer("Bearer "+tok), now); err != nil || !p.Has(auth.Admin) {
		t.Errorf("jwt: %+v, %v", p, err)
	}
	os.WriteFile(path, []byte(`{"jwt":{"issuer":"i","audience":"a","jwks_file":"missing.json"}}`), 0o600)
	if _, err := auth.Load(path); err == nil || !strings.Contains(err.Error(), "jwt.jwks_file") {
		t.Errorf("missing JWKS: %v", err)
	}
}

func TestJWKSErrors(t *testing.T) {
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	tests := []struct{ name, jwks, want string }{
		{"empty", `{"keys":[]}`, "empty"},
		{"not json", `{`, "jwks"},
		{"private", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + b64u(make([]byte, 32)) + `","d":"AAAA"}]}`, "private"},
		{"small rsa", `{"keys":[{"kty":"RSA","n":"` + b64u(small.N.Bytes()) + `","e":"AQAB"}]}`, "2048"},
		{"bad crv", `{"keys":[{"kty":"OKP","crv":"X25519","x":"` + b64u(make([]byte, 32)) + `"}]}`, "crv"},
		{"short x", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`, "x"},
		{"ec off curve", `{"keys":[{"kty":"EC","crv":"P-256","x":"` + b64u(make([]byte, 32)) + `","y":"` + b64u(make([]byte, 32)) + `"}]}`, "x, y"},
		{"oct", `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, "kty"},
		{"only enc", `{"keys":[{"kty":"OKP","crv":"Ed25519","use":"enc","x":"` + b64u(make([]byte, 32)) + `"}]}`, "no signing key"},
	}
	cfg, _ := auth.ParseConfig([]byte(`{"jwt":{"issuer":"i","audience":"a","jwks_file":"k"}}`))
	for _, tt := range tests {
		_, err := auth.New(cfg, []byte(tt.jwks))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"tokens":[{"token":"0123456789abcdef0123","subject":"a","org":"o","roles":["reader"]}]}`))
	f.Add([]byte(`{"jwt":{"issuer":"i","audience":"a","jwks_file":"k","leeway":"10s"}}`))
	f.Add([]byte(`{"tokens":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := auth.ParseConfig(b)
		if err != nil || cfg.JWT != nil {
			return
		}
		if _, err := auth.New(cfg, nil); err != nil {
			t.Errorf("a config that parses does not build: %v", err)
		}
	})
}

func FuzzJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	cfg, _ := auth.ParseConfig([]byte(`{"jwt":{"issuer":"i","audience":"a","jwks_file":"k"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := auth.New(cfg, b)
		if err != nil {
			return
		}
		// Whatever the set, a token without a valid signature fails.
		if _, err := a.Authenticate(bearer("Bearer eyJhbGciOiJub25lIn0.e30."), time.Now()); err == nil {
			t.Error("alg none accepted")
		}
	})
}
