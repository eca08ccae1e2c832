package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"lodestone/bulk"
	"lodestone/dtdl"
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

// jobRegistry keeps the import jobs of this process.
type jobRegistry struct {
	mu   sync.Mutex
	jobs map[string]*ImportJob
	seq  atomic.Int64
}

func newJobRegistry() *jobRegistry { return &jobRegistry{jobs: map[string]*ImportJob{}} }

func (j *jobRegistry) update(id string, f func(*ImportJob)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if job := j.jobs[id]; job != nil {
		f(job)
	}
}

func (j *jobRegistry) get(id string) (ImportJob, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	job := j.jobs[id]
	if job == nil {
		return ImportJob{}, false
	}
	return *job, true
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

func (a *API) putImport(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if id == "" {
		id = "import-" + strconv.FormatInt(a.jobs.seq.Add(1), 10) + "-" + strconv.FormatInt(a.now().UnixNano(), 36)
	}
	dryRun := r.URL.Query().Get("dryRun") == "true"
	job := &ImportJob{ID: id, Status: "running", DryRun: dryRun, CreatedDateTime: a.now().UTC(), TotalBytes: r.ContentLength}
	a.jobs.mu.Lock()
	if old := a.jobs.jobs[id]; old != nil && old.Status == "running" {
		a.jobs.mu.Unlock()
		return &Error{Status: http.StatusConflict, Code: "JobAlreadyRunning", Message: fmt.Sprintf("import job %s is running", id)}
	}
	a.jobs.jobs[id] = job
	a.jobs.mu.Unlock()

	body := &countingReader{r: http.MaxBytesReader(w, r.Body, a.opts.MaxBulkBytes)}
	stats, lines, err := a.runImport(r.Context(), bulk.NewReader(body), dryRun, func(done int) {
		a.jobs.update(id, func(j *ImportJob) { j.ProcessedLines = done; j.ProcessedBytes = body.n.Load() })
	})
	finished := a.now().UTC()
	a.jobs.update(id, func(j *ImportJob) {
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
	out, _ := a.jobs.get(id)
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

// runImport reads a whole import file, validates every model, twin and
// relationship, then writes them in one store transaction (or, in a dry
// run, checks them in one that is rolled back).
func (a *API) runImport(ctx context.Context, rd *bulk.Reader, dryRun bool, progress func(int)) (store.ImportStats, int, error) {
	var b store.Batch
	var modelRaws []json.RawMessage
	lines := 0
	for {
		it, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return store.ImportStats{}, lines, &Error{Status: http.StatusBadRequest, Code: "InvalidImportFile", Message: err.Error(), Err: err}
		}
		lines = it.Line
		switch {
		case it.Model != nil:
			modelRaws = append(modelRaws, it.Model)
		case it.Twin != nil:
			b.Twins = append(b.Twins, *it.Twin)
		case it.Relationship != nil:
			b.Relationships = append(b.Relationships, *it.Relationship)
		}
		if lines%10000 == 0 {
			progress(lines)
		}
	}
	// Models: parse the new ones together with the stored ones.
	a.models.mu.Lock()
	defer a.models.mu.Unlock()
	set := a.models.set
	all := make([]twin.Model, 0, len(a.models.all)+len(modelRaws))
	for _, m := range a.models.all {
		all = append(all, m)
	}
	for i, raw := range modelRaws {
		var head struct {
			ID string `json:"@id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.ID == "" {
			return store.ImportStats{}, lines, badRequest("InvalidImportFile", "models[%d]: not a DTDL interface with an @id", i)
		}
		if _, dup := a.models.all[head.ID]; dup {
			return store.ImportStats{}, lines, &Error{Status: http.StatusConflict, Code: "ModelIdAlreadyExists", Message: fmt.Sprintf("model %s already exists", head.ID)}
		}
		m := twin.Model{ID: head.ID, DTDL: raw}
		b.Models = append(b.Models, m)
		all = append(all, m)
	}
	if len(b.Models) > 0 {
		var err error
		if set, err = parseModels(all); err != nil {
			return store.ImportStats{}, lines, err
		}
		for i := range b.Models {
			for _, p := range set.Interface(b.Models[i].ID).Extends() {
				b.Models[i].Extends = append(b.Models[i].Extends, p.ID)
			}
		}
	}
	if err := validateBatch(ctx, a.opts.Store, set, &b); err != nil {
		return store.ImportStats{}, lines, err
	}
	stats, err := a.opts.Store.Import(ctx, &b, store.ImportOptions{DryRun: dryRun, Progress: progress})
	if err != nil {
		return stats, lines, err
	}
	if !dryRun && len(b.Models) > 0 {
		next := make(map[string]twin.Model, len(all))
		for _, m := range all {
			next[m.ID] = m
		}
		if ms, err := a.opts.Store.ListModels(ctx); err == nil {
			for _, m := range ms {
				next[m.ID] = m
			}
		}
		a.models.set, a.models.all = set, next
	}
	return stats, lines, nil
}

// validateBatch checks every twin against its model and every relationship
// against its source's model, its target's model and its multiplicity,
// with targets found in the batch or the store. Errors name the entity.
func validateBatch(ctx context.Context, st store.Store, set *dtdl.ModelSet, b *store.Batch) error {
	models := make(map[twin.ID]string, len(b.Twins))
	for _, t := range b.Twins {
		if set == nil || set.Interface(t.Metadata.Model) == nil {
			return badRequest("ValidationFailed", "twin %s: model %q is not uploaded", t.ID, t.Metadata.Model)
		}
		if err := set.Interface(t.Metadata.Model).ValidateTwin(t.Doc()); err != nil {
			return prefixValidation(err, "twin "+string(t.ID))
		}
		models[t.ID] = t.Metadata.Model
	}
	modelOf := func(id twin.ID) (string, error) {
		if m, ok := models[id]; ok {
			return m, nil
		}
		t, err := st.GetTwin(ctx, id)
		if err != nil {
			return "", err
		}
		models[id] = t.Metadata.Model
		return t.Metadata.Model, nil
	}
	counts := map[string]int{}
	for _, r := range b.Relationships {
		srcModel, err := modelOf(r.SourceID)
		if err != nil {
			return badRequest("ValidationFailed", "relationship %s/%s: source twin %s not found", r.SourceID, r.ID, r.SourceID)
		}
		tgtModel, err := modelOf(r.TargetID)
		if err != nil {
			return badRequest("ValidationFailed", "relationship %s/%s: target twin %s not found", r.SourceID, r.ID, r.TargetID)
		}
		key := string(r.SourceID) + "\x00" + r.Name
		counts[key]++
		if err := set.Interface(srcModel).ValidateRelationship(r.Name, set.Interface(tgtModel), r.Properties, counts[key]); err != nil {
			return prefixValidation(err, "relationship "+string(r.SourceID)+"/"+r.ID)
		}
	}
	return nil
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
	job, ok := a.jobs.get(r.PathValue("id"))
	if !ok {
		return notFound("JobNotFound", "there is no import job %s", r.PathValue("id"))
	}
	return writeJSON(w, http.StatusOK, job)
}

func (a *API) listImports(w http.ResponseWriter, r *http.Request) error {
	a.jobs.mu.Lock()
	out := struct {
		Value []ImportJob `json:"value"`
	}{Value: []ImportJob{}}
	for _, j := range a.jobs.jobs {
		out.Value = append(out.Value, *j)
	}
	a.jobs.mu.Unlock()
	slices.SortFunc(out.Value, func(x, y ImportJob) int { return x.CreatedDateTime.Compare(y.CreatedDateTime) })
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) export(w http.ResponseWriter, r *http.Request) error {
	at, err := parseTimeParam(r, "asOf")
	if err != nil {
		return err
	}
	snap, err := a.opts.Store.Snapshot(r.Context(), at)
	if err != nil {
		return err
	}
	ms, err := a.opts.Store.ListModels(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	bw := bulk.NewWriter(w)
	bw.Header(bulk.Header{FileVersion: "1.0.0", Author: "lodestone", Organization: ""})
	for _, m := range ms {
		if !at.IsZero() && m.UploadTime.After(at) {
			continue
		}
		bw.Model(m.DTDL)
	}
	for _, t := range snap.Twins {
		t.ETag = ""
		bw.Twin(t)
	}
	for _, rel := range snap.Relationships {
		rel.ETag = ""
		bw.Relationship(rel)
	}
	return bw.Flush()
}
