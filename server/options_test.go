package server_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"lodestone/server"
)

// TestOptionsPrecedence checks defaults < file < env < flags.
func TestOptionsPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "lodestone.json")
	if err := os.WriteFile(cfg, []byte(`{"data_dir":"from-file","http_addr":":9000","max_body_bytes":2048,"shutdown_timeout":"3s","http_read_timeout":"5m","http_write_timeout":"7s"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	o := server.DefaultOptions()
	if err := o.LoadFile(cfg); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"LODESTONE_HTTP_ADDR": ":9100", "LODESTONE_LOAD_DEMO": "true", "LODESTONE_HTTP_WRITE_TIMEOUT": "45s", "LODESTONE_HTTP_IDLE_TIMEOUT": "1m"}
	if err := o.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o.RegisterFlags(fs)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:0", "--http.idle-timeout", "90s", "--http.read-header-timeout", "2s"}); err != nil {
		t.Fatal(err)
	}
	want := server.DefaultOptions()
	want.DataDir = "from-file"
	want.HTTPAddr = "127.0.0.1:0"
	want.MaxBodyBytes = 2048
	want.ShutdownTimeout = server.Duration(3 * time.Second)
	want.LoadDemo = true
	want.HTTPReadTimeout = server.Duration(5 * time.Minute)
	want.HTTPWriteTimeout = server.Duration(45 * time.Second)
	want.HTTPIdleTimeout = server.Duration(90 * time.Second)
	want.HTTPReadHeaderTimeout = server.Duration(2 * time.Second)
	if diff := cmp.Diff(want, o, cmpopts.IgnoreFields(server.Options{}, "Logger")); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}
}

func TestOptionsErrors(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		edit  func(*server.Options)
		field string
	}{
		{name: "unknown key", file: `{"data_dri":"x"}`, field: `unknown field "data_dri"`},
		{name: "bad duration", file: `{"shutdown_timeout":"soon"}`, field: "soon"},
		{name: "empty data dir", edit: func(o *server.Options) { o.DataDir = "" }, field: "data_dir"},
		{name: "bad addr", edit: func(o *server.Options) { o.HTTPAddr = "8080" }, field: "http_addr"},
		{name: "bad store", edit: func(o *server.Options) { o.StoreDSN = "mysql://x" }, field: "store_dsn"},
		{name: "nats port 4222", edit: func(o *server.Options) { o.NATSListen = "127.0.0.1:4222" }, field: "nats_listen"},
		{name: "zero body", edit: func(o *server.Options) { o.MaxBodyBytes = 0 }, field: "max_body_bytes"},
		{name: "zero read header timeout", edit: func(o *server.Options) { o.HTTPReadHeaderTimeout = 0 }, field: "http_read_header_timeout"},
		{name: "zero read timeout", edit: func(o *server.Options) { o.HTTPReadTimeout = 0 }, field: "http_read_timeout"},
		{name: "negative write timeout", edit: func(o *server.Options) { o.HTTPWriteTimeout = -1 }, field: "http_write_timeout"},
		{name: "zero idle timeout", edit: func(o *server.Options) { o.HTTPIdleTimeout = 0 }, field: "http_idle_timeout"},
		{name: "bad timeout in file", file: `{"http_read_timeout":"5"}`, field: "missing unit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := server.DefaultOptions()
			var err error
			if tt.file != "" {
				p := filepath.Join(t.TempDir(), "c.json")
				os.WriteFile(p, []byte(tt.file), 0o644)
				err = o.LoadFile(p)
			}
			if err == nil && tt.edit != nil {
				tt.edit(&o)
				err = o.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error = %v, want one naming %q", err, tt.field)
			}
		})
	}
}

// FuzzLoadFile feeds arbitrary config files to the strict decoder and
// Validate: errors are fine, panics are not, and a file that loads must
// keep the defaults for the keys it does not name.
func FuzzLoadFile(f *testing.F) {
	f.Add(`{"data_dir":"d","http_addr":":9000"}`)
	f.Add(`{"shutdown_timeout":"3s","max_body_bytes":1}`)
	f.Add(`{"http_read_timeout":"0s","http_write_timeout":"-1s","http_idle_timeout":"2m"}`)
	f.Add(`{"nats_listen":"127.0.0.1:4222"}`)
	f.Add(`[]`)
	f.Add(`{"data_dir":"x"} {"data_dir":"y"}`)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		p := filepath.Join(dir, "c.json")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		o := server.DefaultOptions()
		if err := o.LoadFile(p); err != nil {
			return
		}
		_ = o.Validate()
		if !strings.Contains(body, "http_addr") && !strings.Contains(body, `\u`) && !strings.Contains(strings.ToLower(body), "http_addr") && o.HTTPAddr != server.DefaultOptions().HTTPAddr {
			t.Errorf("http_addr changed to %q by a file that does not name it", o.HTTPAddr)
		}
	})
}
