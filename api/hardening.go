package api

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"lodestone/trust/auth"
)

// Security configures the guard in front of every route ([API.Guard]):
// who may call (Auth), from which pages (Origin, CORS), under which names
// (Host), how often (rate limits), and which addresses webhooks may reach.
// The server fills it from its flags; an API built without one (tests,
// embedding) has no guard.
type Security struct {
	// Auth authenticates requests; nil serves every request as
	// auth.Anonymous (a server on loopback, or one started with
	// --insecure).
	Auth *auth.Authenticator
	// Hosts are the host names (without port) accepted in the Host
	// header, besides IP literals. Loopback adds "localhost",
	// "*.localhost" and single-label names. A name not accepted is refused: a page of another
	// site whose name was rebound to this server's address
	// (DNS rebinding) sends its own name.
	Hosts    []string
	Loopback bool
	// CORSOrigins are the origins ("https://app.example") whose pages may
	// call the API from a browser; none by default. A request whose
	// Origin is neither one of them nor this server's own is refused.
	CORSOrigins []string
	// WebhookAllow are the address ranges webhooks may reach although
	// they are loopback, private, link-local or otherwise not public.
	WebhookAllow []netip.Prefix
	// RateLimit is the average requests per second allowed to each
	// principal (each remote address without Auth), RateBurst the burst;
	// RateLimit <= 0 means no limit.
	RateLimit float64
	RateBurst int
}

// safelistedTypes are the request media types a browser sends from
// another site without a CORS preflight (Fetch standard, "CORS-safelisted
// request-header"): a body of these types is refused on every route, so
// that no web page can write through a simple request.
var safelistedTypes = []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}

// importTypes are the media types of an import file (ndjson); an empty
// Content-Type is taken as ndjson.
var importTypes = []string{"application/x-ndjson", "application/jsonl", "application/json", "application/octet-stream"}

// checkContentType refuses a body of a safelisted type, or a Content-Type
// that does not parse, with 415; route is the matched pattern and body
// the route's declared body schema.
func checkContentType(r *http.Request, body string) *Error {
	if !hasBody(r) {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType", Message: fmt.Sprintf("Content-Type %q does not parse: %v", ct, err)}
	}
	if slices.Contains(safelistedTypes, mt) {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType", Message: fmt.Sprintf("Content-Type %s is refused on every route (a web page of any site could send it without a CORS preflight); use application/json", mt)}
	}
	if body == "ImportFile" && !slices.Contains(importTypes, mt) {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType", Message: fmt.Sprintf("Content-Type %s: an import file is application/x-ndjson", mt)}
	}
	return nil
}

func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// checkHost accepts a Host that is an IP literal (DNS rebinding needs a
// name), a configured name, or a loopback name on a loopback server.
func (s *Security) checkHost(r *http.Request) *Error {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return &Error{Status: http.StatusBadRequest, Code: "HostRequired", Message: "the request has no Host"}
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return nil
	}
	for _, h := range s.Hosts {
		if strings.EqualFold(h, host) {
			return nil
		}
	}
	// On loopback, names of this machine: localhost and single-label
	// names (from /etc/hosts or a local search domain; a rebinding
	// attacker needs a name in public DNS, which has a dot).
	if s.Loopback && (host == "localhost" || strings.HasSuffix(host, ".localhost") || !strings.Contains(host, ".")) {
		return nil
	}
	return &Error{Status: http.StatusForbidden, Code: "HostNotAllowed", Message: fmt.Sprintf("Host %q is not a name of this server (DNS rebinding guard); start the server with --hostname %s to accept it", host, host)}
}

// checkOrigin accepts a request without Origin (not from a browser page,
// or a same-origin GET), from this server's own origin, or from a
// configured CORS origin.
func (s *Security) checkOrigin(r *http.Request) *Error {
	o := r.Header.Get("Origin")
	if o == "" {
		return nil
	}
	if slices.Contains(s.CORSOrigins, o) {
		return nil
	}
	if u, err := url.Parse(o); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	return &Error{Status: http.StatusForbidden, Code: "OriginNotAllowed", Message: fmt.Sprintf("Origin %q may not call this API (cross-site request); allow it with --cors-origin", o)}
}

