package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// ServerTLS builds the server's TLS configuration from a PEM certificate
// chain and key, and, when clientCA is not empty, a PEM bundle of the
// CAs whose client certificates are required (mutual TLS: every
// connection must present a certificate one of them signed). TLS 1.2 is
// the floor; HTTP/2 is offered first.
func ServerTLS(certFile, keyFile, clientCA string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("auth: tls: give both the certificate and the key")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("auth: tls: %w", err)
	}
	c := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	if clientCA != "" {
		pem, err := os.ReadFile(clientCA)
		if err != nil {
			return nil, fmt.Errorf("auth: tls client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("auth: tls client CA %s: no PEM certificate in it", clientCA)
		}
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// certPrincipal is one entry of the auth file's certs.
type certPrincipal struct {
	kind  string // "cn", "uri" or "dn"
	value string
	p     Principal
}

func newCertPrincipal(c CertConfig) certPrincipal {
	p := Principal{Subject: c.Subject, Org: c.Org, Method: "cert"}
	for _, r := range c.Roles {
		p.Roles = append(p.Roles, Role(r))
	}
	kind, value := certSubject(c.Subject)
	return certPrincipal{kind: kind, value: value, p: p}
}

// certSubject splits a certs[].subject into its kind and value.
func certSubject(s string) (kind, value string) {
	switch {
	case strings.HasPrefix(s, "URI:"):
		return "uri", strings.TrimPrefix(s, "URI:")
	case strings.HasPrefix(s, "CN=") && !strings.Contains(strings.ReplaceAll(s, `\,`, ""), ","):
		return "cn", strings.ReplaceAll(strings.TrimPrefix(s, "CN="), `\,`, ",")
	}
	return "dn", s
}

func checkCerts(certs []CertConfig) []error {
	var errs []error
	seen := map[string]bool{}
	for i, c := range certs {
		at := fmt.Sprintf("certs[%d]", i)
		kind, value := certSubject(c.Subject)
		switch {
		case value == "":
			errs = append(errs, fmt.Errorf("%s.subject: required: \"CN=name\", \"URI:uri\" or a distinguished name", at))
		case kind == "dn" && !strings.Contains(c.Subject, "="):
			errs = append(errs, fmt.Errorf("%s.subject: %q is not \"CN=name\", \"URI:uri\" or a distinguished name (\"CN=pump-7,O=acme\")", at, c.Subject))
		case seen[c.Subject]:
			errs = append(errs, fmt.Errorf("%s.subject: %q is given twice", at, c.Subject))
		}
		seen[c.Subject] = true
		if c.Org == "" {
			errs = append(errs, fmt.Errorf("%s.org: required (the org whose things the certificate acts on)", at))
		}
		if len(c.Roles) == 0 {
			errs = append(errs, fmt.Errorf("%s.roles: give at least one", at))
		}
		for j, r := range c.Roles {
			if _, err := ParseRole(r); err != nil {
				errs = append(errs, fmt.Errorf("%s.roles[%d]: %v", at, j, err))
			}
		}
	}
	return errs
}

// certPrincipal returns the principal of a request without an
// Authorization header: the first certs entry that matches the client
// certificate mutual TLS verified (the leaf of the first verified chain).
// A certificate that was not verified never counts.
func (a *Authenticator) certPrincipal(r *http.Request) (Principal, error) {
	if len(a.certs) == 0 || r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return Principal{}, ErrNoCredentials
	}
	leaf := r.TLS.VerifiedChains[0][0]
	for _, c := range a.certs {
		if c.matches(leaf) {
			return c.p, nil
		}
	}
	return Principal{}, fmt.Errorf("%w: the client certificate %q maps to no principal (certs of the auth file) and the request has no Authorization header", ErrInvalid, leaf.Subject.String())
}

func (c certPrincipal) matches(leaf *x509.Certificate) bool {
	switch c.kind {
	case "cn":
		return leaf.Subject.CommonName == c.value
	case "uri":
		for _, u := range leaf.URIs {
			if u.String() == c.value {
				return true
			}
		}
		return false
	}
	return leaf.Subject.String() == c.value
}
