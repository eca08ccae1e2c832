package server_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"lodestone/server"
	"lodestone/trust"
)

// benchToken is the bearer token of the trusted benchmark's principal (an
// admin of org acme: it uploads models and imports).
const benchToken = "bench-acme-admin-token-0001"

// trustModes are the server set-ups BenchmarkTrusted compares.
var trustModes = []string{"plain", "auth", "log", "auth+log"}

// trustedServer is one server of BenchmarkTrusted with its pool of twins.
type trustedServer struct {
	url string
	hdr []string // the Authorization header, with --auth
}

// startTrusted starts a server in mode (see BenchmarkTrusted) with the
// bench ontology and benchPool imported twins.
func startTrusted(b *testing.B, mode string) trustedServer {
	b.Helper()
	auth, log := strings.Contains(mode, "auth"), strings.Contains(mode, "log")
	s := startServer(b, func(o *server.Options) {
		dir := b.TempDir()
		if auth {
			o.Auth = filepath.Join(dir, "auth.json")
			id := `{"tokens":[{"token":"` + benchToken + `","subject":"bench","org":"acme","roles":["admin"]}]}`
			if err := os.WriteFile(o.Auth, []byte(id), 0o600); err != nil {
				b.Fatal(err)
			}
			o.RateLimit = 0
		}
		if log {
			skey, _, err := trust.GenerateKey("lodestone.bench")
			if err != nil {
				b.Fatal(err)
			}
			o.LogKey = filepath.Join(dir, "log.key")
			if err := os.WriteFile(o.LogKey, []byte(skey+"\n"), 0o600); err != nil {
				b.Fatal(err)
			}
		}
	})
	ts := trustedServer{url: s.URL()}
	if auth {
		ts.hdr = []string{"Authorization", "Bearer " + benchToken}
	}
	c := fastClient()
	if res, err := send(b.Context(), c, http.MethodPost, ts.url+"/models", ontologyBody(), ts.hdr...); err != nil || res.status != http.StatusCreated {
		b.Fatalf("%s: POST /models = %d %s, %v", mode, res.status, res.body, err)
	}
	if err := importFileAs(b.Context(), c, ts.url, "pool", benchPool, ts.hdr); err != nil {
		b.Fatalf("%s: %v", mode, err)
	}
	return ts
}

// BenchmarkTrusted measures, in one run, what BenchmarkTwinRead,
// BenchmarkTwinPatch and BenchmarkTwinCreate measure (a whole server:
// HTTP, SQLite, embedded NATS) on four servers: mode=plain (no --auth, no
// log), mode=auth (--auth with a bearer token of org acme, the rate limit
// off), mode=log (the transparency log on with --log-key) and
// mode=auth+log (both). The servers start first and each operation runs
// on them one after another, so that the modes of one operation are
// measured close in time on a machine whose load drifts:
//
//	go test ./server -run '^$' -bench BenchmarkTrusted -benchtime 3000x
func BenchmarkTrusted(b *testing.B) {
	servers := map[string]trustedServer{}
	for _, mode := range trustModes {
		servers[mode] = startTrusted(b, mode)
	}
	c := fastClient()
	ctx := b.Context()
	ops := []struct {
		name, unit string
		op         func(ts trustedServer) func(r *rand.Rand, seq int64) error
	}{
		{"read", "reads/s", func(ts trustedServer) func(*rand.Rand, int64) error {
			return func(r *rand.Rand, _ int64) error {
				res, err := send(ctx, c, http.MethodGet, ts.url+"/digitaltwins/pool-"+strconv.Itoa(r.IntN(benchPool)), nil, ts.hdr...)
				return expect(res, err, http.StatusOK, "GET twin")
			}
		}},
		{"patch", "patches/s", func(ts trustedServer) func(*rand.Rand, int64) error {
			return func(r *rand.Rand, seq int64) error {
				body := []byte(`[{"op":"replace","path":"/inventoryTonnes","value":` + strconv.FormatInt(seq%100000, 10) + `.5}]`)
				res, err := send(ctx, c, http.MethodPatch, ts.url+"/digitaltwins/pool-"+strconv.Itoa(r.IntN(benchPool)), body, ts.hdr...)
				return expect(res, err, http.StatusNoContent, "PATCH twin")
			}
		}},
		{"create", "creates/s", func(ts trustedServer) func(*rand.Rand, int64) error {
			return func(_ *rand.Rand, seq int64) error {
				body := []byte(`{"$metadata":{"$model":"` + benchModel + `"},"name":"new warehouse","capacityTonnesPerYear":2500,"inventoryTonnes":` + strconv.FormatInt(seq%1000, 10) + `}`)
				res, err := send(ctx, c, http.MethodPut, ts.url+"/digitaltwins/new-"+strconv.FormatInt(seq, 10), body, append([]string{"If-None-Match", "*"}, ts.hdr...)...)
				return expect(res, err, http.StatusOK, "PUT twin")
			}
		}},
	}
	for _, o := range ops {
		for _, mode := range trustModes {
			b.Run("op="+o.name+"/mode="+mode, func(b *testing.B) {
				parallel(b, o.unit, o.op(servers[mode]))
			})
		}
	}
}

// importFileAs is importFile (no relationships) with the headers hdr.
func importFileAs(ctx context.Context, c *http.Client, base, prefix string, n int, hdr []string) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeImport(pw, prefix, n, false)) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/jobs/imports/"+prefix, pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := (&http.Client{Transport: c.Transport}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("import %s = %d %s", prefix, res.StatusCode, body)
	}
	return nil
}
