package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"lodestone/store"
)

var errFake = errors.New("fake backend")

func init() {
	store.Register("faketest", func(ctx context.Context, dsn string) (store.Store, error) {
		return nil, errFake
	})
}

func TestOpen(t *testing.T) {
	tests := []struct {
		dsn     string
		wantErr string
		is      error
	}{
		{dsn: "faketest:x", is: errFake},
		{dsn: "nope:x", wantErr: `unknown scheme "nope"`},
		{dsn: "no-scheme", wantErr: "no scheme"},
		{dsn: ":memory:", wantErr: "no scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			_, err := store.Open(t.Context(), tt.dsn)
			if err == nil {
				t.Fatalf("Open(%q) succeeded", tt.dsn)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Open(%q) error = %v, want %v", tt.dsn, err, tt.is)
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open(%q) error = %v, want it to contain %q", tt.dsn, err, tt.wantErr)
			}
		})
	}
}

func TestRegisterDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("second Register of the same scheme did not panic")
		}
	}()
	store.Register("faketest", func(context.Context, string) (store.Store, error) { return nil, nil })
}

func TestSchemes(t *testing.T) {
	found := false
	for _, s := range store.Schemes() {
		found = found || s == "faketest"
	}
	if !found {
		t.Errorf("Schemes() = %v, want it to include faketest", store.Schemes())
	}
}
