// Package x captures an X (Twitter) account through the X API v2: the
// profile, the account's timeline (the newest 3,200 posts X lets anyone
// page through), and every reply in each post's conversation, at any depth,
// with X's edit chains (each edit is a new tweet id) folded into one item.
package x

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// Query parameters the connector sends.
const (
	userFields  = "description,url,entities,verified,profile_image_url,name"
	tweetFields = "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,edit_history_tweet_ids,attachments,entities,author_id,note_tweet"
	mediaFields = "url,preview_image_url,type,alt_text,variants"
	// timelineCap is how many of an account's newest posts the timeline
	// reaches; older ones exist but cannot be listed.
	timelineCap = 3200
	// searchWindow is how far back /2/tweets/search/recent sees. A margin
	// keeps a post just inside the window from counting as fully read.
	searchWindow = 7*24*time.Hour - time.Hour
	pageSize     = 100
)

// Connector captures X accounts. The zero value reads replies with
// /2/tweets/search/recent, which only sees the last 7 days.
type Connector struct {
	// FullArchiveSearch reads replies with /2/tweets/search/all (an access
	// level that allows it is needed), so threads of old posts can be read
	// completely.
	FullArchiveSearch bool

	now         func() time.Time // tests move the clock
	timelineCap int              // tests shrink the 3,200 cap
}

// New returns a connector that uses recent search.
func New() *Connector { return &Connector{} }

// Platform implements platforms.Connector.
func (*Connector) Platform() string { return platforms.X }

// DefaultAPIBase implements platforms.Connector.
func (*Connector) DefaultAPIBase() string { return "https://api.x.com" }

// run is one capture of one account.
type run struct {
	conn     *Connector
	c        *platforms.Client
	sink     platforms.Sink
	opts     platforms.Options
	base     string
	hdr      http.Header
	now      time.Time
	userID   string
	username string
	errs     []error
	reported map[string]bool // native ids reported in this run
}

// Capture implements platforms.Connector: profile, then each post followed
// by its conversation, parents before children.
func (x *Connector) Capture(ctx context.Context, acct platforms.Account, opts platforms.Options, c *platforms.Client, sink platforms.Sink) error {
	if acct.Handle == "" {
		return errors.New("x: capture: account has no username (handle)")
	}
	r := &run{conn: x, c: c, sink: sink, opts: opts, reported: map[string]bool{}}
	r.base = strings.TrimRight(acct.APIBase, "/")
	if r.base == "" {
		r.base = x.DefaultAPIBase()
	}
	r.hdr = http.Header{}
	if acct.Credential != "" {
		r.hdr.Set("Authorization", "Bearer "+acct.Credential)
	}
	r.now = time.Now()
	if x.now != nil {
		r.now = x.now()
	}
	if err := r.profile(ctx, strings.TrimPrefix(acct.Handle, "@")); err != nil {
		return err
	}
	complete, err := r.timeline(ctx)
	if err != nil {
		return err
	}
	if complete && opts.Full {
		if err := sink.PostsComplete(ctx); err != nil {
			return fmt.Errorf("x: mark posts complete: %w", err)
		}
	}
	return errors.Join(r.errs...)
}

