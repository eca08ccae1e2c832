package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"lodestone/ops/tracing"
)

// Options holds every knob of a Lodestone server. It is filled in this order:
// [DefaultOptions], then a config file ([Options.LoadFile]), then LODESTONE_*
// environment variables ([Options.ApplyEnv]), then command-line flags
// ([Options.RegisterFlags]); later sources win. [Options.Validate] is the only
// place that checks values.
type Options struct {
	// DataDir holds the SQLite file and the embedded NATS store.
	DataDir string `json:"data_dir"`
	// HTTPAddr is the listen address of the API and dashboard: by default
	// "127.0.0.1:8080", this machine only (the API has no authentication);
	// ":8080" listens on every interface, "127.0.0.1:0" on an ephemeral port.
	HTTPAddr string `json:"http_addr"`
	// StoreDSN chooses the store backend: "sqlite:PATH" (empty means the
	// default file in DataDir) or "postgres://…".
	StoreDSN string `json:"store_dsn"`
	// NATSURL joins an external NATS cluster; empty runs an embedded server.
	NATSURL string `json:"nats_url"`
	// NATSListen makes the embedded NATS server listen on this address; empty
	// means in-process connections only (it never binds 4222 by default).
	NATSListen string `json:"nats_listen"`
	// NATSPasswordFile holds "user:password", the credentials clients of
	// the NATSListen listener must present; empty makes a random password
	// for user "lodestone" in DataDir/nats-credentials (mode 0600).
	NATSPasswordFile string `json:"nats_password_file"`
	// NATSStream and NATSPrefix name the JetStream stream and the first
	// subject token of the events (defaults "LODESTONE" and "lodestone"),
	// so that several Lodestone graphs can share one NATS.
	NATSStream string `json:"nats_stream"`
	NATSPrefix string `json:"nats_prefix"`
	// NATSReplicas is the replica count of the event stream and of the
	// study work queue's streams on an external JetStream cluster (3 on a
	// three-node cluster; default 1).
	NATSReplicas int `json:"nats_replicas"`
	// Source is the CloudEvents source of the events (default
	// "lodestone://" + the host name). Servers that share a database must
	// share it: a change committed by one and relayed by another after a
	// crash then has the same event id.
	Source string `json:"source"`
	// RetryDeadline bounds how long a write without If-Match retries after
	// concurrent writes of the same entity before it answers 503.
	RetryDeadline Duration `json:"retry_deadline"`
	// MaxBodyBytes limits request bodies; larger ones get 413.
	MaxBodyBytes int64 `json:"max_body_bytes"`
	// MaxBulkBytes limits bulk import bodies, which are larger by nature.
	MaxBulkBytes int64 `json:"max_bulk_bytes"`
	// Studies*: limits of the Monte Carlo studies under way (0: the API's
	// defaults, 3 at once, 200000 runs); a study over them gets 429.
	StudiesMaxConcurrent   int `json:"studies_max_concurrent"`
	StudiesMaxPerPrincipal int `json:"studies_max_per_principal"`
	StudiesMaxQueuedRuns   int `json:"studies_max_queued_runs"`
	// StudiesWorkers hands studies to `lodestone worker` processes on the
	// JetStream work queue of the event bus's NATS whenever one answers
	// (package worker); the server runs them itself otherwise.
	StudiesWorkers bool `json:"studies_workers"`
	// StudiesAckWait is how long a shard on the work queue may go without
	// a worker's heartbeat before it is redelivered (0: 30 s); workers
	// take the same value (lodestone worker --ack-wait).
	StudiesAckWait Duration `json:"studies_ack_wait"`

	// The HTTP timeouts bound what one client can hold: a goroutine, a
	// connection and whatever its handler holds while it waits for that
	// client. None of them may be zero (which net/http reads as "never").
	//
	// HTTPReadHeaderTimeout bounds reading a request's headers.
	HTTPReadHeaderTimeout Duration `json:"http_read_header_timeout"`
	// HTTPReadTimeout bounds reading a whole request, headers and body. On
	// the bulk import routes it bounds each pause instead: an import of
	// gigabytes may take longer than any fixed bound to upload, but it is
	// cut off when no byte of its body arrives for this long.
	HTTPReadTimeout Duration `json:"http_read_timeout"`
	// HTTPWriteTimeout bounds each write of a response (and the final
	// flush) to the client, so a client that stops reading is cut off after
	// it. The time a handler computes, and the life of an event stream,
	// do not count.
	HTTPWriteTimeout Duration `json:"http_write_timeout"`
	// HTTPIdleTimeout bounds how long a keep-alive connection waits for its
	// next request.
	HTTPIdleTimeout Duration `json:"http_idle_timeout"`

	// ShutdownTimeout bounds a graceful shutdown.
	ShutdownTimeout Duration `json:"shutdown_timeout"`
	// LoadDemo loads the bundled ontology and sample world at start when the
	// store is empty (lodestone demo).
	LoadDemo bool `json:"load_demo"`
	// Connectors is a connectors file (docs/formats/plant-connectors.md):
	// its MQTT and OPC UA connectors run while the server does.
	Connectors string `json:"connectors"`
	// Estimators is an estimators file (docs/formats/plant-estimators.md):
	// its soft sensors run live on the telemetry while the server does.
	Estimators string `json:"estimators"`

	// TLSCert and TLSKey (PEM files) make the server serve HTTPS (HTTP/2
	// and HTTP/1.1); TLSClientCA (a PEM bundle) also requires every client
	// to present a certificate those CAs signed (mutual TLS).
	TLSCert     string `json:"tls_cert"`
	TLSKey      string `json:"tls_key"`
	TLSClientCA string `json:"tls_client_ca"`
	// Auth is the identity file (tokens and/or a JWT issuer; see
	// docs/formats/auth.md). Without it the server runs unauthenticated
	// and binds loopback only, unless Insecure allows any address.
	Auth     string `json:"auth"`
	Insecure bool   `json:"insecure"`
	// Hostnames are the names (comma separated) the Host header may carry
	// besides IP literals (and loopback names on a loopback server).
	Hostnames string `json:"hostnames"`
	// CORSOrigins are the browser origins (comma separated) allowed to
	// call the API from another site; none by default.
	CORSOrigins string `json:"cors_origins"`
	// WebhookAllow are address ranges (CIDR, comma separated) webhooks may
	// reach although they are loopback, private or link-local; none by
	// default, also on a loopback server without Auth.
	WebhookAllow string `json:"webhook_allow"`
	// RateLimit is the requests per second each principal may make on
	// average, RateBurst its burst; applied with Auth; 0 turns it off.
	RateLimit float64 `json:"rate_limit"`
	RateBurst int64   `json:"rate_burst"`

	// Retain* bound what the server keeps: events on the JetStream
	// stream (its max age), twin and relationship versions that ended
	// longer ago than RetainHistory (never the current version), and
	// telemetry older than RetainTelemetry, compacted every RetainEvery
	// (default 1 h); zero keeps everything. See docs/operations.md.
	RetainEvents    Duration `json:"retain_events"`
	RetainHistory   Duration `json:"retain_history"`
	RetainTelemetry Duration `json:"retain_telemetry"`
	RetainEvery     Duration `json:"retain_every"`
	// MetricsPublic serves /metrics without credentials; by default a
	// server with Auth serves it to auditors and admins only.
	MetricsPublic bool `json:"metrics_public"`
	// OTelEndpoint exports OpenTelemetry traces over OTLP/HTTP to this
	// collector URL, or, set to "env", to the one the standard
	// OTEL_EXPORTER_OTLP_* variables name; empty (default) traces nothing.
	OTelEndpoint string `json:"otel_endpoint"`
	// Tracer, when set, is the tracer of the server instead of one built
	// from OTelEndpoint (tests, programs embedding a server).
	Tracer *tracing.Tracer `json:"-"`

	// LogKey is the Ed25519 signing key file of the transparency log
	// (outside DataDir); empty keeps no log.
	LogKey string `json:"log_key"`

	// Govern is the governance file (docs/formats/governance.md): the
	// subjects whose changes go through /governance/proposals.
	Govern string `json:"govern"`

	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger `json:"-"`
}

