package api

// trustRoutes serves the trust layer: the transparency log, verify,
// provenance and credibility.
func (a *API) trustRoutes() []Route {
	var rs []Route
	return rs
}
