package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"lodestone/store/sqlite" // registers the "sqlite" driver; SchemaVersion
)

// StoreFile is the name of the SQLite store in a data folder (the
// server's default DSN, sqlite:DIR/lodestone.db).
const StoreFile = "lodestone.db"

// Info describes a store file.
type Info struct {
	File          string `json:"file"`
	SchemaVersion int    `json:"schemaVersion"`
	Bytes         int64  `json:"bytes"`
	Twins         int64  `json:"twins"`
	Relationships int64  `json:"relationships"`
	Models        int64  `json:"models"`
}

// requiredTables are the tables every schema version has; a file without
// them is not a Lodestone store.
var requiredTables = []string{"models", "twins", "twin_history", "relationships", "outbox", "state"}

// Backup writes a consistent copy of the store in dataDir to out, which
// must not exist. It is safe while a server writes to the store.
func Backup(ctx context.Context, dataDir, out string) (Info, error) {
	src := filepath.Join(dataDir, StoreFile)
	if _, err := os.Stat(src); err != nil {
		return Info{}, fmt.Errorf("backup: --data %s: no store file %s: %w", dataDir, StoreFile, err)
	}
	if _, err := os.Stat(out); err == nil {
		return Info{}, fmt.Errorf("backup: --out %s exists; give a new file name", out)
	}
	if _, err := Check(ctx, src); err != nil {
		return Info{}, err
	}
	// mode=rw: never create a database; busy_timeout: wait for the
	// server's checkpointer rather than fail.
	db, err := sql.Open("sqlite", fileURI(src, "mode=rw&_pragma=busy_timeout(10000)"))
	if err != nil {
		return Info{}, fmt.Errorf("backup: open %s: %w", src, err)
	}
	defer db.Close()
	abs, err := filepath.Abs(out)
	if err != nil {
		return Info{}, err
	}
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", abs); err != nil {
		os.Remove(abs)
		return Info{}, fmt.Errorf("backup: VACUUM INTO %s: %w", out, err)
	}
	return Check(ctx, abs)
}

// Check opens file read-only and says whether it is a Lodestone store:
// the error names the file and the reason when it is not.
func Check(ctx context.Context, file string) (Info, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", file, err)
	}
	if fi.IsDir() {
		return Info{}, fmt.Errorf("%s: is a directory, not a Lodestone store file", file)
	}
	head := make([]byte, 16)
	f, err := os.Open(file)
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", file, err)
	}
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || string(head) != "SQLite format 3\x00" {
		return Info{}, fmt.Errorf("%s: not a Lodestone store: not an SQLite database (no SQLite header)", file)
	}
	db, err := sql.Open("sqlite", fileURI(file, "mode=ro"))
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", file, err)
	}
	defer db.Close()
	info := Info{File: file, Bytes: fi.Size()}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&info.SchemaVersion); err != nil {
		return Info{}, fmt.Errorf("%s: not a Lodestone store: %w", file, err)
	}
	if info.SchemaVersion < 1 || info.SchemaVersion > sqlite.SchemaVersion {
		return Info{}, fmt.Errorf("%s: not a Lodestone store this program can open: schema version %d (this program writes 1 to %d)", file, info.SchemaVersion, sqlite.SchemaVersion)
	}
	var missing []string
	for _, t := range requiredTables {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", t).Scan(&n); err != nil {
			return Info{}, fmt.Errorf("%s: %w", file, err)
		}
		if n == 0 {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return Info{}, fmt.Errorf("%s: not a Lodestone store: tables %s missing", file, strings.Join(missing, ", "))
	}
	for _, c := range []struct {
		n     *int64
		table string
	}{{&info.Twins, "twins"}, {&info.Relationships, "relationships"}, {&info.Models, "models"}} {
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+c.table).Scan(c.n); err != nil {
			return Info{}, fmt.Errorf("%s: count %s: %w", file, c.table, err)
		}
	}
	return info, nil
}

// Restore puts the store file into dataDir. A dataDir that holds anything
// is refused unless force is set; force replaces the store (and its WAL)
// and leaves the rest of the folder. A folder a running server holds is
// always refused.
func Restore(ctx context.Context, dataDir, file string, force bool) (Info, error) {
	info, err := Check(ctx, file)
	if err != nil {
		return Info{}, fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return Info{}, fmt.Errorf("restore: --data %s: %w", dataDir, err)
	}
	if err := checkUnlocked(dataDir); err != nil {
		return Info{}, err
	}
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		return Info{}, fmt.Errorf("restore: --data %s: %w", dataDir, err)
	}
	if len(entries) > 0 && !force {
		return Info{}, fmt.Errorf("restore: --data %s is not empty (it holds %s); restore into an empty folder, or give --force to replace its store", dataDir, entries[0].Name())
	}
	dst := filepath.Join(dataDir, StoreFile)
	tmp := dst + ".restore"
	if err := copyFile(file, tmp); err != nil {
		os.Remove(tmp)
		return Info{}, fmt.Errorf("restore: copy %s: %w", file, err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(dst + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			os.Remove(tmp)
			return Info{}, fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return Info{}, fmt.Errorf("restore: %w", err)
	}
	info.File = dst
	return info, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func fileURI(path, query string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + query
}
