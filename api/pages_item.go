package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/storage"
)

// itemView is what item.html gets.
type itemView struct {
	pageData
	Item      itemInfo
	Thread    *threadNode
	Truncated bool // the thread is longer than the page looked through
	Media     []mediaView
	Versions  []versionView
}

type itemInfo struct {
	ID                                   uint64
	Title, Platform, Kind, Account       string
	AuthorName, AuthorID, NativeID       string
	URL                                  string // the original, only when it is an http(s) link
	Created, Edited, FirstSeen, LastSeen string
	Deleted                              string
	Hidden                               bool
	VersionCount                         int
}

type threadNode struct {
	URL, Title, Excerpt, Created, Deleted string
	Hidden, Current                       bool
	Children                              []*threadNode
}

type mediaView struct {
	URL, ContentType, SHA256, Size string
	Kind                           string // image, video, audio or file
	N                              int
}

type versionView struct {
	Seq, Of              int
	CapturedAt, SHA256   string
	EditMarker           string
	Parts                []diffPart // the text, marked against the version before
	Changed, Current     bool
	Anchor, CaptureRunID string
}

// threadLimit bounds how many items of a thread the item page shows.
const threadLimit = 10_000

// itemPathID reads :id of a page route; a malformed one is a 404 page.
func (s *Server) itemPathID(c *gin.Context) (uint64, bool) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 63)
	if err != nil || id == 0 {
		s.fail(c, http.StatusNotFound, "not_found", "no such item")
		return 0, false
	}
	return id, true
}

