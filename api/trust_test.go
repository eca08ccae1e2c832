package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"lodestone/api"
	"lodestone/pipeline"
	"lodestone/server"
	"lodestone/store/sqlite"
	"lodestone/trust"
	"lodestone/trust/auth"
)

// logServer is an API with the transparency log on a SQLite file.
type logServer struct {
	url string
	log *trust.Log
}

func startLogServer(t testing.TB, logOn bool) *logServer {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lodestone.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var hooks []pipeline.Hook
	var l *trust.Log
	if logOn {
		skey, _, err := trust.GenerateKey("lodestone.test/log")
		if err != nil {
			t.Fatal(err)
		}
		signer, err := trust.NewSigner(skey)
		if err != nil {
			t.Fatal(err)
		}
		if l, err = trust.NewLog(ctx, st, signer, trust.LogOptions{}); err != nil {
			t.Fatal(err)
		}
		l.Start()
		t.Cleanup(func() { l.Close(context.Background()) })
		hooks = append(hooks, l)
	}
	p, err := pipeline.New(ctx, pipeline.Options{Store: st, Hooks: hooks})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	a, err := api.New(ctx, api.Options{Store: st, Pipeline: p, TrustLog: l})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	s := &logServer{url: srv.URL, log: l}
	models, _ := json.Marshal(rawModels())
	s.do(t, "POST", "/models", "application/json", models, http.StatusCreated)
	return s
}

func rawModels() []json.RawMessage {
	out := make([]json.RawMessage, len(testModels))
	for i, m := range testModels {
		out[i] = json.RawMessage(m)
	}
	return out
}

func (s *logServer) do(t testing.TB, method, path, ctype string, body []byte, want int) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if want != 0 && resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	return resp
}

func (s *logServer) get(t testing.TB, path string) []byte {
	t.Helper()
	b, _ := io.ReadAll(s.do(t, "GET", path, "", nil, http.StatusOK).Body)
	return b
}

func twinBody(i int) []byte {
	return fmt.Appendf(nil, `{"$metadata":{"$model":"dtmi:test:Asset;1"},"name":"a%d","capacity":%d.5,"gauge":{"$metadata":{}}}`, i, i)
}

