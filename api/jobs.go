package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"lodestone/bulk"
	"lodestone/dtdl"
	"lodestone/pipeline"
	"lodestone/store"
	"lodestone/twin"
)

func (a *API) jobRoutes() []Route {
	return []Route{
		{Pattern: "PUT /jobs/imports/{id}", Handler: a.putImport, Summary: "Run an import job: the body is an ADT import file (ndjson); ?dryRun=true checks without writing; all or nothing", Body: "ImportFile", Response: "ImportJob"},
		{Pattern: "POST /jobs/imports", Handler: a.putImport, Summary: "Run an import job with a generated id", Body: "ImportFile", Response: "ImportJob"},
		{Pattern: "GET /jobs/imports/{id}", Handler: a.getImport, Summary: "Status and progress of an import job", Response: "ImportJob"},
		{Pattern: "GET /jobs/imports", Handler: a.listImports, Summary: "List import jobs", Response: "ImportJobList"},
		{Pattern: "GET /jobs/export", Handler: a.export, Summary: "Export models, twins and relationships as an ADT import file (ndjson); ?asOf=RFC3339", Response: "ImportFile"},
	}
}

// jobRegistry keeps the import jobs. Every job is a document in the store
// (kind "job"), so it survives a restart and every server on the database
// lists it; the jobs this server is running are also held in memory, where
// their progress moves, and written to the store at most every
// jobSaveInterval by a heartbeat. A job still "running" in the store whose
// document has not been written for jobStale ran on a server that stopped
// (the margin is wide because the heartbeat's write waits behind the
// import's own transaction on a store with one writer): it is
// reported as failed (JobInterrupted) and its id may be used again.
type jobRegistry struct {
	docs store.Documents
	log  *slog.Logger
	now  func() time.Time

	mu   sync.Mutex
	jobs map[string]*ImportJob // running here, by document id (scopedKey)
	// owners are the owners of the jobs running here (nil for the
	// anonymous principal's), by document id.
	owners map[string]*docOwner
	seq    atomic.Int64
	// wmu orders the writes of running jobs, so that a heartbeat never
	// writes a job back as running after finish wrote its end. Lock
	// order: wmu before mu.
	wmu sync.Mutex
}

const (
	docJob          = "job"
	jobSaveInterval = 2 * time.Second
	jobStale        = 5 * time.Minute
)

func newJobRegistry(docs store.Documents, log *slog.Logger, now func() time.Time) *jobRegistry {
	return &jobRegistry{docs: docs, log: log, now: now, jobs: map[string]*ImportJob{}, owners: map[string]*docOwner{}}
}

// storedJob is a job's document: the job and its owner. Jobs belong to
// the org of the principal that started them; each org has its own job
// ids (the document of org O's job j is "O|j", see scopedKey).
type storedJob struct {
	ImportJob
	Owner *docOwner `json:"owner,omitempty"`
}

// start records a new running job of owner, unless a job of that id is
// running. It returns the job's document id.
func (j *jobRegistry) start(ctx context.Context, job *ImportJob, owner *docOwner) (string, error) {
	key := scopedKey(owner, job.ID)
	return key, j.startKey(ctx, key, job, owner)
}

func (j *jobRegistry) startKey(ctx context.Context, key string, job *ImportJob, owner *docOwner) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if old := j.jobs[key]; old != nil {
		return &Error{Status: http.StatusConflict, Code: "JobAlreadyRunning", Message: fmt.Sprintf("import job %s is running", job.ID)}
	}
	cond := store.Condition{IfNoneMatch: true}
	if d, err := j.docs.GetDoc(ctx, docJob, key); err == nil {
		if old, ok := j.decode(d); ok && old.Status == "running" {
			return &Error{Status: http.StatusConflict, Code: "JobAlreadyRunning", Message: fmt.Sprintf("import job %s is running on another server", job.ID)}
		}
		cond = store.Condition{IfMatch: d.ETag}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := j.put(ctx, key, job, owner, cond); err != nil {
		if errors.Is(err, store.ErrPreconditionFailed) || errors.Is(err, store.ErrConflict) {
			return &Error{Status: http.StatusConflict, Code: "JobAlreadyRunning", Message: fmt.Sprintf("import job %s was started by another request", job.ID)}
		}
		return err
	}
	j.jobs[key], j.owners[key] = job, owner
	go j.heartbeat(key)
	return nil
}

