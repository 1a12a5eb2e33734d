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

// Connector captures Facebook Pages.
type Connector struct{}

// New returns the Facebook connector.
func New() *Connector { return &Connector{} }

// Platform returns platforms.Facebook.
func (*Connector) Platform() string { return platforms.Facebook }

// DefaultAPIBase returns the real Graph API base URL.
func (*Connector) DefaultAPIBase() string { return graph.DefaultAPIBase }

// account is how a Page is read: its node, its posts, each post's thread.
var account = &graph.Account[post]{
	Platform: "facebook", NoNativeID: "page id",
	ProfileFields: profileFields,
	Profile: func(body []byte, rawKey string) (platforms.Profile, error) {
		p, err := parseProfile(body)
		if err != nil {
			return platforms.Profile{}, err
		}
		return profileOf(p, rawKey), nil
	},
	Edge: "posts", Entry: "post", Fields: postFields,
	Item:   postItem,
	Thread: thread,
}

// Capture reads the Page acct.NativeID and reports to sink. A failing
// thread is remembered and the other posts are still read; a refused
// token, a spent rate limit, a failing sink or a cancelled ctx end the run
// at once. The error joins every failure.
func (c *Connector) Capture(ctx context.Context, acct platforms.Account, opts platforms.Options, cl *platforms.Client, sink platforms.Sink) error {
	return graph.Capture(ctx, account, acct, opts, cl, sink)
}

// thread reads every comment and reply under a post with filter=stream and
// reports them parents first; ThreadComplete only after the last page.
func thread(ctx context.Context, r *graph.Run, postID string) error {
	q := url.Values{"filter": {"stream"}, "fields": {commentFields}, "limit": {strconv.Itoa(graph.PageSize)}}
	p := r.F.Pager(r.F.URL("/"+url.PathEscape(postID)+"/comments", q))
	o := newOrderer(postID, func(it platforms.Item) error { return r.Sink.Item(ctx, it) })
	var err error
	for err == nil && p.More() {
		err = readComments(ctx, p, o, postID)
	}
	if ferr := o.flush(); ferr != nil { // what was read is reported, failure or not
		return fmt.Errorf("facebook: report comments of %s: %w", postID, graph.SinkError{Err: ferr})
	}
	if err != nil {
		return fmt.Errorf("facebook: read comments of %s: %w", postID, err)
	}
	if err := r.Sink.ThreadComplete(ctx, postID); err != nil {
		return fmt.Errorf("facebook: mark thread %s complete: %w", postID, graph.SinkError{Err: err})
	}
	return nil
}

func readComments(ctx context.Context, p *graph.Pager, o *orderer, postID string) error {
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
			return graph.SinkError{Err: err}
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
