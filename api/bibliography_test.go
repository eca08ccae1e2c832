package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"lodestone/world"
)

// TestBibliography: GET /bibliography serves the file's description and
// every entry in order; GET /bibliography/{key} one entry; an unknown key
// is a 404.
func TestBibliography(t *testing.T) {
	e := start(t, options{noModels: true})
	want, err := world.Bibliography()
	if err != nil {
		t.Fatal(err)
	}
	var bib struct {
		Description string            `json:"description"`
		Entries     []world.Reference `json:"entries"`
	}
	if err := json.Unmarshal(e.mustDo("GET", "/bibliography", nil, http.StatusOK).body, &bib); err != nil {
		t.Fatal(err)
	}
	if bib.Description == "" || len(bib.Entries) != len(want) || bib.Entries[0].Key != want[0].Key {
		t.Fatalf("GET /bibliography: description %q, %d entries (first %v), want %d from %s", bib.Description, len(bib.Entries), bib.Entries, len(want), want[0].Key)
	}
	for _, c := range []struct {
		key    string
		status int
	}{{want[0].Key, http.StatusOK}, {want[len(want)-1].Key, http.StatusOK}, {"NoSuchKey", http.StatusNotFound}} {
		r := e.mustDo("GET", "/bibliography/"+c.key, nil, c.status)
		var ref world.Reference
		if c.status == http.StatusOK && (json.Unmarshal(r.body, &ref) != nil || ref.Key != c.key || ref.Title == "") {
			t.Errorf("GET /bibliography/%s = %s", c.key, r.body)
		}
	}
}
