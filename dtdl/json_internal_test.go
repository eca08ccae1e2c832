package dtdl

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// toAny converts a node tree to what encoding/json produces, for comparison.
func toAny(n *node) any {
	switch n.kind {
	case kNull:
		return nil
	case kBool:
		return n.b
	case kNumber:
		return json.Number(n.str)
	case kString:
		return n.str
	case kArray:
		out := make([]any, len(n.arr))
		for i, x := range n.arr {
			out[i] = toAny(x)
		}
		return out
	}
	out := make(map[string]any, len(n.keys))
	for i, k := range n.keys {
		out[k] = toAny(n.vals[i])
	}
	return out
}

// FuzzJSON checks the JSON parser against encoding/json: both accept the
// same documents (except that duplicate member names are rejected here) and
// decode them to the same values.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,-0,"x\u00e9\ud83d\ude00"],"b":{"c":null,"d":true}}`, `[]`, `"\\/"`, `{"a":1,"a":2}`, `[1,]`, `01`, "\"\x01\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseJSON(data, 64)
		body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		var want any
		var stdErr error = errTrailing
		if json.Valid(body) {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			stdErr = dec.Decode(&want)
		}
		switch {
		case err == nil && stdErr != nil:
			t.Fatalf("parseJSON accepted %q; encoding/json rejects it", data)
		case err != nil && stdErr == nil:
			if strings.Contains(err.Error(), "duplicate member") || strings.Contains(err.Error(), "nesting deeper") {
				return
			}
			t.Fatalf("parseJSON rejected %q (%v); encoding/json accepts it", data, err)
		case err == nil:
			got := toAny(n)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if !bytes.Equal(gb, wb) {
				t.Fatalf("parseJSON(%q) = %s, want %s", data, gb, wb)
			}
		}
	})
}

type invalidError struct{}

func (invalidError) Error() string { return "invalid JSON" }

// errTrailing marks input encoding/json rejects.
var errTrailing error = invalidError{}