// TestLogOverHTTP writes through the API and checks Lodestone-Log-Index,
// then checks the served log independently of the code that serves it,
// from the specifications alone: RFC 6962 §2.1 (leaf and node hashes, the
// Merkle tree hash and inclusion proofs), C2SP tlog-tiles (paths, entry
// bundles, level-0 tiles), C2SP tlog-checkpoint and signed-note (the note
// and its Ed25519 signature and key hash). It uses neither x/mod nor the
// trust package for these checks.
func TestLogOverHTTP(t *testing.T) {
	s := startLogServer(t, true)
	last := int64(-1)
	const n = 300 // more than one full tile of 256
	for i := range n {
		resp := s.do(t, "PUT", fmt.Sprintf("/digitaltwins/a%d", i), "application/json", twinBody(i), http.StatusOK)
		idx, err := strconv.ParseInt(resp.Header.Get("Lodestone-Log-Index"), 10, 64)
		if err != nil || idx <= last {
			t.Fatalf("PUT %d: Lodestone-Log-Index %q after %d", i, resp.Header.Get("Lodestone-Log-Index"), last)
		}
		last = idx
	}
	resp := s.do(t, "PATCH", "/digitaltwins/a1", "application/json-patch+json", []byte(`[{"op":"replace","path":"/capacity","value":2}]`), http.StatusNoContent)
	if got := resp.Header.Get("Lodestone-Log-Index"); got != strconv.FormatInt(last+1, 10) {
		t.Errorf("PATCH: Lodestone-Log-Index %q, want %d", got, last+1)
	}
	if err := s.log.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}

	vkey := strings.TrimSpace(string(s.get(t, "/log/key")))
	cp := s.get(t, "/log/checkpoint")
	origin, size, root := openCheckpoint(t, cp, vkey)
	if origin != "lodestone.test/log" || size != last+2 {
		t.Fatalf("checkpoint origin %q size %d, want lodestone.test/log and %d", origin, size, last+2)
	}

	// Entry bundles: full ones, then the partial last one.
	var leaves [][32]byte
	var entries [][]byte
	for k := int64(0); k*256 < size; k++ {
		w := min(size-k*256, 256)
		p := "/log/tile/entries/" + tileIndex(k)
		if w < 256 {
			p += ".p/" + strconv.FormatInt(w, 10)
		}
		b := s.get(t, p)
		for len(b) > 0 {
			l := int(binary.BigEndian.Uint16(b))
			entries = append(entries, b[2:2+l])
			leaves = append(leaves, leafHash(b[2:2+l]))
			b = b[2+l:]
		}
	}
	if int64(len(leaves)) != size {
		t.Fatalf("bundles hold %d entries, checkpoint %d", len(leaves), size)
	}
	if got := mth(leaves); got != root {
		t.Fatalf("the root of the entry bundles differs from the signed root")
	}
	// The level-0 tile holds the leaf hashes.
	tile := s.get(t, "/log/tile/0/000")
	for i := range 256 {
		if !bytes.Equal(tile[32*i:32*i+32], leaves[i][:]) {
			t.Fatalf("tile 0/000 hash %d is not the leaf hash of entry %d", i, i)
		}
	}
	// Each entry holds the fields of the issue and is canonical JSON.
	var e map[string]string
	if err := json.Unmarshal(entries[len(entries)-1], &e); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "type", "subject", "org", "etag", "time", "data_sha256"} {
		if _, ok := e[k]; !ok {
			t.Errorf("entry %s lacks %q", entries[len(entries)-1], k)
		}
	}
	if e["subject"] != "a1" || e["type"] != "lodestone.twin.updated" || len(e["data_sha256"]) != 64 {
		t.Errorf("last entry %s", entries[len(entries)-1])
	}
	// An inclusion proof checks against the signed root (RFC 9162 §2.1.3.2).
	for _, idx := range []int64{0, 5, 255, 256, size - 1} {
		var pr struct {
			Index    int64    `json:"index"`
			TreeSize int64    `json:"tree_size"`
			Entry    string   `json:"entry"`
			Hashes   []string `json:"hashes"`
		}
		if err := json.Unmarshal(s.get(t, fmt.Sprintf("/log/proof/%d", idx)), &pr); err != nil {
			t.Fatal(err)
		}
		if pr.TreeSize != size || pr.Entry != string(entries[idx]) {
			t.Fatalf("proof %d: tree %d, entry %q", idx, pr.TreeSize, pr.Entry)
		}
		if !checkInclusion(idx, size, leafHash([]byte(pr.Entry)), pr.Hashes, root) {
			t.Errorf("inclusion proof of %d does not check", idx)
		}
	}
	var rep trust.Report
	if err := json.Unmarshal(s.get(t, "/verify"), &rep); err != nil || !rep.OK {
		t.Errorf("GET /verify: %+v %v", rep, err)
	}
	s.do(t, "GET", "/log/tile/0/x001/000", "", nil, http.StatusNotFound)
	s.do(t, "GET", "/log/tile/0/01", "", nil, http.StatusBadRequest)
	s.do(t, "GET", "/log/proof/-1", "", nil, http.StatusBadRequest)
}

func TestLogRoutesWithoutLog(t *testing.T) {
	s := startLogServer(t, false)
	resp := s.do(t, "PUT", "/digitaltwins/a", "application/json", twinBody(1), http.StatusOK)
	if resp.Header.Get("Lodestone-Log-Index") != "" {
		t.Errorf("Lodestone-Log-Index without a log")
	}
	s.do(t, "GET", "/log/checkpoint", "", nil, http.StatusNotFound)
}

// tileIndex encodes N as C2SP tlog-tiles does: three-digit groups, all
// but the last prefixed with x.
func tileIndex(n int64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/", n%1000) + s
	}
	return s
}

// leafHash and nodeHash are RFC 6962 §2.1's.
func leafHash(b []byte) [32]byte { return sha256.Sum256(append([]byte{0}, b...)) }

