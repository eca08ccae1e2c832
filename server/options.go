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
)

// Options holds every knob of a Lodestone server. It is filled in this order:
// [DefaultOptions], then a config file ([Options.LoadFile]), then LODESTONE_*
// environment variables ([Options.ApplyEnv]), then command-line flags
// ([Options.RegisterFlags]); later sources win. [Options.Validate] is the only
// place that checks values.
type Options struct {
	// DataDir holds the SQLite file and the embedded NATS store.
	DataDir string `json:"data_dir"`
	// HTTPAddr is the listen address of the API and dashboard, e.g. ":8080"
	// or "127.0.0.1:0" for an ephemeral port.
	HTTPAddr string `json:"http_addr"`
	// StoreDSN chooses the store backend: "sqlite:PATH" (empty means the
	// default file in DataDir) or "postgres://…".
	StoreDSN string `json:"store_dsn"`
	// NATSURL joins an external NATS cluster; empty runs an embedded server.
	NATSURL string `json:"nats_url"`
	// NATSListen makes the embedded NATS server listen on this address; empty
	// means in-process connections only (it never binds 4222 by default).
	NATSListen string `json:"nats_listen"`
	// MaxBodyBytes limits request bodies; larger ones get 413.
	MaxBodyBytes int64 `json:"max_body_bytes"`
	// MaxBulkBytes limits bulk import bodies, which are larger by nature.
	MaxBulkBytes int64 `json:"max_bulk_bytes"`
	// ShutdownTimeout bounds a graceful shutdown.
	ShutdownTimeout Duration `json:"shutdown_timeout"`
	// LoadDemo loads the bundled ontology and sample world at start when the
	// store is empty (lodestone demo).
	LoadDemo bool `json:"load_demo"`

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

// DefaultOptions returns the documented defaults: data in ./lodestone-data,
// HTTP on :8080, embedded SQLite and NATS, 1 MB request bodies.
func DefaultOptions() Options {
	return Options{
		DataDir:         "lodestone-data",
		HTTPAddr:        ":8080",
		MaxBodyBytes:    1 << 20,
		MaxBulkBytes:    4 << 30,
		ShutdownTimeout: Duration(10 * time.Second),
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
	fs.StringVar(&o.HTTPAddr, "addr", o.HTTPAddr, "HTTP listen address of the API and dashboard")
	fs.StringVar(&o.HTTPAddr, "http.addr", o.HTTPAddr, "alias of --addr")
	fs.StringVar(&o.StoreDSN, "store", o.StoreDSN, "store DSN: sqlite:PATH (default: DATA/lodestone.db) or postgres://…")
	fs.StringVar(&o.StoreDSN, "store.dsn", o.StoreDSN, "alias of --store")
	fs.StringVar(&o.NATSURL, "nats", o.NATSURL, "external NATS URL; empty runs an embedded JetStream server")
	fs.StringVar(&o.NATSURL, "nats.url", o.NATSURL, "alias of --nats")
	fs.StringVar(&o.NATSListen, "nats.listen", o.NATSListen, "let the embedded NATS server listen on this address")
	fs.Int64Var(&o.MaxBodyBytes, "http.max-body", o.MaxBodyBytes, "largest accepted request body in bytes")
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
	if o.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown_timeout: must be > 0"))
	}
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
