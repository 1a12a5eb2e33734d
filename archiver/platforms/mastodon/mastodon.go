// Package mastodon captures a Mastodon account: its profile, every public
// status it posted, and every reply under them at any depth, with edit
// history, through the instance's REST API (docs.joinmastodon.org).
package mastodon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// ErrThreadCapped says a thread reached the instance's context limit (60
// descendants and depth 20 without a token, 4,096 with one) and the
// replies past it could not be reached, so the thread is not complete.
// Registering an access token for the account lifts the public limit.
var ErrThreadCapped = errors.New("mastodon: thread longer than the context limit")

// Context limits of GET /api/v1/statuses/:id/context (Mastodon 4.0+).
const (
	publicDescendants = 60
	publicDepth       = 20
	authedDescendants = 4096
	pageLimit         = 40  // the most statuses a page may hold
	maxExpansions     = 200 // extra /context calls per capped thread
)

// Connector captures Mastodon accounts.
type Connector struct{}

// New returns a Mastodon connector.
func New() *Connector { return &Connector{} }

// Platform returns platforms.Mastodon.
func (*Connector) Platform() string { return platforms.Mastodon }

// DefaultAPIBase is mastodon.social; accounts on other instances register
// their instance URL as api_base.
func (*Connector) DefaultAPIBase() string { return "https://mastodon.social" }

// Capture reads the profile, pages through the account's statuses
// (Link rel="next") and reads each thread's descendants. See
// platforms.Connector.
func (cn *Connector) Capture(ctx context.Context, acct platforms.Account, opts platforms.Options, c *platforms.Client, sink platforms.Sink) error {
	base := strings.TrimRight(acct.APIBase, "/")
	if base == "" {
		base = cn.DefaultAPIBase()
	}
	bu, err := url.Parse(base)
	if err != nil || bu.Host == "" {
		return fmt.Errorf("mastodon: api_base %q is not a URL", acct.APIBase)
	}
	r := &run{ctx: ctx, acct: acct, opts: opts, c: c, sink: sink, base: base, baseURL: bu, seen: map[string]bool{}}
	if acct.Credential != "" {
		r.hdr = http.Header{"Authorization": {"Bearer " + acct.Credential}}
	}
	return r.capture()
}

// run is one capture.
type run struct {
	ctx     context.Context
	acct    platforms.Account
	opts    platforms.Options
	c       *platforms.Client
	sink    platforms.Sink
	base    string
	baseURL *url.URL
	hdr     http.Header
	me      string          // the account's id
	seen    map[string]bool // the account's own statuses reported this run (others are never looked up)
	errs    []error
}

// fatal errors end the run at once: the credential is refused, the run is
// cancelled or out of time, or the sink failed.
type fatalError struct{ err error }

func (f fatalError) Error() string { return f.err.Error() }
func (f fatalError) Unwrap() error { return f.err }

func (r *run) isFatal(err error) bool {
	var fe fatalError
	return errors.As(err, &fe) || errors.Is(err, platforms.ErrAuth) ||
		errors.Is(err, platforms.ErrRateLimited) || r.ctx.Err() != nil ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// note remembers a non-fatal error; it returns err when the run must stop.
func (r *run) note(action string, err error) error {
	w := fmt.Errorf("mastodon: %s: %w", action, err)
	if r.isFatal(err) {
		return w
	}
	r.errs = append(r.errs, w)
	return nil
}

func (r *run) capture() error {
	a, raw, err := r.lookup()
	if err != nil {
		return fmt.Errorf("mastodon: profile: %w", err)
	}
	r.me = string(a.ID)
	if err := r.sink.Profile(r.ctx, profile(a, raw)); err != nil {
		return fmt.Errorf("mastodon: profile: %w", fatalError{err})
	}
	deferred, done, err := r.listPosts()
	if err != nil {
		if err := r.note("list statuses", err); err != nil {
			return err
		}
	}
	if err := r.ownReplies(deferred); err != nil {
		return err
	}
	if done && r.opts.Full {
		if err := r.sink.PostsComplete(r.ctx); err != nil {
			return fmt.Errorf("mastodon: posts complete: %w", err)
		}
	}
	return errors.Join(r.errs...)
}

func (r *run) get(u string) (*platforms.Page, error) {
	return r.c.Get(r.ctx, u, r.hdr)
}

// lookup reads the profile by acct; when the handle is gone (a rename) and
// the account's id is known, by id.
func (r *run) lookup() (account, string, error) {
	handle := strings.TrimPrefix(strings.TrimSpace(r.acct.Handle), "@")
	var p *platforms.Page
	err := errors.New("no handle or id")
	if handle != "" {
		p, err = r.get(r.base + "/api/v1/accounts/lookup?acct=" + url.QueryEscape(handle))
	}
	if (handle == "" || errors.Is(err, platforms.ErrNotFound)) && r.acct.NativeID != "" {
		p, err = r.get(r.base + "/api/v1/accounts/" + url.PathEscape(r.acct.NativeID))
	}
	if err != nil {
		return account{}, "", err
	}
	a, err := decodeAccount(p.Body)
	return a, p.RawKey, err
}

// listPosts pages the account's statuses newest first, capturing each
// top-level post and its thread as it goes. The account's own replies are
// returned for ownReplies. done says the listing was read to its end.
func (r *run) listPosts() (deferred []status, done bool, err error) {
	next := r.base + "/api/v1/accounts/" + url.PathEscape(r.me) + "/statuses?limit=40&exclude_reblogs=true"
	prev := map[string]bool{}
	for next != "" {
		if prev[next] {
			return deferred, false, fmt.Errorf("%w: Link rel=next repeats %s", platforms.ErrMalformed, r.c.Redact(next))
		}
		prev[next] = true
		p, err := r.get(next)
		if err != nil {
			return deferred, false, err
		}
		ss, err := decodeStatuses(p.Body)
		if err != nil {
			return deferred, false, err
		}
		if len(ss) == 0 {
			return deferred, true, nil // a full last page still links to an empty one
		}
		for i := range ss {
			s := &ss[i]
			if !r.opts.Full && !r.opts.Since.IsZero() && s.created.Before(r.opts.Since) {
				return deferred, false, nil
			}
			if s.Reblog != nil {
				continue // a boost is someone else's status
			}
			if s.replyTo() != "" {
				deferred = append(deferred, *s)
				continue
			}
			if err := r.post(s, p.RawKey, nil); err != nil {
				return deferred, false, err
			}
		}
		next, err = r.follow(p.Header.Get("Link"))
		if err != nil {
			return deferred, false, err
		}
	}
	return deferred, true, nil
}

// follow resolves a Link rel="next" target. A target on another host is
// moved onto api_base's host so the token never leaves the instance.
func (r *run) follow(link string) (string, error) {
	n := nextLink(link)
	if n == "" {
		return "", nil
	}
	u, err := r.baseURL.Parse(n)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("%w: Link rel=next %q", platforms.ErrMalformed, r.c.Redact(n))
	}
	if u.Host != r.baseURL.Host {
		u.Scheme, u.Host, u.User = r.baseURL.Scheme, r.baseURL.Host, nil
	}
	return u.String(), nil
}

