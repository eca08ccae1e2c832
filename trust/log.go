package trust

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/twin"
)

// Document kinds of the log in the store (see docs/formats/trust-log.md).
const (
	// DocChunk holds up to ChunkSize consecutive entries with the outbox
	// seqs of their records; id is the chunk number, zero-padded.
	DocChunk = "tlog.chunk"
	// DocCheckpoint holds one signed checkpoint; id is its tree size,
	// zero-padded, so the last by id is the latest.
	DocCheckpoint = "tlog.checkpoint"
	// DocConfig (id "config") names the log's origin, verifier key and
	// the CloudEvents source its entries were made with.
	DocConfig = "tlog"
)

// ChunkSize is how many entries one chunk document holds: small enough
// that rewriting the last chunk on every append stays cheap.
const ChunkSize = 8

// chunkBody is a chunk document's body.
type chunkBody struct {
	Entries []string `json:"entries"`
	Seqs    []int64  `json:"seqs"`
}

// encode is json.Marshal(b) but for the escapes of <, > and &, which
// JSON does not need: the entries are valid UTF-8 (Entry.Bytes makes
// sure), so the canonical string escapes give the same strings back.
func (b chunkBody) encode() []byte { return encodeChunk(b.Entries, b.Seqs) }

// encodeChunk is chunkBody{ents, seqs}.encode() without the copies of the
// entries into strings.
func encodeChunk[S ~string | ~[]byte](ents []S, seqs []int64) []byte {
	n := 32
	for _, e := range ents {
		n += len(e) + len(e)/8 + 24
	}
	out := make([]byte, 0, n)
	out = append(out, `{"entries":[`...)
	for i, e := range ents {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendCanonicalString(out, e)
	}
	out = append(out, `],"seqs":[`...)
	for i, s := range seqs {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendInt(out, s, 10)
	}
	return append(out, "]}"...)
}

// checkpointBody is a checkpoint document's body.
type checkpointBody struct {
	Note string `json:"note"`
}

// Config is the log's configuration document.
type Config struct {
	Origin string `json:"origin"`
	VKey   string `json:"vkey"`
	Source string `json:"source"`
	// Since is when the log was started on this store (RFC 3339): changes
	// committed before it were never logged, and verify does not ask for
	// their entries.
	Since time.Time `json:"since"`
}

// LogOptions configure a Log.
type LogOptions struct {
	// Source is the CloudEvents source of the pipeline (event ids of
	// telemetry depend on it); default "lodestone://localhost".
	Source string
	// CheckpointInterval is how often Start's loop reads what other
	// servers appended and signs a new checkpoint (default 1 s).
	CheckpointInterval time.Duration
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// NoStoreHook keeps the log from installing itself as the store's
	// commit hook (store.CommitHooker): every entry is then appended after
	// its change's commit, in a transaction of its own, as on a store
	// without the hook. For comparisons and tests.
	NoStoreHook bool
}