// heartbeat writes a running job every jobSaveInterval, so that its
// document stays fresh while its body uploads or a long transaction runs;
// it stops when the job finishes.
func (j *jobRegistry) heartbeat(id string) {
	t := time.NewTicker(jobSaveInterval)
	defer t.Stop()
	for range t.C {
		j.wmu.Lock()
		j.mu.Lock()
		job := j.jobs[id]
		if job == nil {
			j.mu.Unlock()
			j.wmu.Unlock()
			return
		}
		cp, owner := *job, j.owners[id]
		j.mu.Unlock()
		if err := j.put(context.Background(), id, &cp, owner, store.Condition{}); err != nil {
			j.log.Warn("save import job", "job_id", id, "err", err)
		}
		j.wmu.Unlock()
	}
}

func (j *jobRegistry) put(ctx context.Context, key string, job *ImportJob, owner *docOwner, cond store.Condition) error {
	b, err := json.Marshal(storedJob{*job, owner})
	if err != nil {
		return err
	}
	_, err = j.docs.PutDoc(context.WithoutCancel(ctx), store.Doc{Kind: docJob, ID: key, Body: b}, cond)
	return err
}

// update changes a running job in memory; the heartbeat writes it. It
// never writes to the store itself: it is called from the import's
// progress callback, and the store may be busy with that very import.
func (j *jobRegistry) update(id string, f func(*ImportJob)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if job := j.jobs[id]; job != nil {
		f(job)
	}
}

// finish applies f to the job, writes it and forgets it in memory.
func (j *jobRegistry) finish(ctx context.Context, id string, f func(*ImportJob)) ImportJob {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	j.mu.Lock()
	job, owner := j.jobs[id], j.owners[id]
	f(job)
	cp := *job
	delete(j.jobs, id)
	delete(j.owners, id)
	j.mu.Unlock()
	if err := j.put(ctx, id, &cp, owner, store.Condition{}); err != nil {
		j.log.Warn("save import job", "job_id", id, "err", err)
	}
	return cp
}

// decode reads a stored job, reporting a stale running one as interrupted.
func (j *jobRegistry) decode(d store.Doc) (ImportJob, bool) {
	job, _, ok := j.decodeOwned(d)
	return job, ok
}

// decodeOwned is decode with the job's owner.
func (j *jobRegistry) decodeOwned(d store.Doc) (ImportJob, *docOwner, bool) {
	var sj storedJob
	if err := json.Unmarshal(d.Body, &sj); err != nil {
		return sj.ImportJob, nil, false
	}
	return j.interrupted(d, sj.ImportJob), sj.Owner, true
}

// interrupted reports a stale running job as failed.
func (j *jobRegistry) interrupted(d store.Doc, job ImportJob) ImportJob {
	if job.Status == "running" && j.now().Sub(d.Updated) > jobStale {
		job.Status = "failed"
		job.Error = &ErrorInfo{Code: "JobInterrupted", Message: "the server running the job stopped before it finished; nothing of it was imported"}
	}
	return job
}

// get returns a job: the live one if it runs here, else the stored one.
func (j *jobRegistry) get(ctx context.Context, id string) (ImportJob, bool, error) {
	j.mu.Lock()
	if job := j.jobs[id]; job != nil {
		cp := *job
		j.mu.Unlock()
		return cp, true, nil
	}
	j.mu.Unlock()
	d, err := j.docs.GetDoc(ctx, docJob, id)
	if errors.Is(err, store.ErrNotFound) {
		return ImportJob{}, false, nil
	}
	if err != nil {
		return ImportJob{}, false, err
	}
	job, ok := j.decode(d)
	return job, ok, nil
}

// list returns every job rd sees (its org's), the live ones as they are
// now.
func (j *jobRegistry) list(ctx context.Context, rd reader) ([]ImportJob, error) {
	ds, err := j.docs.ListDocs(ctx, docJob)
	if err != nil {
		return nil, err
	}
	out := make([]ImportJob, 0, len(ds))
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, d := range ds {
		if live := j.jobs[d.ID]; live != nil {
			if j.owners[d.ID].sees(rd) {
				out = append(out, *live)
			}
			continue
		}
		if job, owner, ok := j.decodeOwned(d); ok && owner.sees(rd) {
			out = append(out, job)
		}
	}
	return out, nil
}