// ownReplies handles the account's statuses that answer another status.
// Most sit in a thread already read this run (a reply to a comment under
// one of its posts) and are skipped. For the others, /context shows the
// thread's top: when that is the account's own post (outside this
// incremental window), that post and its thread are captured; otherwise
// the reply is the top of what the archive holds, a "post" of its own.
func (r *run) ownReplies(deferred []status) error {
	for i := range deferred {
		s := &deferred[i]
		if r.seen[string(s.ID)] {
			continue
		}
		sc, raw, err := r.context(string(s.ID))
		if errors.Is(err, platforms.ErrNotFound) {
			continue // deleted since it was listed
		}
		if err != nil {
			if err := r.note("context of reply "+string(s.ID), err); err != nil {
				return err
			}
			continue
		}
		if len(sc.Ancestors) > 0 && string(sc.Ancestors[0].Account.ID) == r.me {
			top := sc.Ancestors[0]
			if r.seen[string(top.ID)] {
				continue
			}
			if err := r.post(&top, raw, nil); err != nil {
				return err
			}
			continue
		}
		if err := r.post(s, raw, &threadPage{ctx: sc, raw: raw}); err != nil {
			return err
		}
	}
	return nil
}

// post reports a top-level status, its history and its thread. Errors that
// do not stop the run are noted; the returned error is fatal.
func (r *run) post(s *status, rawKey string, known *threadPage) error {
	it := statusItem(s, platforms.KindPost, "", "", rawKey)
	if err := r.withHistory(&it); err != nil {
		if err := r.note("history of "+it.NativeID, err); err != nil {
			return err
		}
	}
	if err := r.report(it); err != nil {
		return err
	}
	complete, err := r.thread(s, known)
	if err != nil {
		if err := r.note("thread "+it.NativeID, err); err != nil {
			return err
		}
	}
	if complete {
		if err := r.sink.ThreadComplete(r.ctx, it.NativeID); err != nil {
			return fmt.Errorf("mastodon: thread complete: %w", fatalError{err})
		}
	}
	return nil
}

func (r *run) report(it platforms.Item) error {
	// Only the account's own statuses can come round again (deferred own
	// replies); remembering just those keeps memory flat however many
	// comments the account has.
	if it.AuthorID == r.me {
		r.seen[it.NativeID] = true
	}
	if err := r.sink.Item(r.ctx, it); err != nil {
		return fmt.Errorf("mastodon: report %s: %w", it.NativeID, fatalError{err})
	}
	return nil
}

// withHistory fills it.History from /history when the status was edited.
// A status deleted meanwhile keeps no history (not an error).
func (r *run) withHistory(it *platforms.Item) error {
	if it.EditMarker == "" {
		return nil
	}
	p, err := r.get(r.base + "/api/v1/statuses/" + url.PathEscape(it.NativeID) + "/history")
	if errors.Is(err, platforms.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	edits, err := decodeHistory(p.Body)
	if err != nil {
		return err
	}
	it.History = historyItems(*it, edits, p.RawKey)
	return nil
}