// Log is the transparency log. It implements pipeline.Hook: Committed
// appends the entries of committed records, once each (by outbox seq),
// in one global order shared by every server of the database. On a store
// with a commit hook (store.CommitHooker: SQLite) it is also the store's
// store.CommitHook, and the entries of most records are written in their
// change's own transaction (see loghook.go); Committed then finds them
// logged. It is safe for concurrent use.
type Log struct {
	st     store.Documents
	signer note.Signer
	vkey   string
	origin string
	source string
	logger *slog.Logger
	every  time.Duration

	// appendMu is held by the one append or sync in progress, and by the
	// store's writer from PrepareCommit to Finished. Lock order: appendMu,
	// then qmu or mu. With the store hook, no append holds it across a
	// store write (that would wait for the writer, which may be waiting
	// for appendMu in PrepareCommit).
	appendMu sync.Mutex
	qmu      sync.Mutex
	queue    []*appendReq
	draining bool // an appender goroutine is running

	// hooker is the store the log is the commit hook of; nil without one.
	hooker store.CommitHooker
	// late holds the entries Committed found not logged yet (records the
	// hook does not take, records committed before the log started), for
	// the next PrepareCommit. Guarded by qmu.
	late hookEntries
	// pend is what the running PrepareCommit wrote, applied or dropped by
	// Finished. Guarded by appendMu.
	pend hookTx

	mu        sync.RWMutex
	entries   [][]byte
	hashes    []tlog.Hash // stored hashes, tlog.StoredHashIndex order
	seqs      map[int64]int64
	seqOf     []int64 // outbox seq of each entry, by index
	lastChunk string  // etag of the last chunk document
	cpNote    []byte  // latest checkpoint
	cpSize    int64

	cpMu   sync.Mutex
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

var _ pipeline.Hook = (*Log)(nil)

type appendReq struct {
	entries [][]byte
	seqs    []int64
	index   []int64
	err     error
	done    chan struct{} // closed once appended (or failed)
}

// NewLog opens the log kept in st's documents, signing checkpoints with
// signer, and reads the entries stored so far. A log whose configuration
// names another verifier key is refused (keys are not rotated silently).
func NewLog(ctx context.Context, st store.Documents, signer note.Signer, opts LogOptions) (*Log, error) {
	if st == nil || signer == nil {
		return nil, errors.New("trust: NewLog needs a store and a signer")
	}
	if opts.Source == "" {
		opts.Source = "lodestone://localhost"
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = time.Second
	}
	vkey, err := VerifierKey(signer)
	if err != nil {
		return nil, err
	}
	l := &Log{st: st, signer: signer, vkey: vkey, origin: signer.Name(), source: opts.Source,
		logger: opts.Logger, every: opts.CheckpointInterval, seqs: map[int64]int64{}}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	if err := l.config(ctx); err != nil {
		return nil, err
	}
	l.appendMu.Lock()
	err = l.sync(ctx)
	l.appendMu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := l.loadCheckpoint(ctx); err != nil {
		return nil, err
	}
	if h, ok := st.(store.CommitHooker); ok && !opts.NoStoreHook {
		// Another log on the same store has the hook: this one appends
		// after commits, and the two meet in the chunks' conditions.
		switch err := h.SetCommitHook(l); {
		case err == nil:
			l.hooker = h
		case !errors.Is(err, store.ErrConflict):
			return nil, fmt.Errorf("trust: log hook: %w", err)
		}
	}
	return l, nil
}

// config writes the configuration document, or checks the stored one.
func (l *Log) config(ctx context.Context) error {
	want := Config{Origin: l.origin, VKey: l.vkey, Source: l.source, Since: time.Now().UTC()}
	body, _ := json.Marshal(want)
	_, err := l.st.PutDoc(ctx, store.Doc{Kind: DocConfig, ID: "config", Body: body}, store.Condition{IfNoneMatch: true})
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrPreconditionFailed) && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("trust: log config: %w", err)
	}
	got, err := ReadConfig(ctx, l.st)
	if err != nil {
		return err
	}
	if got.VKey != want.VKey {
		return fmt.Errorf("trust: the log in this store is signed with key %q, not %q: use its key (--log-key)", got.VKey, want.VKey)
	}
	if got.Source != want.Source {
		return fmt.Errorf("trust: the log in this store was written with event source %q, not %q", got.Source, want.Source)
	}
	return nil
}

