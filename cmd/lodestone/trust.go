package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"lodestone/trust"
)

func init() {
	register(&command{
		name:      "trust",
		usage:     "<keygen> [flags]",
		shortHelp: "keys of the trust layer (the transparency log's signing key)",
		sub:       []*command{trustKeygenCmd()},
	})
}

func trustKeygenCmd() *command {
	fs := flag.NewFlagSet("lodestone trust keygen", flag.ContinueOnError)
	out := fs.String("out", "", "file to write the signer key to (created with mode 0600; keep it outside the data folder)")
	return &command{
		name:      "keygen",
		usage:     "NAME --out FILE",
		shortHelp: "make an Ed25519 key for the transparency log's checkpoints: writes the signer key to FILE and prints the verifier key (C2SP vkey); NAME is the log's origin, e.g. lodestone.example.com/log",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			if len(args) != 1 {
				return usageError{"trust keygen: want exactly one NAME (the log's origin)"}
			}
			if *out == "" {
				return usageError{"trust keygen: --out FILE is required"}
			}
			skey, vkey, err := trust.GenerateKey(args[0])
			if err != nil {
				return usageError{"trust keygen: " + err.Error()}
			}
			if err := os.MkdirAll(filepath.Dir(*out), 0o700); err != nil {
				return err
			}
			// O_EXCL: never overwrite a key, which would orphan the log it
			// signed.
			f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("trust keygen: %s exists; a log's key is never replaced (remove the file yourself if you mean to)", *out)
			}
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintln(f, skey); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintln(env.stdout, vkey)
			return nil
		},
	}
}
