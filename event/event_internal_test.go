package event

import (
	"encoding/json"
	"testing"
)

// FuzzAppendJSONString checks the hand-written string encoder against
// encoding/json: both must decode to the same string, and plainString must
// agree with json.Unmarshal wherever it accepts.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "mine-1", "a\"b\\c", "\n\r\t\x00\x1f", "é\u2028\u2029", "\xff\xfe", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		enc := appendJSONString(nil, s)
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("appendJSONString(%q) = %s: %v", s, enc, err)
		}
		std, _ := json.Marshal(s)
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("appendJSONString(%q) decodes to %q, encoding/json to %q", s, got, want)
		}
		if p, ok := plainString(enc); ok && p != got {
			t.Fatalf("plainString(%s) = %q, want %q", enc, p, got)
		}
		if p, ok := plainString([]byte(s)); ok {
			var u string
			if err := json.Unmarshal([]byte(s), &u); err != nil || u != p {
				t.Fatalf("plainString(%s) = %q, json.Unmarshal = %q, %v", s, p, u, err)
			}
		}
	})
}