// ReadConfig reads the log's configuration document.
func ReadConfig(ctx context.Context, st store.Documents) (Config, error) {
	d, err := st.GetDoc(ctx, DocConfig, "config")
	if err != nil {
		return Config{}, fmt.Errorf("trust: log config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(d.Body, &c); err != nil {
		return Config{}, fmt.Errorf("trust: log config: %w", err)
	}
	return c, nil
}

// VerifierKey returns the C2SP vkey of an Ed25519 note signer.
func VerifierKey(s note.Signer) (string, error) {
	if k, ok := s.(*keySigner); ok {
		return k.vkey, nil
	}
	return "", errors.New("trust: the signer must come from LoadSigner or NewSigner (its verifier key is needed)")
}

// Check implements pipeline.Hook; the log refuses nothing.
func (l *Log) Check(context.Context, *pipeline.Write) error { return nil }

// Committed implements pipeline.Hook: it appends the entries of recs
// (those not logged yet) and returns once they are stored. Records the
// store's commit hook logged in their own transaction are found logged,
// and it returns at once.
func (l *Log) Committed(ctx context.Context, recs []store.Record) error {
	if l.logged(recs) {
		return nil
	}
	if l.hooker != nil && !slices.ContainsFunc(recs, func(r store.Record) bool { return r.Seq == 0 }) {
		return l.commitLate(ctx, recs)
	}
	req := &appendReq{entries: make([][]byte, len(recs)), seqs: make([]int64, len(recs))}
	for i, r := range recs {
		e, err := EntryOf(l.source, r)
		if err != nil {
			return err
		}
		req.entries[i], req.seqs[i] = e.Bytes(), r.Seq
	}
	req.done = make(chan struct{})
	// Group commit: one appender at a time takes everything queued, so
	// concurrent writes share one document write; it runs while there is
	// work and exits when the queue is empty.
	l.qmu.Lock()
	l.queue = append(l.queue, req)
	if !l.draining {
		l.draining = true
		go l.drain()
	}
	l.qmu.Unlock()
	select {
	case <-req.done:
		return req.err
	case <-ctx.Done():
		// The record stays in the outbox; the relay logs it later (once).
		return ctx.Err()
	}
}

// drain appends queued requests until the queue is empty.
func (l *Log) drain() {
	for {
		l.gather()
		l.qmu.Lock()
		batch := l.queue
		l.queue = nil
		if len(batch) == 0 {
			l.draining = false
			l.qmu.Unlock()
			return
		}
		l.qmu.Unlock()
		l.appendMu.Lock()
		err := l.appendBatch(context.Background(), batch)
		l.appendMu.Unlock()
		for _, b := range batch {
			b.err = err
			close(b.done)
		}
	}
}

// gather yields while the queue grows, so that the writers woken by the
// same store commit reach Committed before the batch is taken: a go
// statement runs the appender next, ahead of them, and batches of one
// (one store transaction per write) would follow. It costs nothing when
// nothing else is runnable.
func (l *Log) gather() {
	n := -1
	for range maxGather {
		l.qmu.Lock()
		m := len(l.queue)
		l.qmu.Unlock()
		if m == n {
			return
		}
		n = m
		runtime.Gosched()
	}
}

// maxGather bounds how often gather yields.
const maxGather = 8

// logged reports whether every record of recs has its entry.
func (l *Log) logged(recs []store.Record) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, r := range recs {
		if _, ok := l.seqs[r.Seq]; !ok || r.Seq == 0 {
			return false
		}
	}
	return true
}

// IndexOf returns the log index of the entry of the record with outbox
// seq seq.
func (l *Log) IndexOf(seq int64) (int64, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	i, ok := l.seqs[seq]
	return i, ok
}

// Size returns the number of entries appended (signed or not yet).
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return int64(len(l.entries))
}

// appendBatch appends the entries of reqs not logged yet, under appendMu.
func (l *Log) appendBatch(ctx context.Context, reqs []*appendReq) error {
	for attempt := 0; ; attempt++ {
		var ents [][]byte
		var seqs []int64
		pending := map[int64]bool{}
		l.mu.RLock()
		for _, r := range reqs {
			for i, s := range r.seqs {
				if _, ok := l.seqs[s]; ok && s != 0 || pending[s] && s != 0 {
					continue
				}
				pending[s] = true
				ents, seqs = append(ents, r.entries[i]), append(seqs, s)
			}
		}
		l.mu.RUnlock()
		sortBySeq(ents, seqs)
		err := l.write(ctx, ents, seqs)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrPreconditionFailed) || attempt > 100 {
			return fmt.Errorf("trust: append to the log: %w", err)
		}
		// Another server appended: read its entries and try again.
		if err := l.sync(ctx); err != nil {
			return err
		}
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, r := range reqs {
		r.index = make([]int64, len(r.seqs))
		for i, s := range r.seqs {
			r.index[i] = l.seqs[s]
		}
	}
	return nil
}

