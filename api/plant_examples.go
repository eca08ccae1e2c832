package api

import (
	"encoding/json"
	"net/http"
	"reflect"

	"lodestone/examples"
)

// plantExamples are the bundled plant specs the dashboard's #/plant pages
// start from (examples/plant, copies of the engines' testdata that a test
// keeps equal), each with the route that runs it. They are inputs, not
// results: every number the pages show comes from running them.
var plantExamples = []PlantExample{
	{Kind: "estimate", Name: "ndpr-drift", Route: "POST /plant/estimate"},
	{Kind: "control", Name: "control-ndpr-upset", Route: "POST /plant/control"},
	{Kind: "training", Name: "training-ndpr-shift", Route: "POST /plant/sessions"},
	{Kind: "inspect", Name: "inspect-example", Route: "POST /plant/inspect"},
}

// PlantExample is one bundled plant spec.
type PlantExample struct {
	Kind  string          `json:"kind"`
	Name  string          `json:"name"`
	Route string          `json:"route"`
	Spec  json.RawMessage `json:"spec"`
}

// PlantExamples is the body of GET /plant/examples.
type PlantExamples struct {
	Examples []PlantExample `json:"examples"`
}

func init() { schemaTypes["PlantExamples"] = reflect.TypeFor[PlantExamples]() }

func (a *API) plantExampleRoutes() []Route {
	return []Route{{Pattern: "GET /plant/examples", Handler: a.plantExamplesList, Response: "PlantExamples",
		Summary: "The bundled plant specs (examples/plant): {examples: [{kind: estimate|control|training|inspect, name, route, spec}]}; the dashboard's #/plant pages start from them"}}
}

func (a *API) plantExamplesList(w http.ResponseWriter, r *http.Request) error {
	out := PlantExamples{Examples: []PlantExample{}}
	for _, ex := range plantExamples {
		b, ok := examples.Demo("plant", ex.Name)
		if !ok {
			continue
		}
		ex.Spec = b
		out.Examples = append(out.Examples, ex)
	}
	return writeJSON(w, http.StatusOK, out)
}
