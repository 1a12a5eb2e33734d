// Package facebook captures a Facebook Page through the Graph API: the
// Page's profile, its posts (GET /{page-id}/posts), and every comment and
// reply at any depth (GET /{post-id}/comments?filter=stream, which lists
// replies too, each with its parent). The page access token goes in the
// access_token query parameter.
//
// Graph quirks handled here: updated_time moves when comments arrive, so it
// is never part of an Item; comment edits carry no marker (the capture run
// compares content); is_hidden becomes Item.Hidden; deletions show only as
// disappearance; error code 190 (and other token errors) is
// platforms.ErrAuth whatever the HTTP status, codes 4/17/32/613 are
// platforms.ErrRateLimited; paging.next links are followed only on
// api_base's own host.
package facebook

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/graph"
)

// pageSize is the limit asked of Graph for every collection.
const pageSize = 100

// Connector captures Facebook Pages.
type Connector struct{}

// New returns the Facebook connector.
func New() *Connector { return &Connector{} }

// Platform returns platforms.Facebook.
func (*Connector) Platform() string { return platforms.Facebook }

// DefaultAPIBase returns the real Graph API base URL.
func (*Connector) DefaultAPIBase() string { return graph.DefaultAPIBase }

// sinkError marks a failure of the sink, which ends the run at once.
type sinkError struct{ err error }

func (e sinkError) Error() string { return "sink: " + e.err.Error() }
func (e sinkError) Unwrap() error { return e.err }

// stop says whether err ends the run at once.
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

// Capture reads the Page acct.NativeID and reports to sink. A failing
// thread is remembered and the other posts are still read; a refused
// token, a spent rate limit, a failing sink or a cancelled ctx end the run
// at once. The error joins every failure.
func (c *Connector) Capture(ctx context.Context, acct platforms.Account, opts platforms.Options, cl *platforms.Client, sink platforms.Sink) error {
	if acct.NativeID == "" {
		return errors.New("facebook: capture: the account has no page id (native_id)")
	}
	f, err := graph.NewFetcher(cl, acct.APIBase, acct.Credential)
	if err != nil {
		return fmt.Errorf("facebook: capture: %w", err)
	}
	r := &run{f: f, sink: sink, opts: opts}
	if err := r.profile(ctx, acct.NativeID); err != nil {
		if stop(err) {
			return err
		}
		r.errs = append(r.errs, err)
	}
	complete, err := r.posts(ctx, acct.NativeID)
	if err != nil {
		if stop(err) {
			return errors.Join(append(r.errs, err)...)
		}
		r.errs = append(r.errs, err)
	}
	if complete && opts.Full {
		if err := sink.PostsComplete(ctx); err != nil {
			return errors.Join(append(r.errs, fmt.Errorf("facebook: mark posts complete: %w", err))...)
		}
	}
	return errors.Join(r.errs...)
}

func (r *run) profile(ctx context.Context, pageID string) error {
	u := r.f.URL("/"+url.PathEscape(pageID), url.Values{"fields": {profileFields}})
	page, err := r.f.Get(ctx, u)
	if err != nil {
		return fmt.Errorf("facebook: read profile: %w", err)
	}
	p, err := parseProfile(page.Body)
	if err != nil {
		return fmt.Errorf("facebook: read profile: %w", err)
	}
	if err := r.sink.Profile(ctx, profileOf(p, page.RawKey)); err != nil {
		return fmt.Errorf("facebook: report profile: %w", sinkError{err})
	}
	return nil
}

// posts pages through the Page's posts, newest first, reading each post's
// thread. complete is true when the listing was read to its end.
func (r *run) posts(ctx context.Context, pageID string) (complete bool, err error) {
	q := url.Values{"fields": {postFields}, "limit": {strconv.Itoa(pageSize)}}
	p := r.f.Pager(r.f.URL("/"+url.PathEscape(pageID)+"/posts", q))
	complete = true
	for p.More() {
		page, err := p.Get(ctx)
		if err != nil {
			return false, fmt.Errorf("facebook: read posts: %w", err)
		}
		pg, err := parsePosts(page.Body)
		if err != nil {
			return false, fmt.Errorf("facebook: read posts: %w", err)
		}
		for _, raw := range pg.Data {
			it, err := postItem(raw, page.RawKey)
			if err != nil { // this post cannot be reported: the listing is not complete
				complete = false
				r.errs = append(r.errs, fmt.Errorf("facebook: read posts: %w", err))
				continue
			}
			if !r.opts.Full && !r.opts.Since.IsZero() && it.CreatedAt.Before(r.opts.Since) {
				return false, nil // incremental: older posts are not read
			}
			if err := r.sink.Item(ctx, it); err != nil {
				return false, fmt.Errorf("facebook: report post %s: %w", it.NativeID, sinkError{err})
			}
			if err := r.thread(ctx, it.NativeID); err != nil {
				if stop(err) {
					return false, err
				}
				r.errs = append(r.errs, err)
			}
		}
		if err := p.Advance(pg.Paging); err != nil {
			return false, fmt.Errorf("facebook: read posts: %w", err)
		}
	}
	return complete, nil
}