// sortBySeq orders a batch by outbox seq when every entry has one: writes
// committed together may reach Committed in any order, and the batch
// restores theirs (on SQLite, seq order is commit order: its one writer
// numbers the records; on PostgreSQL, the order seqs were drawn in).
func sortBySeq(ents [][]byte, seqs []int64) {
	if slices.Contains(seqs, 0) || slices.IsSorted(seqs) {
		return
	}
	idx := make([]int, len(seqs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(seqs[a], seqs[b]) })
	e2, s2 := make([][]byte, len(ents)), make([]int64, len(seqs))
	for i, j := range idx {
		e2[i], s2[i] = ents[j], seqs[j]
	}
	copy(ents, e2)
	copy(seqs, s2)
}

// write stores ents after the last entry, chunk by chunk, and adds them
// to the tree once each chunk is stored.
func (l *Log) write(ctx context.Context, ents [][]byte, seqs []int64) error {
	for len(ents) > 0 {
		l.mu.RLock()
		size := int64(len(l.entries))
		etag := l.lastChunk
		l.mu.RUnlock()
		chunk, k := size/ChunkSize, int(size%ChunkSize)
		n := min(ChunkSize-k, len(ents))
		var body chunkBody
		cond := store.Condition{IfNoneMatch: true}
		if k > 0 {
			l.mu.RLock()
			for i := size - int64(k); i < size; i++ {
				body.Entries = append(body.Entries, string(l.entries[i]))
			}
			l.mu.RUnlock()
			body.Seqs = l.chunkSeqs(chunk, k)
			cond = store.Condition{IfMatch: twin.ETag(etag)}
		}
		for i := range n {
			body.Entries = append(body.Entries, string(ents[i]))
			body.Seqs = append(body.Seqs, seqs[i])
		}
		raw := body.encode()
		d, err := l.st.PutDoc(ctx, store.Doc{Kind: DocChunk, ID: chunkID(chunk), Body: raw}, cond)
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			err = errors.Join(store.ErrPreconditionFailed, err)
		}
		if err != nil {
			return err
		}
		if err := l.add(ents[:n], seqs[:n]); err != nil {
			return err
		}
		l.mu.Lock()
		l.lastChunk = string(d.ETag)
		l.mu.Unlock()
		ents, seqs = ents[n:], seqs[n:]
	}
	return nil
}

// chunkSeqs returns the seqs of the first k entries of a chunk.
func (l *Log) chunkSeqs(chunk int64, k int) []int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	base := chunk * ChunkSize
	return append([]int64(nil), l.seqOf[base:base+int64(k)]...)
}

// add appends entries to the in-memory tree.
func (l *Log) add(ents [][]byte, seqs []int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range ents {
		n := int64(len(l.entries))
		hs, err := tlog.StoredHashes(n, e, l.hashReader())
		if err != nil {
			return err
		}
		l.hashes = append(l.hashes, hs...)
		l.entries = append(l.entries, e)
		l.seqOf = append(l.seqOf, seqs[i])
		if seqs[i] != 0 {
			l.seqs[seqs[i]] = n
		}
	}
	return nil
}

// hashReader reads the in-memory stored hashes; the caller holds mu.
func (l *Log) hashReader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(l.hashes)) {
				return nil, fmt.Errorf("trust: stored hash %d is not in the tree", x)
			}
			out[i] = l.hashes[x]
		}
		return out, nil
	})
}

