// Package graph holds what the Facebook and Instagram connectors share
// about Meta's Graph API: its error bodies and what they mean, its
// timestamps, its cursor paging, and Fetcher, which builds Graph URLs with
// the access token and follows paging.next links only on the API's own host.
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// DefaultAPIBase is the real Graph API base, version included.
const DefaultAPIBase = "https://graph.facebook.com/v21.0"

// TimeLayout is how Graph writes times ("2019-09-05T21:48:47+0000").
const TimeLayout = "2006-01-02T15:04:05-0700"

// Paging is the paging object of every Graph collection.
type Paging struct {
	Cursors  *Cursors `json:"cursors,omitempty"`
	Next     string   `json:"next,omitempty"`
	Previous string   `json:"previous,omitempty"`
}

// Cursors are the opaque positions of a page's first and last entries.
type Cursors struct {
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// ParseTime reads a Graph timestamp (Graph's own layout or RFC 3339).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(TimeLayout, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: bad Graph time %q", platforms.ErrMalformed, s)
	}
	return t.UTC(), nil
}

// Error is an error answer of the Graph API:
// {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}.
// errors.Is matches platforms.ErrAuth (code 190 and other token or
// permission errors, whatever the HTTP status), platforms.ErrRateLimited
// (codes 4, 17, 32, 341, 613) or platforms.ErrNotFound (code 100 subcode 33).
type Error struct {
	Status    int    // HTTP status
	URL       string // redacted
	Message   string
	Type      string
	Code      int
	Subcode   int
	FBTraceID string
	kind      error
}

func (e *Error) Error() string {
	return fmt.Sprintf("graph: GET %s: HTTP %d: %s (type %s, code %d, subcode %d, fbtrace_id %s)",
		e.URL, e.Status, e.Message, e.Type, e.Code, e.Subcode, e.FBTraceID)
}

// Unwrap lets errors.Is match the platforms error kinds.
func (e *Error) Unwrap() error { return e.kind }

// kindOf maps a Graph error code (and the HTTP status when the code says
// nothing) to a platforms error kind; nil for other errors.
func kindOf(code, subcode, status int) error {
	switch {
	case code == 190 || code == 102 || code == 104 || code == 10 || (code >= 200 && code <= 299):
		return platforms.ErrAuth // expired, invalid, missing token; permission refused
	case code == 4 || code == 17 || code == 32 || code == 341 || code == 613 || code == 80001 || code == 80002:
		return platforms.ErrRateLimited
	case code == 100 && subcode == 33:
		return platforms.ErrNotFound
	}
	switch {
	case status == 401 || status == 403:
		return platforms.ErrAuth
	case status == 404 || status == 410:
		return platforms.ErrNotFound
	case status == 429:
		return platforms.ErrRateLimited
	}
	return nil
}

type envelope struct {
	Error *struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		Subcode   int    `json:"error_subcode"`
		FBTraceID string `json:"fbtrace_id"`
	} `json:"error"`
}

var (
	codeRE    = regexp.MustCompile(`"code"\s*:\s*(\d+)`)
	subcodeRE = regexp.MustCompile(`"error_subcode"\s*:\s*(\d+)`)
	typeRE    = regexp.MustCompile(`"type"\s*:\s*"([^"\\]*)"`)
	messageRE = regexp.MustCompile(`"message"\s*:\s*"((?:[^"\\]|\\.)*)`)
	hashRE    = regexp.MustCompile(`^\(#(\d+)\)`)
)

