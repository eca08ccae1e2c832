package trust

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"lodestone/event"
	"lodestone/store"
)

// Kinds of mismatch Verify reports.
const (
	// Altered: the store's version and the log's entry exist but differ
	// (a value, a patch, an entity tag, a signature, a checkpoint).
	Altered = "altered"
	// Missing: the log records a change the store no longer holds (a
	// deleted history row), or a checkpoint covers entries that are gone.
	Missing = "missing"
	// Extra: the store holds a change the log never recorded (an inserted
	// history row).
	Extra = "extra"
	// Reordered: the version is in the log but the store puts it at
	// another time (history rows moved or swapped).
	Reordered = "reordered"
	// Unsigned: entries no stored checkpoint covers (a rolled-back or
	// deleted checkpoint, or a server that stopped before it signed).
	Unsigned = "unsigned"
)

// Mismatch is one difference between the store and its log.
type Mismatch struct {
	Kind string `json:"kind"`
	// Entity is twin, relationship, model, telemetry, import, log or
	// checkpoint; Name names it (twin id, "src/relationships/id", model
	// id, checkpoint tree size, log index).
	Entity string `json:"entity"`
	Name   string `json:"name"`
	// Version is the entity tag or transaction time of the version.
	Version string `json:"version,omitempty"`
	// Change is the CloudEvent type of the change.
	Change string `json:"change,omitempty"`
	// Index is the log index of the entry, or -1.
	Index  int64  `json:"index"`
	Detail string `json:"detail"`
}

// Report is the result of Verify.
type Report struct {
	OK          bool   `json:"ok"`
	Origin      string `json:"origin"`
	VKey        string `json:"vkey"`
	KeyFrom     string `json:"key_from"`
	TreeSize    int64  `json:"tree_size"`
	Signed      int64  `json:"signed_size"`
	Checkpoints int    `json:"checkpoints"`
	Versions    int    `json:"versions"`
	// Compactions counts the valid compaction markers; the horizons are
	// the latest of theirs: logged changes removed before them on purpose
	// (see [RecordCompaction]) are not reported missing.
	Compactions      int        `json:"compactions,omitempty"`
	HistoryHorizon   time.Time  `json:"history_horizon,omitzero"`
	TelemetryHorizon time.Time  `json:"telemetry_horizon,omitzero"`
	Mismatches       []Mismatch `json:"mismatches"`
	// LegacyModelEntries counts the model entries that match in the form
	// logs had before model events carried the DTDL: for those models the
	// log vouches for the id, names and times, not the definition.
	LegacyModelEntries int `json:"legacy_model_entries,omitempty"`
}

func (r *Report) add(m Mismatch) { r.Mismatches = append(r.Mismatches, m) }

// Verify recomputes every entry from the store (every version of every
// twin and relationship, every model and telemetry message) and compares
// them with the log, checks the log's tree against each signed
// checkpoint and each checkpoint's consistency with the previous one.
// vkey is the trusted verifier key; "" uses the one the store names
// (which only proves the log is self-consistent). An error means the
// check could not run; differences are in the report.
func Verify(ctx context.Context, st store.Store, vkey string) (*Report, error) {
	rep := &Report{Mismatches: []Mismatch{}, KeyFrom: "argument"}
	cfg, err := ReadConfig(ctx, st)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	rep.Origin = cfg.Origin
	if vkey == "" {
		vkey, rep.KeyFrom = cfg.VKey, "store"
	}
	rep.VKey = vkey
	entries, err := readChunks(ctx, st, rep)
	if err != nil {
		return nil, err
	}
	rep.TreeSize = int64(len(entries))
	hashes, err := treeHashes(entries)
	if err != nil {
		return nil, err
	}
	if err := checkCheckpoints(ctx, st, vkey, cfg.Origin, hashes, rep); err != nil {
		return nil, err
	}
	if rep.Signed < rep.TreeSize {
		rep.add(Mismatch{Kind: Unsigned, Entity: "log", Name: strconv.FormatInt(rep.Signed, 10), Index: rep.Signed,
			Detail: fmt.Sprintf("entries %d to %d are in no signed checkpoint: a checkpoint was rolled back or removed, or the server stopped before it signed (run it again)", rep.Signed, rep.TreeSize-1)})
	}
	h, err := readCompactions(ctx, st, vkey, cfg.Origin, rep)
	if err != nil {
		return nil, err
	}
	source := cfg.Source
	if source == "" {
		source = "lodestone://localhost"
	}
	if err := compareStore(ctx, st, source, cfg.Since, entries, h, rep); err != nil {
		return nil, err
	}
	rep.OK = len(rep.Mismatches) == 0
	return rep, nil
}

