package trust_test

import (
	"testing"

	"golang.org/x/mod/sumdb/note"

	"lodestone/trust"
)

// FuzzParseCompaction signs whatever text the fuzzer makes with the log
// key: ParseCompaction either refuses it or returns horizons not after the
// compaction itself.
func FuzzParseCompaction(f *testing.F) {
	skey, vkey, err := trust.GenerateKey("lodestone.test")
	if err != nil {
		f.Fatal(err)
	}
	signer, err := trust.NewSigner(skey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("lodestone compaction\nlodestone.test\nhistory 1\ntelemetry 0\nat 2\n")
	f.Add("lodestone compaction\n\nhistory 5\ntelemetry 5\nat 1\n")
	f.Add("lodestone compaction\nx\nhistory -1\ntelemetry 0\nat 2\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		msg, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			return // not a note text
		}
		c, err := trust.ParseCompaction(msg, vkey, "")
		if err == nil && (c.History.After(c.At) || c.Telemetry.After(c.At) || c.At.IsZero()) {
			t.Fatalf("accepted %q as %+v", text, c)
		}
		if text == "lodestone compaction\nlodestone.test\nhistory 1\ntelemetry 0\nat 2\n" && err != nil {
			t.Fatalf("refused a well-formed marker: %v", err)
		}
	})
}
