package dashauth_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"lodestone/server"
)

const token = "dashboard-token-0123456789"

const model = `[{"@context":"dtmi:dtdl:context;3","@id":"dtmi:dashauth:Pump;1","@type":"Interface","displayName":"Dashauth pump","contents":[
	{"@type":"Property","name":"flow","schema":"double","writable":true}]}]`

// TestTokenBox: without a token the dashboard's requests are refused
// (401); once the token is typed into the box, the pages load, the event
// stream connects, and the token stays in sessionStorage.
func TestTokenBox(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	authFile := filepath.Join(dir, "auth.json")
	os.WriteFile(authFile, []byte(`{"tokens":[{"token":"`+token+`","subject":"alice","org":"acme","roles":["admin"]}]}`), 0o600)
	o := server.DefaultOptions()
	o.DataDir = filepath.Join(dir, "data")
	o.HTTPAddr = "127.0.0.1:0"
	o.Auth = authFile
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	req, _ := http.NewRequest("POST", s.URL()+"/models", strings.NewReader(model))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("POST /models = %v %v", resp, err)
	}
	resp.Body.Close()

	ctx := browser(t, bin)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := chromedp.Do(c, steps...); err != nil {
			t.Fatalf("%s: %v\npage:\n%s", what, err, pageText(ctx))
		}
	}
	poll := func(what, predicate string) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		predicate = `(() => { try { return (` + predicate + `); } catch (e) { return null; } })()`
		for {
			_, err := chromedp.Run(c, chromedp.Poll[bool](predicate, chromedp.WithPollingTimeout(45*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
			if err == nil {
				return
			}
			// The token box reloads the page, which ends a poll under way;
			// poll the new page.
			if c.Err() == nil && (strings.Contains(err.Error(), "navigated") || strings.Contains(err.Error(), "context")) {
				continue
			}
			t.Fatalf("%s: %v\npage:\n%s", what, err, pageText(ctx))
		}
	}
	do("open the models page", chromedp.Navigate(s.URL()+"/#/models"))
	poll("the token box", `document.getElementById("token") !== null`)
	poll("the models page without a token says why", `/401|credentials|Unauthorized|authentication/i.test(document.getElementById("main").innerText)`)
	do("type the token", chromedp.SendKeys("#token", token))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("token").dispatchEvent(new Event("change"))`)); err != nil {
		t.Fatal(err)
	}
	poll("the models page with the token lists the model", `document.getElementById("main").innerText.includes("dtmi:dashauth:Pump;1")`)
	stored, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("lodestone.token")`))
	if err != nil || stored != token {
		t.Errorf("sessionStorage token = %q, %v", stored, err)
	}
	do("open the events page", chromedp.Navigate(s.URL()+"/#/events"))
	poll("the event stream connects with the token", `document.getElementById("live").classList.contains("on")`)
}

// pageText is the start of the page's text, for failure messages.
func pageText(ctx context.Context) string {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	text, _ := chromedp.Run(c, chromedp.Evaluate[string](`document.body.innerText.slice(0, 1500)`))
	return text
}

// chromium finds the browser: $LODESTONE_CHROMIUM, then the usual paths.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LODESTONE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found (install Debian's chromium or set LODESTONE_CHROMIUM); CI=true requires it")
	}
	t.Skip("no Chromium found; install Debian's chromium or set LODESTONE_CHROMIUM")
	return ""
}

func browser(t *testing.T, bin string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	return ctx
}
