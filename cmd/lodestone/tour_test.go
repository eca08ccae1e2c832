package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTour runs every command line of the README's tour, as written, in a
// shell at the repository root, against a demo this test starts on a free
// port (the lines reach it through $LODESTONE_SERVER, which the CLI
// honours), and checks that each exits 0. The tour's own `go install` puts
// the binary into a temporary GOBIN at the front of PATH; the demo runs
// that binary.
func TestTour(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts the demo; skipped with -short")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh on this system")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := tourLines(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	env := append(os.Environ(),
		"GOBIN="+bin,
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
	t.Logf("%d command lines", len(lines))
	started := false
	for _, line := range lines {
		// The set-up lines (go install, export PATH) come first; the
		// demo starts, from the binary the tour installed, before the
		// first line that needs it.
		if !started && !strings.HasPrefix(line, "go ") && !strings.HasPrefix(line, "export ") {
			exe := filepath.Join(bin, "lodestone")
			if _, err := os.Stat(exe); err != nil {
				t.Fatalf("the tour runs %q before it installs lodestone (go install ./cmd/lodestone): %v", line, err)
			}
			env = append(env, "LODESTONE_SERVER="+startDemo(t, ctx, exe, filepath.Join(tmp, "demo")))
			started = true
		}
		cmd := exec.CommandContext(ctx, "sh", "-c", line)
		cmd.Dir = root
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("README tour line failed: %v\n$ %s\n%s", err, line, out)
		}
	}
}

// tourLines returns the command lines of the fenced code blocks in the
// README's tour section ("## A short tour of the CLI" to the next "## "):
// lines ending in a backslash go on to the next, comment and blank lines
// are left out.
func tourLines(readme string) ([]string, error) {
	const heading = "## A short tour of the CLI"
	i := strings.Index(readme, heading)
	if i < 0 {
		return nil, fmt.Errorf("README has no %q section", heading)
	}
	sec := readme[i+len(heading):]
	if j := strings.Index(sec, "\n## "); j >= 0 {
		sec = sec[:j]
	}
	var out []string
	in := false
	cont := ""
	for _, l := range strings.Split(sec, "\n") {
		if strings.HasPrefix(l, "```") {
			in = !in
			continue
		}
		if !in {
			continue
		}
		if cont != "" {
			l = cont + "\n" + l
			cont = ""
		}
		if strings.HasSuffix(l, `\`) {
			cont = l
			continue
		}
		if s := strings.TrimSpace(l); s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		out = append(out, l)
	}
	if in || cont != "" {
		return nil, fmt.Errorf("README tour: unterminated code block or continued line")
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("README tour: no command lines")
	}
	return out, nil
}

// startDemo runs `lodestone demo` on a free loopback port with its data in
// dir, waits for it to say where it listens, and stops it (SIGINT, as
// Ctrl-C) when the test ends. It returns the server's URL.
func startDemo(t *testing.T, ctx context.Context, bin, dir string) string {
	t.Helper()
	return startDemoIn(t, ctx, bin, "", dir)
}
