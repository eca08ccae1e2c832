package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser test drives Debian's Chromium over the DevTools protocol
// against a demo server on loopback: it opens a twin, patches it through
// the API and waits until the page shows the new value (pushed over SSE),
// then opens the models tree, the graph and the query console.

const (
	browserTwin = "mine-us-mountain-pass"
	// browserWait bounds every wait on the page; the DOM is polled, never
	// slept on.
	browserWait = 30 * time.Second
	// browserStar is the number of neighbours of the twin whose graph is
	// paged.
	browserStar = 250
)

// chromium finds the browser: $LODESTONE_CHROMIUM, then the usual paths.
// Without one the test is skipped, except under CI=true where it fails.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LODESTONE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("browser test: no Chromium found (install Debian's chromium or set LODESTONE_CHROMIUM); CI=true requires it")
	}
	t.Skip("browser test: no Chromium found; install Debian's chromium or set LODESTONE_CHROMIUM")
	return ""
}

// browser starts a headless Chromium with a fresh profile and returns a
// tab context.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start the browser on a context without a deadline; later steps may
	// have one.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	return ctx
}

// waitFor polls a JavaScript predicate until it is truthy, failing with
// what after browserWait.
func waitFor[T any](t *testing.T, ctx context.Context, what, predicate string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](predicate, chromedp.WithPollingTimeout(browserWait), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("main").innerText.slice(0, 2000)`))
		t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
	}
	return v
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot %s", p)
}

func TestDashboardInBrowser(t *testing.T) {
	ctx := browser(t)
	s := startDemo(t)
	base := s.URL()
	shots := t.TempDir()
	if d := os.Getenv("LODESTONE_SCREENSHOTS"); d != "" {
		shots = d // keep them to look at
	}

	// A twin: properties with units, then a live update over SSE.
	go_(t, ctx, base+"/#/twin/"+browserTwin)
	// Rows are drawn and the event stream is open (the live dot is on).
	waitFor[bool](t, ctx, "twin properties and live stream",
		`document.querySelectorAll("#twin-props tr[data-prop]").length > 3 && document.getElementById("live").classList.contains("on")`)
	screenshot(t, ctx, shots, "twin-before")

	patch := []byte(`[{"op":"add","path":"/inventoryTonnes","value":4321.5}]`)
	res, err := send(t.Context(), http.DefaultClient, http.MethodPatch, base+"/digitaltwins/"+browserTwin, patch)
	if err != nil || res.status != http.StatusNoContent {
		t.Fatalf("PATCH %s = %d %s, %v", browserTwin, res.status, res.body, err)
	}
	got := waitFor[[]string](t, ctx, "the patched value pushed to the page",
		`(() => { const r = document.querySelector('#twin-props tr[data-prop="inventoryTonnes"]'); return r && r.cells[1].textContent === "4321.5" ? [r.cells[1].textContent, r.cells[2].textContent] : null; })()`)
	if got[1] != "tonne" {
		t.Errorf("inventoryTonnes unit cell = %q, want tonne", got[1])
	}
	// The history table and chart show the change too.
	waitFor[bool](t, ctx, "history of the patch", `document.querySelectorAll("#twin-history tr").length > 2 && !!document.querySelector("#twin-history svg path")`)
	screenshot(t, ctx, shots, "twin-after")

	// The events page shows a change as it happens.
	go_(t, ctx, base+"/#/events")
	waitFor[bool](t, ctx, "events stream open", `document.getElementById("live").classList.contains("on")`)
	patch = []byte(`[{"op":"replace","path":"/inventoryTonnes","value":1234}]`)
	if res, err := send(t.Context(), http.DefaultClient, http.MethodPatch, base+"/digitaltwins/"+browserTwin, patch); err != nil || res.status != http.StatusNoContent {
		t.Fatalf("PATCH %s = %d %s, %v", browserTwin, res.status, res.body, err)
	}
	waitFor[bool](t, ctx, "the change on the events page",
		`[...document.querySelectorAll("main tbody tr")].some(r => r.textContent.includes("lodestone.twin.updated") && r.textContent.includes("`+browserTwin+`"))`)
	screenshot(t, ctx, shots, "events")

	// The home page counts; the twin explorer searches by id prefix.
	go_(t, ctx, base+"/#/")
	waitFor[bool](t, ctx, "home page counts", `(() => { const c = document.getElementById("twin-count"); return c && +c.textContent > 10; })()`)
	go_(t, ctx, base+"/#/twins")
	waitFor[bool](t, ctx, "twin list", `document.querySelectorAll("#twin-results tr").length > 10`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("twin-search"), "mine-")); err != nil {
		t.Fatal(err)
	}
	waitFor[bool](t, ctx, "search results", `(() => { const ids = [...document.querySelectorAll("#twin-results td:first-child")].map(td => td.textContent); return ids.length > 0 && ids.every(id => id.startsWith("mine-")) && ids.includes("`+browserTwin+`"); })()`)
	screenshot(t, ctx, shots, "twins")

	// The models page: the inheritance tree.
	go_(t, ctx, base+"/#/models")
	n := waitFor[int](t, ctx, "models tree", `document.querySelectorAll("ul.tree li").length >= 20 && document.querySelectorAll("ul.tree ul.tree li").length > 0 ? document.querySelectorAll("ul.tree li").length : 0`)
	t.Logf("models tree: %d entries", n)
	screenshot(t, ctx, shots, "models")

	// The graph of the twin's neighbourhood, expanded on the server.
	go_(t, ctx, base+"/#/graph/"+browserTwin)
	n = waitFor[int](t, ctx, "graph nodes drawn", `document.querySelectorAll("#graph-box svg g[data-id]").length > 1 ? document.querySelectorAll("#graph-box svg g[data-id]").length : 0`)
	t.Logf("graph: %d nodes", n)
	screenshot(t, ctx, shots, "graph")

	// A twin with more neighbours than a page: the graph draws the first
	// page (100, as the dashboard asks) and fetches the next on demand.
	var star strings.Builder
	star.WriteString(`{"Section":"Twins"}` + "\n")
	star.WriteString(`{"$dtId":"star-hub","$metadata":{"$model":"dtmi:lodestone:Warehouse;1"},"name":"hub"}` + "\n")
	for i := range browserStar {
		fmt.Fprintf(&star, `{"$dtId":"star-%d","$metadata":{"$model":"dtmi:lodestone:Warehouse;1"},"name":"spoke %d"}`+"\n", i, i)
	}
	star.WriteString(`{"Section":"Relationships"}` + "\n")
	for i := range browserStar {
		fmt.Fprintf(&star, `{"$dtId":"star-hub","$relationshipId":"feeds-%d","$targetId":"star-%d","$relationshipName":"feeds"}`+"\n", i, i)
	}
	if res, err := send(t.Context(), http.DefaultClient, http.MethodPut, base+"/jobs/imports/star", []byte(star.String())); err != nil || res.status != http.StatusOK {
		t.Fatalf("import the star = %d %s, %v", res.status, res.body, err)
	}
	go_(t, ctx, base+"/#/graph/star-hub")
	first := waitFor[int](t, ctx, "first page of a large neighbourhood", `document.querySelectorAll("#graph-box svg g[data-id]").length`)
	if first > 101 || first < 50 {
		t.Errorf("the graph of a twin with %d neighbours draws %d twins at first, want one page", browserStar, first)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`//button[contains(., "more of star-hub")]`)); err != nil {
		t.Fatalf("no button to page the neighbourhood: %v", err)
	}
	next := waitFor[int](t, ctx, "second page of the neighbourhood", fmt.Sprintf(`(() => { const n = document.querySelectorAll("#graph-box svg g[data-id]").length; return n > %d ? n : 0; })()`, first))
	t.Logf("graph of a twin with %d neighbours: %d twins, then %d after one more page", browserStar, first, next)
	screenshot(t, ctx, shots, "graph-large")

	// The query console: a MATCH query gives rows and a graph.
	go_(t, ctx, base+"/#/query")
	waitFor[bool](t, ctx, "query console", `!!document.getElementById("query-run")`)
	q := `SELECT a, b FROM DIGITALTWINS MATCH (a)-[:feeds]->(b) WHERE a.$dtId = '` + browserTwin + `'`
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("query-text"), q),
		chromedp.Click(chromedp.ID("query-run")),
	); err != nil {
		t.Fatal(err)
	}
	n = waitFor[int](t, ctx, "query rows", `Math.max(0, document.querySelectorAll("#query-results table tr").length - 1)`)
	t.Logf("query: %d rows", n)
	waitFor[bool](t, ctx, "query graph", `document.querySelectorAll("#query-results svg g[data-id]").length > 1 && document.querySelectorAll("#query-results svg line").length > 0`)
	screenshot(t, ctx, shots, "query")
}

// go_ navigates the tab, failing the test on error.
func go_(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("navigate %s: %v", url, err)
	}
	if !strings.Contains(url, "#") {
		return
	}
}
