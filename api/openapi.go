package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"lodestone/trust"
	"lodestone/trust/tenancy"
	"lodestone/twin"
)

func (a *API) coreRoutes() []Route {
	var rs []Route
	rs = append(rs, a.modelRoutes()...)
	rs = append(rs, a.twinRoutes()...)
	rs = append(rs, a.relationshipRoutes()...)
	rs = append(rs, a.telemetryRoutes()...)
	rs = append(rs, a.queryRoutes()...)
	rs = append(rs, a.jobRoutes()...)
	rs = append(rs, a.eventRouteRoutes()...)
	rs = append(rs, a.processRoutes()...)
	rs = append(rs, a.processEngineRoutes()...)
	rs = append(rs, a.bibliographyRoutes()...)
	rs = append(rs, a.supplyRoutes()...)
	rs = append(rs, a.orgRoutes()...)
	rs = append(rs, a.governanceRoutes()...)
	rs = append(rs, a.plantRoutes()...)
	rs = append(rs, a.trustRoutes()...)
	rs = append(rs, a.sharingRoutes()...)
	rs = append(rs, a.opsRoutes()...)
	return rs
}

var (
	pathParam  = regexp.MustCompile(`\{([A-Za-z]+)\}`)
	queryParam = regexp.MustCompile(`\?([A-Za-z][A-Za-z0-9]*)`)
)

// queryParamNames returns the query parameters a route's summary names
// ("?asOf=RFC3339", "(?name, ?from, ?to)"), once each, in order: the
// summary is where a route documents them.
func queryParamNames(summary string) []string {
	var names []string
	for _, m := range queryParam.FindAllStringSubmatch(summary, -1) {
		if !slices.Contains(names, m[1]) && m[1] != "api" {
			names = append(names, m[1])
		}
	}
	return names
}

// Handled returns the patterns mounted with [API.Handle]: handlers outside
// the route table, so outside the OpenAPI document (the dashboard's pages,
// "GET /"). A test checks that nothing else is mounted that way.
func (a *API) Handled() []string { return append([]string(nil), a.handled...) }

// OpenAPI returns the OpenAPI 3.1 document of the API, built from the same
// route table the mux serves, so the two cannot drift apart.
func (a *API) OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range a.routes {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		op := map[string]any{
			"summary":     rt.Summary,
			"operationId": operationID(method, path),
			"responses": map[string]any{
				"default": map[string]any{"description": "error", "content": jsonContent("Error")},
			},
		}
		ok := map[string]any{"description": "success"}
		if rt.Response != "" {
			ok["content"] = jsonContent(rt.Response)
		}
		status := "200"
		if method == http.MethodDelete || ((method == http.MethodPatch || method == http.MethodPut) && rt.Response == "") {
			status = "204"
		}
		if rt.Pattern == "POST /models" {
			status = "201"
		}
		op["responses"].(map[string]any)[status] = ok
		if rt.Body != "" {
			op["requestBody"] = map[string]any{"required": true, "content": jsonContent(rt.Body)}
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range queryParamNames(rt.Summary) {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": map[string]any{"type": "string"}})
		}
		params = append(params, map[string]any{"name": "api-version", "in": "query", "required": false, "description": "accepted and ignored, for ADT clients", "schema": map[string]any{"type": "string"}})
		op["parameters"] = params
		item[strings.ToLower(method)] = op
	}
	schemas := map[string]any{
		"Error": map[string]any{"type": "object", "required": []string{"error"}, "properties": map[string]any{
			"error": map[string]any{"type": "object", "required": []string{"code", "message"}, "properties": map[string]any{
				"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"},
				"details": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
			}},
		}},
	}
	for _, rt := range a.routes {
		for _, name := range []string{rt.Body, rt.Response} {
			if name == "" || schemas[name] != nil {
				continue
			}
			if s := fixedSchemas[name]; s != nil {
				schemas[name] = s
				continue
			}
			if t, ok := schemaTypes[name]; ok {
				schemas[name] = reflectSchema(t, schemas)
				continue
			}
			schemas[name] = map[string]any{"type": schemaType(name), "description": name + " (see the api package documentation)"}
		}
	}
	for name, s := range fixedSchemas {
		if schemas[name] == nil {
			schemas[name] = s
		}
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Lodestone API",
			"version":     "1",
			"description": "The twin graph of the rare-earth chain in the shape of Azure Digital Twins' data plane, with history, query extensions and the process and supply twins.",
		},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas},
	}
}

func schemaType(name string) string {
	switch {
	case strings.HasSuffix(name, "Array"), name == "JsonPatch":
		return "array"
	case name == "ImportFile", name == "EventStream":
		return "string"
	}
	return "object"
}

func jsonContent(schema string) map[string]any {
	mt := "application/json"
	switch schema {
	case "JsonPatch":
		mt = "application/json-patch+json"
	case "ImportFile":
		mt = "application/x-ndjson"
	case "EventStream":
		mt = "text/event-stream"
	}
	return map[string]any{mt: map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + schema}}}
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(path, "/") {
		seg = strings.Trim(seg, "{}")
		if seg == "" {
			continue
		}
		b.WriteString(strings.ToUpper(seg[:1]) + seg[1:])
	}
	return b.String()
}

