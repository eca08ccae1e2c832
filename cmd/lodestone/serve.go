package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	usage := "[--data DIR] [--addr 127.0.0.1:8080] [--store DSN] [--nats URL] [--config FILE]"
	var reset, tenants *bool
	if demo {
		reset = fs.Bool("reset", false, "empty the demo's data folder first and load the default world afresh")
		tenants = fs.Bool("tenants", true, "two companies and a sharing agreement: run with the demo's tokens (written to DATA/"+server.DemoAuthFile+" and printed; requests without a token act as the demo's admin, on loopback only); --tenants=false serves unauthenticated")
		usage = "[--reset] [--tenants] " + usage
	}
	return &command{
		name:      name,
		usage:     usage,
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
			if reset != nil && *reset {
				if o.StoreDSN != "" {
					return usageError{"demo --reset: empties the data folder only; with --store, reset that store yourself"}
				}
				if err := server.ResetDataDir(o.DataDir); err != nil {
					return err
				}
				fmt.Fprintf(env.stdout, "Emptied %s.\n", o.DataDir)
			}
			// The demo brings its companies unless told not to, or unless
			// it is given an identity file of its own.
			if tenants != nil && *tenants && (set["tenants"] || o.Auth == "") {
				if err := demoTenants(env.stdout, &o); err != nil {
					return err
				}
			}
			// The demo keeps a transparency log (its story ends on a
			// passing verify), with a key of its own beside the data
			// folder unless given one or --log-key "" (demo_logkey.go).
			if demo {
				if err := demoLogKey(env.stdout, &o, set["log-key"]); err != nil {
					return err
				}
			}
			level := slog.LevelWarn
			if *verbose {
				level = slog.LevelDebug // one line per request (api/ops.go)
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
	server.MergeSecurityFlags(o, f, set)
	server.MergeTrustFlags(o, f, set)
	server.MergeOpsFlags(o, f, set) // server/retention.go: replicas, studies, retention, metrics
	server.MergeGovernFlags(o, f, set)
}

// printStart says what the server did and where it listens: the
// address it bound (every interface, if so, with a warning when the API
// has no authentication) and, for the demo, whether it loaded the default world
// or reopened the edits of an earlier run.
func printStart(w io.Writer, s *server.Server, o server.Options, demo bool) {
	if demo {
		if s.DemoLoaded() {
			fmt.Fprintf(w, "Lodestone demo: loaded the default 2024 mine-to-magnet world into %s.\n", o.DataDir)
		} else {
			fmt.Fprintf(w, "Lodestone demo: reopened the edits in %s (lodestone demo --reset starts afresh from the default 2024 world).\n", o.DataDir)
		}
		fmt.Fprintf(w, "Dashboard: %s/\nStory:     %s/#/story\nAPI:       %s/openapi.json\n", s.URL(), s.URL(), s.URL())
	} else {
		fmt.Fprintf(w, "Lodestone serving at %s/ (data in %s)\n", s.URL(), o.DataDir)
	}
	host, _, _ := net.SplitHostPort(s.Addr())
	switch ip := net.ParseIP(host); {
	case ip != nil && ip.IsUnspecified() && o.Auth == "":
		fmt.Fprintf(w, "Listening on %s: every network interface, and the API has no authentication.\n", s.Addr())
	case ip != nil && ip.IsUnspecified():
		fmt.Fprintf(w, "Listening on %s: every network interface.\n", s.Addr())
	default:
		fmt.Fprintf(w, "Listening on %s.\n", s.Addr())
	}
	if demo {
		fmt.Fprintln(w, "Press Ctrl-C to stop.")
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
	printStart(env.stdout, s, o, demo)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(o.ShutdownTimeout))
	defer cancel()
	if err := s.Shutdown(sctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
