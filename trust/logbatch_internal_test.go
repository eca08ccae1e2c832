package trust

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

// TestChunkBodyEncode: the hand-written chunk encoding decodes to the
// same body as json.Marshal's, for entries with quotes, backslashes,
// controls, HTML characters and non-ASCII text.
func TestChunkBodyEncode(t *testing.T) {
	for _, tc := range []chunkBody{
		{Entries: []string{}, Seqs: []int64{}},
		{Entries: []string{`{"id":"a"}`}, Seqs: []int64{1}},
		{Entries: []string{`{"subject":"a<b>&c","x":"\"q\" \\ \u001f"}`, "é€😀\u2028", ""}, Seqs: []int64{0, -3, 1 << 60}},
		{Entries: []string{string(Entry{ID: "i", Type: "t", Subject: "s\n", Time: "now", DataSHA256: "00"}.Bytes())}, Seqs: []int64{42}},
	} {
		raw := tc.encode()
		if !json.Valid(raw) {
			t.Fatalf("encode(%v) = %s: not JSON", tc, raw)
		}
		var got chunkBody
		if err := json.Unmarshal(raw, &got); err != nil || !reflect.DeepEqual(got, tc) {
			t.Fatalf("encode(%v) = %s, decodes to %v, %v", tc, raw, got, err)
		}
	}
}

// TestSortBySeq: a batch is put in outbox seq order, entries moving with
// their seqs; a batch with a record without seq keeps its order.
func TestSortBySeq(t *testing.T) {
	for _, tc := range []struct {
		seqs, want []int64
	}{
		{[]int64{3, 1, 2}, []int64{1, 2, 3}},
		{[]int64{1, 2, 3}, []int64{1, 2, 3}},
		{[]int64{5, 0, 4}, []int64{5, 0, 4}},
		{[]int64{9}, []int64{9}},
		{nil, nil},
	} {
		ents := make([][]byte, len(tc.seqs))
		for i, s := range tc.seqs {
			ents[i] = []byte{byte(s)}
		}
		seqs := slices.Clone(tc.seqs)
		sortBySeq(ents, seqs)
		if !slices.Equal(seqs, tc.want) {
			t.Errorf("sortBySeq(%v) = %v, want %v", tc.seqs, seqs, tc.want)
		}
		for i, s := range seqs {
			if ents[i][0] != byte(s) {
				t.Errorf("sortBySeq(%v): entry %d is %d, its seq %d", tc.seqs, i, ents[i][0], s)
			}
		}
	}
}
