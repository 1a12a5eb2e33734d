// Package graphtest helps the facebooktest and instagramtest fake servers
// speak Graph API: error bodies, access-token checks, the fields parameter,
// and cursor paging with paging.next links that carry the access token as
// the real ones do.
package graphtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/graph"
)

// Time renders t the way Graph does ("2019-09-05T21:48:47+0000").
func Time(t time.Time) string { return t.UTC().Format(graph.TimeLayout) }

// WriteJSON writes v as a 200 JSON answer.
func WriteJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "OAuthException", 2, 0, "An unexpected error has occurred. Please retry your request later.")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// WriteError writes a Graph error body with a fresh fbtrace_id.
func WriteError(w http.ResponseWriter, status int, typ string, code, subcode int, msg string) {
	e := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": traceID()}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_request" "`+msg+`"`)
	w.WriteHeader(status)
	w.Write(b)
}

func traceID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "A" + hex.EncodeToString(b)[:10]
}

// CheckToken answers Graph's own errors when the request's access_token is
// missing (code 104) or not want (code 190) and returns false then.
func CheckToken(w http.ResponseWriter, r *http.Request, want string) bool {
	got := r.URL.Query().Get("access_token")
	switch {
	case got == "":
		WriteError(w, http.StatusBadRequest, "OAuthException", 104, 0, "An access token is required to request this resource.")
		return false
	case got != want:
		WriteError(w, http.StatusBadRequest, "OAuthException", 190, 0, "Invalid OAuth access token - Cannot parse access token")
		return false
	}
	return true
}

// NotFound answers Graph's error for an id that does not exist (or was deleted).
func NotFound(w http.ResponseWriter, id string) {
	WriteError(w, http.StatusBadRequest, "GraphMethodException", 100, 33,
		fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", id))
}

// UnknownPath answers Graph's error for an edge a node does not have.
func UnknownPath(w http.ResponseWriter, edge string) {
	WriteError(w, http.StatusBadRequest, "OAuthException", 2500, 0, "Unknown path components: /"+edge)
}

// Fields splits a fields parameter at its top level: "a,b{c,d}.limit(2),e"
// gives a, b, e. An empty parameter gives nil.
func Fields(param string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i <= len(param); i++ {
		if i < len(param) {
			switch param[i] {
			case '{', '(':
				depth++
				continue
			case '}', ')':
				depth--
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		f := strings.TrimSpace(param[start:i])
		if j := strings.IndexAny(f, "{.("); j >= 0 {
			f = f[:j]
		}
		if f != "" {
			out = append(out, f)
		}
		start = i + 1
	}
	return out
}

// CheckFields answers Graph's errors for deprecated fields (#12) and fields
// the node type does not have (#100); it returns the requested fields, or
// ok false after answering an error.
func CheckFields(w http.ResponseWriter, r *http.Request, node string, known, deprecated []string) (fields []string, ok bool) {
	fields = Fields(r.URL.Query().Get("fields"))
	for _, f := range fields {
		if contains(deprecated, f) {
			WriteError(w, http.StatusBadRequest, "OAuthException", 12, 0,
				fmt.Sprintf("(#12) %s field is deprecated for versions v3.3 and higher", f))
			return nil, false
		}
		if !contains(known, f) {
			WriteError(w, http.StatusBadRequest, "OAuthException", 100, 0,
				fmt.Sprintf("(#100) Tried accessing nonexisting field (%s) on node type (%s)", f, node))
			return nil, false
		}
	}
	return fields, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Only keeps the requested fields of obj (and always id), as Graph does.
// No fields requested keeps defaults (the listed ones).
func Only(obj map[string]any, fields []string, defaults ...string) map[string]any {
	if len(fields) == 0 {
		fields = defaults
	}
	out := map[string]any{}
	for _, f := range append([]string{"id"}, fields...) {
		if v, ok := obj[f]; ok && v != nil {
			out[f] = v
		}
	}
	return out
}

// Cursor encodes an entry's id (and where it was, to find it fast) as an
// opaque cursor.
func Cursor(id string, pos int) string {
	return base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(pos) + ":id:" + id))
}

// Paginate picks the page of ids that r asks for (limit, after, before)
// with at most max entries, and builds Graph's paging object. ok is false
// after answering an error for a cursor that points at nothing.
func Paginate(w http.ResponseWriter, r *http.Request, ids []string, max int) (start, end int, paging map[string]any, ok bool) {
	q := r.URL.Query()
	limit := max
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 && n < max {
		limit = n
	}
	start = 0
	if a := q.Get("after"); a != "" {
		i := indexOf(ids, a)
		if i < 0 {
			WriteError(w, http.StatusBadRequest, "OAuthException", 100, 0, "(#100) The after cursor is not valid")
			return 0, 0, nil, false
		}
		start = i + 1
	}
	end = min(start+limit, len(ids))
	paging = map[string]any{}
	if start < end {
		paging["cursors"] = map[string]string{"before": Cursor(ids[start], start), "after": Cursor(ids[end-1], end-1)}
	}
	if end < len(ids) {
		paging["next"] = link(r, "after", Cursor(ids[end-1], end-1), limit)
	}
	if start > 0 && start < end {
		paging["previous"] = link(r, "before", Cursor(ids[start], start), limit)
	}
	return start, end, paging, true
}

func indexOf(ids []string, cursor string) int {
	b, err := base64.StdEncoding.DecodeString(cursor)
	if err != nil {
		return -1
	}
	posStr, id, ok := strings.Cut(string(b), ":id:")
	if !ok {
		return -1
	}
	if pos, err := strconv.Atoi(posStr); err == nil && pos >= 0 && pos < len(ids) && ids[pos] == id {
		return pos
	}
	for i, x := range ids { // the list changed since: find the entry by id
		if x == id {
			return i
		}
	}
	return -1
}

// link is an absolute URL to the same edge with one cursor set; like
// Graph's own, it carries every parameter of the request, access_token too.
func link(r *http.Request, key, cursor string, limit int) string {
	q := r.URL.Query()
	q.Del("after")
	q.Del("before")
	q.Set(key, cursor)
	q.Set("limit", strconv.Itoa(limit))
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}
