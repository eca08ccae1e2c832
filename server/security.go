package server

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"lodestone/api"
	"lodestone/trust/auth"
)

// The default per-principal rate limit with --auth: 200 requests per
// second with bursts of 400. A judgement, not a measurement: well above
// what one person or a device gateway sends, and low enough that one
// leaked token cannot take the server's whole capacity (a patch costs
// about a millisecond of a core; see docs/benchmarks.md).
const (
	DefaultRateLimit = 200
	DefaultRateBurst = 400
)

func (o *Options) registerSecurityFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.TLSCert, "tls-cert", o.TLSCert, "serve HTTPS with this PEM certificate (chain); needs --tls-key")
	fs.StringVar(&o.TLSKey, "tls-key", o.TLSKey, "PEM private key of --tls-cert")
	fs.StringVar(&o.TLSClientCA, "tls-client-ca", o.TLSClientCA, "require client certificates signed by these PEM CAs (mutual TLS)")
	fs.StringVar(&o.Auth, "auth", o.Auth, "identity file: bearer tokens and/or a JWT issuer with its JWKS (docs/formats/auth.md)")
	fs.BoolVar(&o.Insecure, "insecure", o.Insecure, "allow a non-loopback address without --auth (anyone who reaches it may do anything)")
	fs.StringVar(&o.Hostnames, "hostname", o.Hostnames, "host names (comma separated) accepted in the Host header besides IP literals")
	fs.StringVar(&o.CORSOrigins, "cors-origin", o.CORSOrigins, "browser origins (comma separated) allowed to call the API cross-site; none by default")
	fs.StringVar(&o.WebhookAllow, "webhook-allow", o.WebhookAllow, "address ranges (CIDR, comma separated) webhooks may reach although private or loopback (none by default, also on loopback without --auth; a local receiver needs 127.0.0.0/8)")
	fs.Float64Var(&o.RateLimit, "rate-limit", o.RateLimit, "requests per second each principal may make on average (with --auth); 0: no limit")
	fs.Int64Var(&o.RateBurst, "rate-burst", o.RateBurst, "burst of the per-principal rate limit")
}

// MergeSecurityFlags copies the TLS, identity and hardening options given
// on the command line (set holds the names of the flags given) from f
// over o; the serve command calls it after the file and the environment.
func MergeSecurityFlags(o *Options, f Options, set map[string]bool) {
	for name, copy := range map[string]func(){
		"tls-cert":           func() { o.TLSCert = f.TLSCert },
		"tls-key":            func() { o.TLSKey = f.TLSKey },
		"tls-client-ca":      func() { o.TLSClientCA = f.TLSClientCA },
		"auth":               func() { o.Auth = f.Auth },
		"insecure":           func() { o.Insecure = f.Insecure },
		"hostname":           func() { o.Hostnames = f.Hostnames },
		"cors-origin":        func() { o.CORSOrigins = f.CORSOrigins },
		"webhook-allow":      func() { o.WebhookAllow = f.WebhookAllow },
		"rate-limit":         func() { o.RateLimit = f.RateLimit },
		"rate-burst":         func() { o.RateBurst = f.RateBurst },
		"nats.password-file": func() { o.NATSPasswordFile = f.NATSPasswordFile },
	} {
		if set[name] {
			copy()
		}
	}
}