// Duration is a time.Duration that reads and writes as a Go duration string
// ("30s") in config files.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string such as "30s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"30s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// String writes the duration as Go does ("1m30s"); with Set, a Duration is
// a [flag.Value].
func (d Duration) String() string { return time.Duration(d).String() }

// Set reads a duration string such as "30s".
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// DefaultOptions returns the documented defaults: data in ./lodestone-data,
// HTTP on 127.0.0.1:8080 (loopback only), embedded SQLite and NATS, 1 MiB request bodies and 4 GiB
// import bodies, and these HTTP timeouts:
//
//   - read header 10 s: headers are small; a client that trickles them is
//     a slowloris, not a slow link.
//   - read 1 min for a whole ordinary request (a 1 MiB body at 17 KB/s); on
//     the bulk import routes, 1 min without a byte of the body.
//   - write 1 min for each write to the client: a client that reads
//     nothing for a minute is gone or hostile. Event streams write at least
//     every heartbeat (15 s) and live as long as their client reads.
//   - idle 2 min between the requests of a keep-alive connection, above the
//     90 s idle timeout of Go's and most browsers' connection pools, so
//     the server is rarely the side that closes a pooled connection.
func DefaultOptions() Options {
	return Options{
		DataDir:               "lodestone-data",
		HTTPAddr:              "127.0.0.1:8080",
		MaxBodyBytes:          1 << 20,
		MaxBulkBytes:          4 << 30,
		HTTPReadHeaderTimeout: Duration(10 * time.Second),
		HTTPReadTimeout:       Duration(time.Minute),
		HTTPWriteTimeout:      Duration(time.Minute),
		HTTPIdleTimeout:       Duration(2 * time.Minute),
		ShutdownTimeout:       Duration(10 * time.Second),
		RetryDeadline:         Duration(10 * time.Second),
		RateLimit:             DefaultRateLimit,
		RateBurst:             DefaultRateBurst,
	}
}

