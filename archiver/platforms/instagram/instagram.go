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

const maxDepth = 32 // replies of replies; Instagram itself has one level

// Connector captures Instagram accounts.
type Connector struct{}

// New returns the Instagram connector.
func New() *Connector { return &Connector{} }

// Platform returns platforms.Instagram.
func (*Connector) Platform() string { return platforms.Instagram }

// DefaultAPIBase returns the real Graph API base URL.
func (*Connector) DefaultAPIBase() string { return graph.DefaultAPIBase }

// account is how an IG User is read: its node, its media, each media's
// comments and replies.
var account = &graph.Account[igMedia]{
	Platform: "instagram", NoNativeID: "IG user id",
	ProfileFields: profileFields,
	Profile: func(body []byte, rawKey string) (platforms.Profile, error) {
		u, err := parseUser(body)
		if err != nil {
			return platforms.Profile{}, err
		}
		return profileOf(u, rawKey), nil
	},
	Edge: "media", Entry: "media", Fields: mediaFields,
	Item:   mediaItem,
	Thread: thread,
}

// Capture reads the IG User acct.NativeID and reports to sink. A failing
// thread is remembered and the other media are still read; a refused
// token, a spent rate limit, a failing sink or a cancelled ctx end the run
// at once. The error joins every failure.
func (c *Connector) Capture(ctx context.Context, acct platforms.Account, opts platforms.Options, cl *platforms.Client, sink platforms.Sink) error {
	return graph.Capture(ctx, account, acct, opts, cl, sink)
}

// thread reads a media's comments and, under each, its replies (depth
// first, so parents come before children); ThreadComplete only when every
// page was read.
func thread(ctx context.Context, r *graph.Run, mediaID string) error {
	t := &threadRun{Run: r, root: mediaID, seen: map[string]bool{mediaID: true}}
	if err := t.children(ctx, mediaID, "comments", commentFields, 0); err != nil {
		return fmt.Errorf("instagram: read comments of %s: %w", mediaID, err)
	}
	if err := r.Sink.ThreadComplete(ctx, mediaID); err != nil {
		return fmt.Errorf("instagram: mark thread %s complete: %w", mediaID, graph.SinkError{Err: err})
	}
	return nil
}

type threadRun struct {
	*graph.Run
	root string
	seen map[string]bool // guards against a reply listed under itself
}

// children reads /{parent}/{edge} to the end, reporting each entry and then
// reading its replies. A failing replies listing is remembered while the
// siblings are still read; the joined error says the thread is incomplete.
func (t *threadRun) children(ctx context.Context, parent, edge, fields string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: replies nested deeper than %d", platforms.ErrMalformed, maxDepth)
	}
	q := url.Values{"fields": {fields}, "limit": {strconv.Itoa(graph.PageSize)}}
	p := t.F.Pager(t.F.URL("/"+url.PathEscape(parent)+"/"+edge, q))
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
			if err := t.Sink.Item(ctx, it); err != nil {
				return graph.SinkError{Err: err}
			}
			if err := t.children(ctx, it.NativeID, "replies", replyFields, depth+1); err != nil {
				if graph.Stop(err) {
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
