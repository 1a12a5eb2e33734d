// Package bluesky captures a Bluesky account through the public AppView
// XRPC API: the profile (app.bsky.actor.getProfile), the account's posts
// (app.bsky.feed.getAuthorFeed, cursor-paged) and each post's whole reply
// tree (app.bsky.feed.getPostThread).
//
// A post's native id is its at:// uri and its edit marker its cid; a new
// cid at the same uri is a new version. A Bluesky "edit" made by deleting
// and re-posting is two items. Reposts are skipped; the account's replies
// inside its own threads are captured as replies. Replies hidden by the
// account (threadgate hiddenReplies) are reported with Hidden set.
package bluesky

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// DefaultAPIBase is the public Bluesky AppView.
const DefaultAPIBase = "https://public.api.bsky.app"

// feedLimit is the page size asked of getAuthorFeed (the lexicon's maximum).
const feedLimit = 100

// threadDepth is the reply depth asked of getPostThread (the lexicon's
// maximum). A reply at that depth that still has replies gets its own
// getPostThread call. A variable so tests can make it small.
var threadDepth = 1000

// maxErrors bounds how many failures one run keeps in its error.
const maxErrors = 20

// Connector captures Bluesky accounts.
type Connector struct{}

// New returns a Bluesky connector.
func New() *Connector { return &Connector{} }

// Platform returns platforms.Bluesky.
func (*Connector) Platform() string { return platforms.Bluesky }

// DefaultAPIBase returns the public AppView's base URL.
func (*Connector) DefaultAPIBase() string { return DefaultAPIBase }

var _ platforms.Connector = (*Connector)(nil)

// errDeleted says a thread's root post is gone (notFoundPost, or the
// XRPC NotFound error).
var errDeleted = errors.New("bluesky: post deleted")

// run is the state of one capture.
type run struct {
	c       *platforms.Client
	sink    platforms.Sink
	base    string
	hdr     http.Header
	opts    platforms.Options
	seen    map[string]bool
	errs    []error
	dropped int
}

// Capture reads the account's profile, posts and every reply under them,
// reporting to sink. It returns an error when anything could not be read;
// what was reported before stays reported.
func (*Connector) Capture(ctx context.Context, acct platforms.Account, opts platforms.Options, c *platforms.Client, sink platforms.Sink) error {
	r := &run{c: c, sink: sink, opts: opts, seen: map[string]bool{}, hdr: http.Header{}}
	r.base = strings.TrimRight(acct.APIBase, "/")
	if r.base == "" {
		r.base = DefaultAPIBase
	}
	if acct.Credential != "" {
		r.hdr.Set("Authorization", "Bearer "+acct.Credential)
	}
	// A did is the account's permanent identity; a handle can move to
	// another account. Prefer the did when it is known.
	actor := acct.Handle
	if strings.HasPrefix(acct.NativeID, "did:") || actor == "" {
		actor = acct.NativeID
	}
	if actor == "" {
		return errors.New("bluesky: capture: account has neither handle nor did")
	}
	prof, err := r.profile(ctx, actor)
	if err != nil {
		return fmt.Errorf("bluesky: profile %s: %w", actor, err)
	}
	if err := sink.Profile(ctx, prof); err != nil {
		return fmt.Errorf("bluesky: profile %s: %w", actor, err)
	}
	listed, fatal := r.posts(ctx, prof.NativeID)
	if fatal != nil {
		r.fail(fatal)
	}
	if fatal == nil && listed && opts.Full {
		if err := sink.PostsComplete(ctx); err != nil {
			r.fail(err)
		}
	}
	if len(r.errs) == 0 {
		return nil
	}
	if r.dropped > 0 {
		r.errs = append(r.errs, fmt.Errorf("and %d more errors", r.dropped))
	}
	return fmt.Errorf("bluesky: capture %s: %w", actor, errors.Join(r.errs...))
}

// fail remembers a non-fatal error.
func (r *run) fail(err error) {
	if len(r.errs) >= maxErrors {
		r.dropped++
		return
	}
	r.errs = append(r.errs, err)
}

// fatal says the run must stop at once.
func fatal(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, platforms.ErrAuth) || errors.Is(err, platforms.ErrRateLimited) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (r *run) get(ctx context.Context, method string, q url.Values) (*platforms.Page, error) {
	return r.c.Get(ctx, r.base+"/xrpc/"+method+"?"+q.Encode(), r.hdr)
}

// profile fetches and normalises the profile. A missing actor (XRPC
// InvalidRequest "Profile not found", or a taken-down or deactivated
// account) is an error wrapping platforms.ErrNotFound.
func (r *run) profile(ctx context.Context, actor string) (platforms.Profile, error) {
	page, err := r.get(ctx, "app.bsky.actor.getProfile", url.Values{"actor": {actor}})
	if err != nil {
		if status, x := xrpcErrorOf(err); status == http.StatusBadRequest && x.Error != "" {
			return platforms.Profile{}, fmt.Errorf("getProfile: actor not found (%s: %s): %w: %w", x.Error, x.Message, platforms.ErrNotFound, err)
		}
		return platforms.Profile{}, fmt.Errorf("getProfile: %w", err)
	}
	p, err := decodeProfile(page.Body)
	if err != nil {
		return platforms.Profile{}, err
	}
	return toProfile(p, page.RawKey), nil
}

// xrpcErrorOf reads the XRPC error body of a failed request.
func xrpcErrorOf(err error) (int, xrpcError) {
	var he *platforms.HTTPError
	if !errors.As(err, &he) {
		return 0, xrpcError{}
	}
	var x xrpcError
	_ = json.Unmarshal([]byte(he.Body), &x)
	return he.Status, x
}

