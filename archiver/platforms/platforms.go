// Package platforms holds what every platform connector shares: the
// normalised shapes of accounts, posts, comments and profiles, the Sink a
// connector reports them to, and Client, the HTTP client that rate-limits,
// retries, bounds and records every platform response. Each platform has its
// own subpackage (mastodon, bluesky, facebook, instagram, youtube, x, feed).
package platforms

import (
	"context"
	"time"
)

// Platform names, as in the API's "platform" field.
const (
	Mastodon  = "mastodon"
	Bluesky   = "bluesky"
	Facebook  = "facebook"
	Instagram = "instagram"
	YouTube   = "youtube"
	X         = "x"
	Feed      = "feed"
)

// Names lists every platform.
var Names = []string{Mastodon, Bluesky, Facebook, Instagram, YouTube, X, Feed}

// Item kinds.
const (
	KindPost    = "post"    // something the account published
	KindComment = "comment" // a response to a post
	KindReply   = "reply"   // a response to a comment or reply, at any depth
)

// Account is what a connector needs to know about the account it captures.
type Account struct {
	ID         uint64
	Platform   string
	Handle     string // mastodon acct, bluesky handle, x username, feed URL
	NativeID   string // facebook page id, instagram user id, youtube channel id
	APIBase    string // base URL; the platform's own paths are appended unchanged
	Credential string // access token, API key or bearer token; "" when none
}

// Options say how much a run reads.
type Options struct {
	// Full re-reads every post still visible and every thread, so edits
	// and deletions of old content are found. Otherwise (incremental) the
	// connector stops paging posts at the first one created before Since,
	// but still reads the threads of the posts it did read.
	Full  bool
	Since time.Time
}

// Media is one attachment, as the platform lists it. The capture run
// downloads URL into the blob store.
type Media struct {
	NativeID    string `json:"native_id,omitempty"` // stable id when the platform gives one (URLs may be signed and change)
	URL         string `json:"url"`
	ContentType string `json:"content_type,omitempty"` // as the platform says; the download's header wins
	Kind        string `json:"kind,omitempty"`         // image, video, audio, gif, document, thumbnail
	AltText     string `json:"alt_text,omitempty"`
}

// Item is a post, comment or reply in normalised form. Only content goes
// here: the capture run hashes every field except RawKey, Permalink,
// AuthorName and History to decide whether this is a new version, so
// counters and timestamps that move by themselves (likes, Facebook's
// updated_time) must be left out.
type Item struct {
	NativeID       string            `json:"native_id"`
	Kind           string            `json:"kind"`
	ParentNativeID string            `json:"parent_native_id,omitempty"` // the post or comment answered; "" for posts
	RootNativeID   string            `json:"root_native_id,omitempty"`   // the post at the top of the thread; "" for posts
	AuthorID       string            `json:"author_id,omitempty"`
	AuthorName     string            `json:"author_name,omitempty"` // display name or handle; not hashed (people rename themselves)
	Title          string            `json:"title,omitempty"`       // videos, feed entries
	Text           string            `json:"text"`
	Permalink      string            `json:"permalink,omitempty"`
	CreatedAt      *time.Time        `json:"created_at,omitempty"`
	EditedAt       *time.Time        `json:"edited_at,omitempty"`   // the platform's own edit time, if it has one
	EditMarker     string            `json:"edit_marker,omitempty"` // the platform's edit marker: edited_at, cid, edit_history ids, updatedAt
	Hidden         bool              `json:"hidden,omitempty"`      // hidden by the page (Facebook is_hidden, Instagram hidden)
	Media          []Media           `json:"media,omitempty"`
	Extra          map[string]string `json:"extra,omitempty"` // other content fields worth keeping (link, place, spoiler text)
	// RawKey is the blob key of the raw response this item was read from
	// (Client records every response and returns its key in Page).
	RawKey string `json:"raw_key"`
	// History holds earlier contents, oldest first, when the platform
	// exposes them (Mastodon /history, X edit_history_tweet_ids). The
	// capture run stores each as a version before the current one.
	History []Item `json:"history,omitempty"`
}

// Profile is the account's profile as shown in one run (policy 3.3 checks
// it says it is official, shows a city e-mail and links the city website).
type Profile struct {
	NativeID    string            `json:"native_id"`
	Handle      string            `json:"handle"`
	DisplayName string            `json:"display_name"`
	Description string            `json:"description"`
	Website     string            `json:"website,omitempty"`
	Email       string            `json:"email,omitempty"`
	URL         string            `json:"url,omitempty"`
	AvatarURL   string            `json:"avatar_url,omitempty"`
	Verified    bool              `json:"verified,omitempty"`
	Extra       map[string]string `json:"extra,omitempty"`
	RawKey      string            `json:"raw_key"`
}

// Sink receives what a connector reads, in order: the profile, then each
// post followed by its comments and replies.
type Sink interface {
	// Profile records the account's profile.
	Profile(ctx context.Context, p Profile) error
	// Item records one post, comment or reply. Parents come before their
	// children.
	Item(ctx context.Context, it Item) error
	// ThreadComplete says every comment and reply under the post was read
	// to the end without error; only then may the run mark the thread's
	// missing items deleted. Never call it after a failed or partial page.
	ThreadComplete(ctx context.Context, postNativeID string) error
	// PostsComplete says the account's whole post listing was read to the
	// end in a full run; only then may the run mark missing posts deleted.
	// Don't call it when the platform cuts the listing short (X's 3,200).
	PostsComplete(ctx context.Context) error
}

// Connector captures one platform.
type Connector interface {
	// Platform is the platform's name (one of Names).
	Platform() string
	// DefaultAPIBase is the real platform's base URL.
	DefaultAPIBase() string
	// Capture reads the account and reports to sink. It returns an error
	// when anything could not be read; what was reported before stays.
	Capture(ctx context.Context, acct Account, opts Options, c *Client, sink Sink) error
}