// readChunks reads the stored entries in order, reporting gaps.
func readChunks(ctx context.Context, st store.Documents, rep *Report) ([][]byte, error) {
	docs, err := st.ListDocs(ctx, DocChunk)
	if err != nil {
		return nil, fmt.Errorf("trust: read the log: %w", err)
	}
	var out [][]byte
	for i, d := range docs {
		if d.ID != chunkID(int64(i)) {
			rep.add(Mismatch{Kind: Missing, Entity: "log", Name: chunkID(int64(i)), Index: int64(i) * ChunkSize,
				Detail: fmt.Sprintf("log chunk %d is missing (found chunk %q): entries from %d on are not checked", i, d.ID, int64(i)*ChunkSize)})
			break
		}
		var b chunkBody
		if err := json.Unmarshal(d.Body, &b); err != nil || len(b.Entries) > ChunkSize {
			rep.add(Mismatch{Kind: Altered, Entity: "log", Name: d.ID, Index: int64(i) * ChunkSize, Detail: "log chunk is malformed"})
			break
		}
		for _, e := range b.Entries {
			out = append(out, []byte(e))
		}
		if len(b.Entries) < ChunkSize && i+1 < len(docs) {
			rep.add(Mismatch{Kind: Missing, Entity: "log", Name: d.ID, Index: int64(len(out)),
				Detail: fmt.Sprintf("log chunk %d holds %d entries but a later chunk exists: entries were removed", i, len(b.Entries))})
			break
		}
	}
	return out, nil
}

// treeHashes returns the stored hashes of the tree of entries.
func treeHashes(entries [][]byte) ([]tlog.Hash, error) {
	var hs []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hs[x]
		}
		return out, nil
	})
	for n, e := range entries {
		h, err := tlog.StoredHashes(int64(n), e, r)
		if err != nil {
			return nil, err
		}
		hs = append(hs, h...)
	}
	return hs, nil
}

// checkpoint is a parsed, verified checkpoint.
type checkpoint struct {
	size int64
	root tlog.Hash
}

// ParseCheckpoint opens a signed checkpoint note with the verifier key
// and parses its C2SP tlog-checkpoint body.
func ParseCheckpoint(msg []byte, vkey, origin string) (size int64, root tlog.Hash, err error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return 0, root, fmt.Errorf("verifier key: %w", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return 0, root, fmt.Errorf("signature: %w", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return 0, root, errors.New("checkpoint body: want origin, size and root hash lines")
	}
	if origin != "" && lines[0] != origin {
		return 0, root, fmt.Errorf("checkpoint origin %q, want %q", lines[0], origin)
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return 0, root, fmt.Errorf("checkpoint size %q is not a decimal number", lines[1])
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return 0, root, fmt.Errorf("checkpoint root hash %q is not 32 bytes of base64", lines[2])
	}
	copy(root[:], h)
	return size, root, nil
}

// checkCheckpoints verifies every stored checkpoint against the tree and
// the previous checkpoint, and sets rep.Signed to the largest valid one.
func checkCheckpoints(ctx context.Context, st store.Documents, vkey, origin string, hashes []tlog.Hash, rep *Report) error {
	docs, err := st.ListDocs(ctx, DocCheckpoint)
	if err != nil {
		return fmt.Errorf("trust: read checkpoints: %w", err)
	}
	rep.Checkpoints = len(docs)
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x >= int64(len(hashes)) {
				return nil, errors.New("beyond the stored entries")
			}
			out[i] = hashes[x]
		}
		return out, nil
	})
	var prev *checkpoint
	for _, d := range docs {
		bad := func(kind, why string) {
			rep.add(Mismatch{Kind: kind, Entity: "checkpoint", Name: d.ID, Index: -1, Detail: why})
		}
		var b checkpointBody
		if err := json.Unmarshal(d.Body, &b); err != nil {
			bad(Altered, "checkpoint document is malformed")
			continue
		}
		if vkey == "" {
			bad(Altered, "no verifier key: the store names none and none was given")
			continue
		}
		size, root, err := ParseCheckpoint([]byte(b.Note), vkey, origin)
		if err != nil {
			bad(Altered, err.Error())
			continue
		}
		if d.ID != checkpointID(size) {
			bad(Altered, fmt.Sprintf("checkpoint stored as tree size %s signs size %d: an older checkpoint was put in its place", d.ID, size))
			continue
		}
		if size > int64(len(hashes)) || size == 0 && len(hashes) == 0 && size != 0 {
			bad(Missing, fmt.Sprintf("the signed tree has %d entries, the store %d: entries were removed", size, len(hashes)/2))
			continue
		}
		got, err := tlog.TreeHash(size, r)
		if err != nil || got != root {
			bad(Altered, fmt.Sprintf("the root of the stored entries 0..%d differs from the signed root: entries were changed", size-1))
			continue
		}
		if prev != nil {
			p, err := tlog.ProveTree(size, prev.size, r)
			if err == nil {
				err = tlog.CheckTree(p, size, root, prev.size, prev.root)
			}
			if err != nil {
				bad(Altered, fmt.Sprintf("not consistent with the checkpoint of size %d: %v", prev.size, err))
				continue
			}
		}
		prev = &checkpoint{size: size, root: root}
		rep.Signed = size
	}
	return nil
}

// logEntry is a parsed entry of the log with its index.
type logEntry struct {
	Entry
	index   int64
	raw     string
	matched bool
}

