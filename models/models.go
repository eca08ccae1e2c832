package models

import (
	"embed"
	"io/fs"
	"sort"
)

// FS holds the model files, one DTDL interface per *.json file at its root.
//
//go:embed *.json
var FS embed.FS

// File is one model document: its file name and its JSON text. It has the
// same fields as dtdl.Document, so a File converts to one directly.
type File struct {
	Name string
	Data []byte
}

// Files returns every model document, sorted by file name. The Data slices
// are fresh copies the caller may keep or modify.
func Files() []File {
	names, err := fs.Glob(FS, "*.json")
	if err != nil {
		// The pattern is constant and valid; Glob fails only on a bad pattern.
		panic("models: " + err.Error())
	}
	sort.Strings(names)
	out := make([]File, 0, len(names))
	for _, n := range names {
		b, err := FS.ReadFile(n)
		if err != nil {
			panic("models: read embedded " + n + ": " + err.Error())
		}
		out = append(out, File{Name: n, Data: b})
	}
	return out
}