// cors sets the CORS answer headers for an allowed cross-origin request,
// and answers a preflight (true: the request is handled).
func (s *Security) cors(w http.ResponseWriter, r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || !slices.Contains(s.CORSOrigins, o) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", o)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "ETag, Location, Retry-After, Lodestone-Log-Index")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match, If-None-Match, Last-Event-ID")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// ErrWebhookAddress is the refusal of a webhook address that is not
// public and not allow-listed; checked with errors.Is.
var ErrWebhookAddress = errors.New("api: webhook address not allowed")

// webhookAllowed reports whether a webhook may reach ip: a public unicast
// address, or one in allow.
func webhookAllowed(ip netip.Addr, allow []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range allow {
		if p.Contains(ip) {
			return true
		}
	}
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !nonPublic(ip)
}

// nonPublic lists ranges IsGlobalUnicast accepts that are not on the
// public internet: shared address space (RFC 6598), benchmarking
// (RFC 2544), IPv4 "this network", documentation (RFC 5737, RFC 3849),
// NAT64 (RFC 6052) and 6to4 (RFC 3056), which can wrap private ones.
var nonPublicRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"),
}

func nonPublic(ip netip.Addr) bool {
	for _, p := range nonPublicRanges {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// checkWebhookURL refuses, at registration, a webhook whose host is an
// address or resolves to one that is not allowed. The dial checks again
// (webhookClient): the name may resolve elsewhere later.
func (a *API) checkWebhookURL(ctx context.Context, u *url.URL) error {
	s := a.opts.Security
	if s == nil {
		return nil
	}
	host := u.Hostname()
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupNetIP(rctx, "ip", host)
		if err != nil {
			return badRequest("InvalidArgument", "url: host %s does not resolve: %v", host, err)
		}
		ips = addrs
	}
	for _, ip := range ips {
		if !webhookAllowed(ip, s.WebhookAllow) {
			return &Error{Status: http.StatusBadRequest, Code: "WebhookAddressNotAllowed", Message: fmt.Sprintf("url: %s is %s, a loopback, private, link-local or reserved address; webhooks reach only public addresses unless the server allows the range with --webhook-allow CIDR", host, ip), Err: ErrWebhookAddress}
		}
	}
	return nil
}

// webhookClient is the HTTP client of webhooks: its dialer refuses
// addresses that are not allowed, checked on the address actually dialled
// after resolution, so a name rebound to an internal address after
// registration reaches nothing. nil (the default client) without
// Security.
func (a *API) webhookClient() *http.Client {
	s := a.opts.Security
	if s == nil {
		return nil
	}
	allow := s.WebhookAllow
	d := &net.Dialer{
		Timeout: 10 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrWebhookAddress, address)
			}
			if !webhookAllowed(ap.Addr(), allow) {
				return fmt.Errorf("%w: %s is not a public address (allow it with --webhook-allow)", ErrWebhookAddress, ap.Addr())
			}
			return nil
		},
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the check
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: tr,
		// A redirect is dialled through the same transport, so checked too.
	}
}

// redactEndpoint returns ep without secrets: the password (and user) of
// its URL and query values that look like credentials.
func redactEndpoint(ep Endpoint) Endpoint {
	if ep.URL == "" {
		return ep
	}
	u, err := url.Parse(ep.URL)
	if err != nil {
		ep.URL = "[unparsable URL redacted]"
		return ep
	}
	changed := false
	if u.User != nil {
		u.User = url.User("REDACTED")
		changed = true
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if secretParam(k) {
				q.Set(k, "REDACTED")
				changed = true
			}
		}
		u.RawQuery = q.Encode()
	}
	if changed {
		ep.URL = u.String()
	}
	return ep
}

// secretParam reports whether a query parameter name looks like it holds
// a credential.
func secretParam(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"token", "key", "secret", "password", "pass", "pwd", "sig", "signature", "auth", "code", "credential"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}