// fatal says whether err must stop the whole run at once.
func fatal(ctx context.Context, err error) bool {
	return errors.Is(err, platforms.ErrAuth) || ctx.Err() != nil ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// get fetches path (under the API base) with params.
func (r *run) get(ctx context.Context, path string, q url.Values) (*platforms.Page, error) {
	u := r.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return r.c.Get(ctx, u, r.hdr)
}

// profile reads and reports the account's user object.
func (r *run) profile(ctx context.Context, username string) error {
	q := url.Values{"user.fields": {userFields}}
	page, err := r.get(ctx, "/2/users/by/username/"+url.PathEscape(username), q)
	if err != nil {
		return fmt.Errorf("x: read profile: %w", err)
	}
	u, err := decodeUser(page.Body)
	if err != nil {
		return fmt.Errorf("x: read profile %s: %w", page.URL, err)
	}
	r.userID, r.username = u.ID, u.Username
	if err := r.sink.Profile(ctx, profileOf(u, page.RawKey)); err != nil {
		return fmt.Errorf("x: report profile: %w", err)
	}
	return nil
}

// timeline pages through the account's posts, capturing each with its
// thread. It says whether the listing was read to its real end (not cut
// by X's cap or by opts.Since). Only fatal errors are returned; the rest
// are kept in r.errs.
func (r *run) timeline(ctx context.Context) (bool, error) {
	limit := timelineCap
	if r.conn.timelineCap > 0 {
		limit = r.conn.timelineCap
	}
	var deferred []pending
	token, seen, count := "", map[string]bool{}, 0
	for {
		q := url.Values{
			"max_results": {strconv.Itoa(pageSize)}, "tweet.fields": {tweetFields},
			"expansions": {"attachments.media_keys,author_id"}, "media.fields": {mediaFields},
			"user.fields": {"username,name"},
		}
		if token != "" {
			q.Set("pagination_token", token)
		}
		page, err := r.get(ctx, "/2/users/"+url.PathEscape(r.userID)+"/tweets", q)
		if err == nil {
			var resp *tweetsResponse
			if resp, err = decodeTweets(page.Body, true); err == nil {
				count += len(resp.Data)
				stop, ferr := r.postsPage(ctx, resp, page.RawKey, &deferred)
				if ferr != nil {
					return false, ferr
				}
				if stop {
					_, err := r.replyPosts(ctx, deferred)
					return false, err
				}
				token = resp.Meta.NextToken
				if token == "" {
					capped := count >= limit || (len(resp.Data) == 0 && count >= limit-pageSize && count > 0)
					ok, err := r.replyPosts(ctx, deferred)
					return ok && !capped, err
				}
				if seen[token] {
					err = fmt.Errorf("%w: next_token %q repeats", platforms.ErrMalformed, token)
				}
				seen[token] = true
			}
		}
		if err != nil {
			err = fmt.Errorf("x: list posts: %w", err)
			if fatal(ctx, err) {
				return false, err
			}
			r.errs = append(r.errs, err)
			_, err = r.replyPosts(ctx, deferred)
			return false, err
		}
	}
}

// postsPage captures the posts of one timeline page. Replies the account
// made in conversations are set aside in deferred. stop is true once a
// post older than opts.Since was met in an incremental run.
func (r *run) postsPage(ctx context.Context, resp *tweetsResponse, rawKey string, deferred *[]pending) (stop bool, err error) {
	for _, t := range latest(resp.Data) {
		if !r.opts.Full && !r.opts.Since.IsZero() {
			if ts := t.created(); ts != nil && ts.Before(r.opts.Since) {
				return true, nil
			}
		}
		if t.ref("replied_to") != "" && t.ConversationID != "" && t.ConversationID != t.root() {
			*deferred = append(*deferred, pending{tw: t, inc: &resp.Includes, rawKey: rawKey})
			continue
		}
		if r.reported[t.root()] {
			continue // an older version of a post already captured
		}
		if err := r.post(ctx, t, &resp.Includes, rawKey); err != nil {
			return false, err
		}
	}
	return false, nil
}

// post reports one post, then reads its conversation. A failure is kept in
// r.errs and leaves the thread incomplete; only fatal errors are returned.
func (r *run) post(ctx context.Context, t tweet, inc *includes, rawKey string) error {
	items := []pending{{tw: t, inc: inc, rawKey: rawKey, shape: shape{kind: platforms.KindPost}}}
	histErr := r.history(ctx, items)
	if histErr != nil && fatal(ctx, histErr) {
		return histErr
	}
	if err := r.report(ctx, items[0].item); err != nil {
		return err
	}
	if t.ref("retweeted") != "" {
		return nil // replies to a repost go to the original post's conversation
	}
	postID := items[0].item.NativeID
	err := r.thread(ctx, postID, t.chain())
	if err != nil && fatal(ctx, err) {
		return err
	}
	if err != nil || histErr != nil {
		r.errs = append(r.errs, errors.Join(histErr, err))
		return nil
	}
	if !r.conn.FullArchiveSearch {
		if ts := t.created(); ts == nil || r.now.Sub(*ts) > searchWindow {
			return nil // recent search cannot have seen every reply
		}
	}
	if err := r.sink.ThreadComplete(ctx, postID); err != nil {
		return fmt.Errorf("x: mark thread %s complete: %w", postID, err)
	}
	return nil
}

// report hands an item to the sink.
func (r *run) report(ctx context.Context, it platforms.Item) error {
	if err := r.sink.Item(ctx, it); err != nil {
		return fmt.Errorf("x: report %s %s: %w", it.Kind, it.NativeID, err)
	}
	r.reported[it.NativeID] = true
	return nil
}
