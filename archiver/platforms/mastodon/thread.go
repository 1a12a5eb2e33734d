package mastodon

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// threadPage is a /context answer and the blob key of its raw body.
type threadPage struct {
	ctx statusContext
	raw string
}

// context fetches GET /api/v1/statuses/:id/context.
func (r *run) context(id string) (statusContext, string, error) {
	p, err := r.get(r.base + "/api/v1/statuses/" + url.PathEscape(id) + "/context")
	if err != nil {
		return statusContext{}, "", err
	}
	sc, err := decodeContext(p.Body)
	return sc, p.RawKey, err
}

// thread reports every descendant of post, parents before children. It
// says whether the whole thread was read without error. A post deleted
// since it was listed answers 404: its thread is gone, which is not an
// error, and nothing is marked complete.
func (r *run) thread(post *status, known *threadPage) (bool, error) {
	root := string(post.ID)
	tp := known
	if tp == nil {
		sc, raw, err := r.context(root)
		if errors.Is(err, platforms.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		tp = &threadPage{ctx: sc, raw: raw}
	}
	t := newTree(root)
	t.add(tp.ctx.Descendants, tp.raw)
	var errs []error
	capped := r.capped(root, tp.ctx.Descendants)
	if capped {
		if err := r.expand(t); err != nil {
			if r.isFatal(err) {
				return false, err
			}
			errs = append(errs, err)
		}
	}
	for _, s := range t.ordered() {
		parent := s.replyTo()
		kind := platforms.KindReply
		if parent == root {
			kind = platforms.KindComment
		}
		it := statusItem(s, kind, parent, root, t.raw[string(s.ID)])
		if err := r.withHistory(&it); err != nil {
			if r.isFatal(err) {
				return false, err
			}
			errs = append(errs, fmt.Errorf("history of %s: %w", it.NativeID, err))
		}
		if err := r.report(it); err != nil {
			return false, err
		}
	}
	if capped && t.missing(post) {
		errs = append(errs, fmt.Errorf("%s: %w", root, ErrThreadCapped))
	}
	return len(errs) == 0, errors.Join(errs...)
}

// capped says a /context answer may have been cut by the instance's
// limits: as many descendants as the limit, or (without a token) a reply
// at the depth limit.
func (r *run) capped(root string, descs []status) bool {
	limit, depthCap := authedDescendants, 0
	if r.hdr == nil {
		limit, depthCap = publicDescendants, publicDepth
	}
	if len(descs) >= limit {
		return true
	}
	if depthCap == 0 {
		return false
	}
	parent := make(map[string]string, len(descs))
	for i := range descs {
		parent[string(descs[i].ID)] = descs[i].replyTo()
	}
	for id := range parent {
		d := 0
		for cur := id; cur != root && d <= len(parent); d++ {
			p, ok := parent[cur]
			if !ok {
				break
			}
			cur = p
		}
		if d >= depthCap {
			return true
		}
	}
	return false
}

// expand reads the /context of replies whose replies were cut off, until
// nothing more turns up (or maxExpansions calls).
func (r *run) expand(t *tree) error {
	done := map[string]bool{t.root: true}
	calls := 0
	for {
		id := t.nextIncomplete(done)
		if id == "" || calls >= maxExpansions {
			return nil
		}
		done[id] = true
		calls++
		sc, raw, err := r.context(id)
		if errors.Is(err, platforms.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("context of %s: %w", id, err)
		}
		t.add(sc.Descendants, raw)
	}
}

// tree holds a thread's descendants as read, in the order first seen.
type tree struct {
	root     string
	byID     map[string]*status
	raw      map[string]string // status id -> blob key of the page it came from
	order    []string
	children map[string][]string
}

func newTree(root string) *tree {
	return &tree{root: root, byID: map[string]*status{}, raw: map[string]string{}, children: map[string][]string{}}
}

func (t *tree) add(list []status, raw string) {
	for i := range list {
		s := list[i]
		id := string(s.ID)
		if _, ok := t.byID[id]; ok || id == t.root || s.Reblog != nil {
			continue
		}
		t.byID[id] = &s
		t.raw[id] = raw
		t.order = append(t.order, id)
		t.children[s.replyTo()] = append(t.children[s.replyTo()], id)
	}
}

// ordered returns the descendants depth-first from the root, parents
// before children; replies whose parent is not visible come last.
func (t *tree) ordered() []*status {
	out := make([]*status, 0, len(t.order))
	visited := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		for _, c := range t.children[id] {
			if !visited[c] {
				visited[c] = true
				out = append(out, t.byID[c])
				walk(c)
			}
		}
	}
	walk(t.root)
	for _, id := range t.order {
		if !visited[id] {
			visited[id] = true
			out = append(out, t.byID[id])
			walk(id)
		}
	}
	return out
}

// nextIncomplete is a reply, not yet expanded, with fewer replies read than
// its replies_count.
func (t *tree) nextIncomplete(done map[string]bool) string {
	for _, id := range t.order {
		if !done[id] && t.byID[id].RepliesCount > len(t.children[id]) {
			return id
		}
	}
	return ""
}

// missing says some status in the thread has more replies than were read.
func (t *tree) missing(post *status) bool {
	if post.RepliesCount > len(t.children[t.root]) {
		return true
	}
	for _, id := range t.order {
		if t.byID[id].RepliesCount > len(t.children[id]) {
			return true
		}
	}
	return false
}
