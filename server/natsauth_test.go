package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"lodestone/event/natsbus"
	"lodestone/server"
)

// TestNATSListenerCredentials: with --nats.listen the embedded NATS
// server accepts only clients with the credentials (random ones kept in
// the data folder, or those of --nats.password-file), so nobody who
// reaches the port can publish forged events.
func TestNATSListenerCredentials(t *testing.T) {
	for _, ownFile := range []bool{false, true} {
		t.Run(map[bool]string{false: "generated", true: "file"}[ownFile], func(t *testing.T) {
			var data, creds string
			s := startServer(t, func(o *server.Options) {
				o.NATSListen = "127.0.0.1:0"
				data = o.DataDir
				creds = filepath.Join(data, "nats-credentials")
				if ownFile {
					creds = filepath.Join(t.TempDir(), "nats.txt")
					os.WriteFile(creds, []byte("device-gw:a-long-enough-password\n"), 0o600)
					o.NATSPasswordFile = creds
				}
			})
			url := s.Bus.(*natsbus.Bus).ClientURL()
			if url == "" {
				t.Fatal("the embedded server does not listen")
			}
			if nc, err := nats.Connect(url, nats.NoReconnect()); err == nil {
				nc.Close()
				t.Fatal("a client without credentials connected")
			}
			if nc, err := nats.Connect(url, nats.NoReconnect(), nats.UserInfo("lodestone", "guess")); err == nil {
				nc.Close()
				t.Fatal("a client with a wrong password connected")
			}
			b, err := os.ReadFile(creds)
			if err != nil {
				t.Fatal(err)
			}
			if fi, _ := os.Stat(creds); !ownFile && fi.Mode().Perm() != 0o600 {
				t.Errorf("credentials file mode %v, want 0600", fi.Mode().Perm())
			}
			user, pass, _ := strings.Cut(strings.TrimSpace(string(b)), ":")
			nc, err := nats.Connect(url, nats.NoReconnect(), nats.UserInfo(user, pass))
			if err != nil {
				t.Fatalf("with the credentials: %v", err)
			}
			nc.Close()
		})
	}
}
