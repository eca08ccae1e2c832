package api

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
)

// maxItemsPerPage reads ADT's max-items-per-page request header: 0 when it
// is absent, an error naming the header when it is not a positive integer.
func maxItemsPerPage(r *http.Request) (int, error) {
	h := r.Header.Get("max-items-per-page")
	if h == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(h)
	if err != nil || n <= 0 {
		return 0, badRequest("InvalidArgument", "max-items-per-page: %q is not a positive integer", h)
	}
	return n, nil
}

// pageAfter returns the continuation token's position in a list ordered
// by key: the last key of the previous page ("" for the first page).
func pageAfter(r *http.Request) (string, error) {
	tok := queryParams(r).Get("continuationToken")
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 {
		return "", badRequest("InvalidArgument", "continuationToken: not a token of this list")
	}
	return string(b), nil
}

// nextLink is the absolute address of the page after the one that ended
// at key last, as ADT's list answers give it: the request's own address
// with continuationToken set.
func nextLink(r *http.Request, last string) string {
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	q := queryParams(r)
	q.Set("continuationToken", base64.RawURLEncoding.EncodeToString([]byte(last)))
	u.RawQuery = q.Encode()
	return u.String()
}
