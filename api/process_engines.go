package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"

	"lodestone/examples"
	"lodestone/process/calcine"
	"lodestone/process/flowsheet"
	"lodestone/process/precip"
	"lodestone/process/sx"
	"lodestone/process/sx/design"
	"lodestone/process/sx/dynamic"
	"lodestone/world"
)

// The process engine routes take the SPEC.json of the matching CLI command
// and answer with the JSON its --json flag prints: one spec format and one
// encoder (in the engine packages) for both. A run that does not converge
// is still answered 200 with its best iterate; the result says so
// (converged false, or a time-to-steady of null).

func (a *API) processEngineRoutes() []Route {
	eng := func(pattern, summary string, run engineRun) Route {
		return Route{Pattern: pattern, Handler: a.engineHandler(run), Summary: summary, Body: "ProcessEngineSpec", Response: "ProcessEngineResult"}
	}
	return []Route{
		eng("POST /process/sx/simulate", "Steady state of an SX cascade: the SPEC.json and --json output of `lodestone sx simulate` (docs/formats/sx-simulate.md)", runSXSimulate),
		eng("POST /process/sx/design", "Binary cascade design by Xu's theory with its McCabe–Thiele data: the SPEC.json and --json output of `lodestone sx design` (docs/formats/sx-design.md)", runSXDesign),
		eng("POST /process/sx/dynamic", "Transient SX cascade (start-up, disturbances): the SPEC.json and --json output of `lodestone sx dynamic` (docs/formats/sx-dynamic.md)", runSXDynamic),
		eng("POST /process/precip/simulate", "Oxalate precipitation balance: the SPEC.json and --json output of `lodestone precip simulate` (docs/formats/precip-simulate.md)", runPrecip),
		eng("POST /process/calcine/simulate", "Calcination balance: the SPEC.json and --json output of `lodestone calcine simulate` (docs/formats/calcine-simulate.md)", runCalcine),
		eng("POST /process/flowsheet/run", "Separation plant flowsheet with recycles and stream table: the SPEC.json and --json output of `lodestone flowsheet run` (docs/formats/flowsheet-run.md)", runFlowsheet),
		{Pattern: "GET /process/examples", Handler: a.processExamples, Summary: "The bundled example specs of the process engines (examples/), each with the route that runs it", Response: "ProcessExamples"},
	}
}

// The schemas of these routes are registered here, beside their types, so
// that openapi.go keeps one line per route group.
func init() {
	schemaTypes["ProcessExamples"] = reflect.TypeFor[ProcessExamples]()
	schemaTypes["Bibliography"] = reflect.TypeFor[Bibliography]()
	schemaTypes["Reference"] = reflect.TypeFor[world.Reference]()
	fixedSchemas["ProcessEngineSpec"] = map[string]any{"type": "object", "additionalProperties": true,
		"description": "The SPEC.json of the engine's CLI command; its format is in docs/formats/ (sx-simulate.md, sx-design.md, sx-dynamic.md, precip-simulate.md, calcine-simulate.md, flowsheet-run.md) with JSON schemas beside them."}
	fixedSchemas["ProcessEngineResult"] = map[string]any{"type": "object", "additionalProperties": true,
		"description": "The JSON the engine's CLI command prints with --json (docs/formats/ as for the spec)."}
}

// engineRun decodes a spec, runs one engine and returns its JSON result.
type engineRun func(ctx context.Context, spec []byte) (any, error)

func (a *API) engineHandler(run engineRun) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := readBody(w, r, a.opts.MaxBodyBytes, jsonTypes...)
		if err != nil {
			return err
		}
		if len(body) == 0 {
			return badRequest("InvalidArgument", "request body is empty: send the engine's SPEC.json")
		}
		out, err := run(r.Context(), body)
		if err != nil {
			return engineError(err)
		}
		b, err := json.Marshal(out)
		if err != nil {
			// A diverged run can leave non-finite numbers, which JSON
			// cannot carry; say so instead of failing with a 500.
			return &Error{Status: http.StatusUnprocessableEntity, Code: "SimulationFailed", Message: "the run produced values JSON cannot carry (not finite): " + err.Error(), Err: err}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, err = w.Write(append(b, '\n'))
		return err
	}
}

