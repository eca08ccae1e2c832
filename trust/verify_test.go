package trust_test

import (
	"context"
	"testing"

	"lodestone/trust"
)

func TestVerifyUntouched(t *testing.T) {
	f := setup(t)
	scenario(t, f, 5)
	rep, err := trust.Verify(context.Background(), f.st, testVKey)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		for _, m := range rep.Mismatches {
			t.Errorf("%+v", m)
		}
	}
	if rep.TreeSize == 0 || rep.Signed != rep.TreeSize || rep.Versions == 0 {
		t.Errorf("report %+v", rep)
	}
	t.Logf("tree %d, versions %d, checkpoints %d", rep.TreeSize, rep.Versions, rep.Checkpoints)
}
