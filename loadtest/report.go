package loadtest

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"
)

// report turns the clients' samples into the result.
func (b *bench) report(per [][]sample, elapsed time.Duration) *Result {
	res := &Result{Server: b.opts.Server, Prefix: b.opts.Prefix, Clients: b.opts.Clients, Mix: b.opts.Mix.String(),
		SeedTwins: len(b.seed), DurationSeconds: elapsed.Seconds(), ErrorsByStatus: map[string]int{}}
	byOp := make([][]time.Duration, len(Ops))
	errs := make([]int, len(Ops))
	var all []time.Duration
	allErrs := 0
	for _, ss := range per {
		for _, s := range ss {
			byOp[s.op] = append(byOp[s.op], s.d)
			all = append(all, s.d)
			if !s.ok {
				errs[s.op]++
				allErrs++
				key := strconv.Itoa(s.status)
				if s.status == 0 {
					key = "transport"
				}
				res.ErrorsByStatus[key]++
			}
		}
	}
	for i, op := range Ops {
		if b.opts.Mix[op] == 0 {
			continue
		}
		res.Operations = append(res.Operations, stats(op, byOp[i], errs[i], elapsed))
	}
	res.Overall = stats("overall", all, allErrs, elapsed)
	return res
}

// stats sorts ds and takes its nearest-rank percentiles.
func stats(op string, ds []time.Duration, errs int, elapsed time.Duration) OpStats {
	s := OpStats{Op: op, Requests: len(ds), Errors: errs}
	if elapsed > 0 {
		s.RatePerSecond = float64(len(ds)) / elapsed.Seconds()
	}
	if len(ds) == 0 {
		return s
	}
	slices.Sort(ds)
	s.P50Ms = ms(percentile(ds, 50))
	s.P90Ms = ms(percentile(ds, 90))
	s.P99Ms = ms(percentile(ds, 99))
	s.MaxMs = ms(ds[len(ds)-1])
	return s
}

// percentile is the nearest-rank percentile p of sorted ds.
func percentile(ds []time.Duration, p int) time.Duration {
	k := (p*len(ds) + 99) / 100 // ceil(p/100 · n)
	return ds[max(k, 1)-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Print writes the result as a table.
func (r *Result) Print(w io.Writer) error {
	fmt.Fprintf(w, "server %s, %d clients, %.1f s, mix %s, %d seed twins (prefix %s)\n", r.Server, r.Clients, r.DurationSeconds, r.Mix, r.SeedTwins, r.Prefix)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "OP\tREQUESTS\tERRORS\tREQ/S\tP50 MS\tP90 MS\tP99 MS\tMAX MS\t")
	for _, s := range append(append([]OpStats(nil), r.Operations...), r.Overall) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", s.Op, s.Requests, s.Errors, s.RatePerSecond, s.P50Ms, s.P90Ms, s.P99Ms, s.MaxMs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.ErrorsByStatus) > 0 {
		keys := make([]string, 0, len(r.ErrorsByStatus))
		for k := range r.ErrorsByStatus {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		fmt.Fprint(w, "errors by status:")
		for _, k := range keys {
			fmt.Fprintf(w, " %s=%d", k, r.ErrorsByStatus[k])
		}
		fmt.Fprintln(w)
	}
	if r.CleanedUp > 0 {
		fmt.Fprintf(w, "cleanup: deleted %d twins\n", r.CleanedUp)
	}
	return nil
}
