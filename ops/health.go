package ops

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Check is one readiness check: Run returns nil when the dependency it
// names can serve.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// CheckResult is the outcome of one check in a readiness report.
type CheckResult struct {
	Name       string  `json:"name"`
	OK         bool    `json:"ok"`
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"durationMs"`
}

// Report is the body of /readyz.
type Report struct {
	Status string        `json:"status"` // "ready" or "unready"
	Checks []CheckResult `json:"checks"`
}

// Ready runs the checks concurrently, each bounded by timeout, and
// reports them in their order.
func Ready(ctx context.Context, timeout time.Duration, checks []Check) Report {
	rep := Report{Status: "ready", Checks: make([]CheckResult, len(checks))}
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			t0 := time.Now()
			err := c.Run(cctx)
			res := CheckResult{Name: c.Name, OK: err == nil, DurationMS: float64(time.Since(t0).Microseconds()) / 1000}
			if err != nil {
				res.Error = err.Error()
			}
			rep.Checks[i] = res
		})
	}
	wg.Wait()
	for _, c := range rep.Checks {
		if !c.OK {
			rep.Status = "unready"
		}
	}
	return rep
}

// MarshalJSON writes the report with one line per check, so that
// `curl /readyz` is readable as it is and each check greps as one line.
func (r Report) MarshalJSON() ([]byte, error) {
	st, _ := json.Marshal(r.Status)
	b := append([]byte(`{"status":`), st...)
	b = append(b, `,"checks":[`...)
	for i, c := range r.Checks {
		cb, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n  "...)
		b = append(b, cb...)
	}
	if len(r.Checks) > 0 {
		b = append(b, '\n')
	}
	return append(b, "]}"...), nil
}

// WriteReport answers a readiness request: 200 when ready, 503 when not.
func WriteReport(w http.ResponseWriter, rep Report) error {
	b, err := rep.MarshalJSON() // json.Marshal would compact the lines
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusOK
	if rep.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}
