package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// runDemo starts `lodestone demo ARGS` in this process and returns its
// dashboard URL, its output so far and a func that stops it (and returns
// its exit code).
func runDemoCmd(t *testing.T, args ...string) (string, *syncBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	code := -1
	var wg sync.WaitGroup
	wg.Go(func() {
		code = run(ctx, &cliEnv{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader("")}, append([]string{"demo", "--addr", "127.0.0.1:0"}, args...))
	})
	stop := func() int { cancel(); wg.Wait(); return code }
	dash := regexp.MustCompile(`Dashboard: (http://\S+)/\n`)
	for deadline := time.Now().Add(2 * time.Minute); ; {
		if m := dash.FindStringSubmatch(stdout.String()); m != nil && strings.Contains(stdout.String(), "Press Ctrl-C") {
			return m[1], &stdout, stop
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("the demo did not start: exit %d\n%s%s", code, stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// verifyReport is the part of GET /verify the test reads.
type verifyReport struct {
	OK         bool   `json:"ok"`
	Origin     string `json:"origin"`
	VKey       string `json:"vkey"`
	TreeSize   int64  `json:"tree_size"`
	Signed     int64  `json:"signed_size"`
	Mismatches []any  `json:"mismatches"`
}

func getVerify(t *testing.T, url string) (int, verifyReport) {
	t.Helper()
	resp, err := http.Get(url + "/verify") // no token: the demo's admin, on loopback
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep verifyReport
	if resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, rep
}

// TestDemoLogKey (issue 16): a plain `lodestone demo` keeps a
// transparency log, so that the story's last step shows a passing verify:
// it makes a demo key once, beside the data folder (never in it), mode
// 0600, says where and that it is a demo key, and keeps it across
// restarts and --reset; `--log-key ""` turns the log off; a key inside the
// data folder is still refused, by demo and serve alike.
//
// The demo runs in this process: its flag set keeps the flags of earlier
// runs as "set" (package flag), so the runs below only add flags.
func TestDemoLogKey(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo three times; skipped with -short")
	}
	tmp := t.TempDir()
	data := filepath.Join(tmp, "demo")
	key := filepath.Join(tmp, "demo.log-key")

	url, out, stop := runDemoCmd(t, "--data", data)
	for _, want := range []string{"Transparency log: on, signed with the demo's log key " + key + " (made now;", "It is a demo key"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's start lacks %q:\n%s", want, out.String())
		}
	}
	fi, err := os.Stat(key)
	if err != nil {
		t.Fatalf("no demo key beside the data folder: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("demo key mode %04o, want 0600", fi.Mode().Perm())
	}
	code, rep := getVerify(t, url)
	if code != 200 || !rep.OK || rep.Origin != demoLogKeyName || rep.TreeSize == 0 || rep.Signed != rep.TreeSize || len(rep.Mismatches) != 0 {
		t.Errorf("the demo's /verify: %d %+v; want ok with the demo's origin and every entry signed", code, rep)
	}
	if code := stop(); code != 0 {
		t.Errorf("demo exit %d", code)
	}

	// Started again, afresh: the same key, a log that verifies.
	url, out, stop = runDemoCmd(t, "--data", data, "--reset")
	if !strings.Contains(out.String(), key+" (kept from an earlier start;") {
		t.Errorf("the restarted demo does not reuse its key:\n%s", out.String())
	}
	code, rep2 := getVerify(t, url)
	if code != 200 || !rep2.OK || rep2.VKey != rep.VKey || rep2.TreeSize == 0 {
		t.Errorf("/verify after demo --reset: %d %+v; want ok with the key of the first start %s", code, rep2, rep.VKey)
	}
	stop()

	// --log-key "": no log, no key made.
	off := filepath.Join(tmp, "nolog")
	url, out, stop = runDemoCmd(t, "--data", off, "--log-key", "")
	if code, _ := getVerify(t, url); code != 404 || strings.Contains(out.String(), "Transparency log") {
		t.Errorf(`demo --log-key "": /verify %d, want 404 (no log); output:%s`, code, out.String())
	}
	stop()
	if _, err := os.Stat(off + ".log-key"); !os.IsNotExist(err) {
		t.Errorf(`demo --log-key "" made a key: %v`, err)
	}

	// serve's rule is unchanged, and the demo's too: a key inside the
	// data folder is refused.
	inside := filepath.Join(data, "log.key")
	if err := os.WriteFile(inside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"serve", "demo"} {
		code, _, stderr := runLodestone(t, "", cmd, "--data", data, "--addr", "127.0.0.1:0", "--log-key", inside)
		if code == 0 || !strings.Contains(stderr, "inside the data folder") {
			t.Errorf("%s with a key inside the data folder: exit %d %s", cmd, code, stderr)
		}
	}
}

// TestDemoLogKeyPath: the key goes beside the data folder, named after it.
func TestDemoLogKeyPath(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ data, want string }{
		{"lodestone-demo", filepath.Join(wd, "lodestone-demo.log-key")},
		{"/srv/x/demo/", "/srv/x/demo.log-key"},
		{"/srv/x/../y/demo", "/srv/y/demo.log-key"},
	} {
		got, err := demoLogKeyPath(tc.data)
		if err != nil || got != tc.want {
			t.Errorf("demoLogKeyPath(%q) = %q, %v; want %q", tc.data, got, err, tc.want)
		}
	}
	if _, err := demoLogKeyPath("/"); err == nil || !strings.Contains(err.Error(), "--log-key") {
		t.Errorf("a data folder at the root: %v", err)
	}
}
