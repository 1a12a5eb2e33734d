package api

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/storage"
)

// MaxItemsPage caps size on GET /api/v1/items.
const MaxItemsPage = 500

type flagOut struct {
	Category string `json:"category"`
	Rule     string `json:"rule"`
}

type itemOut struct {
	ID             uint64     `json:"id"`
	AccountID      uint64     `json:"account_id"`
	Platform       string     `json:"platform"`
	NativeID       string     `json:"native_id"`
	Kind           string     `json:"kind"`
	ParentNativeID string     `json:"parent_native_id"`
	AuthorID       string     `json:"author_id"`
	AuthorName     string     `json:"author_name"`
	URL            string     `json:"url"`
	Text           string     `json:"text"`
	Hidden         bool       `json:"hidden"`
	CreatedAt      *time.Time `json:"created_at"`
	EditedAt       *time.Time `json:"edited_at"`
	FirstSeenAt    time.Time  `json:"first_seen_at"`
	LastSeenAt     time.Time  `json:"last_seen_at"`
	DeletedAt      *time.Time `json:"deleted_at"`
	VersionCount   int        `json:"version_count"`
	Flags          []flagOut  `json:"flags"`
}

type versionOut struct {
	Seq           int       `json:"seq"`
	SHA256        string    `json:"sha256"`
	CapturedAt    time.Time `json:"captured_at"`
	Text          string    `json:"text"`
	EditMarker    string    `json:"edit_marker"`
	CaptureRunID  *uint64   `json:"capture_run_id"`
	NormalizedKey string    `json:"normalized_blob"`
	RawKey        string    `json:"raw_blob"`
}

type mediaOut struct {
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
	BlobKey     string `json:"blob"`
}

func toItemOut(it storage.Item) itemOut {
	return itemOut{ID: it.ID, AccountID: it.AccountID, Platform: it.Platform, NativeID: it.NativeID, Kind: it.Kind,
		ParentNativeID: it.ParentNativeID, AuthorID: it.AuthorID, AuthorName: it.AuthorName, URL: it.URL, Text: it.Text,
		Hidden: it.Hidden, CreatedAt: it.PlatformCreatedAt, EditedAt: it.PlatformEditedAt, FirstSeenAt: it.FirstSeenAt,
		LastSeenAt: it.LastSeenAt, DeletedAt: it.DeletedAt, VersionCount: it.VersionCount, Flags: []flagOut{}}
}

// toFlagOuts lists an item's screening flags as the items API shows them.
func toFlagOuts(fs []storage.Flag) []flagOut {
	out := make([]flagOut, 0, len(fs))
	for _, f := range fs {
		out = append(out, flagOut{Category: f.Category, Rule: f.Rule})
	}
	return out
}

// pageToken is opaque to callers: the last id of the page, encoded.
func encodeToken(id uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("i:" + strconv.FormatUint(id, 10)))
}

func decodeToken(tok string) (uint64, bool) {
	if tok == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), "i:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(rest, 10, 63)
	return id, err == nil
}

// listItems pages through every item ever captured, deleted ones included.
func (s *Server) listItems(c *gin.Context) {
	problems := map[string]string{}
	var account uint64
	if v := c.Query("account"); v != "" {
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil {
			problems["account"] = "must be an account id"
		}
		account = n
	}
	after, ok := decodeToken(c.Query("page_token"))
	if !ok {
		problems["page_token"] = "is not a token this API gave out"
	}
	size := 100
	if v := c.Query("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			problems["size"] = "must be a positive number"
		}
		size = min(n, MaxItemsPage)
	}
	if len(problems) > 0 {
		s.invalid(c, problems)
		return
	}
	p, err := s.Catalog.ListItems(c.Request.Context(), account, after, size)
	if err != nil {
		s.internal(c, "list items", err)
		return
	}
	ids := make([]uint64, 0, len(p.Items))
	for _, it := range p.Items {
		ids = append(ids, it.ID)
	}
	flags, err := s.Catalog.FlagsOfItems(c.Request.Context(), ids)
	if err != nil {
		s.internal(c, "list items", err)
		return
	}
	out := make([]itemOut, 0, len(p.Items))
	for _, it := range p.Items {
		o := toItemOut(it)
		o.Flags = toFlagOuts(flags[it.ID])
		out = append(out, o)
	}
	var next *string
	if p.NextID != 0 {
		t := encodeToken(p.NextID)
		next = &t
	}
	c.JSON(http.StatusOK, gin.H{"items": out, "next_page_token": next})
}

// getItem returns one item with every version and its media.
func (s *Server) getItem(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	it, vs, ms, ok := s.loadItem(c, id)
	if !ok {
		return
	}
	out := struct {
		itemOut
		Versions []versionOut `json:"versions"`
		Media    []mediaOut   `json:"media"`
	}{itemOut: toItemOut(*it), Versions: []versionOut{}, Media: []mediaOut{}}
	flags, err := s.Catalog.FlagsOfItems(c.Request.Context(), []uint64{it.ID})
	if err != nil {
		s.internal(c, "get item flags", err)
		return
	}
	out.Flags = toFlagOuts(flags[it.ID])
	for _, v := range vs {
		out.Versions = append(out.Versions, versionOut{Seq: v.Seq, SHA256: v.SHA256, CapturedAt: v.CapturedAt, Text: v.Text,
			EditMarker: v.EditMarker, CaptureRunID: v.CaptureRunID, NormalizedKey: v.NormalizedKey, RawKey: v.RawKey})
	}
	for _, m := range ms {
		out.Media = append(out.Media, mediaOut{SHA256: m.SHA256, ContentType: m.ContentType, Size: m.Size, URL: m.URL, BlobKey: m.BlobKey})
	}
	c.JSON(http.StatusOK, out)
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// loadItem reads an item with its versions and media, answering the
// request itself (404 or 500) when it cannot.
func (s *Server) loadItem(c *gin.Context, id uint64) (*storage.Item, []storage.Version, []storage.Media, bool) {
	ctx := c.Request.Context()
	it, err := s.Catalog.ItemByID(ctx, id)
	if !s.found(c, "item", err) {
		return nil, nil, nil, false
	}
	vs, err := s.Catalog.Versions(ctx, id)
	if err != nil {
		s.internal(c, "get item versions", err)
		return nil, nil, nil, false
	}
	ms, err := s.Catalog.ItemMedia(ctx, id)
	if err != nil {
		s.internal(c, "get item media", err)
		return nil, nil, nil, false
	}
	return it, vs, ms, true
}
