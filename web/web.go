package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Static returns the dashboard's files, rooted at the static directory.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Handler serves the dashboard: index.html at "/" and the files under
// static by their paths. The pages route with URL fragments (#/twin/…), so
// no other path needs index.html; any other request goes to notFound (the
// API's JSON 404), so a mistyped API path never answers 200 with HTML.
func Handler(notFound http.Handler) http.Handler {
	root := Static()
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name != "" {
			if st, err := fs.Stat(root, name); err != nil || st.IsDir() {
				notFound.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
