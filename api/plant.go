package api

// plantRoutes serves the plant twin: reliability, estimation, control
// testing and operator training sessions.
func (a *API) plantRoutes() []Route {
	var rs []Route
	rs = append(rs, a.plantReliabilityRoutes()...)
	rs = append(rs, a.plantSessionRoutes()...)
	rs = append(rs, a.plantConnectorRoutes()...)
	rs = append(rs, a.plantInspectRoutes()...)
	rs = append(rs, a.plantEstimatorRoutes()...)
	rs = append(rs, a.plantAvailabilityRoutes()...)
	rs = append(rs, a.plantExampleRoutes()...)
	return rs
}
