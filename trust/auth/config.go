package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Config is the --auth file: static bearer tokens, a JWT issuer, client
// certificates of mutual TLS, or any mix of them.
type Config struct {
	Tokens []TokenConfig `json:"tokens,omitempty"`
	JWT    *JWTConfig    `json:"jwt,omitempty"`
	Certs  []CertConfig  `json:"certs,omitempty"`
	// Anonymous, when given, is the principal of requests that bring no
	// credentials at all (no Authorization header, no client
	// certificate): for a server on your own machine whose dashboard
	// should open without a token while tokens still act as their own,
	// restricted principals. The server refuses it on a non-loopback
	// address unless --insecure is given. A wrong token is still 401.
	Anonymous *AnonymousConfig `json:"anonymous,omitempty"`
}

// AnonymousConfig is the principal of requests without credentials.
type AnonymousConfig struct {
	Subject string   `json:"subject"`
	Org     string   `json:"org"`
	Roles   []string `json:"roles"`
}

// CertConfig maps the client certificates of mutual TLS (--tls-client-ca)
// with a subject to a principal. Subject is "CN=name" (the certificate's
// common name), "URI:uri" (one of its URI subject alternative names, such
// as a SPIFFE ID), or a whole distinguished name as Go's pkix.Name prints
// it (RFC 2253 order: "CN=pump-7,OU=plant,O=acme").
type CertConfig struct {
	Subject string   `json:"subject"`
	Org     string   `json:"org"`
	Roles   []string `json:"roles"`
}

// TokenConfig is one static bearer token and whom it stands for.
type TokenConfig struct {
	Token   string   `json:"token"`
	Subject string   `json:"subject"`
	Org     string   `json:"org"`
	Roles   []string `json:"roles"`
}

// JWTConfig says which JWTs are accepted: signed by a key of the JWKS,
// from Issuer, for Audience.
type JWTConfig struct {
	Issuer   string `json:"issuer"`
	Audience string `json:"audience"`
	// JWKSFile is a JSON Web Key Set (RFC 7517); a relative path is
	// relative to the --auth file.
	JWKSFile string `json:"jwks_file"`
	// OrgClaim and RolesClaim name the claims that carry the org (a
	// string) and the roles (an array of strings, or one string of
	// space-separated roles); defaults "org" and "roles".
	OrgClaim   string `json:"org_claim,omitempty"`
	RolesClaim string `json:"roles_claim,omitempty"`
	// Leeway is the clock skew allowed on exp, nbf and iat (a Go
	// duration, default "30s").
	Leeway string `json:"leeway,omitempty"`
}

// Errors of authentication, checked with errors.Is. Both are 401s.
var (
	// ErrNoCredentials: the request carries no Authorization header.
	ErrNoCredentials = errors.New("auth: no credentials: send Authorization: Bearer <token>")
	// ErrInvalid: the credentials are unknown, forged, expired or malformed.
	ErrInvalid = errors.New("auth: invalid credentials")
)

// Authenticator turns a request's Authorization header into a
// [Principal]. It is safe for concurrent use.
type Authenticator struct {
	tokens map[[32]byte]Principal // by SHA-256 of the token
	certs  []certPrincipal        // in the order of the file
	jwt    *jwtVerifier           // nil without a jwt section
	// anonymous is the principal of requests without credentials (the
	// file's anonymous entry), nil when they are refused.
	anonymous *Principal

	mu       sync.Mutex // guards verified
	verified map[[32]byte]verifiedJWT
}

// verifiedJWT is a JWT that passed verification, kept so that a client
// sending the same token on every request pays for the signature check
// once (it costs more than the rest of a twin read; see BenchmarkAuth).
// It is trusted until its exp, or until cacheFor has passed, whichever
// comes first.
type verifiedJWT struct {
	p     Principal
	until time.Time
}

// cacheFor bounds how long a verified JWT is trusted without a new check;
// maxVerified bounds the cache (it is emptied when full).
const (
	cacheFor    = 5 * time.Minute
	maxVerified = 10000
)

// Load reads an --auth file and the JWKS it names.
func Load(path string) (*Authenticator, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read %s: %w", path, err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("auth: %s: %w", path, err)
	}
	var jwks []byte
	if cfg.JWT != nil {
		f := cfg.JWT.JWKSFile
		if !filepath.IsAbs(f) {
			f = filepath.Join(filepath.Dir(path), f)
		}
		if jwks, err = os.ReadFile(f); err != nil {
			return nil, fmt.Errorf("auth: %s: jwt.jwks_file: %w", path, err)
		}
	}
	a, err := New(cfg, jwks)
	if err != nil {
		return nil, fmt.Errorf("auth: %s: %w", path, err)
	}
	return a, nil
}

// ParseConfig decodes and checks an --auth file. Unknown fields are
// errors, so a misspelt key never silently weakens the configuration.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("not an auth file: %w", err)
	}
	if dec.More() {
		return c, errors.New("trailing data after the JSON object")
	}
	return c, c.check()
}

// minTokenLen is the shortest static token accepted: 16 bytes of a
// random token written as hex or base64 are at least 22 characters, so a
// shorter one was typed by hand.
const minTokenLen = 16

