// Package fielderr is the field-path error of the spec decoders (plant
// control, training, estimate and the dynamic SX cascade) and the strict
// JSON decode they share.
//
// An [Error] names the JSON path of the offending field ("holdup.mixer_L",
// "disturbances[2].at_h"; empty for the whole input) and says what is
// wrong; its text starts with the prefix of the package that returns it,
// "control: spec: sample_h: missing". The prefix is a type parameter, so
// each package's error stays a type of its own: errors.As with
// *control.SpecError does not catch the wrapped *dynamic.SpecError of the
// cascade inside a control spec.
//
// [Decode] decodes one JSON value strictly: an unknown field, a value of
// the wrong type, malformed JSON and data after the value are each an
// Error naming the field where encoding/json names one.
//
// The package is pure (no I/O, no globals): engines may import it.
package fielderr
