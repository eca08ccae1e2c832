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

// benchToken is the bearer token of the trusted benchmark's principal (a
// writer of org acme that also imports: admin).
const benchToken = "bench-acme-admin-token-0001"

// BenchmarkTrusted measures, in one run, what BenchmarkTwinRead,
// BenchmarkTwinPatch and BenchmarkTwinCreate measure (a whole server:
// HTTP, SQLite, embedded NATS) in four modes: mode=plain (no --auth, no
// log), mode=auth (--auth with a bearer token of org acme, the rate limit
// off), mode=log (the transparency log on with --log-key) and
// mode=auth+log (both), so that reads/s, patches/s and creates/s of each
// sit side by side (-bench 'BenchmarkTrusted/mode=(plain|auth\+log)/'
// for the two ends):
//
//	go test ./server -run '^$' -bench BenchmarkTrusted -benchtime 3000x
func BenchmarkTrusted(b *testing.B) {
	for _, mode := range []string{"plain", "auth", "log", "auth+log"} {
		auth, log := strings.Contains(mode, "auth"), strings.Contains(mode, "log")
		b.Run("mode="+mode, func(b *testing.B) {
			var hdr []string
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
			if auth {
				hdr = []string{"Authorization", "Bearer " + benchToken}
			}
			c := fastClient()
			ctx := b.Context()
			if res, err := send(ctx, c, http.MethodPost, s.URL()+"/models", ontologyBody(), hdr...); err != nil || res.status != http.StatusCreated {
				b.Fatalf("POST /models = %d %s, %v", res.status, res.body, err)
			}
			if err := importFileAs(ctx, c, s.URL(), "pool", benchPool, hdr); err != nil {
				b.Fatal(err)
			}
			base := s.URL() + "/digitaltwins/pool-"
			b.Run("op=read", func(b *testing.B) {
				parallel(b, "reads/s", func(r *rand.Rand, _ int64) error {
					res, err := send(ctx, c, http.MethodGet, base+strconv.Itoa(r.IntN(benchPool)), nil, hdr...)
					return expect(res, err, http.StatusOK, "GET twin")
				})
			})
			b.Run("op=patch", func(b *testing.B) {
				parallel(b, "patches/s", func(r *rand.Rand, seq int64) error {
					body := []byte(`[{"op":"replace","path":"/inventoryTonnes","value":` + strconv.FormatInt(seq%100000, 10) + `.5}]`)
					res, err := send(ctx, c, http.MethodPatch, base+strconv.Itoa(r.IntN(benchPool)), body, hdr...)
					return expect(res, err, http.StatusNoContent, "PATCH twin")
				})
			})
			b.Run("op=create", func(b *testing.B) {
				nb := s.URL() + "/digitaltwins/new-"
				parallel(b, "creates/s", func(_ *rand.Rand, seq int64) error {
					body := []byte(`{"$metadata":{"$model":"` + benchModel + `"},"name":"new warehouse","capacityTonnesPerYear":2500,"inventoryTonnes":` + strconv.FormatInt(seq%1000, 10) + `}`)
					res, err := send(ctx, c, http.MethodPut, nb+strconv.FormatInt(seq, 10), body, append([]string{"If-None-Match", "*"}, hdr...)...)
					return expect(res, err, http.StatusOK, "PUT twin")
				})
			})
		})
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
