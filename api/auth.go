package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"lodestone/event"
	"lodestone/trust/auth"
)

// TypeAuditDenied is the CloudEvent type of a refused request.
const TypeAuditDenied = "lodestone.audit.denied"

// Denied is the data of a lodestone.audit.denied event: who was refused
// what, and why. It never holds the credential.
type Denied struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Reason  string `json:"reason"`
	Method  string `json:"method"`
	Path    string `json:"path"`
	Remote  string `json:"remote"`
	Subject string `json:"subject,omitempty"`
	Org     string `json:"org,omitempty"`
	Class   string `json:"class"`
}

// Guard returns the API behind its security checks, in this order: Host
// (DNS rebinding), Origin and CORS (cross-site requests), authentication
// (401), the principal's rate limit (429), the route's role (403), and
// the body's media type (415). Each refusal is logged and published as a
// lodestone.audit.denied event. A request that passes carries its
// principal in its context (auth.FromContext). Without
// Options.Security, Guard returns the API unguarded.
func (a *API) Guard() http.Handler {
	s := a.opts.Security
	if s == nil {
		return a
	}
	g := &guard{a: a, s: s, limit: auth.NewLimiter(s.RateLimit, s.RateBurst), audits: auth.NewLimiter(auditRate, auditBurst)}
	return g
}

// The audit events published on the bus are limited to auditRate per
// second (bursts of auditBurst) in all, so that a flood of refused
// requests cannot turn into a flood of bus writes; past it, refusals are
// only logged and counted.
const (
	auditRate  = 50
	auditBurst = 200
)

type guard struct {
	a      *API
	s      *Security
	limit  *auth.Limiter
	audits *auth.Limiter
	// unpublished counts the audit events not published (over the
	// limit or failed).
	unpublished atomic.Int64
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := g.a
	now := a.now()
	if e := g.s.checkHost(r); e != nil {
		g.deny(w, r, e, auth.Principal{}, auth.Public)
		return
	}
	if e := g.s.checkOrigin(r); e != nil {
		g.deny(w, r, e, auth.Principal{}, auth.Public)
		return
	}
	if g.s.cors(w, r) {
		return
	}
	_, pattern := a.mux.Handler(r)
	body := ""
	for _, rt := range a.routes {
		if rt.Pattern == pattern {
			body = rt.Body
			break
		}
	}
	if pattern == "" {
		pattern = r.URL.Path
	}
	class := auth.ClassOf(r.Method, pattern)
	if pattern == "GET /" {
		class = auth.Public // the dashboard's static files; unknown paths 404
	}
	p, err := g.authenticate(r, now, class)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lodestone", error="invalid_token"`)
		msg := "authentication failed: " + err.Error()
		if errors.Is(err, auth.ErrNoCredentials) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lodestone"`)
			msg = err.Error()
		}
		g.deny(w, r, &Error{Status: http.StatusUnauthorized, Code: "Unauthorized", Message: msg}, auth.Principal{}, class)
		return
	}
	key := p.Key()
	if p.Method == "anonymous" || p.Method == "" {
		key = remoteHost(r)
	}
	if ok, wait := g.limit.Allow(key, now); !ok {
		g.deny(w, r, &Error{Status: http.StatusTooManyRequests, Code: "TooManyRequests", Message: "rate limit of this principal exceeded; retry later", RetryAfter: wait}, p, class)
		return
	}
	if p.Method != "" && !auth.Allowed(p, class) {
		g.deny(w, r, &Error{Status: http.StatusForbidden, Code: "Forbidden", Message: "the roles of " + p.Subject + " do not allow " + class.String() + " routes; needs the " + string(class.Need()) + " role"}, p, class)
		return
	}
	if e := checkContentType(r, body); e != nil {
		g.deny(w, r, e, p, class)
		return
	}
	ctx := r.Context()
	if p.Method != "" {
		ctx = auth.NewContext(ctx, p)
	}
	// The handlers' refusals reach the error adapter (writeError), which
	// publishes the denials among them through the guard (see denial).
	r = r.WithContext(context.WithValue(ctx, auditKey{}, auditSink{g: g, class: class}))
	a.ServeHTTP(w, r)
}

// auditKey is the context key of the guard's auditSink in a request that
// passed the guard.
type auditKey struct{}

// auditSink reports the refusals handlers answer (past the guard) as
// lodestone.audit.denied events, as the guard reports its own.
type auditSink struct {
	g     *guard
	class auth.Class
}

// denied logs and publishes e, the refusal of r by a handler. Reason is
// the message the caller got, and Subject and Org are the caller's: the
// event is delivered to the caller's org (eventFor), so it holds nothing
// of the org whose entity was hidden.
func (s auditSink) denied(r *http.Request, e *Error) {
	p, _ := auth.FromContext(r.Context())
	d := Denied{Status: e.Status, Code: e.Code, Reason: e.Message, Method: r.Method, Path: r.URL.Path, Remote: r.RemoteAddr, Subject: p.Subject, Org: p.Org, Class: s.class.String()}
	s.g.a.log.Warn("request denied", "status", d.Status, "code", d.Code, "method", d.Method, "path", d.Path, "remote", d.Remote, "subject", d.Subject, "org", d.Org, "reason", d.Reason)
	s.g.publishDenied(r.Context(), d)
}

// authenticate returns the request's principal. A public route without
// credentials gets the zero Principal (no context value); with
// credentials they must be valid there too.
func (g *guard) authenticate(r *http.Request, now time.Time, class auth.Class) (auth.Principal, error) {
	if g.s.Auth == nil {
		return auth.Anonymous, nil
	}
	if class == auth.Public && r.Header.Get("Authorization") == "" {
		return auth.Principal{}, nil
	}
	return g.s.Auth.Authenticate(r, now)
}

// deny answers e, logs the refusal and publishes it as an audit event.
func (g *guard) deny(w http.ResponseWriter, r *http.Request, e *Error, p auth.Principal, class auth.Class) {
	d := Denied{Status: e.Status, Code: e.Code, Reason: e.Message, Method: r.Method, Path: r.URL.Path, Remote: r.RemoteAddr, Subject: p.Subject, Org: p.Org, Class: class.String()}
	g.a.log.Warn("request denied", "status", d.Status, "code", d.Code, "method", d.Method, "path", d.Path, "remote", d.Remote, "subject", d.Subject, "org", d.Org, "reason", d.Reason)
	g.publishDenied(r.Context(), d)
	g.a.writeError(w, r, e)
}

func (g *guard) publishDenied(ctx context.Context, d Denied) {
	bus := g.a.opts.Bus
	if bus == nil {
		return
	}
	if ok, _ := g.audits.Allow("", g.a.now()); !ok {
		g.unpublished.Add(1)
		return
	}
	data, _ := json.Marshal(d)
	var id [16]byte
	rand.Read(id[:])
	e := event.Event{SpecVersion: "1.0", ID: hex.EncodeToString(id[:]), Source: g.a.opts.Source, Type: TypeAuditDenied, Subject: d.Path, Time: g.a.now().UTC(), Data: data}
	// The refusal is answered even when the bus is slow: bounded wait,
	// detached from the client (who may be gone).
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := bus.Publish(pctx, e); err != nil {
		g.unpublished.Add(1)
		g.a.log.Warn("audit event not published", "err", err)
	}
}

func remoteHost(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}
