package api

import (
	"net/http"
	"regexp"
	"strings"
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
	return rs
}

var pathParam = regexp.MustCompile(`\{([A-Za-z]+)\}`)

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
		if method == http.MethodDelete || (method == http.MethodPatch && rt.Response == "") {
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
			if name != "" && schemas[name] == nil {
				schemas[name] = map[string]any{"type": schemaType(name), "description": name + " (see the api package documentation)"}
			}
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
