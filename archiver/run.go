package archiver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// actor is how captures sign the custody log.
const actor = "system:archiver"

// maxMediaBytes bounds one attachment; larger downloads fail that item.
const maxMediaBytes = 4 << 30

// run is one capture run: the Sink a connector reports to. It writes blobs
// first, then catalog rows, item by item, so a crash at any point leaves at
// most unreferenced blobs.
type run struct {
	a      *Archiver
	rec    *storage.CaptureRun
	acct   *storage.Account
	client *platforms.Client
	log    *slog.Logger

	mu    sync.Mutex
	n     storage.RunCounts
	errs  []string
	saved int
	// failedRoots holds posts whose thread lost an item this run (it could
	// not be stored), so the thread is not complete and nothing under it
	// may be marked deleted. failedPost does the same for the listing.
	failedRoots map[string]bool
	failedPost  bool
}

func newRun(a *Archiver, r *storage.CaptureRun, acct *storage.Account, log *slog.Logger) *run {
	return &run{a: a, rec: r, acct: acct, log: log, failedRoots: map[string]bool{}}
}

func (r *run) counts() storage.RunCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *run) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

func (r *run) recorded() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.saved
}

func (r *run) fail(it platforms.Item, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	msg := err.Error()
	if r.client != nil {
		msg = r.client.Redact(msg)
	}
	r.errs = append(r.errs, fmt.Sprintf("%s %s: %s", it.Kind, it.NativeID, msg))
	if it.Kind == platforms.KindPost {
		r.failedPost = true
		r.failedRoots[it.NativeID] = true
	} else {
		r.failedRoots[it.RootNativeID] = true
	}
}

// Profile stores the profile's normalised JSON and a snapshot row.
func (r *run) Profile(ctx context.Context, p platforms.Profile) error {
	b, err := json.Marshal(struct {
		Schema string `json:"schema"`
		platforms.Profile
	}{"civicarchive.profile/v1", p})
	if err != nil {
		return err
	}
	ref, _, err := blob.PutBytes(ctx, r.a.o.Blobs, b)
	if err != nil {
		return fmt.Errorf("archiver: store profile: %w", err)
	}
	return r.a.o.Catalog.AddProfileSnapshot(ctx, r.acct.ID, r.rec.ID, ref.SHA256, ref.Key)
}

// Item stores one item. A failure to store it (media download, blob
// store) is recorded and the item's thread is no longer complete; the run
// goes on.
func (r *run) Item(ctx context.Context, it platforms.Item) error {
	if err := validItem(it); err != nil {
		return fmt.Errorf("archiver: connector reported a bad item: %w", err)
	}
	if err := r.store(ctx, it); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.fail(it, err)
		r.log.Warn("item not stored", "native_id", it.NativeID, "err", err)
	}
	return nil
}

func validItem(it platforms.Item) error {
	switch {
	case it.NativeID == "":
		return errors.New("empty native id")
	case it.Kind != platforms.KindPost && it.Kind != platforms.KindComment && it.Kind != platforms.KindReply:
		return fmt.Errorf("item %s: kind %q", it.NativeID, it.Kind)
	case it.Kind != platforms.KindPost && (it.ParentNativeID == "" || it.RootNativeID == ""):
		return fmt.Errorf("%s %s has no parent or root", it.Kind, it.NativeID)
	}
	return nil
}

func (r *run) store(ctx context.Context, it platforms.Item) error {
	media, newMedia, err := r.media(ctx, it.Media)
	if err != nil {
		return err
	}
	var versions []storage.VersionCapture
	for _, h := range it.History {
		h.Kind, h.ParentNativeID, h.RootNativeID, h.AuthorID = it.Kind, it.ParentNativeID, it.RootNativeID, it.AuthorID
		v, err := r.version(ctx, h, nil)
		if err != nil {
			return err
		}
		versions = append(versions, v)
	}
	cur, err := r.version(ctx, it, media)
	if err != nil {
		return err
	}
	versions = append(versions, cur)
	in := storage.ItemCapture{
		AccountID: r.acct.ID, RunID: r.rec.ID, Platform: r.acct.Platform, NativeID: it.NativeID, Kind: it.Kind,
		ParentNativeID: it.ParentNativeID, RootNativeID: it.RootNativeID, AuthorID: it.AuthorID, AuthorName: it.AuthorName,
		URL: it.Permalink, CreatedAt: it.CreatedAt, EditedAt: it.EditedAt, Hidden: it.Hidden,
		Versions: versions, Media: media, Actor: actor,
	}
	if r.a.o.Screen != nil {
		in.Flags = r.a.o.Screen(cur.Text)
	}
	res, err := r.a.o.Catalog.RecordItem(ctx, in)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.saved++
	if it.Kind == platforms.KindPost {
		r.n.Posts++
	} else {
		r.n.Comments++
	}
	switch {
	case res.New:
		r.n.New++
	case res.NewVersions > 0:
		r.n.Changed++
	}
	r.n.Media += newMedia
	return nil
}

