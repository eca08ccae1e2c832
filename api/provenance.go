package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"reflect"

	"lodestone/store"
	"lodestone/trust/credibility"
	"lodestone/trust/provenance"
	"lodestone/twin"
	"lodestone/world"
)

// The answers of the provenance and credibility routes, for the OpenAPI
// document.
func init() {
	schemaTypes["ProvenanceDocument"] = reflect.TypeFor[provenance.Document]()
	schemaTypes["CredibilityReport"] = reflect.TypeFor[credibility.Report]()
}

// provenanceRoutes serves the provenance of twins (issue 12 item 7).
func (a *API) provenanceRoutes() []Route {
	return []Route{
		{Pattern: "GET /digitaltwins/{id}/provenance", Handler: a.auditor(a.provenance), Summary: "W3C PROV-JSON provenance of every version of every property value of a twin: the change (event id, log index) that wrote it, the agent, the value it revised, and for process-twin results the run, its spec and engine version, and the cited sources (docs/formats/provenance.md)", Response: "ProvenanceDocument"},
	}
}

func (a *API) provenance(w http.ResponseWriter, r *http.Request) error {
	id := twin.ID(r.PathValue("id"))
	if err := a.wholeHistory(r.Context(), a.viewerOf(r.Context()), id); err != nil {
		return err
	}
	doc, err := provenance.Build(r.Context(), a.opts.Store, id, a.provenanceOptions(r))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("DigitalTwinNotFound", "there is no digital twin with id %s", id)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return writeJSON(w, http.StatusOK, doc)
}

// provenanceOptions gives the provenance builder the log, the spec hash of
// the simulate route and the world bibliography.
func (a *API) provenanceOptions(r *http.Request) provenance.Options {
	o := provenance.Options{Source: a.opts.Source, SpecHash: specHash, Cite: citeBibliography}
	if a.opts.TrustLog != nil {
		if l, err := provenance.ReadLog(r.Context(), a.opts.Store); err == nil {
			o.Log = l
		}
	}
	return o
}

// specHash is the inputHash the simulate route computes for a cascade
// twin's spec.
func specHash(t twin.Twin) (string, error) {
	spec, err := specFromTwin(t)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonicalJSON(spec))
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// citeBibliography resolves the keys a source text cites in the world
// bibliography (world/data/bibliography.json).
func citeBibliography(source string) []provenance.Reference {
	keys, _ := world.Citations(source)
	if len(keys) == 0 {
		return nil
	}
	bib, err := world.Bibliography()
	if err != nil {
		return nil
	}
	byKey := make(map[string]world.Reference, len(bib))
	for _, r := range bib {
		byKey[r.Key] = r
	}
	var out []provenance.Reference
	for _, k := range keys {
		ref, ok := byKey[k]
		if !ok {
			out = append(out, provenance.Reference{Key: k, Title: "(not in the bibliography)", Kind: "unresolved"})
			continue
		}
		pr := provenance.Reference{Key: k, Title: ref.Title, URL: ref.URL, Kind: ref.Kind}
		if ref.Year != nil {
			pr.Year = *ref.Year
		}
		out = append(out, pr)
	}
	return out
}
