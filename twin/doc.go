// Package twin holds the core types of the twin graph: twins, relationships,
// models, entity tags and JSON Patch documents.
//
// The JSON shapes follow Azure Digital Twins (ADT) so that ADT tools work with
// few changes. A twin is
//
//	{
//	  "$dtId": "mine-1",
//	  "$etag": "W/\"…\"",
//	  "$metadata": {
//	    "$model": "dtmi:lodestone:Mine;1",
//	    "$lastUpdateTime": "2025-04-01T00:00:00Z",
//	    "output": {"lastUpdateTime": "2025-04-01T00:00:00Z", "sourceTime": "2025-03-31T23:59:00Z"}
//	  },
//	  "output": 42,
//	  "site": {"$metadata": {}, "country": "CN"}
//	}
//
// with properties and components flattened at the top level. A component is
// an object property that carries its own "$metadata" object. A relationship
// is
//
//	{"$relationshipId": "r1", "$sourceId": "mine-1", "$targetId": "plant-1",
//	 "$relationshipName": "supplies", "$etag": "W/\"…\"", "tonnesPerYear": 1200}
//
// Property values are the values of encoding/json decoding into any: nil,
// bool, float64, string, []any and map[string]any. Numbers are float64, so
// integers beyond 2^53 lose precision, as they do in JavaScript clients.
//
// # JSON Patch
//
// [ParsePatch] decodes an RFC 6902 document restricted to the operations ADT
// accepts (add, replace and remove). [Patch.Apply] applies it to a plain JSON
// document without mutating it; [Twin.ApplyPatch] and
// [Relationship.ApplyPatch] apply it to a twin or relationship and keep the
// per-property metadata current (ADT semantics: the model may be replaced
// through "/$metadata/$model", "$dtId" and "$etag" are read-only, and a
// property's "sourceTime" is writable through "/$metadata/<name>/sourceTime").
//
// Nothing here validates against DTDL; that is package dtdl's job.
package twin
