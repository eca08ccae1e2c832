package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"lodestone/api"
	"lodestone/client"
	"lodestone/trust/dsse"
)

// lodestone keys: the Ed25519 keys devices and orgs sign their writes with
// (DSSE envelopes; docs/formats/signing.md). gen makes one locally; add,
// list and delete manage the public keys a server verifies with.
func init() {
	register(&command{
		name:      "keys",
		usage:     "<gen|add|list|delete> [flags] [args]",
		shortHelp: "signing keys of devices and orgs: make one, register its public key with a server, list, delete",
		sub:       []*command{keysGenCmd(), keysAddCmd(), keysListCmd(), keysDeleteCmd()},
	})
	modelCommand.sub = append(modelCommand.sub, modelSignaturesCmd())
}

// keyIDHeader is the PEM header of a private key file that names the key
// id it is registered under; lodestone sign reads it.
const keyIDHeader = "Key-Id"

func keysGenCmd() *command {
	fs := flag.NewFlagSet("lodestone keys gen", flag.ContinueOnError)
	out := fs.String("out", "", "file to write the private key to (PEM, PKCS #8; created with mode 0600, never overwritten)")
	return &command{
		name:      "gen",
		usage:     "ID --out FILE",
		shortHelp: "make an Ed25519 signing key named ID: writes the private key to FILE and prints the public key (base64) for keys add",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 || args[0] == "" {
				return usageError{"keys gen: want exactly one ID (the key's id, e.g. the device's name)"}
			}
			if *out == "" {
				return usageError{"keys gen: --out FILE is required"}
			}
			pub, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			der, err := x509.MarshalPKCS8PrivateKey(priv)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(*out), 0o700); err != nil {
				return err
			}
			f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("keys gen: %s exists; a key is never overwritten", *out)
			}
			if err != nil {
				return err
			}
			err = pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{keyIDHeader: args[0]}, Bytes: der})
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(env.stdout, base64.StdEncoding.EncodeToString(pub))
			return nil
		},
	}
}

func keysAddCmd() *command {
	fs := flag.NewFlagSet("lodestone keys add", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	owner := fs.String("owner", "", "the device or org the key belongs to (required)")
	pub := fs.String("public-key", "", "the public key: base64 of its 32 bytes, or @FILE of a PEM PUBLIC KEY or of that base64 (required)")
	return &command{
		name:      "add",
		usage:     "ID --owner NAME --public-key KEY|@FILE [--json] [--server URL]",
		shortHelp: "register a public key with the server (admin); writes signed with its private key then verify",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"keys add: want exactly one ID"}
			}
			if *owner == "" || *pub == "" {
				return usageError{"keys add: --owner and --public-key are required"}
			}
			key := *pub
			if name, ok := strings.CutPrefix(key, "@"); ok {
				b, err := os.ReadFile(name)
				if err != nil {
					return err
				}
				key = string(b)
			}
			if _, err := dsse.ParsePublicKey(key); err != nil {
				return usageError{"keys add: --public-key: " + err.Error()}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			k, err := c.AddKey(ctx, api.SigningKey{ID: args[0], Owner: *owner, PublicKey: strings.TrimSpace(key)})
			if err != nil {
				return apiError(err)
			}
			if t.json {
				return printJSON(env.stdout, k)
			}
			fmt.Fprintf(env.stdout, "Registered key %s of %s.\n", k.ID, k.Owner)
			return nil
		},
	}
}

func keysListCmd() *command {
	fs := flag.NewFlagSet("lodestone keys list", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	return &command{
		name:      "list",
		usage:     "[--json] [--server URL]",
		shortHelp: "list the signing keys of your org",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 0 {
				return usageError{"keys list: no arguments"}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			keys, err := c.Keys(ctx)
			if err != nil {
				return apiError(err)
			}
			if t.json {
				return printJSON(env.stdout, keys)
			}
			tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tOWNER\tPUBLIC KEY\tCREATED")
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Owner, k.PublicKey, k.Created.Format("2006-01-02 15:04:05Z07:00"))
			}
			return tw.Flush()
		},
	}
}

func keysDeleteCmd() *command {
	fs := flag.NewFlagSet("lodestone keys delete", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, false)
	return &command{
		name:      "delete",
		usage:     "ID [--server URL]",
		shortHelp: "delete a signing key (admin); envelopes it signed are refused from then on",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"keys delete: want exactly one ID"}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			if err := c.DeleteKey(ctx, args[0]); err != nil {
				return apiError(err)
			}
			fmt.Fprintf(env.stdout, "Deleted key %s.\n", args[0])
			return nil
		},
	}
}

// modelSignaturesCmd is `lodestone model signatures MODEL [--required]`:
// whether writes to twins of MODEL must be DSSE-signed (GET and PUT
// /models/{id}/signatures). With --required (or --required=false) it sets
// the mark (admin); without, it shows it.
func modelSignaturesCmd() *command {
	fs := flag.NewFlagSet("lodestone model signatures", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	required := &optionalBool{}
	fs.Var(required, "required", "require signed writes to twins of MODEL (admin); --required=false stops requiring them; without the flag the current setting is shown")
	return &command{
		name:      "signatures",
		usage:     "MODEL [--required[=false]] [--json] [--server URL]",
		shortHelp: "show or set whether writes to twins of MODEL must carry a DSSE signature by a registered key (keys add); unsigned ones are then refused with 403 SignatureRequired",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer func() { *required = optionalBool{} }()
			defer resetSupplyFlags(fs)
			if len(args) != 1 || args[0] == "" {
				return usageError{"model signatures: want exactly one MODEL (a dtmi)"}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			if required.set {
				if err := c.RequireSignatures(ctx, args[0], required.v); err != nil {
					return apiError(err)
				}
			}
			ms, err := modelSignatures(ctx, c, args[0])
			if err != nil {
				return apiError(err)
			}
			if t.json {
				return printJSON(env.stdout, ms)
			}
			if ms.Required {
				fmt.Fprintf(env.stdout, "Writes to twins of %s must be signed.\n", ms.Model)
			} else {
				fmt.Fprintf(env.stdout, "Writes to twins of %s need no signature.\n", ms.Model)
			}
			return nil
		},
	}
}

// optionalBool is a boolean flag that tells whether it was given: the
// flag set of a command lives as long as the process (tests run commands
// many times), so FlagSet.Visit would still see a flag of an earlier run.
type optionalBool struct{ set, v bool }

func (b *optionalBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.v)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	b.set, b.v = true, v
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }

// modelSignatures reads GET /models/{id}/signatures.
func modelSignatures(ctx context.Context, c *client.Client, model string) (api.ModelSignatures, error) {
	var ms api.ModelSignatures
	err := c.Do(ctx, http.MethodGet, "/models/"+url.PathEscape(model)+"/signatures", nil, &ms)
	return ms, err
}
