package x

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// version is one tweet as read, with the page it came from.
type version struct {
	tw     tweet
	inc    *includes
	rawKey string
}

// pending is a tweet on its way to becoming an Item.
type pending struct {
	tw     tweet
	inc    *includes
	rawKey string
	shape  shape
	item   platforms.Item
}

// thread reads the whole conversation of a post (search by
// conversation_id, every page) and reports its replies, parents before
// children. Only the pages read are reported when one fails.
func (r *run) thread(ctx context.Context, postID string, postChain []string) error {
	path := "/2/tweets/search/recent"
	if r.conn.FullArchiveSearch {
		path = "/2/tweets/search/all"
	}
	var got []pending
	var pageErr error
	token, seen := "", map[string]bool{}
	for {
		q := url.Values{
			"query": {"conversation_id:" + postID}, "max_results": {strconv.Itoa(pageSize)},
			"tweet.fields": {tweetFields}, "expansions": {"author_id,attachments.media_keys"},
			"media.fields": {mediaFields}, "user.fields": {"username,name"},
		}
		if token != "" {
			q.Set("next_token", token)
		}
		page, err := r.get(ctx, path, q)
		var resp *tweetsResponse
		if err == nil {
			resp, err = decodeTweets(page.Body, true)
		}
		if err != nil {
			pageErr = err
			break
		}
		for _, t := range resp.Data {
			got = append(got, pending{tw: t, inc: &resp.Includes, rawKey: page.RawKey})
		}
		token = resp.Meta.NextToken
		if token == "" {
			break
		}
		if seen[token] {
			pageErr = fmt.Errorf("%w: next_token %q repeats", platforms.ErrMalformed, token)
			break
		}
		seen[token] = true
	}
	if pageErr != nil && fatal(ctx, pageErr) {
		return fmt.Errorf("x: read thread %s: %w", postID, pageErr)
	}
	ps := r.shapeThread(postID, postChain, latestPending(got))
	histErr := r.history(ctx, ps)
	if histErr != nil && fatal(ctx, histErr) {
		return fmt.Errorf("x: read thread %s: %w", postID, histErr)
	}
	for _, i := range threadOrder(postID, ps) {
		if err := r.report(ctx, ps[i].item); err != nil {
			return err
		}
	}
	if err := errors.Join(pageErr, histErr); err != nil {
		return fmt.Errorf("x: read thread %s: %w", postID, err)
	}
	return nil
}

// latestPending keeps the newest version of each edit chain.
func latestPending(ps []pending) []pending {
	idx := map[string]int{}
	var out []pending
	for _, p := range ps {
		root := p.tw.root()
		if i, ok := idx[root]; ok {
			if len(p.tw.chain()) > len(out[i].tw.chain()) {
				out[i] = p
			}
			continue
		}
		idx[root] = len(out)
		out = append(out, p)
	}
	return out
}

// shapeThread drops the post itself from a conversation and gives every
// reply its kind and parent: an answer to any version of the post is a
// comment, anything else a reply to the chain root of what it answers.
func (r *run) shapeThread(postID string, postChain []string, ps []pending) []pending {
	rootOf := map[string]string{}
	for _, id := range postChain {
		rootOf[id] = postID
	}
	for _, p := range ps {
		for _, id := range p.tw.chain() {
			if _, ok := rootOf[id]; !ok {
				rootOf[id] = p.tw.root()
			}
		}
	}
	out := ps[:0:0]
	for _, p := range ps {
		if rootOf[p.tw.ID] == postID {
			continue
		}
		parent := p.tw.ref("replied_to")
		if parent == "" {
			parent = postID
		}
		if m, ok := rootOf[parent]; ok {
			parent = m
		}
		kind := platforms.KindReply
		if parent == postID {
			kind = platforms.KindComment
		}
		p.shape = shape{kind: kind, parent: parent, root: postID}
		out = append(out, p)
	}
	return out
}

// threadOrder orders replies depth-first from the post, siblings oldest
// first, so parents come before children; replies whose parent was not
// read (deleted, or outside the search window) follow, oldest first.
func threadOrder(postID string, ps []pending) []int {
	children := map[string][]int{}
	for i, p := range ps {
		children[p.shape.parent] = append(children[p.shape.parent], i)
	}
	for _, c := range children {
		sort.SliceStable(c, func(a, b int) bool { return older(&ps[c[a]].tw, &ps[c[b]].tw) })
	}
	var out []int
	done := make([]bool, len(ps))
	var walk func(id string)
	walk = func(id string) {
		for _, i := range children[id] {
			if !done[i] {
				done[i] = true
				out = append(out, i)
				walk(ps[i].item.NativeID)
			}
		}
	}
	walk(postID)
	var rest []int
	for i := range ps {
		if !done[i] {
			rest = append(rest, i)
		}
	}
	sort.SliceStable(rest, func(a, b int) bool { return older(&ps[rest[a]].tw, &ps[rest[b]].tw) })
	for _, i := range rest {
		if !done[i] {
			done[i] = true
			out = append(out, i)
			walk(ps[i].item.NativeID)
		}
	}
	return out
}

