// Package credibility grades a twin (or every twin of a model) by the
// seed's three filters: data, model and operational defensibility (NIST
// IR 8356's integrity, provenance and certification concerns; see
// ../shared/research/plant-trust.md §c.2). Each grade comes from a stated
// rule applied to the numbers gathered from the store and the log
// (Inputs); the report carries the rule next to the grade and lists the
// numbers it used. Nothing here reads a store: the API gathers Inputs.
// See docs/formats/credibility.md.
package credibility
