// Package models holds the Lodestone ontology: the DTDL v3 interfaces that
// type every twin of the mine-to-magnet graph, embedded in the binary.
//
// There is one JSON file per interface, named after it (Mine.json holds
// dtmi:lodestone:Mine;1). Every file uses the DTDL v3 context and the
// QuantitativeTypes extension (dtmi:dtdl:extension:quantitativeTypes;1) for
// units. docs/ontology.md in the repository describes each interface, draws
// the inheritance and relationship graph, and lists the units.
//
// The package imports nothing from the module: the dtdl package parses
// [Files], and tests here check that it accepts them all together.
//
//	docs := models.Files()
//	set, err := dtdl.Parse(convert(docs), nil)
//
// The constants ([Mine], [SeparationPlant], …) are the interface
// identifiers, for code that creates twins of a given model.
package models