// older orders tweets by their chain root id (X ids grow with time).
func older(a, b *tweet) bool {
	x, y := a.root(), b.root()
	if len(x) != len(y) {
		return len(x) < len(y)
	}
	return x < y
}

// history builds each pending item, fetching the earlier versions of
// edited tweets with GET /2/tweets?ids= into Item.History (oldest first).
// The items are built even when the lookup fails (without history).
func (r *run) history(ctx context.Context, ps []pending) error {
	var need []string
	for _, p := range ps {
		for _, id := range p.tw.chain() {
			if id != p.tw.ID {
				need = append(need, id)
			}
		}
	}
	var found map[string]version
	var err error
	if len(need) > 0 {
		found, err = r.lookup(ctx, need)
	}
	for i := range ps {
		ps[i].item = build(&ps[i], found)
	}
	if err != nil {
		return fmt.Errorf("x: read edit history: %w", err)
	}
	return nil
}

// build makes the Item of a pending tweet: the newest version known gives
// the content, the earlier ones the History; the marker is the chain up to
// each version; CreatedAt is the original's, EditedAt the version's.
func build(p *pending, found map[string]version) platforms.Item {
	chain := p.tw.chain()
	versions := make([]*version, len(chain))
	for i, id := range chain {
		if id == p.tw.ID {
			versions[i] = &version{tw: p.tw, inc: p.inc, rawKey: p.rawKey}
		} else if v, ok := found[id]; ok {
			versions[i] = &v
		}
	}
	cur := -1
	for i := len(versions) - 1; i >= 0 && cur < 0; i-- {
		if versions[i] != nil {
			cur = i
		}
	}
	if cur < 0 { // the tweet is not in its own chain: take it as it is
		return normalise(&p.tw, p.inc, p.shape, strings.Join(chain, ","), p.rawKey)
	}
	var first *time.Time
	if versions[0] != nil {
		first = versions[0].tw.created()
	}
	mk := func(i int) platforms.Item {
		v := versions[i]
		it := normalise(&v.tw, v.inc, p.shape, strings.Join(chain[:i+1], ","), v.rawKey)
		it.NativeID = chain[0]
		if i > 0 {
			it.EditedAt = it.CreatedAt
			if first != nil {
				it.CreatedAt = first
			}
		}
		return it
	}
	item := mk(cur)
	for i := 0; i < cur; i++ {
		if versions[i] != nil {
			item.History = append(item.History, mk(i))
		}
	}
	return item
}

// lookup fetches tweets by id, 100 a call. Ids X no longer has come back
// as partial errors and are simply missing from the map.
func (r *run) lookup(ctx context.Context, ids []string) (map[string]version, error) {
	found := map[string]version{}
	var errs []error
	for start := 0; start < len(ids); start += 100 {
		chunk := ids[start:min(start+100, len(ids))]
		q := url.Values{
			"ids": {strings.Join(chunk, ",")}, "tweet.fields": {tweetFields},
			"expansions":   {"attachments.media_keys,author_id"},
			"media.fields": {mediaFields}, "user.fields": {"username,name"},
		}
		page, err := r.get(ctx, "/2/tweets", q)
		var resp *tweetsResponse
		if err == nil {
			resp, err = decodeTweets(page.Body, false)
		}
		if err != nil {
			if fatal(ctx, err) {
				return found, err
			}
			errs = append(errs, err)
			continue
		}
		for _, t := range resp.Data {
			found[t.ID] = version{tw: t, inc: &resp.Includes, rawKey: page.RawKey}
		}
	}
	return found, errors.Join(errs...)
}

// replyPosts handles the account's own replies met in its timeline. One in
// a conversation the account started is part of that thread (read with
// it); one in someone else's conversation is something the account
// published, so it is reported as a post. ok is false when that could not
// be decided; only fatal errors are returned.
func (r *run) replyPosts(ctx context.Context, deferred []pending) (ok bool, err error) {
	var todo []pending
	convs := map[string]bool{}
	var ids []string
	for _, p := range latestPending(deferred) {
		if r.reported[p.tw.root()] {
			continue
		}
		todo = append(todo, p)
		if !convs[p.tw.ConversationID] {
			convs[p.tw.ConversationID] = true
			ids = append(ids, p.tw.ConversationID)
		}
	}
	if len(todo) == 0 {
		return true, nil
	}
	roots, err := r.lookup(ctx, ids)
	if err != nil {
		err = fmt.Errorf("x: look up conversations of the account's replies: %w", err)
		if fatal(ctx, err) {
			return false, err
		}
		r.errs = append(r.errs, err)
		return false, nil
	}
	var ps []pending
	for _, p := range todo {
		if root, found := roots[p.tw.ConversationID]; found && root.tw.AuthorID == r.userID {
			continue
		}
		p.shape = shape{kind: platforms.KindPost}
		ps = append(ps, p)
	}
	if err := r.history(ctx, ps); err != nil {
		if fatal(ctx, err) {
			return false, err
		}
		r.errs = append(r.errs, err)
		ok = false
	} else {
		ok = true
	}
	for _, p := range ps {
		if err := r.report(ctx, p.item); err != nil {
			return false, err
		}
	}
	return ok, nil
}