// schemaTypes are the Go types behind the schema names of the routes; their
// JSON schemas are derived from the types, so the document follows the code.
var schemaTypes = map[string]reflect.Type{
	"ModelData":                reflect.TypeFor[ModelData](),
	"ModelDataArray":           reflect.TypeFor[[]ModelData](),
	"ModelList":                reflect.TypeFor[ModelList](),
	"TwinList":                 reflect.TypeFor[TwinList](),
	"RelationshipList":         reflect.TypeFor[RelationshipList](),
	"IncomingRelationshipList": reflect.TypeFor[IncomingRelationshipList](),
	"QueryRequest":             reflect.TypeFor[QueryRequest](),
	"QueryResponse":            reflect.TypeFor[QueryResponse](),
	"HistoryList":              reflect.TypeFor[HistoryList](),
	"TelemetryList":            reflect.TypeFor[TelemetryList](),
	"Snapshot":                 reflect.TypeFor[Snapshot](),
	"PropertyInfoList":         reflect.TypeFor[PropertyInfoList](),
	"Neighbourhood":            reflect.TypeFor[Neighbourhood](),
	"ImportJob":                reflect.TypeFor[ImportJob](),
	"LogProof":                 reflect.TypeFor[trust.Proof](),
	"VerifyReport":             reflect.TypeFor[trust.Report](),
	"ImportJobList": reflect.TypeFor[struct {
		Value []ImportJob `json:"value"`
	}](),
	"Agreement":        reflect.TypeFor[tenancy.Agreement](),
	"AgreementList":    reflect.TypeFor[AgreementList](),
	"AgreementRequest": reflect.TypeFor[AgreementRequest](),
	"EventRoute":       reflect.TypeFor[EventRoute](),
	"EventRouteList":   reflect.TypeFor[EventRouteList](),
	"Endpoint":         reflect.TypeFor[Endpoint](),
	"EndpointList": reflect.TypeFor[struct {
		Value []Endpoint `json:"value"`
	}](),
}

func object(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var (
	str     = map[string]any{"type": "string"}
	anyJSON = map[string]any{}
)

// fixedSchemas are the schemas of values with their own JSON encoding
// (twins, relationships, patches) and of bodies that are not JSON objects.
var fixedSchemas = map[string]any{
	"Twin": map[string]any{
		"type": "object", "required": []string{"$metadata"}, "additionalProperties": true,
		"description": "A digital twin in ADT's shape: system properties start with $, every other member is a property or component.",
		"properties": map[string]any{
			"$dtId": str, "$etag": str,
			"$metadata": map[string]any{"type": "object", "required": []string{"$model"}, "additionalProperties": true,
				"properties": map[string]any{"$model": str, "$lastUpdateTime": map[string]any{"type": "string", "format": "date-time"}}},
		},
	},
	"Relationship": map[string]any{
		"type": "object", "required": []string{"$targetId", "$relationshipName"}, "additionalProperties": true,
		"description": "A relationship in ADT's shape; members not starting with $ are its properties.",
		"properties":  map[string]any{"$relationshipId": str, "$sourceId": str, "$targetId": str, "$relationshipName": str, "$etag": str},
	},
	"Component": map[string]any{"type": "object", "required": []string{"$metadata"}, "additionalProperties": true},
	"JsonPatch": map[string]any{"type": "array", "description": "RFC 6902 JSON Patch with the operations add, replace and remove.",
		"items": object(map[string]any{
			"op":    map[string]any{"type": "string", "enum": []string{"add", "replace", "remove"}},
			"path":  str,
			"value": anyJSON,
		}, "op", "path")},
	"DTDLArray":        map[string]any{"type": "array", "items": map[string]any{"type": "object", "required": []string{"@id", "@type"}, "additionalProperties": true}},
	"TelemetryMessage": map[string]any{"type": "object", "minProperties": 1, "additionalProperties": true, "description": "Telemetry names of the twin's model and their values."},
	"ImportFile":       map[string]any{"type": "string", "description": "An ADT import file: newline-delimited JSON with the sections Header, Models, Twins and Relationships."},
	"EventStream":      map[string]any{"type": "string", "description": "text/event-stream of CloudEvents 1.0 (JSON in each data line)."},
	"OpenAPI":          map[string]any{"type": "object"},
}

// reflectSchema returns the JSON schema of t, adding the schemas of named
// struct types of this package to defs and referring to them.
func reflectSchema(t reflect.Type, defs map[string]any) map[string]any {
	switch t {
	case reflect.TypeFor[time.Time]():
		return map[string]any{"type": "string", "format": "date-time"}
	case reflect.TypeFor[json.RawMessage]():
		return anyJSON
	case reflect.TypeFor[twin.Twin]():
		return ref("Twin")
	case reflect.TypeFor[twin.Relationship]():
		return ref("Relationship")
	}
	switch t.Kind() {
	case reflect.Pointer:
		return reflectSchema(t.Elem(), defs)
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": reflectSchema(t.Elem(), defs)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": reflectSchema(t.Elem(), defs)}
	case reflect.Struct:
		name := t.Name()
		if name != "" {
			if defs[name] == nil {
				defs[name] = map[string]any{} // placeholder against recursion
				defs[name] = structSchema(t, defs)
			}
			return ref(name)
		}
		return structSchema(t, defs)
	}
	return anyJSON
}

func structSchema(t reflect.Type, defs map[string]any) map[string]any {
	props := map[string]any{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" && f.Anonymous && f.Type.Kind() == reflect.Struct {
			// encoding/json promotes the fields of an embedded struct.
			maps.Copy(props, structSchema(f.Type, defs)["properties"].(map[string]any))
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = reflectSchema(f.Type, defs)
	}
	return map[string]any{"type": "object", "properties": props}
}

func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}
