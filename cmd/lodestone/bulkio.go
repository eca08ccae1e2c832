package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"lodestone/api"
	"lodestone/bulk"
	"lodestone/client"
)

func init() {
	ifs := flag.NewFlagSet("lodestone import", flag.ContinueOnError)
	it := &target{}
	it.flags(ifs, true)
	dry := ifs.Bool("dry-run", false, "check the file (models, twins, relationships) and write nothing (not even a new --data folder)")
	register(&command{
		name:      "import",
		usage:     "FILE.ndjson|- [--dry-run] [--server URL | --data DIR] [--json]",
		shortHelp: "bulk import an ADT import file (Header, Models, Twins, Relationships); all or nothing; models already present and identical are left as they are",
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
			tgt := *it
			empty := false
			if *dry && tgt.data != "" {
				// A dry run writes nothing: a data folder that does not
				// exist is not made; the file is checked against an
				// empty graph in a temporary one instead.
				if _, err := os.Stat(tgt.data); errors.Is(err, fs.ErrNotExist) {
					tmp, err := os.MkdirTemp("", "lodestone-dry-run-")
					if err != nil {
						return err
					}
					defer os.RemoveAll(tmp)
					tgt.data, empty = tmp, true
				}
			}
			c, stop, err := tgt.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			pr := &progressReader{r: r}
			skip := &presentModels{c: c}
			body := skip.filter(ctx, pr)
			done := make(chan struct{})
			if isTerminal(env.stderr) && !it.json {
				go pr.show(env.stderr, size, done)
			} else {
				close(done)
			}
			// The body's length is not the file's once models are taken
			// out: sent without one (the progress bar counts the file).
			job, err := c.Import(ctx, body, -1, *dry)
			pr.stop()
			<-done
			present := skip.done()
			if it.json {
				printJSON(env.stdout, importOutput{ImportJob: job, ModelsAlreadyPresent: present})
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
			if len(present) > 0 {
				fmt.Fprintf(env.stdout, "%d models already present on the server, identical: left as they are\n", len(present))
			}
			if empty {
				fmt.Fprintf(env.stdout, "(%s does not exist: checked against an empty graph, and not created)\n", it.data)
			}
			return nil
		},
	})

	efs := flag.NewFlagSet("lodestone export", flag.ContinueOnError)
	et := &target{}
	et.flags(efs, false)
	asOf := efs.String("as-of", "", "export the graph as it was at this date (YYYY-MM-DD) or RFC 3339 time")
	register(&command{
		name:      "export",
		usage:     "[FILE.ndjson] [--as-of DATE|TIME] [--server URL | --data DIR]",
		shortHelp: "export models, twins and relationships as an ADT import file (stdout without FILE)",
		flags:     efs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			if len(args) > 1 {
				return usageError{"export: at most one FILE"}
			}
			at, err := parseAsOf(*asOf)
			if err != nil {
				return err
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

// importOutput is import --json: the import job as the API answers it,
// and the models of the file that the server already had, identical.
type importOutput struct {
	api.ImportJob
	ModelsAlreadyPresent []string `json:"modelsAlreadyPresent,omitempty"`
}

// presentModels takes out of an import file the models the server already
// has with the same definition, so that a file exported from a server
// imports (or dry-runs) into it without a ModelIdAlreadyExists error. A
// model with the same id and another definition stays in the file, for
// the server to refuse. Each line taken out becomes an empty line, so the
// line numbers of the server's errors still point into the file.
type presentModels struct {
	c       *client.Client
	pr      *io.PipeReader
	wg      sync.WaitGroup
	skipped []string
}

// filter returns r with the models already present blanked out.
func (p *presentModels) filter(ctx context.Context, r io.Reader) io.Reader {
	pr, pw := io.Pipe()
	p.pr = pr
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		pw.CloseWithError(p.copy(ctx, pw, r))
	}()
	return pr
}

func (p *presentModels) copy(ctx context.Context, w io.Writer, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), bulk.MaxLineBytes)
	var have map[string]any // the server's models by id, read at the first model
	section := ""
	bw := bufio.NewWriterSize(w, 64<<10)
	for sc.Scan() {
		line := sc.Bytes()
		if s, ok := sectionOf(line); ok {
			section = s
		} else if section == string(bulk.SectionModels) && len(bytes.TrimSpace(line)) > 0 {
			if have == nil {
				have = p.serverModels(ctx)
			}
			if id, ok := sameModel(line, have); ok {
				p.skipped = append(p.skipped, id)
				line = nil
			}
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return bw.Flush()
}

// serverModels returns the server's model definitions by id, decoded;
// none (an empty map) when they cannot be read: the server then decides.
func (p *presentModels) serverModels(ctx context.Context) map[string]any {
	have := map[string]any{}
	ms, err := p.c.Models(ctx, true)
	if err != nil {
		return have
	}
	for _, m := range ms {
		var v any
		if json.Unmarshal(m.Model, &v) == nil {
			have[m.ID] = v
		}
	}
	return have
}

// sameModel reports whether line is a model the server has with the same
// definition (compared as JSON values, so key order and spacing do not
// matter), and its id.
func sameModel(line []byte, have map[string]any) (string, bool) {
	var v any
	if json.Unmarshal(line, &v) != nil {
		return "", false
	}
	obj, _ := v.(map[string]any)
	id, _ := obj["@id"].(string)
	old, ok := have[id]
	return id, ok && reflect.DeepEqual(old, v)
}

// sectionOf reports whether line is a section marker such as
// {"Section": "Models"}, and which.
func sectionOf(line []byte) (string, bool) {
	line = bytes.TrimSpace(bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")))
	if len(line) > 64 || !bytes.Contains(line, []byte(`"Section"`)) {
		return "", false
	}
	var m map[string]string
	if json.Unmarshal(line, &m) != nil || len(m) != 1 || m["Section"] == "" {
		return "", false
	}
	return m["Section"], true
}

// done stops the filter (the server may have answered before reading the
// whole body), waits for it and returns the models it took out.
func (p *presentModels) done() []string {
	p.pr.Close()
	p.wg.Wait()
	return p.skipped
}
