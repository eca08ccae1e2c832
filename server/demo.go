package server

import (
	"lodestone/twin"
	"lodestone/world"
)

// demoWorld is the sample world of `lodestone demo`: the default 2024
// mine-to-magnet network of package world as twins of the bundled ontology.
func demoWorld() ([]twin.Twin, []twin.Relationship, error) {
	w, err := world.Load()
	if err != nil {
		return nil, nil, err
	}
	twins, rels := w.Twins()
	return twins, rels, nil
}