// LoadFile merges a JSON config file into o. Unknown keys are errors, so a
// misspelt option is never silently ignored.
func (o *Options) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config %s: %w", path, err)
	}
	return o.decodeConfig(b, path)
}

func (o *Options) decodeConfig(b []byte, name string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(o); err != nil {
		return fmt.Errorf("config %s: %w", name, err)
	}
	if dec.More() {
		return fmt.Errorf("config %s: trailing data after the JSON object", name)
	}
	return nil
}

// envName maps a JSON field name to its environment variable: data_dir →
// LODESTONE_DATA_DIR.
func envName(jsonName string) string { return "LODESTONE_" + strings.ToUpper(jsonName) }

// ApplyEnv merges LODESTONE_* variables (as returned by lookup, usually
// os.LookupEnv) into o.
func (o *Options) ApplyEnv(lookup func(string) (string, bool)) error {
	v := reflect.ValueOf(o).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		s, ok := lookup(envName(tag))
		if !ok {
			continue
		}
		f := v.Field(i)
		switch f.Addr().Interface().(type) {
		case *Duration:
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("%s: %w", envName(tag), err)
			}
			f.SetInt(int64(d))
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString(s)
		case reflect.Bool:
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("%s: %w", envName(tag), err)
			}
			f.SetBool(b)
		case reflect.Float64:
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return fmt.Errorf("%s: %w", envName(tag), err)
			}
			f.SetFloat(x)
		case reflect.Int64, reflect.Int:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("%s: %w", envName(tag), err)
			}
			f.SetInt(n)
		}
	}
	return nil
}