// posts pages through the author feed. listed says the listing was read
// to its end; the error is fatal (auth, context, sink, or the listing
// itself failed).
func (r *run) posts(ctx context.Context, did string) (listed bool, err error) {
	cursor := ""
	for {
		q := url.Values{"actor": {did}, "limit": {fmt.Sprint(feedLimit)}, "filter": {"posts_no_replies"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page, err := r.get(ctx, "app.bsky.feed.getAuthorFeed", q)
		if err != nil {
			return false, fmt.Errorf("getAuthorFeed: %w", err)
		}
		out, err := decodeFeed(page.Body)
		if err != nil {
			return false, err
		}
		for i := range *out.Feed {
			fv := &(*out.Feed)[i]
			if !r.ownPost(fv, did) {
				continue
			}
			if r.tooOld(&fv.Post) {
				return false, nil
			}
			if err := r.post(ctx, &fv.Post, page.RawKey); err != nil {
				return false, err
			}
		}
		if out.Cursor == "" || out.Cursor == cursor {
			return true, nil
		}
		cursor = out.Cursor
	}
}

// ownPost keeps the account's own top-level posts: no reposts, no replies
// (the account's replies are captured inside threads), no duplicates.
func (r *run) ownPost(fv *feedViewPost, did string) bool {
	if fv.Reason != nil && fv.Reason.Type == typeReasonRepost {
		return false
	}
	if fv.Post.Author.DID != did || fv.Post.Record.Reply != nil || len(fv.Reply) > 0 && string(fv.Reply) != "null" {
		return false
	}
	if r.seen[fv.Post.URI] {
		return false
	}
	r.seen[fv.Post.URI] = true
	return true
}

// tooOld says an incremental run has reached posts created before Since.
func (r *run) tooOld(pv *postView) bool {
	if r.opts.Full || r.opts.Since.IsZero() {
		return false
	}
	t := parseTime(pv.Record.CreatedAt)
	if t == nil {
		t = parseTime(pv.IndexedAt)
	}
	return t != nil && t.Before(r.opts.Since)
}

// post reports one post and its thread. A thread that fails is remembered
// and the post is reported from the feed page; only fatal errors return.
func (r *run) post(ctx context.Context, pv *postView, feedKey string) error {
	thr, key, err := r.thread(ctx, pv.URI)
	switch {
	case errors.Is(err, errDeleted):
		return nil // deleted since the listing: not reported
	case err != nil:
		if fatal(ctx, err) {
			return fmt.Errorf("getPostThread %s: %w", pv.URI, err)
		}
		if err := r.sink.Item(ctx, toItem(pv, platforms.KindPost, "", "", feedKey)); err != nil {
			return err
		}
		r.fail(fmt.Errorf("getPostThread %s: %w", pv.URI, err))
		return nil
	}
	root := thr.Thread.Post
	if err := r.sink.Item(ctx, toItem(root, platforms.KindPost, "", "", key)); err != nil {
		return err
	}
	complete, err := r.walk(ctx, thr.Thread, root.URI, true, thr.hiddenSet(), key, 0)
	if err != nil {
		return err
	}
	if complete {
		return r.sink.ThreadComplete(ctx, root.URI)
	}
	return nil
}

// thread fetches a post's thread with its replies.
func (r *run) thread(ctx context.Context, uri string) (threadOutput, string, error) {
	q := url.Values{"uri": {uri}, "depth": {fmt.Sprint(threadDepth)}, "parentHeight": {"0"}}
	page, err := r.get(ctx, "app.bsky.feed.getPostThread", q)
	if err != nil {
		if status, x := xrpcErrorOf(err); status == http.StatusBadRequest && x.Error == "NotFound" || errors.Is(err, platforms.ErrNotFound) {
			return threadOutput{}, "", errDeleted
		}
		return threadOutput{}, "", err
	}
	t, err := decodeThread(page.Body)
	if err != nil {
		return t, "", err
	}
	switch {
	case t.Thread.isNotFound():
		return t, "", errDeleted
	case !t.Thread.isPost():
		return t, "", fmt.Errorf("thread root is %q, not a readable post", t.Thread.Type)
	}
	return t, page.RawKey, nil
}

// walk reports the replies under node, parents before children, skipping
// notFoundPost and blockedPost nodes. A reply at the depth limit that
// still has replies gets its own getPostThread call. complete is false
// when any part of the tree could not be read; err is fatal.
func (r *run) walk(ctx context.Context, node *threadNode, root string, isRoot bool, hidden map[string]bool, key string, depth int) (complete bool, err error) {
	complete = true
	kind := platforms.KindReply
	if isRoot {
		kind = platforms.KindComment
	}
	for i := range node.Replies {
		child := &node.Replies[i]
		if !child.isPost() || !validURI(child.Post.URI) {
			continue
		}
		it := toItem(child.Post, kind, node.Post.URI, root, key)
		it.Hidden = hidden[child.Post.URI]
		if err := r.sink.Item(ctx, it); err != nil {
			return false, err
		}
		sub, subKey, subDepth := child, key, depth+1
		if depth+1 >= threadDepth && len(child.Replies) == 0 && child.Post.ReplyCount > 0 {
			t, k, err := r.thread(ctx, child.Post.URI)
			if err != nil && !errors.Is(err, errDeleted) {
				if fatal(ctx, err) {
					return false, err
				}
				r.fail(fmt.Errorf("getPostThread %s: %w", child.Post.URI, err))
				complete = false
				continue
			}
			if err != nil {
				continue
			}
			sub, subKey, subDepth = t.Thread, k, 0
		}
		ok, err := r.walk(ctx, sub, root, false, hidden, subKey, subDepth)
		if err != nil {
			return false, err
		}
		complete = complete && ok
	}
	return complete, nil
}
