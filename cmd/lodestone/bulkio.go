package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"
)

func init() {
	ifs := flag.NewFlagSet("lodestone import", flag.ContinueOnError)
	it := &target{}
	it.flags(ifs, true)
	dry := ifs.Bool("dry-run", false, "check the file (models, twins, relationships) and write nothing")
	register(&command{
		name:      "import",
		usage:     "FILE.ndjson|- [--dry-run] [--server URL | --data DIR] [--json]",
		shortHelp: "bulk import an ADT import file (Header, Models, Twins, Relationships); all or nothing",
		flags:     ifs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			if len(args) != 1 {
				return usageError{"import: want one FILE (or - for stdin)"}
			}
			var r io.Reader = env.stdin
			size := int64(-1)
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				if st, err := f.Stat(); err == nil {
					size = st.Size()
				}
				r = f
			}
			c, stop, err := it.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			pr := &progressReader{r: r}
			done := make(chan struct{})
			if isTerminal(env.stderr) && !it.json {
				go pr.show(env.stderr, size, done)
			} else {
				close(done)
			}
			job, err := c.Import(ctx, pr, size, *dry)
			pr.stop()
			<-done
			if it.json {
				printJSON(env.stdout, job)
				if err != nil {
					return exitError{1}
				}
				return nil
			}
			if err != nil {
				return apiError(err)
			}
			verb := "imported"
			if *dry {
				verb = "checked (dry run, nothing written)"
			}
			fmt.Fprintf(env.stdout, "%s %d models, %d twins, %d relationships\n", verb, job.ModelsCount, job.TwinsCount, job.RelationshipsCount)
			return nil
		},
	})

	efs := flag.NewFlagSet("lodestone export", flag.ContinueOnError)
	et := &target{}
	et.flags(efs, false)
	asOf := efs.String("as-of", "", "export the graph as it was at this RFC 3339 time")
	register(&command{
		name:      "export",
		usage:     "[FILE.ndjson] [--as-of TIME] [--server URL | --data DIR]",
		shortHelp: "export models, twins and relationships as an ADT import file (stdout without FILE)",
		flags:     efs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			if len(args) > 1 {
				return usageError{"export: at most one FILE"}
			}
			var at time.Time
			if *asOf != "" {
				var err error
				if at, err = time.Parse(time.RFC3339Nano, *asOf); err != nil {
					return usageError{fmt.Sprintf("--as-of: %q is not an RFC 3339 time", *asOf)}
				}
			}
			c, stop, err := et.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			w := env.stdout
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Create(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			return apiError(c.Export(ctx, w, at))
		},
	})
}

// progressReader counts bytes for the terminal progress bar.
type progressReader struct {
	r    io.Reader
	n    atomic.Int64
	quit atomic.Bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n.Add(int64(n))
	return n, err
}

func (p *progressReader) stop() { p.quit.Store(true) }

// show draws a progress bar on w until stop, then closes done.
func (p *progressReader) show(w io.Writer, size int64, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	for {
		n := p.n.Load()
		if size > 0 {
			frac := float64(n) / float64(size)
			bar := int(frac * 30)
			fmt.Fprintf(w, "\r[%-30s] %5.1f%%  %s", repeat('#', bar), 100*frac, time.Since(start).Round(time.Second))
		} else {
			fmt.Fprintf(w, "\r%d MB sent  %s", n>>20, time.Since(start).Round(time.Second))
		}
		if p.quit.Load() {
			fmt.Fprintln(w)
			return
		}
		<-t.C
	}
}

func repeat(c byte, n int) string {
	b := make([]byte, max(n, 0))
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
