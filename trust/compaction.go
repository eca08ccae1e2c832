package trust

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"lodestone/store"
)

// DocCompaction holds one signed compaction marker; id is the time of the
// compaction (zero-padded Unix nanoseconds), so the markers list in order.
const DocCompaction = "tlog.compaction"

// compactionHeader is the first line of a marker's signed text.
const compactionHeader = "lodestone compaction"

// Compaction is a compaction marker: history versions that ended before
// History (twin and relationship versions superseded or deleted before
// it) and telemetry stored before Telemetry were removed on purpose. The
// current version of every twin and relationship is always kept. Zero
// times mean "nothing of that kind removed".
type Compaction struct {
	Origin    string
	History   time.Time
	Telemetry time.Time
	At        time.Time
}

// text is the marker's signed note text.
func (c Compaction) text() string {
	return fmt.Sprintf("%s\n%s\nhistory %d\ntelemetry %d\nat %d\n", compactionHeader, c.Origin,
		unixNano(c.History), unixNano(c.Telemetry), c.At.UnixNano())
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// compactionBody is a marker document's body.
type compactionBody struct {
	Note string `json:"note"`
}

// RecordCompaction stores a compaction marker signed with the log's key,
// before the rows go: a marker without removed rows is harmless, rows
// removed without a marker are reported by Verify. The store's log
// config names the origin.
func RecordCompaction(ctx context.Context, st store.Documents, signer note.Signer, c Compaction) error {
	cfg, err := ReadConfig(ctx, st)
	if err != nil {
		return err
	}
	vkey, err := VerifierKey(signer)
	if err != nil {
		return err
	}
	if vkey != cfg.VKey {
		return errors.New("trust: compaction: the key is not the log's signing key (its verifier key differs from the one the store names)")
	}
	if c.At.IsZero() {
		return errors.New("trust: compaction: the time of the compaction is missing")
	}
	if c.History.After(c.At) || c.Telemetry.After(c.At) {
		return errors.New("trust: compaction: a horizon lies after the compaction itself")
	}
	c.Origin = cfg.Origin
	msg, err := note.Sign(&note.Note{Text: c.text()}, signer)
	if err != nil {
		return fmt.Errorf("trust: compaction: sign: %w", err)
	}
	body, _ := json.Marshal(compactionBody{Note: string(msg)})
	_, err = st.PutDoc(ctx, store.Doc{Kind: DocCompaction, ID: fmt.Sprintf("%020d", c.At.UnixNano()), Body: body}, store.Condition{})
	return err
}

// ParseCompaction opens a signed marker with the verifier key.
func ParseCompaction(msg []byte, vkey, origin string) (Compaction, error) {
	var c Compaction
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return c, fmt.Errorf("verifier key: %w", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return c, fmt.Errorf("signature: %w", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 6 || lines[0] != compactionHeader || lines[5] != "" {
		return c, errors.New("marker body: want the header, origin, history, telemetry and at lines")
	}
	if origin != "" && lines[1] != origin {
		return c, fmt.Errorf("marker origin %q, want %q", lines[1], origin)
	}
	c.Origin = lines[1]
	var ns [3]int64
	for i, name := range []string{"history", "telemetry", "at"} {
		v, ok := strings.CutPrefix(lines[2+i], name+" ")
		x, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil || x < 0 {
			return c, fmt.Errorf("marker line %q: want %q and a time in Unix nanoseconds", lines[2+i], name)
		}
		ns[i] = x
	}
	c.History, c.Telemetry, c.At = fromNano(ns[0]), fromNano(ns[1]), fromNano(ns[2])
	if c.At.IsZero() {
		return c, errors.New("marker: the time of the compaction (at) is missing")
	}
	if c.History.After(c.At) || c.Telemetry.After(c.At) {
		return c, errors.New("marker: a horizon lies after the compaction itself")
	}
	return c, nil
}

// horizons are the latest horizons of the valid compaction markers.
type horizons struct {
	history, telemetry time.Time
}

// readCompactions reads the markers, reporting those that do not verify
// (altered, or signed with another key): their horizons do not count.
func readCompactions(ctx context.Context, st store.Documents, vkey, origin string, rep *Report) (horizons, error) {
	var h horizons
	docs, err := st.ListDocs(ctx, DocCompaction)
	if err != nil {
		return h, fmt.Errorf("trust: read compaction markers: %w", err)
	}
	for _, d := range docs {
		var b compactionBody
		var c Compaction
		err := json.Unmarshal(d.Body, &b)
		if err == nil {
			c, err = ParseCompaction([]byte(b.Note), vkey, origin)
		}
		if err == nil && d.ID != fmt.Sprintf("%020d", c.At.UnixNano()) {
			err = errors.New("marker stored under another time than it signs")
		}
		if err != nil {
			rep.add(Mismatch{Kind: Altered, Entity: "compaction", Name: d.ID, Index: -1, Detail: "compaction marker does not verify (its horizons are ignored): " + err.Error()})
			continue
		}
		rep.Compactions++
		if c.History.After(h.history) {
			h.history = c.History
		}
		if c.Telemetry.After(h.telemetry) {
			h.telemetry = c.Telemetry
		}
	}
	rep.HistoryHorizon, rep.TelemetryHorizon = h.history, h.telemetry
	return h, nil
}

// compacted reports whether the unmatched logged entry le was removed by
// a compaction with horizons h: telemetry stored before the telemetry
// horizon; a twin or relationship version that the next logged change of
// the same subject ended before the history horizon; a delete before it.
// The latest logged version of a subject is never compacted (it is the
// current one), nor is anything at or after the horizons.
func compacted(le *logEntry, next *logEntry, h horizons) bool {
	t, err := time.Parse(timeFormat, le.Time)
	if err != nil {
		return false
	}
	switch entityOf(le.Type) {
	case "telemetry":
		return t.Before(h.telemetry)
	case "twin", "relationship":
		if !t.Before(h.history) {
			return false
		}
		if strings.HasSuffix(le.Type, ".deleted") {
			return true
		}
		if next == nil {
			return false
		}
		nt, err := time.Parse(timeFormat, next.Time)
		return err == nil && nt.Before(h.history)
	}
	return false
}
