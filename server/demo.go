package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"lodestone/plant/refplant"
	"lodestone/twin"
	"lodestone/world"
)

// demoWorld is the sample world of `lodestone demo`: the default 2024
// mine-to-magnet network of package world and the reference separation
// plant of package refplant (trains, cascades, pumps, analysers), as twins
// of the bundled ontology. The reference plant feeds nothing, so the supply
// network built from the graph leaves it out (see world.NetworkFromTwins).
func demoWorld() ([]twin.Twin, []twin.Relationship, error) {
	w, err := world.Load()
	if err != nil {
		return nil, nil, err
	}
	twins, rels := w.Twins()
	p, err := refplant.Load()
	if err != nil {
		return nil, nil, fmt.Errorf("reference plant: %w", err)
	}
	for _, t := range p.Twins {
		twins = append(twins, twin.Twin{ID: twin.ID(t.ID), Metadata: twin.Metadata{Model: t.Model}, Properties: t.Properties})
	}
	for _, r := range p.Relationships {
		rels = append(rels, twin.Relationship{ID: r.ID, SourceID: twin.ID(r.Source), TargetID: twin.ID(r.Target), Name: r.Name})
	}
	return twins, rels, nil
}

// DemoLoaded reports whether Start loaded the bundled ontology and the
// sample world (LoadDemo on an empty store), as opposed to reopening a
// store that already held models.
func (s *Server) DemoLoaded() bool { return s.demoLoaded }

// ResetDataDir empties the data folder dir for a fresh start (lodestone
// demo --reset): it takes the folder's lock (so a running server is never
// wiped under it), removes everything in it but the lock file, and lets
// the lock go. A folder that does not exist is fine; one that is not
// empty and holds neither a Lodestone database nor a lock file is refused,
// so that a mistyped --data never wipes someone's home directory.
func ResetDataDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("server: reset %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	ours := false
	for _, e := range entries {
		switch e.Name() {
		case lockFileName, "lodestone.db", "instance-id":
			ours = true
		}
	}
	if !ours {
		return fmt.Errorf("server: reset %s: not a Lodestone data folder (no lodestone.db, instance-id or %s in it); remove it yourself if you mean it", dir, lockFileName)
	}
	lk, err := lockDataDir(dir)
	if err != nil && !errors.As(err, new(errNoLock)) {
		return err
	}
	defer lk.release()
	for _, e := range entries {
		if e.Name() == lockFileName {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("server: reset %s: %w", dir, err)
		}
	}
	return nil
}
