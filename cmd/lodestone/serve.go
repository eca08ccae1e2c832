package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"lodestone/server"
)

// serve and demo run the whole platform in this process. Options come from
// defaults, then --config FILE, then LODESTONE_* variables, then flags.

func init() {
	register(serveCommand("serve", false, "run the twin graph server: API, dashboard, event bus"))
	register(serveCommand("demo", true, "serve with the bundled ontology and the default 2024 world loaded; print the dashboard URL"))
}

func serveCommand(name string, demo bool, help string) *command {
	fs := flag.NewFlagSet("lodestone "+name, flag.ContinueOnError)
	opts := server.DefaultOptions()
	if demo {
		opts.DataDir = "lodestone-demo"
	}
	opts.RegisterFlags(fs)
	config := fs.String("config", "", "JSON config file (keys as in server.Options, e.g. data_dir, http_addr)")
	verbose := fs.Bool("v", false, "log requests and diagnostics to stderr")
	return &command{
		name:      name,
		usage:     "[--data DIR] [--addr :8080] [--store DSN] [--nats URL] [--config FILE]",
		shortHelp: help,
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Sprintf("%s: unexpected argument %q", name, args[0])}
			}
			// Re-apply the sources in precedence order: the flag values
			// parsed into opts are kept aside and win over file and env.
			flagged := opts
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			o := server.DefaultOptions()
			if demo {
				o.DataDir = "lodestone-demo"
			}
			if *config != "" {
				if err := o.LoadFile(*config); err != nil {
					return err
				}
			}
			if err := o.ApplyEnv(os.LookupEnv); err != nil {
				return err
			}
			mergeFlags(&o, flagged, set)
			o.LoadDemo = o.LoadDemo || demo
			level := slog.LevelWarn
			if *verbose {
				level = slog.LevelInfo
			}
			o.Logger = slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))
			return runServer(ctx, env, o, demo)
		},
	}
}

// mergeFlags copies the options given on the command line over o.
func mergeFlags(o *server.Options, f server.Options, set map[string]bool) {
	if set["data"] || set["data.dir"] {
		o.DataDir = f.DataDir
	}
	if set["addr"] || set["http.addr"] {
		o.HTTPAddr = f.HTTPAddr
	}
	if set["store"] || set["store.dsn"] {
		o.StoreDSN = f.StoreDSN
	}
	if set["nats"] || set["nats.url"] {
		o.NATSURL = f.NATSURL
	}
	if set["nats.listen"] {
		o.NATSListen = f.NATSListen
	}
	if set["nats.stream"] {
		o.NATSStream = f.NATSStream
	}
	if set["nats.prefix"] {
		o.NATSPrefix = f.NATSPrefix
	}
	if set["source"] {
		o.Source = f.Source
	}
	if set["retry-deadline"] {
		o.RetryDeadline = f.RetryDeadline
	}
	if set["http.max-body"] {
		o.MaxBodyBytes = f.MaxBodyBytes
	}
	if set["http.read-header-timeout"] {
		o.HTTPReadHeaderTimeout = f.HTTPReadHeaderTimeout
	}
	if set["http.read-timeout"] {
		o.HTTPReadTimeout = f.HTTPReadTimeout
	}
	if set["http.write-timeout"] {
		o.HTTPWriteTimeout = f.HTTPWriteTimeout
	}
	if set["http.idle-timeout"] {
		o.HTTPIdleTimeout = f.HTTPIdleTimeout
	}
}

func runServer(ctx context.Context, env *cliEnv, o server.Options, demo bool) error {
	s, err := server.New(o)
	if err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	if demo {
		fmt.Fprintf(env.stdout, "Lodestone demo: the default 2024 mine-to-magnet world is loaded.\nDashboard: %s/\nAPI:       %s/openapi.json\nData:      %s\nPress Ctrl-C to stop.\n", s.URL(), s.URL(), o.DataDir)
	} else {
		fmt.Fprintf(env.stdout, "Lodestone serving at %s/ (data in %s)\n", s.URL(), o.DataDir)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(o.ShutdownTimeout))
	defer cancel()
	if err := s.Shutdown(sctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