// RegisterFlags defines the server flags on fs, bound to o. Names are dotted
// by subsystem (--http.addr) with the short forms of the CLI contract
// (--addr, --data, --store, --nats) as aliases.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.DataDir, "data", o.DataDir, "data directory (SQLite file, embedded NATS store)")
	fs.StringVar(&o.DataDir, "data.dir", o.DataDir, "alias of --data")
	fs.StringVar(&o.Connectors, "connectors", o.Connectors, "connectors file: MQTT and OPC UA telemetry connectors to run (docs/formats/plant-connectors.md)")
	fs.StringVar(&o.Estimators, "estimators", o.Estimators, "estimators file: soft sensors to run live on telemetry (docs/formats/plant-estimators.md)")
	fs.StringVar(&o.HTTPAddr, "addr", o.HTTPAddr, "HTTP listen address of the API and dashboard")
	fs.StringVar(&o.HTTPAddr, "http.addr", o.HTTPAddr, "alias of --addr")
	fs.StringVar(&o.StoreDSN, "store", o.StoreDSN, "store DSN: sqlite:PATH (default: DATA/lodestone.db) or postgres://…")
	fs.StringVar(&o.StoreDSN, "store.dsn", o.StoreDSN, "alias of --store")
	fs.StringVar(&o.NATSURL, "nats", o.NATSURL, "external NATS URL; empty runs an embedded JetStream server")
	fs.StringVar(&o.NATSURL, "nats.url", o.NATSURL, "alias of --nats")
	fs.StringVar(&o.NATSListen, "nats.listen", o.NATSListen, "let the embedded NATS server listen on this address")
	fs.StringVar(&o.NATSPasswordFile, "nats.password-file", o.NATSPasswordFile, "file with user:password that clients of --nats.listen must present (default: a random one in DATA/nats-credentials)")
	fs.StringVar(&o.NATSStream, "nats.stream", o.NATSStream, "JetStream stream of the events (default LODESTONE)")
	fs.StringVar(&o.NATSPrefix, "nats.prefix", o.NATSPrefix, "first subject token of the events (default lodestone)")
	fs.IntVar(&o.NATSReplicas, "nats.replicas", o.NATSReplicas, "replicas of the JetStream streams on an external cluster (3 on a three-node cluster; default 1)")
	fs.StringVar(&o.Source, "source", o.Source, "CloudEvents source of the events; servers sharing a database must share it")
	fs.Var(&o.RetryDeadline, "retry-deadline", "longest time a write without If-Match retries after concurrent writes")
	fs.Int64Var(&o.MaxBodyBytes, "http.max-body", o.MaxBodyBytes, "largest accepted request body in bytes")
	fs.Var(&o.HTTPReadHeaderTimeout, "http.read-header-timeout", "longest time to read a request's headers")
	fs.Var(&o.HTTPReadTimeout, "http.read-timeout", "longest time to read a request; on bulk imports, the longest pause in the body")
	fs.Var(&o.HTTPWriteTimeout, "http.write-timeout", "longest time one write of a response may wait for the client")
	fs.Var(&o.HTTPIdleTimeout, "http.idle-timeout", "longest time a keep-alive connection waits for its next request")
	fs.IntVar(&o.StudiesMaxConcurrent, "studies.max-concurrent", o.StudiesMaxConcurrent, "Monte Carlo studies under way at once (0: 3)")
	fs.IntVar(&o.StudiesMaxPerPrincipal, "studies.max-per-principal", o.StudiesMaxPerPrincipal, "studies one principal may run at once (0: studies.max-concurrent)")
	fs.BoolVar(&o.StudiesWorkers, "studies.workers", o.StudiesWorkers, "hand Monte Carlo studies, investment searches and single runs to lodestone worker processes on the NATS work queue when any is connected")
	fs.Var(&o.StudiesAckWait, "studies.ack-wait", "how long a shard may go without a worker's heartbeat before it is redelivered (0: 30s; workers take the same --ack-wait)")
	fs.IntVar(&o.StudiesMaxQueuedRuns, "studies.max-queued-runs", o.StudiesMaxQueuedRuns, "replications of all studies under way (0: 200000)")
	o.registerRetentionFlags(fs)
	fs.BoolVar(&o.MetricsPublic, "metrics-public", o.MetricsPublic, "serve /metrics without credentials (by default, with --auth, to auditors and admins only)")
	o.registerSecurityFlags(fs)
	o.registerTracingFlags(fs) // tracing.go
	o.registerTrustFlags(fs)
	o.registerGovernFlags(fs)
}

