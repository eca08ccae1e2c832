package api

import (
	"net/http"

	"lodestone/world"
)

func (a *API) bibliographyRoutes() []Route {
	return []Route{
		{Pattern: "GET /bibliography", Handler: a.bibliography, Summary: "The bibliography of the world data (world/data/bibliography.json): its description and every entry in file order; a source string's [KEY, place] cites an entry", Response: "Bibliography"},
		{Pattern: "GET /bibliography/{key}", Handler: a.bibliographyEntry, Summary: "One entry of the bibliography by its citation key", Response: "Reference"},
	}
}

// Bibliography is the body of GET /bibliography: the file's own shape.
type Bibliography struct {
	Description string            `json:"description"`
	Entries     []world.Reference `json:"entries"`
}

func (a *API) bibliography(w http.ResponseWriter, r *http.Request) error {
	refs, err := world.Bibliography()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, Bibliography{Description: world.BibliographyDescription(), Entries: refs})
}

func (a *API) bibliographyEntry(w http.ResponseWriter, r *http.Request) error {
	refs, err := world.Bibliography()
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	for _, ref := range refs {
		if ref.Key == key {
			return writeJSON(w, http.StatusOK, ref)
		}
	}
	return notFound("ReferenceNotFound", "no bibliography entry with key %q (GET /bibliography lists them)", key)
}
