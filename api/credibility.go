package api

// credibilityRoutes serves the credibility report (issue 12 item 8).
func (a *API) credibilityRoutes() []Route { return nil }
