// Package dtdl parses and validates models written in the Digital Twins
// Definition Language (DTDL), versions 2 and 3, and validates twin documents
// against them.
//
// The parser follows the DTDL metamodel: every class, property, cardinality,
// datatype, pattern and limit of each language version is held in compact Go
// tables (meta.go) taken from the machine-readable metamodels published with
// the language, and the QuantitativeTypes units are generated from them
// (units_gen.go, by dtdl/internal/gen).
//
// # Parsing
//
// [Parse] takes one or more [Document] values (each a JSON object, or an
// array of objects, optionally starting with a UTF-8 byte-order mark) and
// parses them as one model set, so that extends, Component schemas and
// schema references resolve across documents:
//
//	ms, err := dtdl.Parse([]dtdl.Document{{Name: "mine.json", Data: data}}, nil)
//	var el *dtdl.ErrorList
//	if errors.As(err, &el) {
//		for _, e := range el.Errors {
//			fmt.Println(e) // file: id: path: rule: message
//		}
//	}
//	mine := ms.Interface("dtmi:lodestone:Mine;1")
//
// Errors are collected, not stopped at: an [ErrorList] holds every [Error]
// found, each naming the document, the element (@id, or its nearest
// identified ancestor), the JSON path, the rule and a message.
//
// [Options] mirror the corpus options: AllowUndefinedExtensions accepts
// unknown extension contexts; Resolve supplies models that are referenced but
// not given (those it does not know are reported in ErrorList.Unresolved).
// Hostile input is bounded: documents above Options.MaxDocumentSize
// (default 32 MiB) and JSON nested deeper than Options.MaxDepth (default 128)
// are rejected with an error.
//
// # The model
//
// A [ModelSet] holds resolved [Interface] values. Interface.Contents returns
// own and inherited contents by name ([Property], [Telemetry],
// [Relationship], [Component], [Command]); schemas are [Primitive] (including
// the geospatial schemas), [Array], [Enum], [Map] and [Object]. Semantic
// types and units (QuantitativeTypes in v3, core in v2) are on [Semantic];
// [UnitType], [Units] and [UnitSymbol] look up the QuantitativeTypes
// vocabulary. In v3 a unit type (e.g. "TemperatureUnit") may also be used as
// a schema; it becomes a string [Enum] of its units.
//
// # Limits
//
// Per version, from the metamodels: name length (v2 64, v3 512),
// displayName length (v2 64, v3 512), description and comment 512, Interface
// @id 128 characters, extends depth 10, v2 at most 2 extends and 300
// contents (inherited included), v3 at most 1,024 Interfaces in a hierarchy
// and 100,000 elements, v3 Interface text 1 MiB, complex schema nesting 5,
// v2 Enum 1-100 values and Object 1-30 fields, v2 maxMultiplicity 500, no
// Component inside a Component's Interface, no Array (or geospatial
// schema) in a v2 Property, no schema or Interface that contains itself.
//
// # Rules
//
// Error.Rule names the rule broken, in stable kebab-case. Parsing: json-syntax,
// size-limit, root-shape; context-required, context-syntax,
// context-dtdl-first, context-version, context-extension,
// context-undefined-extension; id-syntax, id-length, id-required,
// id-reserved, id-duplicate; type-required, type-syntax, type-material,
// type-position, type-cotype, type-undefined, type-irrelevant,
// type-invalid; keyword, property-undefined, property-duplicate,
// property-required, property-value, cardinality, datatype, literal-syntax,
// literal-type, language-tag, language-unique, string-length, pattern,
// value-range, value-in, unique-name, unique-enumValue, unique-index;
// reference-syntax, reference-term, reference-class, reference-partition,
// unresolved-reference; extends-cycle, extends-depth, extends-count,
// contents-name, contents-count, interface-size, component-nesting,
// schema-cycle, schema-depth, property-array, enum-value-type, unit,
// semantic-schema, annotates, overrides. Validation: schema-type,
// enum-value, field-unknown, geojson, property-unknown, property-kind,
// property-null, component, component-required, metadata, metadata-model,
// system-property, relationship-unknown, relationship-target,
// relationship-multiplicity, telemetry-unknown, telemetry-kind,
// telemetry-null, pointer, array-index.
//
// # Validating twins
//
// [Interface.ValidateTwin] checks a twin document (ADT shape: properties,
// components, $metadata) against an Interface; [Interface.ValidateProperty]
// checks one property path and value, as a JSON Patch would write it;
// [Interface.ValidateRelationship] checks an edge's target model,
// multiplicity and properties; [Interface.ValidateTelemetry] checks a
// telemetry message. They return nil or an [*ErrorList] listing every problem, each with a JSON
// pointer as its Path.
package dtdl