// countingReader counts the bytes read through it, for progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// putImport runs an import job in two steps. First the body is copied to
// a temporary file, taking no lock: a client that sends its body slowly,
// or stalls, holds only its own connection until the server's read
// timeout cuts it off. Then the import reads the file under the model lock
// and in the store's import transaction, which no client can slow down.
func (a *API) putImport(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if id == "" {
		id = "import-" + strconv.FormatInt(a.jobs.seq.Add(1), 10) + "-" + strconv.FormatInt(a.now().UnixNano(), 36)
	}
	dryRun := queryParams(r).Get("dryRun") == "true"
	job := &ImportJob{ID: id, Status: "running", DryRun: dryRun, CreatedDateTime: a.now().UTC(), TotalBytes: max(r.ContentLength, 0)}
	// The job is its principal's org's; the import runs with the
	// request's context, which carries the principal, so the pipeline
	// stamps the importer's org on every entity.
	key, err := a.jobs.start(r.Context(), job, ownerOf(a.readerOf(r.Context())))
	if err != nil {
		return err
	}

	var stats store.ImportStats
	var lines int
	body := &countingReader{}
	f, size, err := spool(a.opts.TempDir, http.MaxBytesReader(w, r.Body, a.opts.MaxBulkBytes))
	if err == nil {
		defer removeSpool(f, a.log)
		a.jobs.update(key, func(j *ImportJob) { j.TotalBytes = size })
		body.r = f
		stats, lines, err = a.runImport(r.Context(), bulk.NewReader(body), dryRun, func(done int) {
			a.jobs.update(key, func(j *ImportJob) { j.ProcessedLines = done; j.ProcessedBytes = body.n.Load() })
		})
	}
	finished := a.now().UTC()
	out := a.jobs.finish(r.Context(), key, func(j *ImportJob) {
		j.FinishedDateTime = &finished
		j.ProcessedBytes = body.n.Load()
		j.ProcessedLines = lines
		j.ModelsCount, j.TwinsCount, j.RelationshipsCount = stats.Models, stats.Twins, stats.Relationships
		if err != nil {
			e := classify(err, []func(error) *Error{classifyDomain})
			j.Status = "failed"
			j.Error = &ErrorInfo{Code: e.Code, Message: e.Message, Details: e.Details}
		} else {
			j.Status = "succeeded"
		}
	})
	status := http.StatusOK
	if err != nil {
		e := classify(err, []func(error) *Error{classifyDomain})
		status = e.Status
		if e.Status >= 500 {
			a.log.Error("import failed", "job_id", id, "err", err)
		}
	}
	return writeJSON(w, status, out)
}

// spool copies an import body to a temporary file and returns it open at
// its start, with its size. The caller removes it with removeSpool. An
// error reading the body is the client's: 413 past the size limit, 408
// when it stalled past the read timeout, 400 otherwise (it went away or
// sent a broken chunked body); an error writing the file is the server's.
func spool(dir string, body io.Reader) (_ *os.File, size int64, err error) {
	f, err := os.CreateTemp(dir, "lodestone-import-*.ndjson")
	if err != nil {
		return nil, 0, fmt.Errorf("spool import: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	size, err = io.Copy(f, readErrors{body})
	var rerr bodyError
	switch {
	case errors.As(err, &rerr):
		err = rerr.err
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, 0, mbe // 413
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, 0, &Error{Status: http.StatusRequestTimeout, Code: "RequestTimeout", Message: "the import body stopped arriving; the server stopped waiting for it", Err: err}
		default:
			return nil, 0, &Error{Status: http.StatusBadRequest, Code: "InvalidImportFile", Message: "reading the body: " + err.Error(), Err: err}
		}
	case err != nil:
		return nil, 0, fmt.Errorf("spool import: %w", err)
	}
	if _, err = f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, fmt.Errorf("spool import: %w", err)
	}
	return f, size, nil
}

// readErrors marks the errors of the reader it wraps as bodyErrors, so
// that spool tells them from the errors of writing the file.
type readErrors struct{ r io.Reader }

func (r readErrors) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = bodyError{err}
	}
	return n, err
}

type bodyError struct{ err error }

