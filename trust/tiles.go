package trust

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// TileHeight is the C2SP tlog-tiles tile height: 2^8 hashes per tile.
const TileHeight = 8

// TilePath is a parsed C2SP tlog-tiles path below "tile/": a hash tile
// "<L>/<N>[.p/<W>]" or an entry bundle "entries/<N>[.p/<W>]". W is 256
// for a full tile.
type TilePath struct {
	Entries bool
	Level   int
	N       int64
	W       int
}

// String formats the path as the spec does (without the "tile/" prefix).
func (t TilePath) String() string {
	var b strings.Builder
	if t.Entries {
		b.WriteString("entries")
	} else {
		b.WriteString(strconv.Itoa(t.Level))
	}
	b.WriteByte('/')
	b.WriteString(formatTileIndex(t.N))
	if t.W < 1<<TileHeight {
		fmt.Fprintf(&b, ".p/%d", t.W)
	}
	return b.String()
}

// formatTileIndex writes N as groups of three decimal digits, every group
// but the last prefixed by "x" ("x001/x234/067").
func formatTileIndex(n int64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	return s
}

// ParseTilePath parses a path below "tile/". It accepts exactly the paths
// String formats: levels 0–63, three-digit groups, widths 1–255.
func ParseTilePath(p string) (TilePath, error) {
	bad := func(why string) (TilePath, error) {
		return TilePath{}, fmt.Errorf("tile path %q: %s", p, why)
	}
	var t TilePath
	head, rest, ok := strings.Cut(p, "/")
	if !ok {
		return bad("want <level>/<index> or entries/<index>")
	}
	if head == "entries" {
		t.Entries = true
	} else {
		l, err := strconv.Atoi(head)
		if err != nil || l < 0 || l > 63 || strconv.Itoa(l) != head {
			return bad("level must be a number from 0 to 63")
		}
		t.Level = l
	}
	t.W = 1 << TileHeight
	if idx, w, ok := strings.Cut(rest, ".p/"); ok {
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 || n >= 1<<TileHeight || strconv.Itoa(n) != w {
			return bad("partial width must be a number from 1 to 255")
		}
		t.W, rest = n, idx
	}
	groups := strings.Split(rest, "/")
	if len(groups) > 7 {
		return bad("index too large")
	}
	for i, g := range groups {
		last := i == len(groups)-1
		if !last {
			if !strings.HasPrefix(g, "x") {
				return bad("every index group but the last starts with x")
			}
			g = g[1:]
		}
		if len(g) != 3 || strings.Trim(g, "0123456789") != "" {
			return bad("index groups are three digits")
		}
		d, _ := strconv.Atoi(g)
		t.N = t.N*1000 + int64(d)
	}
	if formatTileIndex(t.N) != rest {
		return bad("index has leading zero groups")
	}
	return t, nil
}

// EntryBundle encodes entries as a C2SP entry bundle: each a big-endian
// uint16 length followed by the entry.
func EntryBundle(entries [][]byte) []byte {
	var b bytes.Buffer
	for _, e := range entries {
		b.WriteByte(byte(len(e) >> 8))
		b.WriteByte(byte(len(e)))
		b.Write(e)
	}
	return b.Bytes()
}

// ParseEntryBundle splits an entry bundle into its entries.
func ParseEntryBundle(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("entry bundle: truncated length after %d entries", len(out))
		}
		n := int(b[0])<<8 | int(b[1])
		if len(b) < 2+n {
			return nil, fmt.Errorf("entry bundle: entry %d: length %d exceeds the %d bytes left", len(out), n, len(b)-2)
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out, nil
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
