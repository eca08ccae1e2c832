package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"lodestone/store"
	"lodestone/trust"
	"lodestone/trust/auth"
)

// trustRoutes serves the trust layer: the transparency log, verify,
// provenance and credibility.
//
// The log's routes are for principals with the auditor or admin role (the
// guard checks it: auth.ClassOf classes them Audit), except the inclusion
// proof of one entry, which a reader or writer may also fetch for an entry
// of its own org's writes (class OwnProof; logProof checks the entry's
// org). A server without --auth serves them all to its anonymous
// principal.
func (a *API) trustRoutes() []Route {
	return append([]Route{
		{Pattern: "GET /log/checkpoint", Handler: a.logCheckpoint, Summary: "The transparency log's latest checkpoint: a C2SP tlog-checkpoint signed as a C2SP note (text/plain)"},
		{Pattern: "GET /log/key", Handler: a.logKey, Summary: "The log's verifier key in C2SP vkey form (text/plain)"},
		{Pattern: "GET /log/tile/", Handler: a.logTile, Summary: "C2SP tlog-tiles (a path prefix): hash tiles /log/tile/<L>/<N>[.p/<W>] and entry bundles /log/tile/entries/<N>[.p/<W>] of the checkpointed tree (application/octet-stream)"},
		{Pattern: "GET /log/proof/{index}", Handler: a.logProof, Summary: "RFC 6962 inclusion proof of the entry at index in the latest checkpoint's tree, with the entry and the checkpoint: any entry's for auditors and admins, an entry of the principal's own org for its readers and writers (another org's: 404)", Response: "LogProof"},
		{Pattern: "GET /verify", Handler: a.verify, Summary: "Recompute every log entry from the store and check the tree, checkpoints and their consistency: a report of each mismatch", Response: "VerifyReport"},
	}, append(a.provenanceRoutes(), a.credibilityRoutes()...)...)
}

// auditor marks the handler of an auditors' route (provenance): it adds
// nothing, since the guard already checked the role (auth.ClassOf classes
// the route Audit); it says at the route table whose route it is.
func (a *API) auditor(h HandlerFunc) HandlerFunc { return h }

// trustLog returns the log, or the error for a server running without one.
func (a *API) trustLog() (*trust.Log, error) {
	if a.opts.TrustLog == nil {
		return nil, &Error{Status: http.StatusNotFound, Code: "LogNotEnabled", Message: "this server keeps no transparency log: start it with --log-key FILE (made by `lodestone trust keygen`)"}
	}
	return a.opts.TrustLog, nil
}

func writeText(w http.ResponseWriter, s []byte) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err := w.Write(s)
	return err
}

func (a *API) logCheckpoint(w http.ResponseWriter, r *http.Request) error {
	l, err := a.trustLog()
	if err != nil {
		return err
	}
	cp, _ := l.Latest()
	if cp == nil {
		// Sign the first checkpoint now rather than answer 404 for up to
		// a checkpoint interval.
		if err := l.Checkpoint(r.Context()); err != nil {
			return err
		}
		if cp, _ = l.Latest(); cp == nil {
			return &Error{Status: http.StatusNotFound, Code: "LogEmpty", Message: "the transparency log has no entries yet"}
		}
	}
	w.Header().Set("Cache-Control", "no-cache")
	return writeText(w, cp)
}

func (a *API) logKey(w http.ResponseWriter, r *http.Request) error {
	l, err := a.trustLog()
	if err != nil {
		return err
	}
	return writeText(w, []byte(l.VKey()+"\n"))
}

func (a *API) logTile(w http.ResponseWriter, r *http.Request) error {
	l, err := a.trustLog()
	if err != nil {
		return err
	}
	tp, err := trust.ParseTilePath(strings.TrimPrefix(r.URL.Path, "/log/tile/"))
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "InvalidArgument", Message: err.Error()}
	}
	b, err := l.Tile(tp)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if tp.W == 1<<trust.TileHeight {
		w.Header().Set("Cache-Control", "max-age=31536000, immutable") // full tiles never change
	}
	_, err = w.Write(b)
	return err
}

func (a *API) logProof(w http.ResponseWriter, r *http.Request) error {
	l, err := a.trustLog()
	if err != nil {
		return err
	}
	idx, err := strconv.ParseInt(r.PathValue("index"), 10, 64)
	if err != nil || idx < 0 {
		return &Error{Status: http.StatusBadRequest, Code: "InvalidArgument", Message: fmt.Sprintf("index: %q is not a non-negative integer", r.PathValue("index"))}
	}
	// A reader or writer without the auditor role proves its own org's
	// entries only; any other entry, and one that does not exist, is the
	// same 404 (neither the entry's org nor the tree's size is told).
	pr, hasPr := auth.FromContext(r.Context())
	ownOnly := hasPr && pr.Method != "" && !pr.Has(auth.Auditor)
	hidden := &Error{Status: http.StatusNotFound, Code: "LogEntryNotFound", Message: fmt.Sprintf("there is no log entry %d of org %q in the signed tree", idx, pr.Org)}
	if _, size := l.Latest(); idx >= size && idx < l.Size() {
		if err := l.Checkpoint(r.Context()); err != nil {
			return err
		}
	}
	p, err := l.Prove(idx)
	if err != nil {
		if ownOnly && errors.Is(err, store.ErrNotFound) {
			return hidden
		}
		return err
	}
	if ownOnly {
		var ent struct {
			Org *string `json:"org"`
		}
		if err := json.Unmarshal([]byte(p.Entry), &ent); err != nil || ent.Org == nil || *ent.Org != pr.Org {
			return hidden
		}
	}
	return writeJSON(w, http.StatusOK, p)
}

func (a *API) verify(w http.ResponseWriter, r *http.Request) error {
	l, err := a.trustLog()
	if err != nil {
		return err
	}
	// Sign what this server appended, so that its recent writes are not
	// reported as unsigned.
	if err := l.Checkpoint(r.Context()); err != nil {
		return err
	}
	rep, err := trust.Verify(r.Context(), a.opts.Store, l.VKey())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// withLogIndex makes the response of a write carry Lodestone-Log-Index:
// the log index of the write's first entry. The pipeline adds the
// records it committed to the recorder of the request's context (see
// store.RecorderFrom) after the log appended them, so the index is known
// before the handler writes its status.
func (a *API) withLogIndex(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request) {
	if a.opts.TrustLog == nil || r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		return w, r
	}
	rec := &store.Recorder{}
	return &logIndexWriter{ResponseWriter: w, rec: rec, log: a.opts.TrustLog}, r.WithContext(store.WithRecorder(r.Context(), rec))
}

type logIndexWriter struct {
	http.ResponseWriter
	rec   *store.Recorder
	log   *trust.Log
	wrote bool
}

func (w *logIndexWriter) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		if recs := w.rec.Records(); len(recs) > 0 {
			if idx, ok := w.log.IndexOf(recs[0].Seq); ok {
				w.Header().Set("Lodestone-Log-Index", strconv.FormatInt(idx, 10))
			}
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *logIndexWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush keeps streaming responses streaming.
func (w *logIndexWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *logIndexWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