func (c Config) check() error {
	var errs []error
	if len(c.Tokens) == 0 && c.JWT == nil && len(c.Certs) == 0 {
		errs = append(errs, errors.New("tokens, jwt, certs: give at least one"))
	}
	errs = append(errs, checkCerts(c.Certs)...)
	if an := c.Anonymous; an != nil {
		if an.Subject == "" {
			errs = append(errs, errors.New("anonymous.subject: required"))
		}
		if an.Org == "" {
			errs = append(errs, errors.New("anonymous.org: required (the org whose things requests without credentials act on)"))
		}
		if len(an.Roles) == 0 {
			errs = append(errs, errors.New("anonymous.roles: give at least one"))
		}
		for j, r := range an.Roles {
			if _, err := ParseRole(r); err != nil {
				errs = append(errs, fmt.Errorf("anonymous.roles[%d]: %v", j, err))
			}
		}
	}
	seen := map[string]bool{}
	for i, t := range c.Tokens {
		at := fmt.Sprintf("tokens[%d]", i)
		if len(t.Token) < minTokenLen {
			errs = append(errs, fmt.Errorf("%s.token: shorter than %d characters", at, minTokenLen))
		}
		if strings.ContainsAny(t.Token, " \t\r\n") {
			errs = append(errs, fmt.Errorf("%s.token: contains white space", at))
		}
		if seen[t.Token] {
			errs = append(errs, fmt.Errorf("%s.token: the same token is given twice", at))
		}
		seen[t.Token] = true
		if t.Subject == "" {
			errs = append(errs, fmt.Errorf("%s.subject: required", at))
		}
		if t.Org == "" {
			errs = append(errs, fmt.Errorf("%s.org: required (the org whose things the token acts on)", at))
		}
		if len(t.Roles) == 0 {
			errs = append(errs, fmt.Errorf("%s.roles: give at least one", at))
		}
		for j, r := range t.Roles {
			if _, err := ParseRole(r); err != nil {
				errs = append(errs, fmt.Errorf("%s.roles[%d]: %v", at, j, err))
			}
		}
	}
	if j := c.JWT; j != nil {
		if j.Issuer == "" {
			errs = append(errs, errors.New("jwt.issuer: required"))
		}
		if j.Audience == "" {
			errs = append(errs, errors.New("jwt.audience: required"))
		}
		if j.JWKSFile == "" {
			errs = append(errs, errors.New("jwt.jwks_file: required"))
		}
		if j.Leeway != "" {
			if d, err := time.ParseDuration(j.Leeway); err != nil || d < 0 || d > 5*time.Minute {
				errs = append(errs, fmt.Errorf("jwt.leeway: %q: want a duration between 0s and 5m", j.Leeway))
			}
		}
	}
	return errors.Join(errs...)
}

// New builds an Authenticator from a checked config and the bytes of its
// JWKS (nil without a jwt section).
func New(c Config, jwks []byte) (*Authenticator, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	a := &Authenticator{tokens: map[[32]byte]Principal{}}
	for _, t := range c.Tokens {
		p := Principal{Subject: t.Subject, Org: t.Org, Method: "token"}
		for _, r := range t.Roles {
			p.Roles = append(p.Roles, Role(r))
		}
		a.tokens[sha256.Sum256([]byte(t.Token))] = p
	}
	for _, c := range c.Certs {
		a.certs = append(a.certs, newCertPrincipal(c))
	}
	if an := c.Anonymous; an != nil {
		p := Principal{Subject: an.Subject, Org: an.Org, Method: "local"}
		for _, r := range an.Roles {
			p.Roles = append(p.Roles, Role(r))
		}
		a.anonymous = &p
	}
	if c.JWT != nil {
		v, err := newJWTVerifier(*c.JWT, jwks)
		if err != nil {
			return nil, err
		}
		a.jwt = v
	}
	return a, nil
}

// Anonymous returns the principal of requests without credentials, or
// nil when the file has no anonymous entry and they are refused.
func (a *Authenticator) Anonymous() *Principal { return a.anonymous }

// Authenticate returns the principal of a request, from its
// "Authorization: Bearer …" header, or, without one, from the client
// certificate verified by mutual TLS, at time now. Errors wrap
// ErrNoCredentials or ErrInvalid and say why without echoing the
// credential.
func (a *Authenticator) Authenticate(r *http.Request, now time.Time) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		p, err := a.certPrincipal(r)
		if errors.Is(err, ErrNoCredentials) && a.anonymous != nil {
			return *a.anonymous, nil
		}
		return p, err
	}
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(cred) == "" {
		return Principal{}, fmt.Errorf("%w: want the Bearer scheme", ErrInvalid)
	}
	cred = strings.TrimSpace(cred)
	// A map lookup by hash: the comparison time depends on the hash,
	// which says nothing about how close a guess is to a token.
	if p, ok := a.tokens[sha256.Sum256([]byte(cred))]; ok {
		return p, nil
	}
	if a.jwt != nil && strings.Count(cred, ".") == 2 {
		return a.verifyJWT(cred, now)
	}
	return Principal{}, fmt.Errorf("%w: unknown token", ErrInvalid)
}

func (a *Authenticator) verifyJWT(cred string, now time.Time) (Principal, error) {
	key := sha256.Sum256([]byte(cred))
	a.mu.Lock()
	v, ok := a.verified[key]
	a.mu.Unlock()
	if ok && now.Before(v.until) {
		return v.p, nil
	}
	p, exp, err := a.jwt.verify(cred, now)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	until := now.Add(cacheFor)
	if exp.Before(until) {
		until = exp
	}
	a.mu.Lock()
	if a.verified == nil || len(a.verified) >= maxVerified {
		a.verified = map[[32]byte]verifiedJWT{}
	}
	a.verified[key] = verifiedJWT{p: p, until: until}
	a.mu.Unlock()
	return p, nil
}
