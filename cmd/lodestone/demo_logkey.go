package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"lodestone/server"
	"lodestone/trust"
)

// demoLogKeyName is the origin the demo's log signs its checkpoints with
// (.invalid: a name that can never be a real log's).
const demoLogKeyName = "demo.lodestone.invalid/log"

// demoLogKeyPath is where the demo keeps its log key: beside the data
// folder, never inside it (the rule serve applies to every key: a key in
// the data folder would travel with every copy of the data it vouches
// for), so that demo --reset, which empties the folder, keeps it.
func demoLogKeyPath(dataDir string) (string, error) {
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("demo: log key: %w", err)
	}
	if filepath.Dir(dir) == dir {
		return "", fmt.Errorf("demo: log key: the data folder %s has no parent to keep the key beside it; give --data DIR or --log-key FILE", dataDir)
	}
	return filepath.Join(filepath.Dir(dir), filepath.Base(dir)+".log-key"), nil
}

// demoLogKey turns the transparency log on for `lodestone demo` (unless a
// key is given with --log-key, the config or LODESTONE_LOG_KEY, or the log
// is turned off with --log-key ""): it makes the demo's key once, beside
// the data folder, with mode 0600, and uses it on every start after. It
// says where the key is and that it is a demo key.
func demoLogKey(w io.Writer, o *server.Options, flagged bool) error {
	if o.LogKey != "" || flagged {
		return nil
	}
	path, err := demoLogKeyPath(o.DataDir)
	if err != nil {
		return err
	}
	what := "kept from an earlier start"
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		skey, _, err := trust.GenerateKey(demoLogKeyName)
		if err != nil {
			return fmt.Errorf("demo: log key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("demo: log key: %w", err)
		}
		// O_EXCL: a key is never overwritten (it would orphan the log it
		// signed), even by a second demo starting at the same moment.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case errors.Is(err, os.ErrExist):
		case err != nil:
			return fmt.Errorf("demo: log key: %w", err)
		default:
			_, werr := fmt.Fprintln(f, skey)
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				os.Remove(path)
				return fmt.Errorf("demo: log key: %w", werr)
			}
			what = "made now"
		}
	} else if err != nil {
		return fmt.Errorf("demo: log key: %w", err)
	}
	o.LogKey = path
	fmt.Fprintf(w, "Transparency log: on, signed with the demo's log key %s (%s; beside the data folder, not in it).\n", path, what)
	fmt.Fprintln(w, "  It is a demo key, made for this demo: for a real deployment make your own (lodestone trust keygen) and keep it off the data disk.")
	return nil
}
