package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"lodestone/server"
)

// startOn starts a server on dir and returns it, or the error of Start.
func startOn(t *testing.T, dir string, demo bool) (*server.Server, error) {
	t.Helper()
	o := server.DefaultOptions()
	o.DataDir = dir
	o.HTTPAddr = "127.0.0.1:0"
	o.LoadDemo = demo
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

func shutdown(t *testing.T, s *server.Server) {
	t.Helper()
	ctx, cancel := contextWithTimeout(30 * time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestDataFolderLock(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the data folder is locked on unix only")
	}
	dir := t.TempDir()
	first, err := startOn(t, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = startOn(t, dir, false)
	var le *server.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Start on %s = %v, want a LockedError", dir, err)
	}
	want := fmt.Sprintf("data folder %s is in use by another Lodestone (pid %d)", dir, os.Getpid())
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	if err := server.ResetDataDir(dir); !errors.As(err, &le) {
		t.Errorf("ResetDataDir of a served folder = %v, want a LockedError", err)
	}
	shutdown(t, first)
	again, err := startOn(t, dir, false)
	if err != nil {
		t.Fatalf("Start after Shutdown: %v", err)
	}
	shutdown(t, again)
}

// TestDataFolderLockCrashedHolder kills a server with SIGKILL and checks
// that the next one starts on its folder: the kernel dropped the lock.
func TestDataFolderLockCrashedHolder(t *testing.T) {
	if dir := os.Getenv("LODESTONE_LOCK_HOLDER"); dir != "" {
		// The helper process: hold the folder until killed.
		if _, err := startOn(t, dir, false); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ready")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	if runtime.GOOS == "windows" {
		t.Skip("the data folder is locked on unix only")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDataFolderLockCrashedHolder$")
	cmd.Env = append(os.Environ(), "LODESTONE_LOCK_HOLDER="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	ready := false
	for sc.Scan() {
		if sc.Text() == "ready" {
			ready = true
			break
		}
	}
	if !ready {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the holder process did not start its server")
	}
	_, err = startOn(t, dir, false)
	var le *server.LockedError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", cmd.Process.Pid)) {
		t.Errorf("Start beside a live holder = %v, want a LockedError naming pid %d", err, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	s, err := startOn(t, dir, false)
	if err != nil {
		t.Fatalf("Start after the holder was killed: %v", err)
	}
	shutdown(t, s)
}

func TestResetDataDirAndDemoLoaded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	if err := server.ResetDataDir(dir); err != nil {
		t.Fatalf("ResetDataDir of a missing folder: %v", err)
	}
	s, err := startOn(t, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if !s.DemoLoaded() {
		t.Error("first demo start: DemoLoaded = false")
	}
	shutdown(t, s)
	s, err = startOn(t, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if s.DemoLoaded() {
		t.Error("reopened demo: DemoLoaded = true, want false (it kept the edits)")
	}
	shutdown(t, s)
	if err := server.ResetDataDir(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "lodestone.lock" {
			t.Errorf("after ResetDataDir, %s is left", e.Name())
		}
	}
	s, err = startOn(t, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if !s.DemoLoaded() {
		t.Error("demo after a reset: DemoLoaded = false")
	}
	shutdown(t, s)

	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644)
	if err := server.ResetDataDir(other); err == nil || !strings.Contains(err.Error(), "not a Lodestone data folder") {
		t.Errorf("ResetDataDir of a folder that is not Lodestone's = %v", err)
	}
	if _, err := os.Stat(filepath.Join(other, "notes.txt")); err != nil {
		t.Errorf("ResetDataDir removed a file it must not: %v", err)
	}
}

func TestDefaultListensOnLoopback(t *testing.T) {
	if got := server.DefaultOptions().HTTPAddr; got != "127.0.0.1:8080" {
		t.Errorf("default HTTPAddr = %q, want 127.0.0.1:8080", got)
	}
}
