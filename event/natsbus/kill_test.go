package natsbus_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"lodestone/event"
	"lodestone/event/natsbus"
)

// childDirEnv, when set, turns TestKill9 into the child process: it
// publishes events to an embedded bus in that directory for ever, printing
// "ack N" after each acknowledged publish, until it is killed.
const childDirEnv = "NATSBUS_KILL9_CHILD_DIR"

func runKill9Child() {
	b, err := natsbus.Open(context.Background(), natsbus.Options{StoreDir: os.Getenv(childDirEnv)})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		if err := b.Publish(context.Background(), benchEvent(i)); err != nil {
			fmt.Fprintln(out, "error", err)
			out.Flush()
			os.Exit(1)
		}
		fmt.Fprintln(out, "ack", i)
		out.Flush()
	}
}

// TestKill9 kills a process with an embedded bus (SIGKILL) in the middle of
// a stream of publishes, reopens its directory, and finds every
// acknowledged event, each once, with no gap in the sequence (nothing
// half-written), and the dedup state intact.
func TestKill9(t *testing.T) {
	if os.Getenv(childDirEnv) != "" {
		runKill9Child()
		return
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKill9$")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const killAfter = 300
	acked := map[int]bool{}
	sc := bufio.NewScanner(stdout)
	for len(acked) < killAfter && sc.Scan() {
		var n int
		if _, err := fmt.Sscanf(sc.Text(), "ack %d", &n); err != nil {
			t.Fatalf("child: %s", sc.Text())
		}
		acked[n] = true
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// Count acks that were already on their way when the child died.
	for sc.Scan() {
		var n int
		if _, err := fmt.Sscanf(sc.Text(), "ack %d", &n); err == nil {
			acked[n] = true
		}
	}
	_ = cmd.Wait() // "signal: killed"
	if len(acked) < killAfter {
		t.Fatalf("child acknowledged only %d events", len(acked))
	}

	b, err := natsbus.Open(t.Context(), natsbus.Options{StoreDir: dir})
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer b.Close()
	// Republishing the last acknowledged event is still a duplicate.
	last := len(acked) - 1
	if err := b.Publish(t.Context(), benchEvent(last)); err != nil {
		t.Fatal(err)
	}
	sub, err := b.Subscribe(t.Context(), event.Filter{}, event.Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	found := map[int]bool{}
	var seq uint64
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		m, err := sub.Next(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Seq != seq+1 {
			t.Fatalf("seq %d after %d: a gap means a message was lost or unreadable", m.Seq, seq)
		}
		seq = m.Seq
		n, err := strconv.Atoi(m.Event.Subject[len("twin-"):])
		if err != nil || found[n] {
			t.Fatalf("seq %d: subject %s duplicated or malformed", m.Seq, m.Event.Subject)
		}
		found[n] = true
	}
	for n := range acked {
		if !found[n] {
			t.Errorf("acknowledged event %d is missing after kill -9", n)
		}
	}
	t.Logf("%d acknowledged before kill -9, %d stored after restart", len(acked), len(found))
}
