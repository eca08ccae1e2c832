package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tutorialStep is one command of docs/tutorial.md: its shell text (a
// heredoc included), the outputs its "# expect:" comments name, and
// whether it is the demo's start (a block fenced as "sh demo").
type tutorialStep struct {
	line      string
	expect    []string
	expectNot []string // "# expect-not: TEXT": must not be in the output
	demo      bool
}

// tutorialSteps parses the fenced blocks of docs/tutorial.md whose info
// string is "sh" or "sh demo". A line ending in a backslash goes on to the
// next; a line with a heredoc (<<'EOF') takes the lines up to its
// terminator; "# expect: TEXT" after a command adds TEXT to what its output
// must contain; other comments and blank lines are left out.
func tutorialSteps(doc string) ([]tutorialStep, error) {
	var out []tutorialStep
	open, in, demo := false, false, false // in a block; in a runnable one; in the demo's
	var cur *tutorialStep
	heredoc := ""
	cont := ""
	for n, l := range strings.Split(doc, "\n") {
		if heredoc != "" {
			cur.line += "\n" + l
			if l == heredoc {
				heredoc = ""
			}
			continue
		}
		if strings.HasPrefix(l, "```") {
			if open {
				open, in = false, false
				continue
			}
			info := strings.TrimSpace(strings.TrimPrefix(l, "```"))
			open, in, demo = true, info == "sh" || info == "sh demo", info == "sh demo"
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
		s := strings.TrimSpace(l)
		if e, ok := strings.CutPrefix(s, "# expect-not:"); ok {
			if len(out) == 0 {
				return nil, fmt.Errorf("tutorial line %d: # expect-not: before any command", n+1)
			}
			out[len(out)-1].expectNot = append(out[len(out)-1].expectNot, strings.TrimSpace(e))
			continue
		}
		if e, ok := strings.CutPrefix(s, "# expect:"); ok {
			if len(out) == 0 {
				return nil, fmt.Errorf("tutorial line %d: # expect: before any command", n+1)
			}
			out[len(out)-1].expect = append(out[len(out)-1].expect, strings.TrimSpace(e))
			continue
		}
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		out = append(out, tutorialStep{line: l, demo: demo})
		cur = &out[len(out)-1]
		if i := strings.Index(l, "<<'"); i >= 0 {
			rest := l[i+3:]
			if j := strings.Index(rest, "'"); j > 0 {
				heredoc = rest[:j]
			}
		}
	}
	if open || cont != "" || heredoc != "" {
		return nil, fmt.Errorf("tutorial: unterminated code block, continued line or heredoc")
	}
	return out, nil
}

func TestTutorialSteps(t *testing.T) {
	doc := "text\n```sh\ngo install ./cmd/lodestone\n# a comment\nlodestone version\n# expect: lodestone\n# expect-not: panic\n" +
		"cat > f.json <<'EOF'\n{\"a\": 1}\n# not a comment\nEOF\nlodestone a \\\n  b\n```\n" +
		"```json\n{\"not\": \"run\"}\n```\n```sh demo\ngo run ./cmd/lodestone demo\n```\n"
	steps, err := tutorialSteps(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []tutorialStep{
		{line: "go install ./cmd/lodestone"},
		{line: "lodestone version", expect: []string{"lodestone"}, expectNot: []string{"panic"}},
		{line: "cat > f.json <<'EOF'\n{\"a\": 1}\n# not a comment\nEOF"},
		{line: "lodestone a \\\n  b"},
		{line: "go run ./cmd/lodestone demo", demo: true},
	}
	if fmt.Sprint(steps) != fmt.Sprint(want) {
		t.Errorf("steps:\n%+v\nwant\n%+v", steps, want)
	}
	for _, bad := range []string{"```sh\nx\n", "```sh\n# expect: y\n```\n", "```sh\ncat <<'EOF'\nx\n```\n"} {
		if _, err := tutorialSteps(bad); err == nil {
			t.Errorf("tutorialSteps(%q): no error", bad)
		}
	}
}

// TestTutorial runs docs/tutorial.md as a new user would: `go install`
// lines at the repository root into a temporary GOBIN at the front of
// PATH; each demo block starts that binary on a free port with its data in
// a temporary folder (or the one the line names); every other line runs
// in sh in a temporary working folder (with the repository's examples/
// linked into it), with $LODESTONE_SERVER set to the latest demo. Each
// line must exit 0 and print what its "# expect:" comments say.
func TestTutorial(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts the demo; skipped with -short")
	}
	for _, tool := range []string{"sh", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the tutorial needs %s; CI=true requires it", tool)
			}
			t.Skipf("the tutorial needs %s", tool)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "tutorial.md"))
	if err != nil {
		t.Fatal(err)
	}
	steps, err := tutorialSteps(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin, work := filepath.Join(tmp, "bin"), filepath.Join(tmp, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "examples"), filepath.Join(work, "examples")); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOBIN="+bin, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	server, demos := "", 0
	t.Logf("%d steps", len(steps))
	for _, st := range steps {
		switch {
		case st.demo:
			args, ok := strings.CutPrefix(st.line, "go run ./cmd/lodestone ")
			if !ok || !strings.HasPrefix(args, "demo") {
				t.Fatalf("the demo block runs %q, want go run ./cmd/lodestone demo …", st.line)
			}
			exe := filepath.Join(bin, "lodestone")
			if _, err := os.Stat(exe); err != nil {
				t.Fatalf("the tutorial starts the demo before it installs lodestone: %v", err)
			}
			// Each demo gets a data folder of its own unless the line
			// names one (relative to the working folder).
			demos++
			fields := strings.Fields(args)[1:]
			data := filepath.Join(tmp, fmt.Sprintf("demo-%d", demos))
			for i, f := range fields {
				if (f == "--data" || f == "-data") && i+1 < len(fields) {
					data = filepath.Join(work, fields[i+1])
					fields = append(fields[:i:i], fields[i+2:]...)
					break
				}
			}
			server = startDemoIn(t, ctx, exe, work, data, fields...)
			env = append(env, "LODESTONE_SERVER="+server) // the last one wins
			continue
		case strings.HasPrefix(st.line, "export LODESTONE_SERVER="):
			continue // the test sets it, to the demo's port
		}
		cmd := exec.CommandContext(ctx, "sh", "-c", st.line)
		cmd.Dir = work
		if strings.HasPrefix(st.line, "go ") {
			cmd.Dir = root
		}
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("tutorial command failed: %v\n$ %s\n%s", err, st.line, out)
			continue
		}
		for _, e := range st.expect {
			if !strings.Contains(string(out), e) {
				t.Errorf("tutorial command printed no %q:\n$ %s\n%s", e, st.line, out)
			}
		}
		for _, e := range st.expectNot {
			if strings.Contains(string(out), e) {
				t.Errorf("tutorial command printed %q:\n$ %s\n%s", e, st.line, out)
			}
		}
	}
	if server == "" {
		t.Error("the tutorial never starts the demo (a block fenced as ```sh demo)")
	}
}

