package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpsBadInput checks the errors of bench, backup and restore on bad
// input: they name what is wrong.
func TestOpsBadInput(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("hello"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench", "--server", dead, "--duration", "1s"}, 1, "is the server running?"},
		{[]string{"bench", "--mix", "reads=60,writes=3"}, 2, `unknown operation "writes"`},
		{[]string{"bench", "--clients", "0"}, 2, "--clients 0"},
		{[]string{"backup", "--data", dir}, 2, "--out FILE"},
		{[]string{"backup", "--data", dir, "--out", filepath.Join(dir, "b.db")}, 1, "no store file lodestone.db"},
		{[]string{"restore", "--data", filepath.Join(dir, "d"), notes}, 1, notes + ": not a Lodestone store: not an SQLite database"},
		{[]string{"restore", "--data", filepath.Join(dir, "d")}, 2, "backup FILE"},
	} {
		code, _, stderr := runLodestone(t, "", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("lodestone %s: exit %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
	}
}
