package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"lodestone/trust"
)

// lodestone log proof INDEX: fetch the inclusion proof of one log entry
// (GET /log/proof/{index}) and check it here, so that an org can prove
// its own writes were logged: readers and writers get the proofs of
// their org's entries, auditors any (docs/formats/trust-log.md).
func init() {
	register(&command{
		name:      "log",
		usage:     "<proof> [flags] [args]",
		shortHelp: "the transparency log: fetch and check the inclusion proof of an entry",
		sub:       []*command{logProofCmd()},
	})
}

// proofReport is the --json output of log proof: the server's proof and
// what was checked of it here.
type proofReport struct {
	trust.Proof
	// Verified is true when the proof leads from the entry to the
	// checkpoint's root hash.
	Verified bool `json:"verified"`
	// SignatureChecked is true when the checkpoint's signature was
	// verified with --log-key-pub; without it the root is the server's
	// word only.
	SignatureChecked bool        `json:"signature_checked"`
	Parsed           trust.Entry `json:"parsed_entry"`
}

func logProofCmd() *command {
	fs := flag.NewFlagSet("lodestone log proof", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	pub := fs.String("log-key-pub", "", "file with the log's verifier key (one C2SP vkey line) to check the checkpoint's signature; without it only the proof's hashes are checked")
	return &command{
		name:      "proof",
		usage:     "INDEX [--log-key-pub FILE] [--json] [--server URL]",
		shortHelp: "fetch the inclusion proof of log entry INDEX (a write's Lodestone-Log-Index) and check it against the signed checkpoint; exit 1 when it does not check",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			defer resetSupplyFlags(fs)
			if len(args) != 1 {
				return usageError{"log proof: want exactly one INDEX"}
			}
			idx, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || idx < 0 {
				return usageError{fmt.Sprintf("log proof: INDEX %q is not a non-negative integer", args[0])}
			}
			vkey := ""
			if *pub != "" {
				if vkey, err = trust.ReadVKey(*pub); err != nil {
					return usageError{"log proof: --log-key-pub: " + err.Error()}
				}
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			var rep proofReport
			if err := c.Do(ctx, http.MethodGet, "/log/proof/"+strconv.FormatInt(idx, 10), nil, &rep.Proof); err != nil {
				return apiError(err)
			}
			checkErr := checkProof(&rep, idx, vkey)
			rep.Verified = checkErr == nil
			rep.SignatureChecked = rep.Verified && vkey != ""
			if t.json {
				if err := printJSON(env.stdout, rep); err != nil {
					return err
				}
			} else if rep.Verified {
				e := rep.Parsed
				fmt.Fprintf(env.stdout, "Entry %d (%s %s of org %q at %s) is in the log's tree of size %d.\n", rep.Index, e.Type, e.Subject, e.Org, e.Time, rep.TreeSize)
				if rep.SignatureChecked {
					fmt.Fprintln(env.stdout, "The checkpoint's signature verifies with the given key.")
				} else {
					fmt.Fprintln(env.stdout, "The checkpoint's signature was not checked: give --log-key-pub FILE.")
				}
			}
			if checkErr != nil {
				fmt.Fprintf(env.stderr, "log proof: entry %d: %v\n", idx, checkErr)
				return exitError{1}
			}
			return nil
		},
	}
}

// checkProof checks an inclusion proof from the server by RFC 6962: the
// entry's leaf hash, the audit path to the root of the checkpoint's tree,
// and (with vkey) the checkpoint's signature. It fills rep.Parsed.
func checkProof(rep *proofReport, idx int64, vkey string) error {
	p := rep.Proof
	if p.Index != idx {
		return fmt.Errorf("the server proved entry %d, not %d", p.Index, idx)
	}
	ent, err := trust.ParseEntry([]byte(p.Entry))
	if err != nil {
		return fmt.Errorf("entry: %w", err)
	}
	rep.Parsed = ent
	leaf := tlog.RecordHash([]byte(p.Entry))
	if base64.StdEncoding.EncodeToString(leaf[:]) != p.LeafHash {
		return errors.New("leaf_hash is not the RFC 6962 leaf hash of the entry")
	}
	var size int64
	var root tlog.Hash
	if vkey != "" {
		if size, root, err = trust.ParseCheckpoint([]byte(p.Checkpoint), vkey, ""); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	} else if size, root, err = checkpointBody(p.Checkpoint); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if size != p.TreeSize {
		return fmt.Errorf("tree_size %d, but the checkpoint's tree has %d entries", p.TreeSize, size)
	}
	proof := make(tlog.RecordProof, len(p.Hashes))
	for i, h := range p.Hashes {
		b, err := base64.StdEncoding.DecodeString(h)
		if err != nil || len(b) != tlog.HashSize {
			return fmt.Errorf("hashes[%d]: not 32 bytes of base64", i)
		}
		copy(proof[i][:], b)
	}
	if err := tlog.CheckRecord(proof, size, root, idx, leaf); err != nil {
		return fmt.Errorf("the proof does not lead to the checkpoint's root: %w", err)
	}
	return nil
}

// checkpointBody reads the size and root hash of a C2SP checkpoint note
// without checking its signature: the lines origin, size, base64 root
// before the blank line that starts the signatures.
func checkpointBody(note string) (int64, tlog.Hash, error) {
	var root tlog.Hash
	text, _, ok := strings.Cut(note, "\n\n")
	lines := strings.Split(text, "\n")
	if !ok || len(lines) < 3 {
		return 0, root, errors.New("want origin, size and root hash lines before the signatures")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return 0, root, fmt.Errorf("size %q is not a decimal number", lines[1])
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return 0, root, fmt.Errorf("root hash %q is not 32 bytes of base64", lines[2])
	}
	copy(root[:], h)
	return size, root, nil
}