// sync reads the entries other servers appended, under appendMu.
func (l *Log) sync(ctx context.Context) error {
	for {
		l.mu.RLock()
		size := int64(len(l.entries))
		l.mu.RUnlock()
		chunk, k := size/ChunkSize, int(size%ChunkSize)
		d, err := l.st.GetDoc(ctx, DocChunk, chunkID(chunk))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("trust: read log chunk %d: %w", chunk, err)
		}
		// Under appendMu nothing else changes the entries.
		ents, seqs, err := readChunk(d, chunk, k, func(i int64) []byte { return l.entries[i] })
		if err != nil {
			return err
		}
		if err := l.add(ents, seqs); err != nil {
			return err
		}
		l.mu.Lock()
		l.lastChunk = string(d.ETag)
		l.mu.Unlock()
		if k+len(ents) < ChunkSize {
			return nil
		}
	}
}

// readChunk decodes chunk document d, of which the first k entries are
// known (entryAt returns known entry i, by log index), checks that they
// are unchanged, and returns the entries after them with their seqs.
func readChunk(d store.Doc, chunk int64, k int, entryAt func(int64) []byte) ([][]byte, []int64, error) {
	var body chunkBody
	if err := json.Unmarshal(d.Body, &body); err != nil || len(body.Seqs) != len(body.Entries) || len(body.Entries) > ChunkSize {
		return nil, nil, fmt.Errorf("trust: log chunk %d is malformed", chunk)
	}
	if len(body.Entries) < k {
		return nil, nil, fmt.Errorf("trust: log chunk %d lost entries (%d stored, %d known): the log was tampered with", chunk, len(body.Entries), k)
	}
	for i := range k {
		if body.Entries[i] != string(entryAt(chunk*ChunkSize+int64(i))) {
			return nil, nil, fmt.Errorf("trust: log entry %d changed in the store: the log was tampered with", chunk*ChunkSize+int64(i))
		}
	}
	ents := make([][]byte, 0, len(body.Entries)-k)
	for _, e := range body.Entries[k:] {
		ents = append(ents, []byte(e))
	}
	return ents, body.Seqs[k:], nil
}

func chunkID(n int64) string { return fmt.Sprintf("%012d", n) }

func checkpointID(size int64) string { return fmt.Sprintf("%012d", size) }

// loadCheckpoint reads the latest stored checkpoint.
func (l *Log) loadCheckpoint(ctx context.Context) error {
	docs, err := l.st.ListDocs(ctx, DocCheckpoint)
	if err != nil {
		return fmt.Errorf("trust: read checkpoints: %w", err)
	}
	if len(docs) == 0 {
		return nil
	}
	var b checkpointBody
	if err := json.Unmarshal(docs[len(docs)-1].Body, &b); err != nil {
		return fmt.Errorf("trust: checkpoint %s: %w", docs[len(docs)-1].ID, err)
	}
	size, err := strconv.ParseInt(docs[len(docs)-1].ID, 10, 64)
	if err != nil {
		return fmt.Errorf("trust: checkpoint id %q: %w", docs[len(docs)-1].ID, err)
	}
	l.mu.Lock()
	l.cpNote, l.cpSize = []byte(b.Note), size
	l.mu.Unlock()
	return nil
}

// CheckpointText formats a C2SP tlog-checkpoint body.
func CheckpointText(origin string, size int64, root tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
}

// Checkpoint reads what other servers appended, then signs and stores a
// checkpoint of the whole tree unless the latest covers it already.
func (l *Log) Checkpoint(ctx context.Context) error {
	l.appendMu.Lock()
	err := l.sync(ctx)
	l.appendMu.Unlock()
	if err != nil {
		return err
	}
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	l.mu.RLock()
	size, have := int64(len(l.entries)), l.cpSize
	var root tlog.Hash
	if size > have {
		root, err = tlog.TreeHash(size, l.hashReader())
	}
	l.mu.RUnlock()
	if size <= have || err != nil {
		return err
	}
	signed, err := note.Sign(&note.Note{Text: CheckpointText(l.origin, size, root)}, l.signer)
	if err != nil {
		return fmt.Errorf("trust: sign checkpoint: %w", err)
	}
	body, _ := json.Marshal(checkpointBody{Note: string(signed)})
	_, err = l.st.PutDoc(ctx, store.Doc{Kind: DocCheckpoint, ID: checkpointID(size), Body: body}, store.Condition{IfNoneMatch: true})
	if err != nil && !errors.Is(err, store.ErrPreconditionFailed) && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("trust: store checkpoint: %w", err)
	}
	// Another server may have stored this size first: Ed25519 signatures
	// are deterministic, so its note is this one.
	l.mu.Lock()
	if size > l.cpSize {
		l.cpNote, l.cpSize = signed, size
	}
	l.mu.Unlock()
	return nil
}