// thread reads every comment and reply under a post with filter=stream and
// reports them parents first; ThreadComplete only after the last page.
func (r *run) thread(ctx context.Context, postID string) error {
	q := url.Values{"filter": {"stream"}, "fields": {commentFields}, "limit": {strconv.Itoa(pageSize)}}
	p := r.f.Pager(r.f.URL("/"+url.PathEscape(postID)+"/comments", q))
	o := newOrderer(postID, func(it platforms.Item) error { return r.sink.Item(ctx, it) })
	var err error
	for err == nil && p.More() {
		err = r.commentsPage(ctx, p, o, postID)
	}
	if ferr := o.flush(); ferr != nil { // what was read is reported, failure or not
		return fmt.Errorf("facebook: report comments of %s: %w", postID, sinkError{ferr})
	}
	if err != nil {
		return fmt.Errorf("facebook: read comments of %s: %w", postID, err)
	}
	if err := r.sink.ThreadComplete(ctx, postID); err != nil {
		return fmt.Errorf("facebook: mark thread %s complete: %w", postID, sinkError{err})
	}
	return nil
}

func (r *run) commentsPage(ctx context.Context, p *graph.Pager, o *orderer, postID string) error {
	page, err := p.Get(ctx)
	if err != nil {
		return err
	}
	pg, err := parseComments(page.Body)
	if err != nil {
		return err
	}
	var bad error
	for _, raw := range pg.Data {
		it, err := commentItem(raw, postID, page.RawKey)
		if err != nil {
			bad = errors.Join(bad, err)
			continue
		}
		if err := o.add(it); err != nil {
			return sinkError{err}
		}
	}
	if bad != nil { // an unreadable comment: the thread is not complete
		return bad
	}
	return p.Advance(pg.Paging)
}

// orderer reports a thread's items parents first: an item whose parent has
// not been reported yet waits for it. Graph's stream order is chronological,
// so waiting is rare.
type orderer struct {
	post    string
	emit    func(platforms.Item) error
	seen    map[string]bool
	waiting map[string][]platforms.Item // by parent native id
}

func newOrderer(post string, emit func(platforms.Item) error) *orderer {
	return &orderer{post: post, emit: emit, seen: map[string]bool{post: true}, waiting: map[string][]platforms.Item{}}
}

func (o *orderer) add(it platforms.Item) error {
	if o.seen[it.NativeID] {
		return nil // listed twice (a page boundary moved): reported already
	}
	if o.seen[it.ParentNativeID] {
		return o.report(it)
	}
	o.waiting[it.ParentNativeID] = append(o.waiting[it.ParentNativeID], it)
	return nil
}

func (o *orderer) report(it platforms.Item) error {
	if err := o.emit(it); err != nil {
		return err
	}
	o.seen[it.NativeID] = true
	kids := o.waiting[it.NativeID]
	delete(o.waiting, it.NativeID)
	for _, k := range kids {
		if err := o.report(k); err != nil {
			return err
		}
	}
	return nil
}

// flush reports the items whose parent never showed up (it is not
// visible to the token), in a stable order.
func (o *orderer) flush() error {
	for len(o.waiting) > 0 {
		parents := make([]string, 0, len(o.waiting))
		for p := range o.waiting {
			parents = append(parents, p)
		}
		sort.Strings(parents)
		kids := o.waiting[parents[0]]
		delete(o.waiting, parents[0])
		for _, k := range kids {
			if err := o.report(k); err != nil {
				return err
			}
		}
	}
	return nil
}
