package graphtest

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// Serve starts a test server answering with h wrapped in mws (in order, so
// the last is outermost) and counting every request, faults included, in
// requests.
func Serve(h http.Handler, mws []func(http.Handler) http.Handler, requests *atomic.Int64) *httptest.Server {
	for _, mw := range mws {
		h = mw(h)
	}
	return httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		h.ServeHTTP(rw, r)
	}))
}

// Route does what a fake Graph server does before looking at a request's
// node and edge: /media/<name> goes to file; any other path must be under
// prefix (Graph's own error otherwise) and carry token. It returns the path
// after prefix and its parts; ok is false when the request was answered.
func Route(rw http.ResponseWriter, r *http.Request, prefix, token string, file func(rw http.ResponseWriter, name string)) (rest string, parts []string, ok bool) {
	if name, isFile := strings.CutPrefix(r.URL.Path, "/media/"); isFile {
		file(rw, name)
		return "", nil, false
	}
	rest, ok = strings.CutPrefix(r.URL.Path, prefix+"/")
	if !ok {
		UnknownPath(rw, strings.TrimPrefix(r.URL.Path, "/"))
		return "", nil, false
	}
	if !CheckToken(rw, r, token) {
		return "", nil, false
	}
	return rest, strings.Split(strings.Trim(rest, "/"), "/"), true
}

// ServeFile answers a media file's bytes, or 404 when ok is false.
func ServeFile(rw http.ResponseWriter, m platformtest.MediaFile, ok bool) {
	if !ok {
		http.NotFound(rw, nil)
		return
	}
	rw.Header().Set("Content-Type", m.ContentType)
	rw.Header().Set("Content-Length", strconv.Itoa(len(m.Data)))
	rw.Write(m.Data)
}

// WriteList answers the page of list that r asks for (see Paginate), at
// most max entries, each rendered by render: {"data": [...], "paging": {...}}.
func WriteList[T any](rw http.ResponseWriter, r *http.Request, list []T, id func(T) string, max int, render func(T) map[string]any) {
	ids := make([]string, len(list))
	for i, x := range list {
		ids[i] = id(x)
	}
	start, end, paging, ok := Paginate(rw, r, ids, max)
	if !ok {
		return
	}
	data := []map[string]any{}
	for _, x := range list[start:end] {
		data = append(data, render(x))
	}
	WriteJSON(rw, map[string]any{"data": data, "paging": paging})
}
