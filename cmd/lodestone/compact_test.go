package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/store/sqlite"
	"lodestone/trust"
	"lodestone/twin"
)

// TestCompactCLI writes versions with the log on, compacts them with
// `lodestone compact` (refused without the log key, then done with it,
// printing the bytes before and after), and `lodestone verify` still
// holds.
func TestCompactCLI(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "log.key")
	code, vkey, stderr := runCLI(t, "trust", "keygen", "lodestone.test/log", "--out", keyFile)
	if code != 0 {
		t.Fatalf("keygen: %d %s", code, stderr)
	}
	pubFile := filepath.Join(t.TempDir(), "log.pub")
	if err := os.WriteFile(pubFile, []byte(vkey), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "lodestone.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := trust.LoadSigner(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	l, err := trust.NewLog(ctx, st, signer, trust.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(ctx, pipeline.Options{Store: st, Hooks: []pipeline.Hook{l}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PutModels(ctx, []json.RawMessage{json.RawMessage(`{"@context":"dtmi:dtdl:context;3","@id":"dtmi:t:A;1","@type":"Interface","contents":[{"@type":"Property","name":"x","schema":"double","writable":true}]}`)}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, _, err := p.PutTwin(ctx, twin.Twin{ID: "a", Metadata: twin.Metadata{Model: "dtmi:t:A;1"}, Properties: map[string]any{"x": float64(i)}}, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	p.Shutdown(ctx)
	// No bus here: take the events as published, so that the outbox
	// holds no history version back.
	recs, err := st.PendingRecords(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, r := range recs {
		seqs = append(seqs, r.Seq)
	}
	if err := st.AckRecords(ctx, seqs); err != nil {
		t.Fatal(err)
	}
	st.Close()
	time.Sleep(5 * time.Millisecond)

	if code, _, errOut := runCLI(t, "compact", "--data", dir, "--history-older-than", "1ms"); code != 1 || !strings.Contains(errOut, "--log-key") {
		t.Errorf("compact without the log key: exit %d %s", code, errOut)
	}
	code, out, errOut := runCLI(t, "compact", "--data", dir, "--history-older-than", "1ms", "--log-key", keyFile, "--vacuum")
	if code != 0 || !strings.Contains(out, "19 twin versions") || !strings.Contains(out, "bytes before:") {
		t.Fatalf("compact: exit %d\n%s%s", code, out, errOut)
	}
	t.Log(strings.TrimSpace(out))
	if code, out, errOut := runCLI(t, "verify", "--data", dir, "--log-key-pub", pubFile); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("verify after compact: exit %d\n%s%s", code, out, errOut)
	}
	for _, bad := range [][]string{
		{"compact", "--history-older-than", "1d"},
		{"compact", "--data", dir},
		{"compact", "--data", dir, "--history-older-than", "-3h"},
		{"compact", "--data", dir, "--store", "sqlite:x", "--history-older-than", "1d"},
		{"compact", "--data", dir, "--telemetry-older-than", "soon"},
	} {
		if code, _, _ := runCLI(t, bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}

func TestParseAge(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true},
		{"720h", 720 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"0d", 0, false},
		{"-1h", 0, false},
		{"1.5d", 0, false},
		{"d", 0, false},
		{"", 0, false},
		{"10y", 0, false},
	} {
		got, err := parseAge(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseAge(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"30d", "720h", "1.5d", "-1h", "99999999999d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := parseAge(s); err == nil && d <= 0 {
			t.Fatalf("parseAge(%q) = %v without an error", s, d)
		}
	})
}