func (e bodyError) Error() string { return e.err.Error() }

// removeSpool closes and removes a file made by spool.
func removeSpool(f *os.File, log *slog.Logger) {
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		log.Warn("remove import spool file", "path", f.Name(), "err", err)
	}
}

// runImport streams an import file into the store: models (which come
// first) are parsed together with the stored ones, then every twin and
// relationship is validated as it is read and handed to the store's import
// transaction, so memory stays bounded by the ids seen, not the file. Any
// error aborts the transaction: all or nothing. A dry run checks everything
// in a transaction that is rolled back.
func (a *API) runImport(ctx context.Context, rd *bulk.Reader, dryRun bool, progress func(int)) (store.ImportStats, int, error) {
	var v *importValidator
	var all []twin.Model
	known := map[string]twin.Model{}
	var added []twin.Model
	lines := 0
	src := func(yield func(store.Entity, error) bool) {
		var pending []twin.Model
		modelsDone := false
		flushModels := func() bool {
			modelsDone = true
			if len(pending) == 0 {
				return true
			}
			set, err := pipeline.ParseModels(append(all, pending...))
			if err != nil {
				yield(store.Entity{}, err)
				return false
			}
			v.set = set
			for i := range pending {
				m := pending[i]
				for _, p := range set.Interface(m.ID).Extends() {
					m.Extends = append(m.Extends, p.ID)
				}
				added = append(added, m)
				if !yield(store.Entity{Model: &m}, nil) {
					return false
				}
			}
			return true
		}
		for {
			it, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					yield(store.Entity{}, err) // 413, not a format error
					return
				}
				yield(store.Entity{}, &Error{Status: http.StatusBadRequest, Code: "InvalidImportFile", Message: err.Error(), Err: err})
				return
			}
			lines = it.Line
			if it.Model != nil {
				var head struct {
					ID string `json:"@id"`
				}
				if err := json.Unmarshal(it.Model, &head); err != nil || head.ID == "" {
					yield(store.Entity{}, badRequest("InvalidImportFile", "line %d: not a DTDL interface with an @id", it.Line))
					return
				}
				if _, dup := known[head.ID]; dup {
					yield(store.Entity{}, &Error{Status: http.StatusConflict, Code: "ModelIdAlreadyExists", Message: fmt.Sprintf("line %d: model %s already exists", it.Line, head.ID)})
					return
				}
				pending = append(pending, twin.Model{ID: head.ID, DTDL: it.Model})
				continue
			}
			if it.Twin == nil && it.Relationship == nil {
				continue // the header: it must not end the models
			}
			if !modelsDone && !flushModels() {
				return
			}
			var e store.Entity
			if it.Twin != nil {
				err, e = v.twin(it.Twin), store.Entity{Twin: it.Twin}
			} else {
				err, e = v.relationship(it.Relationship), store.Entity{Relationship: it.Relationship}
			}
			if err != nil {
				yield(store.Entity{}, atLine(it.Line, err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
		if !modelsDone {
			flushModels()
		}
	}
	// Decoding and validating run on a goroutine of their own, ahead of
	// the store, which encodes and writes on its own goroutines. pipelined
	// has ended that goroutine when Import returns (Import consumes src
	// before it returns), so lines, added and v.set are safe to read.
	stats, err := a.pipe.Import(ctx, store.ImportOptions{DryRun: dryRun, Progress: progress}, func(ms *pipeline.Models) iter.Seq2[store.Entity, error] {
		v = &importValidator{ctx: ctx, st: a.opts.Store, set: ms.Set, models: map[twin.ID]string{}, counts: map[string]int{}, rd: a.readerOf(ctx), stored: ms.All}
		known = ms.All
		for _, m := range ms.All {
			all = append(all, m)
		}
		return pipelined(src)
	})
	return stats, lines, err
}

// pipelineBatch is the number of entities pipelined hands over at once.
const pipelineBatch = 128

// pipelined returns a stream of src's entities that runs src on a goroutine
// of its own, up to a few batches ahead of the consumer, so that producing
// an entity overlaps with consuming the ones before. src's entities must
// stay valid after the next is produced (the import source allocates each
// one). A range over the result returns only once that goroutine has
// ended, whether src ended or the consumer stopped early.
func pipelined(src iter.Seq2[store.Entity, error]) iter.Seq2[store.Entity, error] {
	type item struct {
		e   store.Entity
		err error
	}
	return func(yield func(store.Entity, error) bool) {
		ch := make(chan []item, 4)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			defer close(ch)
			batch := make([]item, 0, pipelineBatch)
			send := func() bool {
				select {
				case ch <- batch:
					batch = make([]item, 0, pipelineBatch)
					return true
				case <-stop:
					return false
				}
			}
			defer func() {
				if r := recover(); r != nil {
					batch = append(batch, item{err: fmt.Errorf("api: import source panicked: %v", r)})
					send()
				}
			}()
			for e, err := range src {
				batch = append(batch, item{e, err})
				if err != nil || len(batch) == pipelineBatch {
					if !send() || err != nil {
						return
					}
				}
			}
			if len(batch) > 0 {
				send()
			}
		})
		defer func() {
			close(stop)
			for range ch { // unblock the producer
			}
			wg.Wait()
		}()
		for batch := range ch {
			for _, it := range batch {
				if !yield(it.e, it.err) || it.err != nil {
					return
				}
			}
		}
	}
}

