package pipeline

import "lodestone/twin"

// CachedTwin returns the version of twin id that p's twin cache holds.
func CachedTwin(p *Pipeline, id twin.ID) (twin.Twin, bool) { return p.twins.get(id) }
