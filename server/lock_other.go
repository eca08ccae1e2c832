//go:build !unix

package server

// dataLock is a no-op where flock(2) is missing: the data folder is not
// locked there.
type dataLock struct{}

func lockDataDir(string) (*dataLock, error) { return nil, nil }

func (l *dataLock) release() error { return nil }
