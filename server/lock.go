package server

import "fmt"

// lockFileName is the lock file of a data folder; it holds the pid of the
// server that holds the lock, for the message a second server prints.
const lockFileName = "lodestone.lock"

// LockedError is the error of Start on a data folder another server (or a
// CLI command with --data) holds; checked with errors.As.
type LockedError struct {
	Dir    string
	Holder string // "another Lodestone (pid 4242)"
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("server: data folder %s is in use by %s; stop it first, or give another --data folder", e.Dir, e.Holder)
}

// errNoLock is a failure to lock on a file system that cannot; Start logs
// it and goes on.
type errNoLock struct{ err error }

func (e errNoLock) Error() string { return e.err.Error() }
