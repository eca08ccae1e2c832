package auth

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// Role is a permission a principal holds in its org.
type Role string

// The roles. Each includes those below it: an admin is also a writer, a
// writer also a reader; an admin is also an auditor.
const (
	// Reader reads twins, models, relationships, telemetry, events and
	// runs queries.
	Reader Role = "reader"
	// Writer also writes twins, relationships, telemetry, imports and
	// runs simulations, scenarios and plant computations.
	Writer Role = "writer"
	// Admin also writes models, event routes and endpoints, and reads
	// what auditors read.
	Admin Role = "admin"
	// Auditor reads the transparency log, /verify and provenance; nothing
	// else unless another role grants it.
	Auditor Role = "auditor"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Reader, Writer, Admin, Auditor:
		return r, nil
	}
	return "", errors.New("unknown role " + strconv.Quote(s) + "; want reader, writer, admin or auditor")
}

// Principal is who a request comes from.
type Principal struct {
	// Subject names the principal (the token's subject, the JWT's sub).
	Subject string `json:"subject"`
	// Org is the organisation whose things the principal acts on.
	Org string `json:"org"`
	// Roles are the principal's roles in Org.
	Roles []Role `json:"roles"`
	// Method says how it was authenticated: "token", "jwt", or
	// "anonymous" for a server that runs without --auth.
	Method string `json:"method"`
}

// Anonymous is the principal of every request to a server without
// --auth (bound to loopback, or started with --insecure): it may do
// everything, in the empty org.
var Anonymous = Principal{Subject: "anonymous", Roles: []Role{Admin, Auditor}, Method: "anonymous"}

// Has reports whether p holds role r, directly or through a role that
// includes it.
func (p Principal) Has(r Role) bool {
	for _, h := range p.Roles {
		if h == r {
			return true
		}
		switch h {
		case Admin:
			if r == Writer || r == Reader || r == Auditor {
				return true
			}
		case Writer:
			if r == Reader {
				return true
			}
		}
	}
	return false
}

// Key is the principal's identity for rate limits and logs: org and
// subject.
func (p Principal) Key() string { return p.Org + "/" + p.Subject }

type ctxKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal of a request's context, set by the
// API's guard. The pipeline and tenancy read it to record and check who
// acts.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// Class is the kind of a route, which decides the role it needs.
type Class int

// The route classes.
const (
	// Public routes need no principal: the OpenAPI document and the
	// dashboard's static files (which hold no data).
	Public Class = iota
	// Read: GET of data, and POST /query.
	Read
	// Write: every other write (twins, relationships, telemetry, imports,
	// simulations, scenarios, plant computations).
	Write
	// Manage: writes to models, event routes, endpoints and signing
	// keys.
	Manage
	// Audit: the transparency log, /verify and provenance.
	Audit
	// OwnProof: the inclusion proof of one log entry (GET
	// /log/proof/{index}). Auditors (and admins) get any entry's; a reader
	// or writer gets those of its own org's writes only, which the
	// handler checks against the entry's org (another org's entry is a
	// 404): each org can prove its own writes were logged without seeing
	// what others wrote.
	OwnProof
)

func (c Class) String() string {
	switch c {
	case Public:
		return "public"
	case Read:
		return "read"
	case Write:
		return "write"
	case Manage:
		return "manage"
	case Audit:
		return "audit"
	case OwnProof:
		return "own-proof"
	}
	return "unknown"
}

// Need returns the role a class of route needs.
func (c Class) Need() Role {
	switch c {
	case Read:
		return Reader
	case Write:
		return Writer
	case Manage:
		return Admin
	case Audit:
		return Auditor
	case OwnProof:
		return Reader // or Auditor; see Allowed
	}
	return ""
}

// Allowed reports whether p may use a route of class c.
func Allowed(p Principal, c Class) bool {
	switch c {
	case Public:
		return true
	case OwnProof:
		return p.Has(Reader) || p.Has(Auditor)
	}
	return p.Has(c.Need())
}

// manageRoots are the first path segments whose writes need Admin.
var manageRoots = []string{"models", "eventroutes", "endpoints", "keys"}

// ClassOf classifies a route by its method and its mux pattern
// ("GET /digitaltwins/{id}"; the method is the request's, since a pattern
// without one matches any). It is total: a route nobody thought of is a
// Write (or a Read for GET), never Public.
func ClassOf(method, pattern string) Class {
	path := pattern
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		path = pattern[i+1:]
	}
	root, rest := splitRoot(path)
	switch {
	case path == "/openapi.json":
		return Public
	case path == "/log/proof/{index}":
		return OwnProof
	case path == "/healthz" || path == "/readyz":
		// A load balancer's probes carry no credentials; the answers
		// name checks and their state, never data.
		return Public
	case root == "log" || path == "/verify" || path == "/metrics" || (root == "digitaltwins" && strings.HasSuffix(rest, "/provenance")):
		// The metrics name routes, studies and connectors: auditors'
		// (and admins') reading, unless the server is started with
		// --metrics-public.
		return Audit
	}
	switch method {
	case "GET", "HEAD", "OPTIONS":
		return Read
	case "POST":
		if path == "/query" {
			return Read
		}
	}
	if slices.Contains(manageRoots, root) {
		return Manage
	}
	// The api/v1 dashboard helpers are reads; a write there is a write.
	return Write
}

// splitRoot returns the first segment of path and what follows it.
func splitRoot(path string) (root, rest string) {
	path = strings.TrimPrefix(path, "/")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i], path[i:]
	}
	return path, ""
}
