package natsbus_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lodestone/event"
)

// TestSSE checks the SSE handler on JetStream: ids are stream sequences
// and Last-Event-ID resumes after one.
func TestSSE(t *testing.T) {
	b := openEmbedded(t)
	srv := httptest.NewServer(event.SSEHandler(b))
	t.Cleanup(srv.Close)
	for i := range 4 {
		if err := b.Publish(t.Context(), benchEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events?filter=subject%3Dtwin-%3F", nil)
	req.Header.Set("Last-Event-ID", "2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	sc := bufio.NewScanner(resp.Body)
	var ids, subjects []string
	for len(subjects) < 2 && sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "id: "); ok {
			ids = append(ids, id)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			e, err := event.Decode([]byte(data))
			if err != nil {
				t.Fatal(err)
			}
			subjects = append(subjects, e.Subject)
		}
	}
	if diff := cmp.Diff([]string{"3", "4"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"twin-2", "twin-3"}, subjects); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}
}
