package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"os"

	"lodestone/client"
	"lodestone/trust/dsse"
)

// lodestone sign: wrap a twin, a JSON Patch or telemetry in a DSSE
// envelope signed with a key of lodestone keys gen, for a device (or a
// script) to send to a server that requires signatures.
func init() {
	fs := flag.NewFlagSet("lodestone sign", flag.ContinueOnError)
	keyFile := fs.String("key", "", "the private key (PEM of lodestone keys gen or openssl genpkey -algorithm ed25519) (required)")
	keyID := fs.String("keyid", "", "the id the key is registered under (default: the key file's Key-Id header)")
	ptype := fs.String("type", "application/json", "the payload's media type: application/json, or application/json-patch+json for a PATCH")
	out := fs.String("out", "", "write the envelope to this file instead of standard output")
	register(&command{
		name:      "sign",
		usage:     "--key FILE [--keyid ID] [--type MEDIA-TYPE] [--out FILE] PAYLOAD.json",
		shortHelp: "sign a twin, patch or telemetry as a DSSE envelope (send it with Content-Type " + dsse.MediaType + ")",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"sign: want one PAYLOAD file (- reads standard input)"}
			}
			if *keyFile == "" {
				return usageError{"sign: --key FILE is required"}
			}
			if *ptype != "application/json" && *ptype != "application/json-patch+json" {
				return usageError{fmt.Sprintf("sign: --type %q: want application/json or application/json-patch+json", *ptype)}
			}
			kb, err := os.ReadFile(*keyFile)
			if err != nil {
				return err
			}
			key, err := dsse.ParsePrivateKey(kb)
			if err != nil {
				return fmt.Errorf("sign: %s: %w", *keyFile, err)
			}
			id := *keyID
			if id == "" {
				if blk, _ := pem.Decode(kb); blk != nil {
					id = blk.Headers[keyIDHeader]
				}
			}
			if id == "" {
				return usageError{"sign: --keyid is required (the key file has no Key-Id header)"}
			}
			payload, err := readInput(env, args[0])
			if err != nil {
				return err
			}
			if !json.Valid(payload) {
				var v any
				return decodeJSONFile(args[0], payload, &v)
			}
			envl, err := client.Envelope(*ptype, payload, id, key)
			if err != nil {
				return err
			}
			envl = append(envl, '\n')
			if *out != "" {
				return os.WriteFile(*out, envl, 0o644)
			}
			_, err = env.stdout.Write(envl)
			return err
		},
	})
}