// expected is an entry recomputed from the store.
type expected struct {
	entry   Entry
	entity  string
	name    string
	version string
	// optional: committed before the log started; checked only if logged.
	optional bool
	// legacy is the entry of a model change as logs made before model
	// events carried the DTDL hold it ("" for other kinds).
	legacy string
}

func compareStore(ctx context.Context, st store.Store, source string, since time.Time, raw [][]byte, h horizons, rep *Report) error {
	byID := map[string][]*logEntry{}
	var all []*logEntry
	importTimes := map[string]bool{}
	for i, b := range raw {
		e, err := ParseEntry(b)
		if err != nil {
			rep.add(Mismatch{Kind: Altered, Entity: "log", Name: strconv.Itoa(i), Index: int64(i), Detail: err.Error()})
			continue
		}
		le := &logEntry{Entry: e, index: int64(i), raw: string(b)}
		all = append(all, le)
		byID[e.ID] = append(byID[e.ID], le)
		if e.Type == event.TypeImportCompleted {
			importTimes[e.Time] = true
			le.matched = true // imports are checked by the versions they wrote
		}
	}
	// The config document is not signed: never trust its start time past
	// the earliest logged change, so that moving it forward cannot excuse
	// rows inserted after the log started.
	for _, le := range all {
		if t, err := time.Parse(timeFormat, le.Time); err == nil && t.Before(since) {
			since = t
		}
	}
	c := &collector{ctx: ctx, st: st, source: source, since: since, importTimes: importTimes, rep: rep, logged: all}
	if err := c.collect(); err != nil {
		return err
	}
	rep.Versions = len(c.exp)
	var extra []Mismatch
	for _, x := range c.exp {
		want := string(x.entry.Bytes())
		cands := byID[x.entry.ID]
		var hit, near *logEntry
		for _, le := range cands {
			if le.matched {
				continue
			}
			if le.raw == want {
				hit = le
				break
			}
			if x.legacy != "" && le.raw == x.legacy {
				hit = le
				rep.LegacyModelEntries++
				break
			}
			if near == nil {
				near = le
			}
		}
		switch {
		case hit != nil:
			hit.matched = true
		case near != nil:
			near.matched = true
			kind, why := Altered, "the stored version's data differs from the logged hash"
			if near.DataSHA256 == x.entry.DataSHA256 && near.Time != x.entry.Time {
				kind, why = Reordered, fmt.Sprintf("logged at %s, stored at %s", near.Time, x.entry.Time)
			} else if near.DataSHA256 == x.entry.DataSHA256 {
				why = "the stored version's attributes differ from the logged entry"
			}
			rep.add(Mismatch{Kind: kind, Entity: x.entity, Name: x.name, Version: x.version, Change: x.entry.Type, Index: near.index, Detail: why})
		case x.optional:
			// Before the log started: never logged.
		default:
			extra = append(extra, Mismatch{Kind: Extra, Entity: x.entity, Name: x.name, Version: x.version, Change: x.entry.Type, Index: -1,
				Detail: "the store holds a change the log never recorded"})
		}
	}
	// A version whose entity tag or operation was changed shows as a
	// missing entry and an extra version of the same subject and time:
	// report it once, as altered.
	missingAt := map[string]*logEntry{}
	for _, le := range all {
		if !le.matched {
			missingAt[le.Subject+"\x00"+le.Time] = le
		}
	}
	for _, m := range extra {
		key := m.Name + "\x00"
		var at string
		for _, x := range c.exp {
			if x.name == m.Name && x.version == m.Version && x.entry.Type == m.Change {
				at = x.entry.Time
				break
			}
		}
		if le := missingAt[key+at]; le != nil && !le.matched {
			le.matched = true
			m.Kind, m.Index, m.Detail = Altered, le.index, fmt.Sprintf("logged as %s %s, stored as %s %s", le.Type, le.ETag, m.Change, m.Version)
		}
		rep.add(m)
	}
	// The next logged change of each entry's subject, for the history
	// horizon (a version ends with the next change of its subject).
	next := map[*logEntry]*logEntry{}
	last := map[string]*logEntry{}
	for _, le := range all {
		key := entityOf(le.Type) + "\x00" + le.Subject
		if p := last[key]; p != nil {
			next[p] = le
		}
		last[key] = le
	}
	for _, le := range all {
		if le.matched || compacted(le, next[le], h) {
			continue
		}
		rep.add(Mismatch{Kind: Missing, Entity: entityOf(le.Type), Name: le.Subject, Version: firstNonEmpty(le.ETag, le.Time), Change: le.Type, Index: le.index,
			Detail: "the log records a change the store no longer holds"})
	}
	sort.SliceStable(rep.Mismatches, func(i, j int) bool { return rep.Mismatches[i].Index < rep.Mismatches[j].Index })
	return nil
}

func entityOf(typ string) string {
	for _, k := range []string{"twin", "relationship", "model", "telemetry", "import"} {
		if strings.Contains(strings.ToLower(typ), k) {
			return k
		}
	}
	return "log"
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
