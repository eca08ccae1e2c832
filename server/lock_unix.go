//go:build unix

package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// dataLock is a held lock on a data folder.
type dataLock struct{ f *os.File }

// lockDataDir takes an exclusive flock(2) on DIR/lodestone.lock, so that
// two servers (or a server and a CLI command with --data) never open the
// same SQLite file and embedded NATS store. The kernel drops the lock when
// its holder exits, however it exits, so a crashed server never blocks the
// next one. A file system without flock (some network mounts) is not
// locked: the error is returned as a warning, with a nil lock.
func lockDataDir(dir string) (*dataLock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("server: lock data folder %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := "another process"
			b := make([]byte, 32)
			if n, _ := f.ReadAt(b, 0); n > 0 {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n]))); err == nil {
					holder = fmt.Sprintf("another Lodestone (pid %d)", pid)
				}
			}
			return nil, &LockedError{Dir: dir, Holder: holder}
		}
		return nil, errNoLock{fmt.Errorf("server: lock data folder %s: %w (continuing without a lock)", dir, err)}
	}
	// The pid is a hint for the message above; a failure to write it
	// leaves the lock held all the same.
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &dataLock{f: f}, nil
}

// release drops the lock. The file stays: removing it could let a third
// server lock a new file while a second waits on the old one.
func (l *dataLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	return err
}
