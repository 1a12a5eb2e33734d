package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// PageSize is the limit the connectors ask of Graph for every collection.
const PageSize = 100

// SinkError marks a failure of the sink, which ends the run at once.
type SinkError struct{ Err error }

func (e SinkError) Error() string { return "sink: " + e.Err.Error() }
func (e SinkError) Unwrap() error { return e.Err }

// Stop says whether err ends a capture run at once: Fatal, or a failing sink.
func Stop(err error) bool {
	var se SinkError
	return Fatal(err) || errors.As(err, &se)
}

// List is one page of a Graph collection.
type List[T any] struct {
	Data   []T    `json:"data"`
	Paging Paging `json:"paging"`
}

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", platforms.ErrMalformed, what, err)
}

// ParseList decodes one page of a collection (what names it in errors). A
// body without a data array is malformed, never an empty page.
func ParseList[T any](body []byte, what string) (List[T], error) {
	var p List[T]
	if err := json.Unmarshal(body, &p); err != nil {
		return p, malformed(what, err)
	}
	if p.Data == nil {
		return p, fmt.Errorf("%w: %s: no data array", platforms.ErrMalformed, what)
	}
	return p, nil
}

// ParseNode decodes a node (what names it in errors); a node whose id
// (as id reads it) is empty is malformed.
func ParseNode[T any](body []byte, what string, id func(T) string) (T, error) {
	var n T
	if err := json.Unmarshal(body, &n); err != nil {
		return n, malformed(what, err)
	}
	if id(n) == "" {
		return n, fmt.Errorf("%w: %s: no id", platforms.ErrMalformed, what)
	}
	return n, nil
}

// Run is one capture of a Graph account.
type Run struct {
	F    *Fetcher
	Sink platforms.Sink
	Opts platforms.Options
	Errs []error
}

// Account says how a connector reads a Graph account: its profile node,
// then its posts, newest first, and each post's thread.
type Account[T any] struct {
	Platform      string // prefix of every error: "facebook"
	NoNativeID    string // what the account's native_id is: "page id"
	ProfileFields string
	// Profile decodes the profile node and normalises it.
	Profile func(body []byte, rawKey string) (platforms.Profile, error)
	Edge    string // the posts collection: "posts", also its name in errors
	Entry   string // one entry of Edge in errors: "post"
	Fields  string // the fields asked of Edge
	// Item normalises one entry of Edge.
	Item func(entry T, rawKey string) (platforms.Item, error)
	// Thread reads the comments under a post and marks its thread complete.
	// A failure of the sink is wrapped in SinkError.
	Thread func(ctx context.Context, r *Run, postID string) error
}

// Capture reads the account acct.NativeID and reports to sink. A failing
// thread is remembered and the other posts are still read; a refused
// token, a spent rate limit, a failing sink or a cancelled ctx end the run
// at once. The error joins every failure.
func Capture[T any](ctx context.Context, a *Account[T], acct platforms.Account, opts platforms.Options, cl *platforms.Client, sink platforms.Sink) error {
	if acct.NativeID == "" {
		return fmt.Errorf("%s: capture: the account has no %s (native_id)", a.Platform, a.NoNativeID)
	}
	f, err := NewFetcher(cl, acct.APIBase, acct.Credential)
	if err != nil {
		return fmt.Errorf("%s: capture: %w", a.Platform, err)
	}
	r := &Run{F: f, Sink: sink, Opts: opts}
	if err := a.profile(ctx, r, acct.NativeID); err != nil {
		if Stop(err) {
			return err
		}
		r.Errs = append(r.Errs, err)
	}
	complete, err := a.posts(ctx, r, acct.NativeID)
	if err != nil {
		if Stop(err) {
			return errors.Join(append(r.Errs, err)...)
		}
		r.Errs = append(r.Errs, err)
	}
	if complete && opts.Full {
		if err := sink.PostsComplete(ctx); err != nil {
			return errors.Join(append(r.Errs, fmt.Errorf("%s: mark posts complete: %w", a.Platform, err))...)
		}
	}
	return errors.Join(r.Errs...)
}

func (a *Account[T]) profile(ctx context.Context, r *Run, id string) error {
	page, err := r.F.Get(ctx, r.F.URL("/"+url.PathEscape(id), url.Values{"fields": {a.ProfileFields}}))
	if err != nil {
		return fmt.Errorf("%s: read profile: %w", a.Platform, err)
	}
	p, err := a.Profile(page.Body, page.RawKey)
	if err != nil {
		return fmt.Errorf("%s: read profile: %w", a.Platform, err)
	}
	if err := r.Sink.Profile(ctx, p); err != nil {
		return fmt.Errorf("%s: report profile: %w", a.Platform, SinkError{err})
	}
	return nil
}

// posts pages through the account's posts, newest first, reading each
// post's thread. complete is true when the listing was read to its end.
func (a *Account[T]) posts(ctx context.Context, r *Run, id string) (complete bool, err error) {
	q := url.Values{"fields": {a.Fields}, "limit": {strconv.Itoa(PageSize)}}
	p := r.F.Pager(r.F.URL("/"+url.PathEscape(id)+"/"+a.Edge, q))
	complete = true
	for p.More() {
		page, err := p.Get(ctx)
		if err != nil {
			return false, fmt.Errorf("%s: read %s: %w", a.Platform, a.Edge, err)
		}
		pg, err := ParseList[T](page.Body, a.Edge)
		if err != nil {
			return false, fmt.Errorf("%s: read %s: %w", a.Platform, a.Edge, err)
		}
		for _, raw := range pg.Data {
			it, err := a.Item(raw, page.RawKey)
			if err != nil { // this post cannot be reported: the listing is not complete
				complete = false
				r.Errs = append(r.Errs, fmt.Errorf("%s: read %s: %w", a.Platform, a.Edge, err))
				continue
			}
			if !r.Opts.Full && !r.Opts.Since.IsZero() && it.CreatedAt.Before(r.Opts.Since) {
				return false, nil // incremental: older posts are not read
			}
			if err := r.Sink.Item(ctx, it); err != nil {
				return false, fmt.Errorf("%s: report %s %s: %w", a.Platform, a.Entry, it.NativeID, SinkError{err})
			}
			if err := a.Thread(ctx, r, it.NativeID); err != nil {
				if Stop(err) {
					return false, err
				}
				r.Errs = append(r.Errs, err)
			}
		}
		if err := p.Advance(pg.Paging); err != nil {
			return false, fmt.Errorf("%s: read %s: %w", a.Platform, a.Edge, err)
		}
	}
	return complete, nil
}
