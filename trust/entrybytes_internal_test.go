package trust

import (
	"math/rand/v2"
	"testing"
)

// TestEntryBytesDirect: Bytes, written directly, is what json.Marshal
// and Canonical make of the entry, for strings with every kind of
// character JSON and RFC 8785 treat specially.
func TestEntryBytesDirect(t *testing.T) {
	parts := []string{"a", "Z", "9", "/", "\"", "\\", "\b", "\f", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "<", ">", "&",
		"é", "\u2028", "\u2029", "😀", "\ufeff", "\xff", "\xc3", ""}
	r := rand.New(rand.NewPCG(1, 2))
	str := func() string {
		s := ""
		for range r.IntN(6) {
			s += parts[r.IntN(len(parts))]
		}
		return s
	}
	for range 2000 {
		e := Entry{ID: str(), Type: str(), Subject: str(), Org: str(), ETag: str(), Time: str(), DataSHA256: str()}
		if got, want := string(e.Bytes()), string(e.marshalled()); got != want {
			t.Fatalf("%+v:\n got %q\nwant %q", e, got, want)
		}
	}
}

func FuzzEntryBytes(f *testing.F) {
	f.Add("id", "type", "subj\n", "org", "W/\"e\"", "2026", "ab")
	f.Fuzz(func(t *testing.T, id, typ, subject, org, etag, tm, sum string) {
		e := Entry{ID: id, Type: typ, Subject: subject, Org: org, ETag: etag, Time: tm, DataSHA256: sum}
		if got, want := string(e.Bytes()), string(e.marshalled()); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}