// itemPage is GET /items/:id: the item, its thread, its media and every
// version, each marked against the one before. Captured text is only ever
// put in the page through html/template, so it is always escaped.
func (s *Server) itemPage(c *gin.Context) {
	id, ok := s.itemPathID(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	it, vs, ms, ok := s.loadItem(c, id)
	if !ok {
		return
	}
	acct, err := s.Catalog.AccountByID(ctx, it.AccountID)
	if err != nil {
		s.internal(c, "get item account", err)
		return
	}
	v := itemView{pageData: s.base(c, kindTitle(it.Kind, it.AuthorName)), Item: s.itemInfo(*it, acct)}
	for i, ver := range vs {
		vv := versionView{Seq: ver.Seq, Of: len(vs), CapturedAt: s.cityTime(&ver.CapturedAt), SHA256: ver.SHA256,
			EditMarker: ver.EditMarker, Current: i == len(vs)-1, Anchor: "version-" + strconv.Itoa(ver.Seq)}
		if ver.CaptureRunID != nil {
			vv.CaptureRunID = itoa(*ver.CaptureRunID)
		}
		if i == 0 {
			vv.Parts = []diffPart{{Op: diffSame, Text: ver.Text}}
		} else {
			vv.Parts = wordDiff(vs[i-1].Text, ver.Text)
			vv.Changed = vs[i-1].Text != ver.Text
		}
		v.Versions = append(v.Versions, vv)
	}
	for i, m := range ms {
		v.Media = append(v.Media, mediaView{URL: "/items/" + itoa(id) + "/media/" + m.SHA256, ContentType: m.ContentType,
			SHA256: m.SHA256, Size: humanSize(m.Size), Kind: mediaKind(m.ContentType), N: i + 1})
	}
	if v.Thread, v.Truncated, err = s.thread(ctx, *it); err != nil {
		s.internal(c, "get item thread", err)
		return
	}
	s.renderView(c, http.StatusOK, "item.html", v)
}

func (s *Server) itemInfo(it storage.Item, acct *storage.Account) itemInfo {
	info := itemInfo{ID: it.ID, Title: kindTitle(it.Kind, it.AuthorName), Platform: it.Platform, Kind: it.Kind,
		Account: acct.Handle, AuthorName: it.AuthorName, AuthorID: it.AuthorID, NativeID: it.NativeID,
		Created: s.cityTime(it.PlatformCreatedAt), Edited: s.cityTime(it.PlatformEditedAt), FirstSeen: s.cityTime(&it.FirstSeenAt),
		LastSeen: s.cityTime(&it.LastSeenAt), Deleted: s.cityTime(it.DeletedAt), Hidden: it.Hidden, VersionCount: it.VersionCount}
	if u, err := url.Parse(it.URL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		info.URL = u.String()
	}
	return info
}

// thread is the tree of the post the item belongs to: the root post, its
// comments and their replies, the item marked current. truncated is true
// when the account has more items than the page looked through.
func (s *Server) thread(ctx context.Context, it storage.Item) (*threadNode, bool, error) {
	rootID := it.ID
	switch {
	case it.RootID != nil:
		rootID = *it.RootID
	case it.ParentID != nil: // not linked to its root: follow the parents
		for p, hops := it.ParentID, 0; p != nil && hops < 100; hops++ {
			parent, err := s.Catalog.ItemByID(ctx, *p)
			if err != nil {
				return nil, false, err
			}
			rootID, p = parent.ID, parent.ParentID
		}
	}
	root := it
	if rootID != it.ID {
		r, err := s.Catalog.ItemByID(ctx, rootID)
		if err != nil {
			return nil, false, err
		}
		root = *r
	}
	members := []storage.Item{root}
	seen := map[uint64]bool{root.ID: true}
	rest, truncated, err := s.Catalog.ThreadItems(ctx, rootID, threadLimit)
	if err != nil {
		return nil, false, err
	}
	for _, m := range rest {
		members = append(members, m)
		seen[m.ID] = true
	}
	if !seen[it.ID] {
		members = append(members, it)
	}
	return s.buildThread(members, rootID, it.ID), truncated, nil
}

// buildThread nests members under their parents (under the root when the
// parent is not among them), oldest first at each level.
func (s *Server) buildThread(members []storage.Item, rootID, current uint64) *threadNode {
	sort.SliceStable(members, func(i, j int) bool {
		a, b := members[i].PlatformCreatedAt, members[j].PlatformCreatedAt
		if a != nil && b != nil && !a.Equal(*b) {
			return a.Before(*b)
		}
		return members[i].ID < members[j].ID
	})
	nodes := make(map[uint64]*threadNode, len(members))
	for _, m := range members {
		nodes[m.ID] = &threadNode{URL: "/items/" + itoa(m.ID), Title: kindTitle(m.Kind, m.AuthorName), Excerpt: excerpt(m.Text, 160),
			Created: s.cityTime(m.PlatformCreatedAt), Deleted: s.cityTime(m.DeletedAt), Hidden: m.Hidden, Current: m.ID == current}
	}
	root := nodes[rootID]
	for _, m := range members {
		if m.ID == rootID {
			continue
		}
		parent := root
		if m.ParentID != nil && nodes[*m.ParentID] != nil && *m.ParentID != m.ID {
			parent = nodes[*m.ParentID]
		}
		parent.Children = append(parent.Children, nodes[m.ID])
	}
	return root
}

// itemMedia is GET /items/:id/media/:sha256: the bytes of one attachment
// of that item. Images, video and audio are shown inline with their own
// type; anything else is a download of opaque bytes, so nothing captured
// is ever run as a page of this site.
func (s *Server) itemMedia(c *gin.Context) {
	id, ok := s.itemPathID(c)
	if !ok {
		return
	}
	sum := c.Param("sha256")
	ctx := c.Request.Context()
	ms, err := s.Catalog.ItemMedia(ctx, id)
	if err != nil {
		s.internal(c, "get item media", err)
		return
	}
	var m *storage.Media
	for i := range ms {
		if ms[i].SHA256 == sum {
			m = &ms[i]
		}
	}
	if m == nil {
		s.fail(c, http.StatusNotFound, "not_found", "no such attachment on this item")
		return
	}
	rc, err := s.Blobs.Get(ctx, m.BlobKey)
	if err != nil {
		s.internal(c, "read media blob", err)
		return
	}
	defer rc.Close()
	h := c.Writer.Header()
	kind := mediaKind(m.ContentType)
	if kind == "file" {
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", m.SHA256+".bin"))
	} else {
		mt, _, _ := mime.ParseMediaType(m.ContentType)
		h.Set("Content-Type", mt)
		h.Set("Content-Disposition", "inline")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	// Opened on its own, an attachment can run nothing and load nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; media-src 'self'; sandbox")
	h.Set("Content-Length", strconv.FormatInt(m.Size, 10))
	h.Set("ETag", `"`+m.SHA256+`"`)
	h.Set("Cache-Control", "private, max-age=86400")
	c.Status(http.StatusOK)
	if err := copyVerified(c.Writer, rc); err != nil {
		// The status is sent; holding back the last chunk leaves the
		// response short of its Content-Length, so the client sees it fail.
		s.Log.Error("serve media", "item_id", id, "sha256", m.SHA256, "err", err)
	}
}

// copyVerified copies r to w, each chunk only once the next read has not
// failed: the blob reader reports corruption at the end, and then the last
// chunk is never sent.
func copyVerified(w io.Writer, r io.Reader) error {
	buf, pending := make([]byte, 32<<10), make([]byte, 0, 32<<10)
	for {
		n, err := r.Read(buf)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if len(pending) > 0 {
			if _, werr := w.Write(pending); werr != nil {
				return werr
			}
		}
		pending = append(pending[:0], buf[:n]...)
		if errors.Is(err, io.EOF) {
			if len(pending) > 0 {
				_, werr := w.Write(pending)
				return werr
			}
			return nil
		}
	}
}

// mediaKind is image, video or audio for types a browser shows safely
// inline, else file. SVG is a file: it can carry script.
func mediaKind(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "file"
	}
	major, _, _ := strings.Cut(mt, "/")
	switch {
	case mt == "image/svg+xml":
		return "file"
	case major == "image" || major == "video" || major == "audio":
		return major
	}
	return "file"
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
