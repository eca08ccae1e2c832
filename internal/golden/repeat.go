package golden

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Repeatable runs run n times and fails unless every run's result has the
// same JSON as the first: the engines' "same inputs, same bits" rule, which
// map iteration order or a hidden global would break.
func Repeatable(t testing.TB, n int, run func() (any, error)) {
	t.Helper()
	var first []byte
	for i := range n {
		res, err := run()
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = got
		} else if !bytes.Equal(got, first) {
			t.Fatalf("run %d differs from run 0:\n%s", i, cmp.Diff(string(first), string(got)))
		}
	}
}
