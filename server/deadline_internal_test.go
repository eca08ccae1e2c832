package server

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// TestWriteDeadlineCutsANonReader serves a response far larger than the
// socket buffers to a client that never reads: withDeadlines must make a
// write fail after the write timeout instead of blocking the handler for
// as long as the client likes.
func TestWriteDeadlineCutsANonReader(t *testing.T) {
	const timeout = time.Second
	failed := make(chan error, 1)
	srv := httptest.NewServer(withDeadlines(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for range 4096 { // 256 MiB, far beyond any socket buffer
			if _, err := w.Write(chunk); err != nil {
				failed <- err
				return
			}
		}
		failed <- nil
	}), timeout, 0))
	defer srv.Close()

	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		if err == nil {
			t.Fatalf("the handler wrote 256 MiB to a client that reads nothing")
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("write error %v, want one of a passed deadline", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("a write to a client that reads nothing still blocks after 60 s (write timeout %v)", timeout)
	}
}
