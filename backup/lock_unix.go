//go:build unix

package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// checkUnlocked refuses a data folder whose lock file a server (or a
// --data command) holds: see the server package's lock.
func checkUnlocked(dir string) error {
	f, err := os.Open(filepath.Join(dir, "lodestone.lock"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore: --data %s: %w", dir, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("restore: --data %s is in use by a running Lodestone; stop it first", dir)
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
