package platforms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/storage/blob"
)

// Errors a connector can test for with errors.Is.
var (
	// ErrAuth: the platform refused the credential (401, or 403 that is not
	// a quota or per-resource refusal). The account needs attention.
	ErrAuth = errors.New("platforms: credential refused")
	// ErrNotFound: 404 or 410; the thing is gone (or never was).
	ErrNotFound = errors.New("platforms: not found")
	// ErrRateLimited: still 429 after every retry.
	ErrRateLimited = errors.New("platforms: rate limited")
	// ErrTooLarge: the response passed the size limit; the page counts as failed.
	ErrTooLarge = errors.New("platforms: response too large")
	// ErrMalformed: the body is not what the platform sends (truncated,
	// not JSON, wrong shape). Never treat such a page as empty.
	ErrMalformed = errors.New("platforms: malformed response")
)

// HTTPError is a non-2xx answer. URL has credentials redacted.
type HTTPError struct {
	Status int
	URL    string
	Body   string // up to 4 KiB of the body, redacted (platforms put error reasons there)
	kind   error
}

func (e *HTTPError) Error() string {
	b := e.Body
	if len(b) > 300 {
		b = b[:300] + "…"
	}
	return fmt.Sprintf("platforms: GET %s: HTTP %d: %s", e.URL, e.Status, b)
}

// Unwrap lets errors.Is match ErrAuth, ErrNotFound or ErrRateLimited.
func (e *HTTPError) Unwrap() error { return e.kind }

// BlobPutter stores raw response bytes; blob.Store satisfies it.
type BlobPutter interface {
	Put(ctx context.Context, r io.Reader) (blob.Ref, bool, error)
}

// Page is one successful response.
type Page struct {
	URL    string // redacted
	Status int
	Header http.Header
	Body   []byte // as received, except the account's credential replaced by [REDACTED]
	// RawKey is the blob key of Body in the blob store.
	RawKey string
	// Redacted is true when a credential was found in the body and replaced.
	Redacted bool
}

// ClientOptions configure a Client. Zero values get sensible defaults.
type ClientOptions struct {
	HTTP         *http.Client
	Raw          BlobPutter  // required: where raw responses go
	Limits       *HostLimits // shared across runs; nil makes a private one
	Secrets      []string    // the account's credentials, redacted wherever they appear
	MaxBody      int64       // largest page accepted (default 32 MiB)
	MaxAttempts  int         // tries per request (default 5)
	MaxRetryWait time.Duration
	UserAgent    string
	Log          *slog.Logger
	// Sleep waits between tries; tests replace it to run without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

// RedactionRule names what Client does to credentials, for the capture
// record.
const RedactionRule = "credential replaced by [REDACTED] in raw bodies, URLs and errors"

// Redacted is what a credential is replaced with.
const Redacted = "[REDACTED]"

// Client fetches platform pages: it waits its turn on the host's rate
// limit, retries 429 (honouring Retry-After) and 5xx with backoff, refuses
// oversized and truncated bodies, redacts the account's credentials and
// stores every raw response in the blob store.
type Client struct {
	o       ClientOptions
	secrets []string // each credential and its URL-encoded forms
}

// NewClient builds a Client for one capture run.
func NewClient(o ClientOptions) *Client {
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 2 * time.Minute}
	}
	if o.Limits == nil {
		o.Limits = NewHostLimits(5, 10)
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 32 << 20
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.MaxRetryWait <= 0 {
		o.MaxRetryWait = 15 * time.Minute
	}
	if o.UserAgent == "" {
		o.UserAgent = "civicarchive (public records archiver)"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	c := &Client{o: o}
	for _, s := range o.Secrets {
		if len(s) < 4 { // too short to redact without mangling ordinary text
			continue
		}
		c.secrets = append(c.secrets, s, url.QueryEscape(s), url.PathEscape(s))
	}
	return c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Redact replaces every credential in s.
func (c *Client) Redact(s string) string {
	for _, sec := range c.secrets {
		s = strings.ReplaceAll(s, sec, Redacted)
	}
	return s
}

func (c *Client) redactBytes(b []byte) ([]byte, bool) {
	changed := false
	for _, sec := range c.secrets {
		if bytes.Contains(b, []byte(sec)) {
			b = bytes.ReplaceAll(b, []byte(sec), []byte(Redacted))
			changed = true
		}
	}
	return b, changed
}

// GetJSON fetches rawURL and decodes the JSON body into v. A body that is
// not valid JSON is ErrMalformed.
func (c *Client) GetJSON(ctx context.Context, rawURL string, hdr http.Header, v any) (*Page, error) {
	p, err := c.Get(ctx, rawURL, hdr)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(p.Body, v); err != nil {
		return nil, fmt.Errorf("%w: GET %s: %v", ErrMalformed, p.URL, err)
	}
	return p, nil
}

// Get fetches rawURL, retrying what is worth retrying, and stores the body.
func (c *Client) Get(ctx context.Context, rawURL string, hdr http.Header) (*Page, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("platforms: bad URL %q", c.Redact(rawURL))
	}
	var lastErr error
	for attempt := 1; attempt <= c.o.MaxAttempts; attempt++ {
		if err := c.o.Limits.Wait(ctx, u.Host); err != nil {
			return nil, err
		}
		page, wait, err := c.try(ctx, u, hdr)
		if err == nil {
			return page, nil
		}
		lastErr = err
		if wait < 0 || attempt == c.o.MaxAttempts {
			break
		}
		if wait == 0 {
			wait = backoff(attempt)
		}
		if wait > c.o.MaxRetryWait {
			break // the platform wants longer than a run may wait; the next run resumes
		}
		c.o.Log.Info("platform request retry", "host", u.Host, "attempt", attempt, "wait_ms", wait.Milliseconds(), "err", err)
		if err := c.o.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
	return nil, lastErr
}

// backoff is exponential from 1s with jitter, capped at one minute.
func backoff(attempt int) time.Duration {
	d := time.Second << (attempt - 1)
	if d > time.Minute {
		d = time.Minute
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// try makes one request. wait < 0: do not retry; wait == 0: retry after
// backoff; wait > 0: retry after wait.
func (c *Client) try(ctx context.Context, u *url.URL, hdr http.Header) (*Page, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, -1, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", c.o.UserAgent)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	redURL := c.Redact(u.String())
	resp, err := c.o.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, -1, ctx.Err()
		}
		return nil, 0, fmt.Errorf("platforms: GET %s: %s", redURL, c.Redact(err.Error()))
	}
	defer resp.Body.Close()
	c.o.Limits.Observe(u.Host, resp.Header, time.Now())
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.o.MaxBody+1))
	if err != nil {
		// A connection cut mid-body: the page is incomplete, never empty.
		return nil, 0, fmt.Errorf("%w: GET %s: body cut short: %s", ErrMalformed, redURL, c.Redact(err.Error()))
	}
	if int64(len(body)) > c.o.MaxBody {
		return nil, -1, fmt.Errorf("%w: GET %s: more than %d bytes", ErrTooLarge, redURL, c.o.MaxBody)
	}
	if resp.ContentLength >= 0 && int64(len(body)) != resp.ContentLength {
		return nil, 0, fmt.Errorf("%w: GET %s: got %d of %d bytes", ErrMalformed, redURL, len(body), resp.ContentLength)
	}
	body, redacted := c.redactBytes(body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, retryAfter(resp, time.Now()), c.statusError(resp.StatusCode, redURL, body)
	}
	ref, _, err := blob.PutBytes(ctx, c.o.Raw, body)
	if err != nil {
		return nil, -1, fmt.Errorf("platforms: store raw response: %w", err)
	}
	return &Page{URL: redURL, Status: resp.StatusCode, Header: resp.Header, Body: body, RawKey: ref.Key, Redacted: redacted}, 0, nil
}

