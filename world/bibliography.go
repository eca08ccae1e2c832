package world

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

//go:embed data/bibliography.json
var bibliographyJSON []byte

// Reference is one entry of the bibliography of the world data
// (data/bibliography.json). A source string cites it by Key in square
// brackets: "[S6]", or "[KEY, table 2]" with a place inside the document.
type Reference struct {
	// Key is the citation key: the research note's S# key where the note
	// cites the document, otherwise a name (USGS2011, NOTE).
	Key    string `json:"key"`
	Author string `json:"author,omitempty"`
	Title  string `json:"title"`
	// Year is the year of publication; nil when the research note did not
	// record it.
	Year      *int   `json:"year"`
	Publisher string `json:"publisher,omitempty"`
	// Identifier is a DOI ("doi:…") or a report number ("OSTI 1871577").
	Identifier string `json:"identifier,omitempty"`
	URL        string `json:"url,omitempty"`
	// Kind grades the source: primary, secondary (a reproduction or a
	// summary of one), vendor, low-confidence, or one of Lodestone's own:
	// research-note, derivation, convention.
	Kind string `json:"kind"`
	// Table and Page locate the figures inside the document; nil when the
	// research note did not record where they are (Note then says so).
	Table *string `json:"table"`
	Page  *string `json:"page"`
	Note  string  `json:"note,omitempty"`
}

// referenceKinds are the allowed values of Reference.Kind.
var referenceKinds = []string{"primary", "secondary", "vendor", "low-confidence", "research-note", "derivation", "convention"}

// String formats the reference as one citation line (without its key).
func (r Reference) String() string {
	var b strings.Builder
	if r.Author != "" {
		b.WriteString(r.Author + " ")
	}
	if r.Year != nil {
		b.WriteString("(" + strconv.Itoa(*r.Year) + ") ")
	} else {
		b.WriteString("(n.d.) ")
	}
	b.WriteString(r.Title)
	for _, s := range []string{r.Publisher, r.Identifier, r.URL} {
		if s != "" {
			b.WriteString(". " + s)
		}
	}
	if r.Table != nil {
		b.WriteString(". Table: " + *r.Table)
	}
	if r.Page != nil {
		b.WriteString(". Page: " + *r.Page)
	}
	if r.Kind != "primary" {
		b.WriteString(" [" + r.Kind + "]")
	}
	return b.String()
}

// Bibliography decodes and checks the embedded bibliography: entries in
// file order, keys unique and well formed, every entry with a title and a
// known kind, and a note wherever neither a table nor a page is given.
func Bibliography() ([]Reference, error) {
	dec := json.NewDecoder(bytes.NewReader(bibliographyJSON))
	dec.DisallowUnknownFields()
	var doc struct {
		Description string      `json:"description"`
		Entries     []Reference `json:"entries"`
	}
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("world: bibliography: %w", err)
	}
	seen := map[string]bool{}
	for i, r := range doc.Entries {
		p := fmt.Sprintf("bibliography.entries[%d]", i)
		switch {
		case !keyRE.MatchString(r.Key):
			return nil, fieldErr(p+".key", "%q is not a citation key (a letter, then letters and digits)", r.Key)
		case seen[r.Key]:
			return nil, fieldErr(p+".key", "duplicate key %q", r.Key)
		case strings.TrimSpace(r.Title) == "":
			return nil, fieldErr(p+".title", "required")
		case !slices.Contains(referenceKinds, r.Kind):
			return nil, fieldErr(p+".kind", "%q is not one of %v", r.Kind, referenceKinds)
		case r.Table == nil && r.Page == nil && strings.TrimSpace(r.Note) == "":
			return nil, fieldErr(p+".note", "required when neither table nor page is given: say why")
		}
		seen[r.Key] = true
	}
	if len(doc.Entries) == 0 {
		return nil, errors.New("world: bibliography: no entries")
	}
	return doc.Entries, nil
}

// bibliographyIndex returns the bibliography keyed by citation key.
func bibliographyIndex() (map[string]Reference, error) {
	refs, err := Bibliography()
	if err != nil {
		return nil, err
	}
	idx := make(map[string]Reference, len(refs))
	for _, r := range refs {
		idx[r.Key] = r
	}
	return idx, nil
}

var (
	keyRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
	// bracketRE finds every bracketed group of a source string; each must
	// be a citation (citeRE): "[KEY]" or "[KEY, place in the document]".
	bracketRE = regexp.MustCompile(`\[[^\]]*\]`)
	citeRE    = regexp.MustCompile(`^\[([A-Za-z][A-Za-z0-9]*)(?:, ([^\]]+))?\]$`)
)

// Citations returns the citation keys a text cites, in order of first
// appearance, and the bracketed groups of it that are not citations.
func Citations(text string) (keys, malformed []string) {
	for _, g := range bracketRE.FindAllString(text, -1) {
		m := citeRE.FindStringSubmatch(g)
		if m == nil {
			malformed = append(malformed, g)
			continue
		}
		if !slices.Contains(keys, m[1]) {
			keys = append(keys, m[1])
		}
	}
	return keys, malformed
}

// citedSources returns, for every key cited by a string anywhere in the
// JSON document data or in extra, its citation: the data set's own entry
// from local when it has one, else the bibliography's. Keys that resolve
// nowhere are left out (Validate reports those cited in a source).
func citedSources(data []byte, local map[string]string, bib map[string]Reference, extra ...string) map[string]string {
	var doc any
	_ = json.Unmarshal(data, &doc)
	out := map[string]string{}
	add := func(s string) {
		keys, _ := Citations(s)
		for _, k := range keys {
			if v, ok := local[k]; ok {
				out[k] = v
			} else if r, ok := bib[k]; ok {
				out[k] = r.String()
			}
		}
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			add(x)
		case []any:
			for _, c := range x {
				walk(c)
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				if k != "sources" {
					walk(x[k])
				}
			}
		}
	}
	walk(doc)
	for _, s := range extra {
		add(s)
	}
	maps.Copy(out, local)
	return out
}