func nodeHash(l, r [32]byte) [32]byte {
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

// mth is RFC 6962's Merkle Tree Hash: split at the largest power of two
// smaller than n.
func mth(leaves [][32]byte) [32]byte {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return nodeHash(mth(leaves[:k]), mth(leaves[k:]))
}

// checkInclusion verifies an inclusion proof as RFC 9162 §2.1.3.2 says.
func checkInclusion(index, size int64, leaf [32]byte, path []string, root [32]byte) bool {
	if index >= size {
		return false
	}
	fn, sn := index, size-1
	r := leaf
	for _, p := range path {
		raw, err := base64.StdEncoding.DecodeString(p)
		if err != nil || len(raw) != 32 || sn == 0 {
			return false
		}
		var h [32]byte
		copy(h[:], raw)
		if fn&1 == 1 || fn == sn {
			r = nodeHash(h, r)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = nodeHash(r, h)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && r == root
}

// openCheckpoint checks a C2SP signed note against a vkey
// ("name+hash+base64(0x01 || pubkey)") and parses the C2SP checkpoint.
func openCheckpoint(t *testing.T, msg []byte, vkey string) (origin string, size int64, root [32]byte) {
	t.Helper()
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		t.Fatalf("vkey %q", vkey)
	}
	name := parts[0]
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) != 33 || key[0] != 1 {
		t.Fatalf("vkey %q is not an Ed25519 key", vkey)
	}
	// Key ID: the first four bytes of SHA-256(name || "\n" || 0x01 || key).
	id := sha256.Sum256(append([]byte(name+"\n"), key...))
	if want := fmt.Sprintf("%08x", binary.BigEndian.Uint32(id[:4])); parts[1] != want {
		t.Fatalf("vkey hash %s, want %s", parts[1], want)
	}
	text, sigs, ok := strings.Cut(string(msg), "\n\n")
	if !ok {
		t.Fatalf("checkpoint %q has no signature block", msg)
	}
	text += "\n"
	verified := false
	for _, line := range strings.Split(strings.TrimSuffix(sigs, "\n"), "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "— "))
		if !strings.HasPrefix(line, "— ") || len(f) != 2 || f[0] != name {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(f[1])
		if err != nil || len(sig) != 4+64 || !bytes.Equal(sig[:4], id[:4]) {
			continue
		}
		verified = ed25519.Verify(ed25519.PublicKey(key[1:]), []byte(text), sig[4:])
	}
	if !verified {
		t.Fatalf("checkpoint %q: no valid signature by %s", msg, name)
	}
	lines := strings.Split(text, "\n")
	origin = lines[0]
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	r, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(r) != 32 {
		t.Fatalf("root %q", lines[2])
	}
	copy(root[:], r)
	return origin, size, root
}

// BenchmarkTwinWritesLog measures twin creates and patches through the
// API with the transparency log on and off (the log must not halve the
// write throughput).
func BenchmarkTwinWritesLog(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "log=off"
		if on {
			name = "log=on"
		}
		b.Run(name+"/create", func(b *testing.B) {
			s := startLogServer(b, on)
			b.SetParallelism(4)
			var n atomicInt
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.next()
					s.do(b, "PUT", fmt.Sprintf("/digitaltwins/b%d", i), "application/json", twinBody(i), http.StatusOK)
				}
			})
		})
		b.Run(name+"/patch", func(b *testing.B) {
			s := startLogServer(b, on)
			for i := range 64 {
				s.do(b, "PUT", fmt.Sprintf("/digitaltwins/b%d", i), "application/json", twinBody(i), http.StatusOK)
			}
			b.SetParallelism(4)
			var n atomicInt
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.next()
					s.do(b, "PATCH", fmt.Sprintf("/digitaltwins/b%d", i%64), "application/json-patch+json", fmt.Appendf(nil, `[{"op":"replace","path":"/capacity","value":%d}]`, i), http.StatusNoContent)
				}
			})
		})
	}
}

// atomicInt hands out increasing numbers to parallel benchmark loops.
type atomicInt struct{ v atomic.Int64 }

func (a *atomicInt) next() int { return int(a.v.Add(1) - 1) }

