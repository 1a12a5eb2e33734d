// Package feed captures RSS 2.0 and Atom 1.0 feeds of a city's website
// (news, blog): every entry is a post; feeds carry no comments. Paged and
// archived feeds (RFC 5005) are followed to the end. Feeds are parsed with
// github.com/mmcdole/gofeed from the raw bytes the Client stored.
package feed

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// DefaultMaxPages bounds how many feed documents one run follows through
// rel="next" / rel="prev-archive" links.
const DefaultMaxPages = 1000

// accept is the Accept header sent for feed documents.
const accept = "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.8"

// Connector captures one feed. The zero value is ready to use.
type Connector struct {
	// CompleteFeed says the feed (followed through its RFC 5005 links)
	// lists every entry ever published. Only then does a full run call
	// PostsComplete: an ordinary feed shows just its latest N entries, so
	// an entry that dropped off it has not been deleted.
	CompleteFeed bool
	// MaxPages bounds the documents followed in one run (DefaultMaxPages
	// when 0). A longer chain is an error and the listing is incomplete.
	MaxPages int
}

// New returns a Connector for ordinary (latest-N) feeds.
func New() *Connector { return &Connector{} }

// Platform returns platforms.Feed.
func (c *Connector) Platform() string { return platforms.Feed }

// DefaultAPIBase is "": a feed account's Handle is the feed URL itself.
func (c *Connector) DefaultAPIBase() string { return "" }

// Capture reads the feed at acct.Handle and every older page its RFC 5005
// links lead to, reporting the profile from the first document and each
// entry as a post with an empty, complete thread. An incremental run skips
// entries published before opts.Since and follows no further page once it
// met one. PostsComplete is called only for a full run of a CompleteFeed
// whose chain was read to the end.
func (c *Connector) Capture(ctx context.Context, acct platforms.Account, opts platforms.Options, cl *platforms.Client, sink platforms.Sink) error {
	feedURL, err := FeedURL(acct)
	if err != nil {
		return fmt.Errorf("feed: account: %w", err)
	}
	hdr := http.Header{"Accept": {accept}}
	if a := authorization(acct.Credential); a != "" {
		hdr.Set("Authorization", a)
	}
	maxPages := c.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	r := &run{opts: opts, sink: sink, seen: map[string]bool{}}
	visited := map[string]bool{}
	next := feedURL
	for page := 0; next != ""; page++ {
		if visited[next] {
			break // a link back to a page already read: the chain ends here
		}
		if page == maxPages {
			return fmt.Errorf("feed: paging: more than %d documents from %s", maxPages, cl.Redact(feedURL))
		}
		visited[next] = true
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("feed: capture: %w", err)
		}
		p, err := cl.Get(ctx, next, hdr)
		if err != nil {
			return fmt.Errorf("feed: get feed page %d: %w", page+1, err)
		}
		doc, err := decode(p.Body, next)
		if err != nil {
			return fmt.Errorf("feed: parse %s: %w", p.URL, err)
		}
		if page == 0 {
			if err := r.profile(ctx, doc.profile, acct, feedURL, p.RawKey); err != nil {
				return err
			}
		}
		older, err := r.items(ctx, doc.items, p.RawKey)
		if err != nil {
			return err
		}
		if older {
			return nil // incremental run: the rest is older than Since
		}
		next = doc.next
	}
	if opts.Full && c.CompleteFeed {
		if err := sink.PostsComplete(ctx); err != nil {
			return fmt.Errorf("feed: posts complete: %w", err)
		}
	}
	return nil
}

// run is the state of one Capture.
type run struct {
	opts platforms.Options
	sink platforms.Sink
	seen map[string]bool // entries already reported (paged feeds can shift)
}

func (r *run) profile(ctx context.Context, p platforms.Profile, acct platforms.Account, feedURL, rawKey string) error {
	p.NativeID = feedURL
	if acct.NativeID != "" {
		p.NativeID = acct.NativeID
	}
	p.Handle = acct.Handle
	if p.URL == "" {
		p.URL = feedURL
	}
	p.RawKey = rawKey
	if err := r.sink.Profile(ctx, p); err != nil {
		return fmt.Errorf("feed: report profile: %w", err)
	}
	return nil
}

// items reports one page's entries. older is true when an incremental run
// met an entry published before Since (it and its like are skipped).
func (r *run) items(ctx context.Context, items []platforms.Item, rawKey string) (older bool, err error) {
	for _, it := range items {
		if !r.opts.Full && !r.opts.Since.IsZero() && it.CreatedAt != nil && it.CreatedAt.Before(r.opts.Since) {
			older = true
			continue
		}
		if r.seen[it.NativeID] {
			continue
		}
		r.seen[it.NativeID] = true
		it.RawKey = rawKey
		if err := r.sink.Item(ctx, it); err != nil {
			return older, fmt.Errorf("feed: report entry: %w", err)
		}
		// A feed entry has no comments: its thread is empty and complete.
		if err := r.sink.ThreadComplete(ctx, it.NativeID); err != nil {
			return older, fmt.Errorf("feed: thread complete: %w", err)
		}
	}
	return older, nil
}

// FeedURL is the URL to fetch for acct: its Handle when that is an
// absolute http(s) URL, else the Handle as a path joined to APIBase.
func FeedURL(acct platforms.Account) (string, error) {
	h := strings.TrimSpace(acct.Handle)
	if u, err := url.Parse(h); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return h, nil
	}
	base := strings.TrimSpace(acct.APIBase)
	if base == "" || h == "" {
		return "", errors.New("handle must be the feed's http(s) URL")
	}
	b, err := url.Parse(base)
	if err != nil || (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" {
		return "", fmt.Errorf("api_base %q is not an http(s) URL", base)
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(h, "/"), nil
}

// authorization is the Authorization header for a protected feed: HTTP
// Basic when the credential is "user:password", else a bearer token.
func authorization(cred string) string {
	switch {
	case cred == "":
		return ""
	case strings.Contains(cred, ":"):
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(cred))
	default:
		return "Bearer " + cred
	}
}
