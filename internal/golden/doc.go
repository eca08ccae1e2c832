// Package golden compares test output with golden files under testdata,
// rewritten with `go test ./pkg -update`. Numbers in JSON output are
// rounded to nine significant digits first, so that golden files do not
// depend on the last bits of floating point (FMA contraction differs
// between architectures). Importing it registers the -update flag.
package golden
