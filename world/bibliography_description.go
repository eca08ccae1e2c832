package world

import "encoding/json"

// BibliographyDescription returns the description of the embedded
// bibliography (what it covers and how sources cite it), served with the
// entries by GET /bibliography.
func BibliographyDescription() string {
	var doc struct {
		Description string `json:"description"`
	}
	if json.Unmarshal(bibliographyJSON, &doc) != nil {
		return ""
	}
	return doc.Description
}