func (c *Client) statusError(status int, redURL string, body []byte) error {
	snippet := string(body)
	if len(snippet) > 4096 {
		snippet = snippet[:4096]
	}
	e := &HTTPError{Status: status, URL: redURL, Body: snippet}
	switch {
	case status == http.StatusUnauthorized:
		e.kind = ErrAuth
	case status == http.StatusForbidden:
		e.kind = ErrAuth // connectors that see per-resource 403s (YouTube commentsDisabled) inspect Body first
	case status == http.StatusNotFound || status == http.StatusGone:
		e.kind = ErrNotFound
	case status == http.StatusTooManyRequests:
		e.kind = ErrRateLimited
	}
	return e
}

// retryAfter decides whether and when a failed status is retried.
func retryAfter(resp *http.Response, now time.Time) time.Duration {
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			return max(d, time.Millisecond)
		}
		if d, ok := resetIn(resp.Header, now); ok {
			return max(d, time.Millisecond)
		}
		return 0
	case resp.StatusCode >= 500:
		return 0
	default:
		return -1
	}
}

// parseRetryAfter reads delta-seconds or an HTTP date (RFC 9110 10.2.3).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Download opens a media URL for streaming into the blob store. The caller
// closes the body. Oversized media are refused by the caller's Put limit.
func (c *Client) Download(ctx context.Context, rawURL string) (io.ReadCloser, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, "", fmt.Errorf("platforms: bad media URL %q", c.Redact(rawURL))
	}
	var lastErr error
	for attempt := 1; attempt <= c.o.MaxAttempts; attempt++ {
		if err := c.o.Limits.Wait(ctx, u.Host); err != nil {
			return nil, "", err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, "", err
		}
		req.Header.Set("User-Agent", c.o.UserAgent)
		resp, err := c.o.HTTP.Do(req)
		if err == nil && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return resp.Body, resp.Header.Get("Content-Type"), nil
		}
		wait := time.Duration(0)
		if err != nil {
			lastErr = fmt.Errorf("platforms: GET %s: %s", c.Redact(u.String()), c.Redact(err.Error()))
		} else {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			body, _ = c.redactBytes(body)
			lastErr = c.statusError(resp.StatusCode, c.Redact(u.String()), body)
			wait = retryAfter(resp, time.Now())
		}
		if wait < 0 || attempt == c.o.MaxAttempts || wait > c.o.MaxRetryWait {
			break
		}
		if wait == 0 {
			wait = backoff(attempt)
		}
		if err := c.o.Sleep(ctx, wait); err != nil {
			return nil, "", err
		}
	}
	return nil, "", lastErr
}
