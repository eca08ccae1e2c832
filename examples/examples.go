package examples

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed sx/*.json sx-design/*.json sx-dynamic/*.json precip/*.json calcine/*.json flowsheet/*.json
var files embed.FS

// Engines are the example folders, one per process engine, in the order a
// plant runs them.
var Engines = []string{"sx", "sx-design", "sx-dynamic", "precip", "calcine", "flowsheet"}

// Example is one bundled spec: its engine folder, its name (the file name
// without .json) and its bytes.
type Example struct {
	Engine string
	Name   string
	Spec   []byte
}

// Process returns every bundled process example, by engine then name.
func Process() []Example {
	var out []Example
	for _, eng := range Engines {
		entries, err := fs.ReadDir(files, eng)
		if err != nil {
			continue
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		for _, n := range names {
			b, err := files.ReadFile(path.Join(eng, n))
			if err != nil {
				continue
			}
			out = append(out, Example{Engine: eng, Name: strings.TrimSuffix(n, ".json"), Spec: b})
		}
	}
	return out
}

// Get returns one example by engine folder and name.
func Get(engine, name string) ([]byte, bool) {
	if strings.Contains(engine, "/") || strings.Contains(name, "/") {
		return nil, false
	}
	b, err := files.ReadFile(path.Join(engine, name+".json"))
	return b, err == nil
}
