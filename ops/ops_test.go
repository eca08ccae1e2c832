package ops

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReady(t *testing.T) {
	ok := func(context.Context) error { return nil }
	bad := func(context.Context) error { return errors.New("connection refused") }
	for _, tc := range []struct {
		name   string
		checks []Check
		status int
		want   string
	}{
		{"none", nil, 200, `{"status":"ready","checks":[]}`},
		{"all ok", []Check{{"store", ok}, {"models", ok}}, 200, `"status":"ready"`},
		{"one fails", []Check{{"store", ok}, {"bus", bad}}, 503, `{"name":"bus","ok":false,"error":"connection refused"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			if err := WriteReport(w, Ready(t.Context(), time.Second, tc.checks)); err != nil {
				t.Fatal(err)
			}
			body := w.Body.String()
			if w.Code != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("%d %s; want %d with %s", w.Code, body, tc.status, tc.want)
			}
			if got := strings.Count(body, "\n  {"); got != len(tc.checks) {
				t.Errorf("%d check lines, want %d: %s", got, len(tc.checks), body)
			}
			var rep Report
			if err := json.Unmarshal([]byte(body), &rep); err != nil || len(rep.Checks) != len(tc.checks) {
				t.Errorf("not a report: %v: %s", err, body)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	m := NewMetrics(Probe{
		Now:    func() time.Time { return now },
		Outbox: func(context.Context) (time.Time, error) { return now.Add(-4 * time.Second), nil },
		BusRTT: func() (time.Duration, error) { return 0, errors.New("down") },
	})
	m.ObserveRequest("/digitaltwins/{id}", "GET", 200, time.Millisecond)
	m.StudyProgress("a", true, 10, 100)
	m.StudyProgress("b", true, 5, 50)
	m.StudyProgress("a", false, 100, 100)
	m.SetConnectorLag("opcua:plant-1", 3*time.Second)
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(w.Body)
	for _, want := range []string{
		`lodestone_http_requests_total{code="200",method="GET",route="/digitaltwins/{id}"} 1`,
		"lodestone_outbox_lag_seconds 4", "lodestone_store_up 1", "lodestone_bus_up 0",
		"lodestone_studies_running 1", "lodestone_study_runs_done 5", "lodestone_study_runs_planned 50",
		`lodestone_connector_lag_seconds{connector="opcua:plant-1"} 3`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestWorkQueueMetrics: the work queue's gauges read the depth at each
// scrape; a failed read reports the queue down and no depth; a second
// watch is refused; a server without workers has no queue gauges.
func TestWorkQueueMetrics(t *testing.T) {
	scrape := func(m *Metrics) string {
		w := httptest.NewRecorder()
		m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		return w.Body.String()
	}
	if got := scrape(NewMetrics(Probe{})); strings.Contains(got, "lodestone_work_queue") {
		t.Errorf("work queue gauges without a work queue:\n%s", got)
	}
	for _, tc := range []struct {
		name        string
		depth       QueueDepth
		err         error
		want, avoid []string
	}{
		{"depth", QueueDepth{Pending: 7, Running: 2}, nil,
			[]string{"lodestone_work_queue_up 1", "lodestone_work_queue_pending_shards 7", "lodestone_work_queue_running_shards 2"}, nil},
		{"empty", QueueDepth{}, nil,
			[]string{"lodestone_work_queue_up 1", "lodestone_work_queue_pending_shards 0", "lodestone_work_queue_running_shards 0"}, nil},
		{"down", QueueDepth{Pending: 7}, errors.New("nats: timeout"),
			[]string{"lodestone_work_queue_up 0"}, []string{"lodestone_work_queue_pending_shards", "lodestone_work_queue_running_shards"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMetrics(Probe{})
			calls := 0
			if err := m.WatchWorkQueue(func(ctx context.Context) (QueueDepth, error) {
				calls++
				if _, ok := ctx.Deadline(); !ok {
					t.Error("the depth is read without a deadline")
				}
				return tc.depth, tc.err
			}); err != nil {
				t.Fatal(err)
			}
			got := scrape(m)
			for _, w := range tc.want {
				if !strings.Contains(got, w+"\n") {
					t.Errorf("metrics lack %q", w)
				}
			}
			for _, a := range tc.avoid {
				if strings.Contains(got, a+" ") {
					t.Errorf("metrics have %q after a failed read", a)
				}
			}
			if calls != 1 {
				t.Errorf("depth read %d times in one scrape", calls)
			}
			if err := m.WatchWorkQueue(func(context.Context) (QueueDepth, error) { return QueueDepth{}, nil }); err == nil {
				t.Error("a second work queue watch was accepted")
			}
		})
	}
}

// BenchmarkObserveRequest is the metrics cost added to every request.
func BenchmarkObserveRequest(b *testing.B) {
	m := NewMetrics(Probe{})
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest("/digitaltwins/{id}", "GET", 200, 3*time.Millisecond)
	}
}
