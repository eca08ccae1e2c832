package provenance

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"lodestone/event"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/trust"
	"lodestone/twin"
)

// LogIndex finds the transparency-log entry of a change: by CloudEvent id,
// and, for imports (one summary entry for every entity an import wrote),
// by the import's transaction time.
type LogIndex struct {
	byID    map[string]indexed
	imports map[string]indexed
	size    int64
}

type indexed struct {
	trust.Entry
	index int64
}

// ReadLog reads the log's entries from the store's documents (the chunks
// of docs/formats/trust-log.md). A store without a log gives an empty
// index. An entry that does not parse is skipped: verify reports it.
func ReadLog(ctx context.Context, st store.Documents) (*LogIndex, error) {
	docs, err := st.ListDocs(ctx, trust.DocChunk)
	if err != nil {
		return nil, fmt.Errorf("provenance: read the log: %w", err)
	}
	l := &LogIndex{byID: map[string]indexed{}, imports: map[string]indexed{}}
	for _, d := range docs {
		var body struct {
			Entries []string `json:"entries"`
		}
		if err := json.Unmarshal(d.Body, &body); err != nil {
			return nil, fmt.Errorf("provenance: log chunk %s: %w", d.ID, err)
		}
		for _, raw := range body.Entries {
			i := l.size
			l.size++
			e, err := trust.ParseEntry([]byte(raw))
			if err != nil {
				continue
			}
			x := indexed{Entry: e, index: i}
			l.byID[e.ID] = x
			if e.Type == event.TypeImportCompleted {
				l.imports[e.Time] = x
			}
		}
	}
	return l, nil
}

// Size is the number of entries read.
func (l *LogIndex) Size() int64 { return l.size }

// Logged reports the log index of a twin change: the entry of its
// CloudEvent, or, for a create or replace at the time of a logged import,
// the import's entry.
func (l *LogIndex) Logged(id twin.ID, ch store.Change, etag string) (int64, bool) {
	if l == nil {
		return 0, false
	}
	if ch.Op != store.OpPatch {
		if imp, ok := l.imports[ch.Time.UTC().Format(time.RFC3339Nano)]; ok {
			return imp.index, true
		}
	}
	ev := pipeline.EventOf("", store.Record{Kind: store.KindTwin, Op: ch.Op, Subject: string(id), Key: etag, Time: ch.Time})
	e, ok := l.byID[ev.ID]
	return e.index, ok
}