// startProofServer starts a server with --auth and the transparency log.
// Its principals: acme and beta each with an admin, a writer and a reader,
// and "audit-user" of org "audit" with the auditor role only.
func startProofServer(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	var toks []string
	for _, org := range []string{"acme", "beta"} {
		for _, role := range []auth.Role{auth.Admin, auth.Writer, auth.Reader} {
			toks = append(toks, fmt.Sprintf(`{"token":%q,"subject":%q,"org":%q,"roles":[%q]}`, tenantToken(org, role), string(role)+"-"+org, org, role))
		}
	}
	toks = append(toks, fmt.Sprintf(`{"token":%q,"subject":"audit-user","org":"audit","roles":["auditor"]}`, tenantToken("audit", auth.Auditor)))
	authFile := filepath.Join(dir, "auth.json")
	if err := os.WriteFile(authFile, []byte(`{"tokens":[`+strings.Join(toks, ",")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	skey, _, err := trust.GenerateKey("lodestone.test/proof")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "log.key")
	if err := os.WriteFile(keyFile, []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	so := server.DefaultOptions()
	so.DataDir = filepath.Join(dir, "data")
	so.HTTPAddr = "127.0.0.1:0"
	so.Auth, so.LogKey, so.RateLimit = authFile, keyFile, 0
	s, err := server.New(so)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: s, url: s.URL()}
	t.Cleanup(func() { stopServer(t, e) })
	return e
}

// TestLogProofOwnOrg: a reader or writer fetches the inclusion proof of
// its own org's writes (issue 12: "each org can also fetch inclusion
// proofs for its own writes"); another org's entry, and an entry that does
// not exist, are the same 404; auditors and admins prove any entry; the
// rest of the log stays the auditors'.
func TestLogProofOwnOrg(t *testing.T) {
	e := startProofServer(t)
	logIndex := func(r res) int64 {
		t.Helper()
		idx, err := strconv.ParseInt(r.header.Get("Lodestone-Log-Index"), 10, 64)
		if err != nil {
			t.Fatalf("Lodestone-Log-Index %q: %v", r.header.Get("Lodestone-Log-Index"), err)
		}
		return idx
	}
	model := func(org string) string {
		return fmt.Sprintf(`[{"@context":"dtmi:dtdl:context;3","@id":"dtmi:proof:%s;1","@type":"Interface","contents":[{"@type":"Property","name":"n","schema":"double","writable":true}]}]`, org)
	}
	entries := map[string][]int64{} // org → its entries' indexes
	for _, org := range []string{"acme", "beta"} {
		entries[org] = append(entries[org], logIndex(e.mustDo("POST", "/models", model(org), 201, bearer(org, auth.Admin)...)))
		body := fmt.Sprintf(`{"$metadata":{"$model":"dtmi:proof:%s;1"},"n":1}`, org)
		entries[org] = append(entries[org], logIndex(e.mustDo("PUT", "/digitaltwins/t-"+org, body, 200, bearer(org, auth.Writer)...)))
	}
	type proof struct {
		Index int64  `json:"index"`
		Entry string `json:"entry"`
	}
	for _, tt := range []struct {
		name string
		hdr  []string
		own  string // the org whose entries it may prove; "*" for all
	}{
		{"acme reader", bearer("acme", auth.Reader), "acme"},
		{"acme writer", bearer("acme", auth.Writer), "acme"},
		{"beta reader", bearer("beta", auth.Reader), "beta"},
		{"auditor of another org", bearer("audit", auth.Auditor), "*"},
		{"beta admin", bearer("beta", auth.Admin), "*"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for org, idxs := range entries {
				for _, idx := range idxs {
					r := e.do("GET", fmt.Sprintf("/log/proof/%d", idx), nil, tt.hdr...)
					if tt.own != "*" && tt.own != org {
						if r.status != 404 || r.errCode(t) != "LogEntryNotFound" {
							t.Errorf("proof of %s's entry %d = %d %s, want 404 LogEntryNotFound", org, idx, r.status, r.body)
						}
						continue
					}
					if r.status != 200 {
						t.Errorf("proof of %s's entry %d = %d %s, want 200", org, idx, r.status, r.body)
						continue
					}
					var p proof
					var ent struct{ Org string }
					if err := json.Unmarshal(r.body, &p); err != nil || json.Unmarshal([]byte(p.Entry), &ent) != nil {
						t.Fatalf("proof %s: %v", r.body, err)
					}
					if p.Index != idx || ent.Org != org {
						t.Errorf("proof of entry %d = index %d of org %q, want org %q", idx, p.Index, ent.Org, org)
					}
				}
			}
			// Beyond the log: the same 404 as another org's entry.
			r := e.do("GET", "/log/proof/1000000", nil, tt.hdr...)
			if r.status != 404 {
				t.Errorf("proof beyond the log = %d %s, want 404", r.status, r.body)
			}
			if tt.own != "*" {
				if got := r.errCode(t); got != "LogEntryNotFound" {
					t.Errorf("proof beyond the log: code %s, want LogEntryNotFound (as for another org's entry)", got)
				}
				// The rest of the log is still the auditors'.
				e.mustDo("GET", "/log/checkpoint", nil, 403, tt.hdr...)
			}
		})
	}
}