// importValidator checks the twins and relationships of an import stream
// against the models, with targets found earlier in the stream or in the
// store, and counts relationships for multiplicity.
type importValidator struct {
	ctx    context.Context
	st     store.Store
	set    *dtdl.ModelSet
	models map[twin.ID]string // model of each twin seen or looked up
	counts map[string]int     // source + name → relationships seen
	// rd is the importer: the stored models and twins it does not see
	// are as absent.
	rd     reader
	stored map[string]twin.Model
}

// modelVisible reports whether the importer sees model id: one of the
// import's own, or a stored one the policy shows it.
func (v *importValidator) modelVisible(id string) bool {
	m, ok := v.stored[id]
	return v.rd.all || !ok || v.rd.pol.ModelVisible(v.rd.pr, m)
}

func (v *importValidator) twin(t *twin.Twin) error {
	if err := checkID("$dtId", string(t.ID)); err != nil {
		return err
	}
	var iface *dtdl.Interface
	if v.set != nil {
		iface = v.set.Interface(t.Metadata.Model)
	}
	if iface == nil || !v.modelVisible(t.Metadata.Model) {
		return badRequest("ValidationFailed", "twin %s: model %q is not uploaded", t.ID, t.Metadata.Model)
	}
	if err := pipeline.ValidateTwin(iface, *t); err != nil {
		return prefixValidation(err, "twin "+string(t.ID))
	}
	v.models[t.ID] = t.Metadata.Model
	return nil
}

func (v *importValidator) modelOf(id twin.ID) (string, bool) {
	if m, ok := v.models[id]; ok {
		return m, true
	}
	t, err := v.st.GetTwin(v.ctx, id)
	if err != nil || !v.rd.all && !v.rd.pol.TwinVisible(v.rd.pr, t.Metadata.Org, t.Metadata.Model) {
		return "", false
	}
	v.models[id] = t.Metadata.Model
	return t.Metadata.Model, true
}

func (v *importValidator) relationship(r *twin.Relationship) error {
	if err := checkID("$relationshipId", r.ID); err != nil {
		return err
	}
	srcModel, ok := v.modelOf(r.SourceID)
	if !ok {
		return badRequest("ValidationFailed", "relationship %s/%s: source twin %s not found", r.SourceID, r.ID, r.SourceID)
	}
	tgtModel, ok := v.modelOf(r.TargetID)
	if !ok {
		return badRequest("ValidationFailed", "relationship %s/%s: target twin %s not found", r.SourceID, r.ID, r.TargetID)
	}
	key := string(r.SourceID) + "\x00" + r.Name
	v.counts[key]++
	if err := v.set.Interface(srcModel).ValidateRelationship(r.Name, v.set.Interface(tgtModel), r.Properties, v.counts[key]); err != nil {
		return prefixValidation(err, "relationship "+string(r.SourceID)+"/"+r.ID)
	}
	return nil
}

// atLine names the line of an import file in an error, keeping its status
// and code.
func atLine(line int, err error) error {
	e := *classify(err, []func(error) *Error{classifyDomain})
	e.Message = fmt.Sprintf("line %d: %s", line, e.Message)
	return &e
}