// ParseError reads a Graph error body. It also reads the first bytes of
// one (platforms.HTTPError keeps only a snippet), pulling out the code and
// subcode. ok is false when body is not a Graph error.
func ParseError(status int, body []byte) (e *Error, ok bool) {
	var env envelope
	if err := json.Unmarshal(body, &env); err == nil {
		if env.Error == nil {
			return nil, false
		}
		x := env.Error
		return &Error{Status: status, Message: x.Message, Type: x.Type, Code: x.Code, Subcode: x.Subcode,
			FBTraceID: x.FBTraceID, kind: kindOf(x.Code, x.Subcode, status)}, true
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if !bytes.HasPrefix(trimmed, []byte("{")) || !bytes.Contains(trimmed, []byte(`"error"`)) {
		return nil, false
	}
	e = &Error{Status: status, Message: "(error body cut short)"}
	if m := messageRE.FindSubmatch(trimmed); m != nil {
		e.Message = string(m[1]) + "…"
	}
	switch m, h := codeRE.FindSubmatch(trimmed), hashRE.FindStringSubmatch(e.Message); {
	case m != nil:
		e.Code, _ = strconv.Atoi(string(m[1]))
	case h != nil: // "(#4) Application request limit reached"
		e.Code, _ = strconv.Atoi(h[1])
	case strings.Contains(strings.ToLower(e.Message), "access token"):
		e.Code = 190 // the code was cut off a long token error ("Error validating access token: ...")
	default:
		return nil, false
	}
	if m := subcodeRE.FindSubmatch(trimmed); m != nil {
		e.Subcode, _ = strconv.Atoi(string(m[1]))
	}
	if m := typeRE.FindSubmatch(trimmed); m != nil {
		e.Type = string(m[1])
	}
	e.kind = kindOf(e.Code, e.Subcode, status)
	return e, true
}

// Translate turns a platforms.HTTPError whose body is a Graph error into
// an *Error (so code 190 on a 400 is ErrAuth, code 4 on a 403 is
// ErrRateLimited); other errors pass through unchanged.
func Translate(err error) error {
	var he *platforms.HTTPError
	if !errors.As(err, &he) {
		return err
	}
	ge, ok := ParseError(he.Status, []byte(he.Body))
	if !ok {
		return err
	}
	ge.URL = he.URL
	return ge
}

// Fetcher reads Graph pages for one account through a platforms.Client.
type Fetcher struct {
	c     *platforms.Client
	base  *url.URL
	token string
}

// NewFetcher checks apiBase ("" means DefaultAPIBase) and returns a
// Fetcher that sends token as the access_token query parameter.
func NewFetcher(c *platforms.Client, apiBase, token string) (*Fetcher, error) {
	if apiBase == "" {
		apiBase = DefaultAPIBase
	}
	u, err := url.Parse(strings.TrimRight(apiBase, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("graph: bad api_base %q", apiBase)
	}
	u.RawQuery, u.Fragment = "", ""
	return &Fetcher{c: c, base: u, token: token}, nil
}

// URL builds base + path with the query q and the access token.
func (f *Fetcher) URL(path string, q url.Values) string {
	u := *f.base
	u.Path = f.base.Path + path
	u.RawPath = ""
	v := url.Values{}
	for k, vs := range q {
		v[k] = append([]string(nil), vs...)
	}
	if f.token != "" {
		v.Set("access_token", f.token)
	}
	u.RawQuery = v.Encode()
	return u.String()
}

// Get fetches one Graph page. Graph errors come back as *Error; a 200
// whose body is a Graph error is an error too.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (*platforms.Page, error) {
	p, err := f.c.Get(ctx, rawURL, nil)
	if err != nil {
		return nil, Translate(err)
	}
	trimmed := bytes.TrimLeft(p.Body, " \t\r\n")
	if bytes.HasPrefix(trimmed, []byte(`{"error"`)) {
		if ge, ok := ParseError(p.Status, p.Body); ok {
			ge.URL = p.URL
			return nil, ge
		}
	}
	return p, nil
}

// Next returns the URL of the page after cur, or "" when pg has no next
// link (Graph's last page). A next link on the API's own scheme and host is
// followed (with the access token put back: raw pages are redacted);
// any other is not trusted, and the after cursor is applied to cur instead.
func (f *Fetcher) Next(pg Paging, cur string) (string, error) {
	if pg.Next == "" {
		return "", nil
	}
	next := ""
	if nu, err := url.Parse(pg.Next); err == nil && nu.Scheme == f.base.Scheme && nu.Host == f.base.Host {
		q := nu.Query()
		if f.token != "" {
			q.Set("access_token", f.token)
		} else {
			q.Del("access_token")
		}
		nu.RawQuery = q.Encode()
		next = nu.String()
	} else {
		if pg.Cursors == nil || pg.Cursors.After == "" {
			return "", fmt.Errorf("%w: paging.next on a foreign host and no after cursor", platforms.ErrMalformed)
		}
		cu, err := url.Parse(cur)
		if err != nil {
			return "", fmt.Errorf("graph: bad page URL: %w", err)
		}
		q := cu.Query()
		q.Set("after", pg.Cursors.After)
		q.Del("before")
		cu.RawQuery = q.Encode()
		next = cu.String()
	}
	if next == cur {
		return "", fmt.Errorf("%w: paging.next points at the same page", platforms.ErrMalformed)
	}
	return next, nil
}

// Pager walks a Graph collection page by page, refusing paging that loops.
type Pager struct {
	f    *Fetcher
	cur  string
	seen map[string]bool
}

// Pager starts a walk at the collection's first page.
func (f *Fetcher) Pager(first string) *Pager {
	return &Pager{f: f, cur: first, seen: map[string]bool{first: true}}
}

// More says whether there is a page left to read.
func (p *Pager) More() bool { return p.cur != "" }

// Get reads the current page.
func (p *Pager) Get(ctx context.Context) (*platforms.Page, error) { return p.f.Get(ctx, p.cur) }

// Advance moves to the page after the current one, as pg (the current
// page's paging) says; after the last page More is false.
func (p *Pager) Advance(pg Paging) error {
	next, err := p.f.Next(pg, p.cur)
	if err != nil {
		return err
	}
	if next != "" && p.seen[next] {
		return fmt.Errorf("%w: paging loops back to a page already read", platforms.ErrMalformed)
	}
	p.seen[next] = true
	p.cur = next
	return nil
}

// Fatal says whether err should end the whole run at once: the credential
// was refused, the rate limit is spent, or the run was cancelled.
func Fatal(err error) bool {
	return errors.Is(err, platforms.ErrAuth) || errors.Is(err, platforms.ErrRateLimited) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