// Start runs the checkpoint loop until Close.
func (l *Log) Start() {
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(l.every)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 10*l.every)
				if err := l.Checkpoint(ctx); err != nil {
					l.logger.Warn("transparency log checkpoint", "err", err)
				}
				cancel()
			}
		}
	}()
}

// Close stops the loop and signs a last checkpoint.
func (l *Log) Close(ctx context.Context) error {
	if l.stop != nil && !l.closed {
		l.closed = true
		close(l.stop)
		select {
		case <-l.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return l.Checkpoint(ctx)
}

// Latest returns the latest signed checkpoint and its tree size (nil and
// 0 before the first).
func (l *Log) Latest() ([]byte, int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cpNote, l.cpSize
}

// VKey returns the log's verifier key in C2SP vkey form.
func (l *Log) VKey() string { return l.vkey }

// Origin returns the log's origin line.
func (l *Log) Origin() string { return l.origin }

// Tile returns the data of a C2SP tile or entry bundle of the tree, or
// store.ErrNotFound when the tree does not have it (yet).
func (l *Log) Tile(t TilePath) ([]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	size := l.cpSize
	if t.Entries {
		lo := t.N << TileHeight
		if t.N < 0 || lo+int64(t.W) > size {
			return nil, fmt.Errorf("entry bundle %s: beyond the checkpointed tree of %d: %w", t, size, store.ErrNotFound)
		}
		return EntryBundle(l.entries[lo : lo+int64(t.W)]), nil
	}
	width := size >> (TileHeight * t.Level)
	if t.N < 0 || (t.N<<TileHeight)+int64(t.W) > width {
		return nil, fmt.Errorf("tile %s: beyond the checkpointed tree of %d: %w", t, size, store.ErrNotFound)
	}
	return tlog.ReadTileData(tlog.Tile{H: TileHeight, L: t.Level, N: t.N, W: t.W}, l.hashReader())
}

// Proof is an RFC 6962 inclusion proof of one entry in the tree of a
// signed checkpoint.
type Proof struct {
	Index      int64    `json:"index"`
	TreeSize   int64    `json:"tree_size"`
	Entry      string   `json:"entry"`
	LeafHash   string   `json:"leaf_hash"`
	Hashes     []string `json:"hashes"`
	Checkpoint string   `json:"checkpoint"`
}

// Prove returns the inclusion proof of entry index in the latest
// checkpoint's tree.
func (l *Log) Prove(index int64) (Proof, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if index < 0 || index >= l.cpSize {
		return Proof{}, fmt.Errorf("index %d: not in the checkpointed tree of size %d (new entries are signed within a checkpoint interval): %w", index, l.cpSize, store.ErrNotFound)
	}
	p, err := tlog.ProveRecord(l.cpSize, index, l.hashReader())
	if err != nil {
		return Proof{}, err
	}
	leaf := tlog.RecordHash(l.entries[index])
	out := Proof{Index: index, TreeSize: l.cpSize, Entry: string(l.entries[index]),
		LeafHash: base64.StdEncoding.EncodeToString(leaf[:]), Checkpoint: string(l.cpNote), Hashes: []string{}}
	for _, h := range p {
		out.Hashes = append(out.Hashes, base64.StdEncoding.EncodeToString(h[:]))
	}
	return out, nil
}

// signText signs a note text (tests and tools).
func signText(s note.Signer, text string) ([]byte, error) {
	return note.Sign(&note.Note{Text: text}, s)
}
