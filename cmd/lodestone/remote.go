package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"lodestone/client"
	"lodestone/server"
)

// target is where a remote command sends its requests: a running server
// (--server URL) or a data directory opened by an in-process server
// (--data DIR). Either way the command talks to the API through package
// client, never to the store.
type target struct {
	server string
	data   string
	json   bool
}

func (t *target) flags(fs *flag.FlagSet, withJSON bool) {
	fs.StringVar(&t.server, "server", "", "server URL (default $LODESTONE_SERVER or http://127.0.0.1:8080)")
	fs.StringVar(&t.data, "data", "", "open this data directory in-process instead of calling a server")
	if withJSON {
		fs.BoolVar(&t.json, "json", false, "print JSON")
	}
}

// connect returns a client and a function that releases what connect
// started.
func (t *target) connect(ctx context.Context) (*client.Client, func(), error) {
	if t.data != "" && t.server != "" {
		return nil, nil, usageError{"give --server or --data, not both"}
	}
	if t.data != "" {
		o := server.DefaultOptions()
		o.DataDir = t.data
		o.HTTPAddr = "127.0.0.1:0"
		o.Logger = slog.New(slog.DiscardHandler)
		s, err := server.New(o)
		if err != nil {
			return nil, nil, err
		}
		if err := s.Start(ctx); err != nil {
			return nil, nil, fmt.Errorf("open %s: %w", t.data, err)
		}
		stop := func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s.Shutdown(sctx)
		}
		return client.New(s.URL(), nil), stop, nil
	}
	url := t.server
	if url == "" {
		url = os.Getenv("LODESTONE_SERVER")
	}
	if url == "" {
		url = "http://127.0.0.1:8080"
	}
	return client.New(url, nil), func() {}, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// apiError makes API errors read well on a terminal.
func apiError(err error) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		return errors.New(ce.Error())
	}
	return err
}
