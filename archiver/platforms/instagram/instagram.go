// Package instagram captures an Instagram professional account through the
// Graph API: the IG User's profile, its media (GET /{ig-user-id}/media),
// each media's comments (GET /{ig-media-id}/comments) and their replies
// (GET /{ig-comment-id}/replies, asked of every comment and reply, so
// deeper nesting than Instagram's one level would still be read). The
// access token goes in the access_token query parameter.
//
// Instagram has no edit marker or history (the capture run compares
// content); deletion shows only as disappearance; hidden becomes
// Item.Hidden; like_count is never put in an Item. Graph errors are read
// as in package graph: code 190 is platforms.ErrAuth whatever the status.
package instagram

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/graph"
)

const (
	pageSize = 100
	maxDepth = 32 // replies of replies; Instagram itself has one level
)

// Connector captures Instagram accounts.
type Connector struct{}

// New returns the Instagram connector.
func New() *Connector { return &Connector{} }

// Platform returns platforms.Instagram.
func (*Connector) Platform() string { return platforms.Instagram }

// DefaultAPIBase returns the real Graph API base URL.
func (*Connector) DefaultAPIBase() string { return graph.DefaultAPIBase }

// sinkError marks a failure of the sink, which ends the run at once.
type sinkError struct{ err error }

func (e sinkError) Error() string { return "sink: " + e.err.Error() }
func (e sinkError) Unwrap() error { return e.err }

func stop(err error) bool {
	var se sinkError
	return graph.Fatal(err) || errors.As(err, &se)
}

type run struct {
	f    *graph.Fetcher
	sink platforms.Sink
	opts platforms.Options
	errs []error
}

// Capture reads the IG User acct.NativeID and reports to sink. A failing
// thread is remembered and the other media are still read; a refused
// token, a spent rate limit, a failing sink or a cancelled ctx end the run
// at once. The error joins every failure.
func (c *Connector) Capture(ctx context.Context, acct platforms.Account, opts platforms.Options, cl *platforms.Client, sink platforms.Sink) error {
	if acct.NativeID == "" {
		return errors.New("instagram: capture: the account has no IG user id (native_id)")
	}
	f, err := graph.NewFetcher(cl, acct.APIBase, acct.Credential)
	if err != nil {
		return fmt.Errorf("instagram: capture: %w", err)
	}
	r := &run{f: f, sink: sink, opts: opts}
	if err := r.profile(ctx, acct.NativeID); err != nil {
		if stop(err) {
			return err
		}
		r.errs = append(r.errs, err)
	}
	complete, err := r.media(ctx, acct.NativeID)
	if err != nil {
		if stop(err) {
			return errors.Join(append(r.errs, err)...)
		}
		r.errs = append(r.errs, err)
	}
	if complete && opts.Full {
		if err := sink.PostsComplete(ctx); err != nil {
			return errors.Join(append(r.errs, fmt.Errorf("instagram: mark posts complete: %w", err))...)
		}
	}
	return errors.Join(r.errs...)
}

func (r *run) profile(ctx context.Context, userID string) error {
	page, err := r.f.Get(ctx, r.f.URL("/"+url.PathEscape(userID), url.Values{"fields": {profileFields}}))
	if err != nil {
		return fmt.Errorf("instagram: read profile: %w", err)
	}
	u, err := parseUser(page.Body)
	if err != nil {
		return fmt.Errorf("instagram: read profile: %w", err)
	}
	if err := r.sink.Profile(ctx, profileOf(u, page.RawKey)); err != nil {
		return fmt.Errorf("instagram: report profile: %w", sinkError{err})
	}
	return nil
}

// media pages through the account's media, newest first, reading each
// one's comments. complete is true when the listing was read to its end.
func (r *run) media(ctx context.Context, userID string) (complete bool, err error) {
	q := url.Values{"fields": {mediaFields}, "limit": {strconv.Itoa(pageSize)}}
	p := r.f.Pager(r.f.URL("/"+url.PathEscape(userID)+"/media", q))
	complete = true
	for p.More() {
		page, err := p.Get(ctx)
		if err != nil {
			return false, fmt.Errorf("instagram: read media: %w", err)
		}
		pg, err := parseMedia(page.Body)
		if err != nil {
			return false, fmt.Errorf("instagram: read media: %w", err)
		}
		for _, m := range pg.Data {
			it, err := mediaItem(m, page.RawKey)
			if err != nil { // this post cannot be reported: the listing is not complete
				complete = false
				r.errs = append(r.errs, fmt.Errorf("instagram: read media: %w", err))
				continue
			}
			if !r.opts.Full && !r.opts.Since.IsZero() && it.CreatedAt.Before(r.opts.Since) {
				return false, nil // incremental: older media are not read
			}
			if err := r.sink.Item(ctx, it); err != nil {
				return false, fmt.Errorf("instagram: report media %s: %w", it.NativeID, sinkError{err})
			}
			if err := r.thread(ctx, it.NativeID); err != nil {
				if stop(err) {
					return false, err
				}
				r.errs = append(r.errs, err)
			}
		}
		if err := p.Advance(pg.Paging); err != nil {
			return false, fmt.Errorf("instagram: read media: %w", err)
		}
	}
	return complete, nil
}

// thread reads a media's comments and, under each, its replies (depth
// first, so parents come before children); ThreadComplete only when every
// page was read.
func (r *run) thread(ctx context.Context, mediaID string) error {
	t := &thread{run: r, root: mediaID, seen: map[string]bool{mediaID: true}}
	if err := t.children(ctx, mediaID, "comments", commentFields, 0); err != nil {
		return fmt.Errorf("instagram: read comments of %s: %w", mediaID, err)
	}
	if err := r.sink.ThreadComplete(ctx, mediaID); err != nil {
		return fmt.Errorf("instagram: mark thread %s complete: %w", mediaID, sinkError{err})
	}
	return nil
}

type thread struct {
	*run
	root string
	seen map[string]bool // guards against a reply listed under itself
}

// children reads /{parent}/{edge} to the end, reporting each entry and then
// reading its replies. A failing replies listing is remembered while the
// siblings are still read; the joined error says the thread is incomplete.
func (t *thread) children(ctx context.Context, parent, edge, fields string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: replies nested deeper than %d", platforms.ErrMalformed, maxDepth)
	}
	q := url.Values{"fields": {fields}, "limit": {strconv.Itoa(pageSize)}}
	p := t.f.Pager(t.f.URL("/"+url.PathEscape(parent)+"/"+edge, q))
	var errs []error
	for p.More() {
		page, err := p.Get(ctx)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		pg, err := parseComments(page.Body)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for _, c := range pg.Data {
			it, err := commentItem(c, parent, t.root, page.RawKey)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if t.seen[it.NativeID] {
				continue
			}
			t.seen[it.NativeID] = true
			if err := t.sink.Item(ctx, it); err != nil {
				return sinkError{err}
			}
			if err := t.children(ctx, it.NativeID, "replies", replyFields, depth+1); err != nil {
				if stop(err) {
					return err
				}
				errs = append(errs, fmt.Errorf("replies of %s: %w", it.NativeID, err))
			}
		}
		if err := p.Advance(pg.Paging); err != nil {
			return errors.Join(append(errs, err)...)
		}
	}
	return errors.Join(errs...)
}