// startDemoIn runs `lodestone demo ARGS --data dataDir --addr 127.0.0.1:0`
// in the folder dir, waits for it to say where it listens and stops it
// (SIGINT, as Ctrl-C) when the test ends. It returns the server's URL.
func startDemoIn(t *testing.T, ctx context.Context, bin, dir, dataDir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append(append([]string{"demo"}, args...), "--data", dataDir, "--addr", "127.0.0.1:0")...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}) // closed when the demo has exited
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "Listening on "); ok {
				addr <- strings.TrimSuffix(a, ".")
			}
		}
	}()
	select {
	case a := <-addr:
		return "http://" + a
	case <-done:
		t.Fatalf("demo exited: %v\n%s", waitErr, stderr.String())
	case <-ctx.Done():
		t.Fatalf("demo did not start: %v\n%s", ctx.Err(), stderr.String())
	}
	return ""
}

// FuzzTutorialSteps: the tutorial's parser never panics, and every step
// it returns has a command line.
func FuzzTutorialSteps(f *testing.F) {
	f.Add("```sh\nlodestone version\n# expect: lodestone\n```\n")
	f.Add("```sh demo\ngo run ./cmd/lodestone demo\n```\n")
	f.Add("```sh\ncat > f <<'EOF'\nx\nEOF\na \\\nb\n# expect-not: y\n```\n```json\n{}\n```\n")
	f.Fuzz(func(t *testing.T, doc string) {
		steps, err := tutorialSteps(doc)
		if err != nil {
			return
		}
		for _, s := range steps {
			if strings.TrimSpace(s.line) == "" {
				t.Fatalf("empty step from %q", doc)
			}
		}
	})
}