// Validate checks o and returns all problems at once, each naming its field.
func (o *Options) Validate() error {
	var errs []error
	if o.DataDir == "" {
		errs = append(errs, errors.New("data_dir: must not be empty"))
	}
	if o.HTTPAddr != "" {
		if _, _, err := net.SplitHostPort(o.HTTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("http_addr: %q is not host:port: %v", o.HTTPAddr, err))
		}
	}
	if o.StoreDSN != "" && !strings.HasPrefix(o.StoreDSN, "sqlite:") && !strings.HasPrefix(o.StoreDSN, "postgres://") && !strings.HasPrefix(o.StoreDSN, "postgresql://") {
		errs = append(errs, fmt.Errorf("store_dsn: %q: want sqlite:PATH or postgres://…", o.StoreDSN))
	}
	if o.NATSURL != "" && !strings.HasPrefix(o.NATSURL, "nats://") && !strings.HasPrefix(o.NATSURL, "tls://") {
		errs = append(errs, fmt.Errorf("nats_url: %q: want nats://host:port", o.NATSURL))
	}
	if o.NATSReplicas < 0 || o.NATSReplicas > 5 {
		errs = append(errs, fmt.Errorf("nats_replicas: %d: want 1 to 5 (JetStream's limit)", o.NATSReplicas))
	} else if o.NATSReplicas > 1 && o.NATSURL == "" {
		errs = append(errs, fmt.Errorf("nats_replicas: %d needs an external cluster (nats_url); the embedded server is one node", o.NATSReplicas))
	}
	if o.NATSListen != "" {
		if _, port, err := net.SplitHostPort(o.NATSListen); err != nil {
			errs = append(errs, fmt.Errorf("nats_listen: %q is not host:port", o.NATSListen))
		} else if port == "4222" {
			errs = append(errs, errors.New("nats_listen: the embedded server never takes the standard port 4222; use another"))
		}
	}
	if o.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("max_body_bytes: %d must be > 0", o.MaxBodyBytes))
	}
	if o.MaxBulkBytes <= 0 {
		errs = append(errs, fmt.Errorf("max_bulk_bytes: %d must be > 0", o.MaxBulkBytes))
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{
		{"http_read_header_timeout", o.HTTPReadHeaderTimeout},
		{"http_read_timeout", o.HTTPReadTimeout},
		{"http_write_timeout", o.HTTPWriteTimeout},
		{"http_idle_timeout", o.HTTPIdleTimeout},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: %v must be > 0 (zero would let one client wait forever)", d.name, time.Duration(d.v)))
		}
	}
	if o.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown_timeout: must be > 0"))
	}
	errs = append(errs, o.validateSecurity()...)
	errs = append(errs, o.validateTrust()...)
	errs = append(errs, o.validateRetention()...)
	errs = append(errs, o.validateTracing()...)
	return errors.Join(errs...)
}

// storeDSN is the DSN the server opens: the configured one or the default
// SQLite file in the data directory.
func (o *Options) storeDSN() string {
	if o.StoreDSN != "" {
		return o.StoreDSN
	}
	return "sqlite:" + filepath.Join(o.DataDir, "lodestone.db")
}