// media makes sure every attachment's bytes are in the blob store: known
// platform media ids are not downloaded again.
func (r *run) media(ctx context.Context, ms []platforms.Media) ([]storage.MediaCapture, int, error) {
	out := make([]storage.MediaCapture, 0, len(ms))
	downloaded := 0
	for _, m := range ms {
		if m.NativeID != "" {
			known, err := r.a.o.Catalog.MediaByNativeID(ctx, r.acct.ID, m.NativeID)
			if err == nil {
				out = append(out, storage.MediaCapture{NativeID: m.NativeID, URL: m.URL, SHA256: known.SHA256,
					BlobKey: known.BlobKey, ContentType: known.ContentType, Size: known.Size})
				continue
			}
			if !errors.Is(err, storage.ErrNotFound) {
				return nil, 0, err
			}
		}
		body, ctype, err := r.client.Download(ctx, m.URL)
		if err != nil {
			return nil, 0, fmt.Errorf("media %s: %w", r.client.Redact(m.URL), err)
		}
		lr := &io.LimitedReader{R: body, N: maxMediaBytes + 1}
		ref, _, err := r.a.o.Blobs.Put(ctx, lr)
		body.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("media %s: %w", r.client.Redact(m.URL), err)
		}
		if lr.N <= 0 {
			return nil, 0, fmt.Errorf("media %s: larger than %d bytes", r.client.Redact(m.URL), int64(maxMediaBytes))
		}
		if ctype == "" {
			ctype = m.ContentType
		}
		out = append(out, storage.MediaCapture{NativeID: m.NativeID, URL: r.client.Redact(m.URL), SHA256: ref.SHA256,
			BlobKey: ref.Key, ContentType: ctype, Size: ref.Size})
		downloaded++
	}
	return out, downloaded, nil
}

// content is what a version's hash covers: the item's content, not its
// identity's volatile parts (signed media URLs, author display names,
// permalinks, counters).
type content struct {
	Kind           string            `json:"kind"`
	ParentNativeID string            `json:"parent_native_id"`
	RootNativeID   string            `json:"root_native_id"`
	AuthorID       string            `json:"author_id"`
	Title          string            `json:"title"`
	Text           string            `json:"text"`
	EditMarker     string            `json:"edit_marker"`
	Hidden         bool              `json:"hidden"`
	Media          []mediaContent    `json:"media"`
	Extra          map[string]string `json:"extra"`
}

type mediaContent struct {
	NativeID string `json:"native_id,omitempty"`
	SHA256   string `json:"sha256"`
	Kind     string `json:"kind,omitempty"`
	AltText  string `json:"alt_text,omitempty"`
}

// normalized is the stored JSON of one version.
type normalized struct {
	Schema        string                 `json:"schema"`
	Platform      string                 `json:"platform"`
	AccountID     uint64                 `json:"account_id"`
	NativeID      string                 `json:"native_id"`
	ContentSHA256 string                 `json:"content_sha256"`
	Content       content                `json:"content"`
	AuthorName    string                 `json:"author_name,omitempty"`
	Permalink     string                 `json:"permalink,omitempty"`
	CreatedAt     *time.Time             `json:"created_at,omitempty"`
	EditedAt      *time.Time             `json:"edited_at,omitempty"`
	Media         []storage.MediaCapture `json:"media,omitempty"`
	RawKey        string                 `json:"raw_key"`
}

// ContentHash is the SHA-256 of an item's content in canonical JSON
// (fixed field order; map keys sorted by encoding/json).
func contentHash(c content) string {
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// version writes one version's normalised JSON to the blob store.
func (r *run) version(ctx context.Context, it platforms.Item, media []storage.MediaCapture) (storage.VersionCapture, error) {
	c := content{Kind: it.Kind, ParentNativeID: it.ParentNativeID, RootNativeID: it.RootNativeID, AuthorID: it.AuthorID,
		Title: it.Title, Text: it.Text, EditMarker: it.EditMarker, Hidden: it.Hidden, Media: []mediaContent{}, Extra: it.Extra}
	for i, m := range media {
		mc := mediaContent{NativeID: m.NativeID, SHA256: m.SHA256}
		if i < len(it.Media) {
			mc.Kind, mc.AltText = it.Media[i].Kind, it.Media[i].AltText
		}
		c.Media = append(c.Media, mc)
	}
	if c.Extra == nil {
		c.Extra = map[string]string{}
	}
	sum := contentHash(c)
	doc := normalized{Schema: "civicarchive.item/v1", Platform: r.acct.Platform, AccountID: r.acct.ID, NativeID: it.NativeID,
		ContentSHA256: sum, Content: c, AuthorName: it.AuthorName, Permalink: it.Permalink, CreatedAt: it.CreatedAt,
		EditedAt: it.EditedAt, Media: media, RawKey: it.RawKey}
	b, err := json.Marshal(doc)
	if err != nil {
		return storage.VersionCapture{}, err
	}
	ref, _, err := blob.PutBytes(ctx, r.a.o.Blobs, b)
	if err != nil {
		return storage.VersionCapture{}, fmt.Errorf("store normalised item: %w", err)
	}
	return storage.VersionCapture{SHA256: sum, NormalizedKey: ref.Key, RawKey: it.RawKey, Text: it.Text, EditMarker: it.EditMarker}, nil
}

// ThreadComplete marks the thread's unseen items deleted, unless an item of
// it could not be stored this run.
func (r *run) ThreadComplete(ctx context.Context, post string) error {
	r.mu.Lock()
	skip := r.failedRoots[post]
	r.mu.Unlock()
	if skip {
		return nil
	}
	n, err := r.a.o.Catalog.MarkThreadDeleted(ctx, r.acct.ID, r.rec.ID, post, actor)
	r.mu.Lock()
	r.n.Deleted += n
	r.mu.Unlock()
	return err
}

// PostsComplete marks unseen posts deleted after a complete full listing.
func (r *run) PostsComplete(ctx context.Context) error {
	r.mu.Lock()
	skip := r.failedPost || r.rec.Kind != storage.RunFull
	r.mu.Unlock()
	if skip {
		return nil
	}
	n, err := r.a.o.Catalog.MarkMissingPosts(ctx, r.acct.ID, r.rec.ID, actor)
	r.mu.Lock()
	r.n.Deleted += n
	r.mu.Unlock()
	return err
}
