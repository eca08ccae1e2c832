// Package golden compares test output with golden files under testdata,
// rewritten with `go test ./pkg -update`. Importing it registers the -update
// flag; no test of the importing package may define its own.
//
// # Provenance header
//
// Every golden file starts with a header that says where its numbers come
// from: a snapshot of this code proves only that the code did not change,
// so the header names the numbers that have an independent source (a paper
// and its table, a PrOMMiS test, a textbook formula) and that source. The
// test passes a [Provenance]; with -update the helper writes it as the
// header, and without it the helper refuses a file whose header is missing
// or differs from what the test declares. The header is a block of lines
// starting with "//", so one format serves JSON and text goldens alike
// (editors read such JSON files as JSONC):
//
//	// provenance: partly independent (the numbers named under source have one; the rest are this code's output)
//	// source: outlets.aqueous.mg_per_L: PrOMMiS tests/test_solvent_extraction_steady.py (rel 1e-4),
//	//   checked by TestPrommisThreeStage
//	// note: the example is the 3-stage DEHPA case of PrOMMiS
//	{
//	  "outlets": …
//
// The first line is one of three fixed lines (snapshot, partly independent,
// independent); then come "// source: " lines (none for a snapshot, at least
// one otherwise) and at most one "// note: " line, each wrapped at 100
// columns with "//   " continuation lines. The body starts at the first line
// that does not start with "//". [Parse] reads a header back;
// TestRepositoryGoldens checks every *.golden* file of the repository with
// it.
//
// # Numbers
//
// [RoundJSON] rounds every number of a JSON document to nine significant
// digits (RoundJSONDigits to fewer), so that golden files do not depend on
// the last bits of floating point (FMA contraction differs between
// architectures); [CheckJSON] compares numbers within a tolerance instead,
// for output that must stay unrounded.
package golden