// list splits a comma-separated option.
func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// loopbackAddr reports whether a listen address binds loopback only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func (o *Options) validateSecurity() []error {
	var errs []error
	if (o.TLSCert == "") != (o.TLSKey == "") {
		errs = append(errs, errors.New("tls_cert, tls_key: give both or neither"))
	}
	if o.TLSClientCA != "" && o.TLSCert == "" {
		errs = append(errs, errors.New("tls_client_ca: mutual TLS needs --tls-cert and --tls-key"))
	}
	if o.Auth == "" && !o.Insecure && o.HTTPAddr != "" && !loopbackAddr(o.HTTPAddr) {
		errs = append(errs, fmt.Errorf("http_addr: %q is not a loopback address and the server has no --auth: give --auth FILE, or --insecure to serve unauthenticated to everyone who can reach it", o.HTTPAddr))
	}
	for _, h := range list(o.Hostnames) {
		if strings.ContainsAny(h, ":/ ") {
			errs = append(errs, fmt.Errorf("hostnames: %q: want a host name without port or scheme", h))
		}
	}
	for _, c := range list(o.CORSOrigins) {
		u, err := url.Parse(c)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("cors_origins: %q: want an origin such as https://app.example", c))
		}
	}
	for _, c := range list(o.WebhookAllow) {
		if _, err := netip.ParsePrefix(c); err != nil {
			errs = append(errs, fmt.Errorf("webhook_allow: %q: want a CIDR range such as 10.1.0.0/16", c))
		}
	}
	if o.RateLimit < 0 {
		errs = append(errs, fmt.Errorf("rate_limit: %v must be >= 0", o.RateLimit))
	}
	if o.RateLimit > 0 && o.RateBurst < 1 {
		errs = append(errs, fmt.Errorf("rate_burst: %d must be >= 1", o.RateBurst))
	}
	return errs
}

// security builds the API's guard options and the TLS configuration (nil
// for plain HTTP) from o, loading the --auth and certificate files.
func (o *Options) security() (*api.Security, *tls.Config, error) {
	sec := &api.Security{Hosts: list(o.Hostnames), Loopback: loopbackAddr(o.HTTPAddr)}
	for _, c := range list(o.CORSOrigins) {
		sec.CORSOrigins = append(sec.CORSOrigins, strings.TrimSuffix(c, "/"))
	}
	if h := hostname(); h != "" {
		sec.Hosts = append(sec.Hosts, h)
	}
	for _, c := range list(o.WebhookAllow) {
		sec.WebhookAllow = append(sec.WebhookAllow, netip.MustParsePrefix(c)) // checked by Validate
	}
	if o.Auth != "" {
		a, err := auth.Load(o.Auth)
		if err != nil {
			return nil, nil, fmt.Errorf("server: --auth: %w", err)
		}
		if a.Anonymous() != nil && !sec.Loopback && !o.Insecure {
			return nil, nil, fmt.Errorf("server: --auth: %s: anonymous: requests without credentials are let in only on a loopback address; %q is not one (give --insecure to allow it anyway)", o.Auth, o.HTTPAddr)
		}
		sec.Auth = a
		sec.RateLimit, sec.RateBurst = o.RateLimit, int(o.RateBurst)
	}
	// Webhooks to loopback and private ranges are opt-in only, with
	// --webhook-allow, also on a loopback server without --auth: a local
	// server's webhooks reaching 127.0.0.1:5432 is the audit's finding,
	// and a developer's local receiver costs one flag
	// (--webhook-allow 127.0.0.0/8).
	if o.TLSCert == "" {
		return sec, nil, nil
	}
	tc, err := auth.ServerTLS(o.TLSCert, o.TLSKey, o.TLSClientCA)
	if err != nil {
		return nil, nil, fmt.Errorf("server: %w", err)
	}
	return sec, tc, nil
}

// natsCredentials returns the user and password clients of the embedded
// NATS listener must present: none without --nats.listen; those of
// --nats.password-file; else a random password kept in the data
// directory, so that clients configured once keep working.
func (s *Server) natsCredentials() (user, pass string, err error) {
	if s.opts.NATSListen == "" || s.opts.NATSURL != "" {
		return "", "", nil
	}
	path := s.opts.NATSPasswordFile
	if path == "" {
		path = filepath.Join(s.opts.DataDir, "nats-credentials")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			var b [24]byte
			rand.Read(b[:])
			line := "lodestone:" + base64.RawURLEncoding.EncodeToString(b[:]) + "\n"
			if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
				return "", "", fmt.Errorf("server: nats credentials: %w", err)
			}
		}
		s.log.Warn("the embedded NATS listener requires credentials", "listen", s.opts.NATSListen, "credentials_file", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("server: nats_password_file: %w", err)
	}
	user, pass, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
	if !ok || user == "" || len(pass) < 12 {
		return "", "", fmt.Errorf("server: nats_password_file %s: want one line user:password with a password of at least 12 characters", path)
	}
	return user, pass, nil
}
