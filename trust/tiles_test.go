package trust

import (
	"bytes"
	"testing"
)

func TestTilePaths(t *testing.T) {
	for _, tc := range []struct {
		path string
		want TilePath
	}{
		{"0/000", TilePath{Level: 0, N: 0, W: 256}},
		{"1/x001/x234/067", TilePath{Level: 1, N: 1234067, W: 256}},
		{"entries/x001/234.p/7", TilePath{Entries: true, N: 1234, W: 7}},
		{"2/999.p/255", TilePath{Level: 2, N: 999, W: 255}},
	} {
		got, err := ParseTilePath(tc.path)
		if err != nil || got != tc.want {
			t.Errorf("ParseTilePath(%q) = %+v, %v; want %+v", tc.path, got, err, tc.want)
		}
		if got.String() != tc.path {
			t.Errorf("%+v formats as %q, want %q", got, got.String(), tc.path)
		}
	}
	for _, bad := range []string{"", "0", "0/1", "0/0001", "x/000", "00/000", "0/x000/001", "0/001.p/0", "0/001.p/256", "0/001.p/07", "64/000", "entries/x1/000", "0/000/", "-1/000", "0/x001/002/003"} {
		if got, err := ParseTilePath(bad); err == nil {
			t.Errorf("ParseTilePath(%q) = %+v, want an error", bad, got)
		}
	}
}

func FuzzTilePath(f *testing.F) {
	for _, s := range []string{"0/000", "1/x001/x234/067", "entries/x001/234.p/7", "0/x000/001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tp, err := ParseTilePath(p)
		if err != nil {
			return
		}
		if tp.String() != p {
			t.Fatalf("ParseTilePath(%q) = %+v formats as %q", p, tp, tp.String())
		}
	})
}

func FuzzEntryBundle(f *testing.F) {
	f.Add(EntryBundle([][]byte{[]byte("a"), {}, bytes.Repeat([]byte("x"), 300)}))
	f.Add([]byte{0, 5, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := ParseEntryBundle(b)
		if err != nil {
			return
		}
		if !bytes.Equal(EntryBundle(es), b) {
			t.Fatalf("bundle %x does not round-trip", b)
		}
	})
}

func FuzzParseEntry(f *testing.F) {
	f.Add([]byte(`{"data_sha256":"0000000000000000000000000000000000000000000000000000000000000000","etag":"","id":"x","org":"","subject":"s","time":"t","type":"y"}`))
	f.Add([]byte(`{"id":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEntry(b)
		if err != nil {
			return
		}
		if !bytes.Equal(e.Bytes(), b) {
			t.Fatalf("entry %q re-encodes as %q", b, e.Bytes())
		}
	})
}

func FuzzParseCheckpoint(f *testing.F) {
	skey, vkey, err := GenerateKey("fuzz.test/log")
	if err != nil {
		f.Fatal(err)
	}
	s, err := NewSigner(skey)
	if err != nil {
		f.Fatal(err)
	}
	good, err := signText(s, "fuzz.test/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("fuzz.test/log\n3\nroot\n\n— fuzz.test/log AAAA\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		size, _, err := ParseCheckpoint(msg, vkey, "fuzz.test/log")
		if err == nil && size < 0 {
			t.Fatalf("negative size %d", size)
		}
	})
}