func prefixValidation(err error, what string) error {
	var el *dtdl.ErrorList
	if errors.As(err, &el) {
		e := validationError(el)
		e.Message = what + ": " + e.Message
		return e
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (a *API) getImport(w http.ResponseWriter, r *http.Request) error {
	job, ok, err := a.jobs.get(r.Context(), scopedKey(ownerOf(a.readerOf(r.Context())), r.PathValue("id")))
	if err != nil {
		return err
	}
	if !ok {
		return notFound("JobNotFound", "there is no import job %s", r.PathValue("id"))
	}
	return writeJSON(w, http.StatusOK, job)
}

func (a *API) listImports(w http.ResponseWriter, r *http.Request) error {
	jobs, err := a.jobs.list(r.Context(), a.readerOf(r.Context()))
	if err != nil {
		return err
	}
	slices.SortFunc(jobs, func(x, y ImportJob) int { return x.CreatedDateTime.Compare(y.CreatedDateTime) })
	return writeJSON(w, http.StatusOK, struct {
		Value []ImportJob `json:"value"`
	}{Value: jobs})
}

// export streams the store's Export as an import file: the graph is never
// held in memory. An error before the first entity is answered as usual;
// one later, when the status has been sent, aborts the response so that the
// client sees a broken transfer rather than a short file.
func (a *API) export(w http.ResponseWriter, r *http.Request) error {
	at, err := parseTimeParam(r, "asOf")
	if err != nil {
		return err
	}
	var bw *bulk.Writer
	// The export holds only what the principal sees, projected: models
	// it sees, visible twins, and relationships with both ends among
	// them (the file lists twins before relationships).
	rd := a.readerOf(r.Context())
	visible := map[twin.ID]bool{}
	for e, err := range a.opts.Store.Export(r.Context(), at) {
		if err != nil {
			if bw == nil {
				return err
			}
			a.log.Error("export failed", "err", err)
			panic(http.ErrAbortHandler)
		}
		if bw == nil {
			w.Header().Set("Content-Type", "application/x-ndjson")
			bw = bulk.NewWriter(w)
			bw.Header(bulk.Header{FileVersion: "1.0.0", Author: "lodestone", Organization: ""})
		}
		var werr error
		switch {
		case e.Model != nil:
			if rd.all || rd.pol.ModelVisible(rd.pr, *e.Model) {
				werr = bw.Model(e.Model.DTDL)
			}
		case e.Twin != nil:
			t := *e.Twin
			if !rd.all {
				var ok bool
				if t, ok = rd.pol.ProjectTwin(rd.pr, t); !ok {
					continue
				}
				visible[t.ID] = true
			}
			t.ETag = ""
			werr = bw.Twin(t)
		case e.Relationship != nil:
			rel := *e.Relationship
			if !rd.all {
				if !rd.pol.RelationshipVisible(rd.pr, rel, visible[rel.SourceID], visible[rel.TargetID]) {
					continue
				}
				var ok bool
				if rel, ok = rd.pol.ProjectRelationship(rd.pr, rel); !ok {
					continue
				}
			}
			rel.ETag = ""
			werr = bw.Relationship(rel)
		}
		if werr != nil {
			// The client went away or the writer failed: stop reading.
			a.log.Warn("export stopped", "err", werr)
			return nil
		}
	}
	if bw == nil {
		w.Header().Set("Content-Type", "application/x-ndjson")
		bw = bulk.NewWriter(w)
		bw.Header(bulk.Header{FileVersion: "1.0.0", Author: "lodestone", Organization: ""})
	}
	return bw.Flush()
}

// Import validates and writes a batch through the same path as an import
// job (all or nothing), for programs that embed the API, such as the demo
// loader.
func (a *API) Import(ctx context.Context, b *store.Batch) error {
	pr, pw := io.Pipe()
	go func() {
		w := bulk.NewWriter(pw)
		for _, m := range b.Models {
			if err := w.Model(m.DTDL); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		for _, t := range b.Twins {
			w.Twin(t)
		}
		for _, r := range b.Relationships {
			w.Relationship(r)
		}
		pw.CloseWithError(w.Flush())
	}()
	_, _, err := a.runImport(ctx, bulk.NewReader(pr), false, func(int) {})
	pr.CloseWithError(io.ErrClosedPipe) // unblocks the writer if the import stopped early
	return err
}