// engineError turns an engine's spec error into a 400 naming the field;
// other errors (a cancelled request) pass through.
func engineError(err error) error {
	field, msg, ok := "", "", false
	var (
		sxe *sx.SpecError
		dse *design.FieldError
		dye *dynamic.SpecError
		pre *precip.SpecError
		cae *calcine.SpecError
		fse *flowsheet.SpecError
	)
	switch {
	case errors.As(err, &sxe):
		field, msg, ok = sxe.Field, sxe.Msg, true
	case errors.As(err, &dse):
		field, msg, ok = dse.Field, dse.Msg, true
	case errors.As(err, &dye):
		field, msg, ok = dye.Field, dye.Msg, true
	case errors.As(err, &pre):
		field, msg, ok = pre.Field, pre.Msg, true
	case errors.As(err, &cae):
		field, msg, ok = cae.Field, cae.Msg, true
	case errors.As(err, &fse):
		field, msg, ok = fse.Field, fse.Msg, true
	}
	if !ok {
		return err
	}
	e := &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: "spec: " + err.Error(), Err: err}
	e.Details = []ErrorDetail{{Code: "ValidationFailed", Message: msg, Path: field}}
	return e
}

// badSpec marks an error of a spec decoder as the client's: a 400 even
// where the decoder reports malformed JSON without a field.
func badSpec(err error) error {
	if e := engineError(err); e != err {
		return e
	}
	return &Error{Status: http.StatusBadRequest, Code: "ValidationFailed", Message: "spec: " + err.Error(), Err: err}
}

func runSXSimulate(ctx context.Context, data []byte) (any, error) {
	spec, err := sx.ParseSpec(data)
	if err != nil {
		return nil, badSpec(err)
	}
	c, err := spec.Case()
	if err != nil {
		return nil, err
	}
	res, err := sx.Solve(ctx, c.Problem, nil)
	var ce *sx.ConvergenceError
	if err != nil && !errors.As(err, &ce) {
		return nil, err
	}
	return c.Output(res), nil
}

func runSXDesign(ctx context.Context, data []byte) (any, error) {
	spec, cut, err := design.ParseRequest(data)
	if err != nil {
		return nil, badSpec(err)
	}
	if cut != nil {
		return design.RunCut(ctx, *cut)
	}
	return design.Run(ctx, spec)
}

func runSXDynamic(ctx context.Context, data []byte) (any, error) {
	spec, err := dynamic.ParseSpec(data)
	if err != nil {
		return nil, badSpec(err)
	}
	c, err := spec.Case()
	if err != nil {
		return nil, err
	}
	res, err := dynamic.Simulate(ctx, c.Problem, &c.Settings)
	if err != nil && (res == nil || !errors.Is(err, dynamic.ErrStep)) {
		return nil, err
	}
	return c.Output(res, c.Settings), nil
}

func runPrecip(_ context.Context, data []byte) (any, error) {
	spec, err := precip.ParseSpec(data)
	if err != nil {
		return nil, badSpec(err)
	}
	res, err := precip.Simulate(spec)
	if err != nil {
		return nil, err
	}
	return precip.OutputOf(res), nil
}

func runCalcine(_ context.Context, data []byte) (any, error) {
	spec, err := calcine.ParseSpec(data)
	if err != nil {
		return nil, badSpec(err)
	}
	res, err := calcine.Simulate(spec)
	if err != nil {
		return nil, err
	}
	return calcine.OutputOf(res), nil
}

func runFlowsheet(ctx context.Context, data []byte) (any, error) {
	spec, err := flowsheet.ParseSpec(data)
	if err != nil {
		return nil, badSpec(err)
	}
	res, err := flowsheet.Run(ctx, spec)
	if err != nil && !errors.Is(err, flowsheet.ErrNotConverged) {
		return nil, err
	}
	if res == nil || res.Calcination == nil {
		return nil, err
	}
	return flowsheet.OutputOf(res), nil
}

// ProcessExample is one bundled example spec and the route that runs it.
type ProcessExample struct {
	Engine string          `json:"engine"`
	Name   string          `json:"name"`
	Route  string          `json:"route"`
	Spec   json.RawMessage `json:"spec"`
}

// ProcessExamples is the body of GET /process/examples.
type ProcessExamples struct {
	Examples []ProcessExample `json:"examples"`
}

// exampleRoutes maps an example folder to the route that runs its specs.
var exampleRoutes = map[string]string{
	"sx":         "/process/sx/simulate",
	"sx-design":  "/process/sx/design",
	"sx-dynamic": "/process/sx/dynamic",
	"precip":     "/process/precip/simulate",
	"calcine":    "/process/calcine/simulate",
	"flowsheet":  "/process/flowsheet/run",
}

func (a *API) processExamples(w http.ResponseWriter, r *http.Request) error {
	out := ProcessExamples{Examples: []ProcessExample{}}
	for _, ex := range examples.Process() {
		out.Examples = append(out.Examples, ProcessExample{Engine: ex.Engine, Name: ex.Name, Route: exampleRoutes[ex.Engine], Spec: ex.Spec})
	}
	return writeJSON(w, http.StatusOK, out)
}
