package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"lodestone/client"
	"lodestone/server"
)

// target is where a remote command sends its requests: a running server
// (--server URL) or a data directory opened by an in-process server
// (--data DIR). Either way the command talks to the API through package
// client, never to the store.
type target struct {
	server string
	data   string
	json   bool
}

func (t *target) flags(fs *flag.FlagSet, withJSON bool) {
	fs.StringVar(&t.server, "server", "", "server URL (default $LODESTONE_SERVER or http://127.0.0.1:8080)")
	fs.StringVar(&t.data, "data", "", "open this data directory in-process instead of calling a server")
	if withJSON {
		fs.BoolVar(&t.json, "json", false, "print JSON")
	}
}

// connect returns a client and a function that releases what connect
// started.
func (t *target) connect(ctx context.Context) (*client.Client, func(), error) {
	if t.data != "" && t.server != "" {
		return nil, nil, usageError{"give --server or --data, not both"}
	}
	if t.data != "" {
		o := server.DefaultOptions()
		o.DataDir = t.data
		o.HTTPAddr = "127.0.0.1:0"
		o.Logger = slog.New(slog.DiscardHandler)
		s, err := server.New(o)
		if err != nil {
			return nil, nil, err
		}
		if err := s.Start(ctx); err != nil {
			return nil, nil, fmt.Errorf("open %s: %w", t.data, err)
		}
		stop := func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s.Shutdown(sctx)
		}
		return client.New(s.URL(), nil), stop, nil
	}
	url := t.server
	if url == "" {
		url = os.Getenv("LODESTONE_SERVER")
	}
	if url == "" {
		url = "http://127.0.0.1:8080"
	}
	hc, err := remoteHTTPClient(os.Getenv("LODESTONE_CA"))
	if err != nil {
		return nil, nil, err
	}
	return client.New(url, hc).WithToken(os.Getenv("LODESTONE_TOKEN")), func() {}, nil
}

// remoteHTTPClient is the HTTP client of the remote commands: nil (the
// client's default) unless caFile names a PEM bundle that the server's
// certificate chains to (a server with --tls-cert signed by a private CA).
func remoteHTTPClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("LODESTONE_CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("LODESTONE_CA: %s holds no PEM certificate", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: 60 * time.Second, Transport: tr}, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// apiError makes API errors read well on a terminal, and says what to do
// when no server answers.
func apiError(err error) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		return errors.New(ce.Error())
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		where := "the server"
		var ue *url.Error
		if errors.As(err, &ue) {
			if u, perr := url.Parse(ue.URL); perr == nil {
				where = u.Scheme + "://" + u.Host
			}
		}
		return fmt.Errorf("no Lodestone server answers at %s: is the server running? start it with `lodestone demo` (or give --server URL, $LODESTONE_SERVER or --data DIR)", where)
	}
	return err
}

// parseAsOf reads an --as-of value: a plain date (YYYY-MM-DD, midnight UTC,
// as the API reads it) or an RFC 3339 time. Empty is the zero time (now).
func parseAsOf(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{fmt.Sprintf("--as-of: %q: want a date (YYYY-MM-DD) or an RFC 3339 time (2025-04-01T12:00:00Z)", s)}
}

// decodeJSONFile decodes data, read from the file name, into v; a syntax
// or type error names the line and column, not the byte offset.
func decodeJSONFile(name string, data []byte, v any) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	return jsonError(name, data, err)
}

// jsonError rewrites the byte offset of a JSON syntax or type error as a
// line and column of data (both from 1, columns in bytes).
func jsonError(name string, data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(data, se.Offset)
		return fmt.Errorf("%s:%d:%d: %s", name, line, col, se.Error())
	case errors.As(err, &te):
		line, col := lineCol(data, te.Offset)
		what := te.Field
		if what == "" {
			what = "value"
		}
		return fmt.Errorf("%s:%d:%d: %s: JSON %s where %s is expected", name, line, col, what, te.Value, te.Type)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// lineCol converts a byte offset into data (as encoding/json reports it:
// the offset after the byte that was read last) to a line and column.
func lineCol(data []byte, off int64) (line, col int) {
	off = min(max(off, 1), int64(len(data)))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

// warnUnknownModel says on stderr when no model id on the server is id,
// and which is closest, so that a mistyped id (or one whose ";1" the shell
// ate: quote it) does not list nothing in silence. It never fails the
// command: a server that cannot list models just gets no warning.
func warnUnknownModel(ctx context.Context, env *cliEnv, c *client.Client, id string) {
	ms, err := c.Models(ctx, false)
	if err != nil {
		return
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		if m.ID == id {
			return
		}
		ids[i] = m.ID
	}
	msg := fmt.Sprintf("lodestone: warning: the server has no model %s", id)
	best := closest(id, ids)
	if best == "" {
		// "dtmi:lodestone:Mine" with its version eaten by the shell.
		for _, m := range ids {
			if strings.HasPrefix(m, id+";") {
				best = m
				break
			}
		}
	}
	if best != "" {
		msg += fmt.Sprintf("; did you mean %s?", best)
	}
	if !strings.Contains(id, ";") {
		msg += " (a DTMI ends in ;VERSION: quote it in the shell, e.g. 'dtmi:lodestone:Mine;1')"
	}
	fmt.Fprintln(env.stderr, msg)
}
