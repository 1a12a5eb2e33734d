package youtubetest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// The JSON below follows the resource representations of the YouTube Data
// API v3 reference (channels, playlistItems, videos, commentThreads,
// comments) and their list responses.

type obj = map[string]any

func itoa(n int) string { return strconv.Itoa(n) }

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func etag(seed string) string { return hashID("etag:"+seed, 27) }

// listResponse wraps items in a list response with pageInfo and a
// nextPageToken when there is more.
func listResponse(kind string, items []any, total, perPage int, next string) obj {
	r := obj{
		"kind":     kind,
		"etag":     etag(kind + itoa(total) + next),
		"pageInfo": obj{"totalResults": total, "resultsPerPage": perPage},
		"items":    items,
	}
	if next != "" {
		r["nextPageToken"] = next
	}
	return r
}

// page cuts one page out of n items: it reads pageToken and maxResults
// (capped by the server's page size) and returns the bounds and the next
// token. ok is false when it has answered an error.
func (s *Server) page(rw http.ResponseWriter, q url.Values, scope string, n, maxAllowed, def int) (from, to int, next string, ok bool) {
	size := def
	if v := q.Get("maxResults"); v != "" {
		m, err := strconv.Atoi(v)
		if err != nil || m < 0 || m > maxAllowed {
			writeError(rw, http.StatusBadRequest, "INVALID_ARGUMENT", "invalidParameter", "youtube.parameter",
				"Invalid value '"+v+"'. Values must be within the range: [0, "+itoa(maxAllowed)+"]")
			return 0, 0, "", false
		}
		size = m
	}
	size = min(max(size, 1), s.cfg.pageSize)
	if tok := q.Get("pageToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		off, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), scope+":"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), scope+":") || off < 0 {
			writeError(rw, http.StatusBadRequest, "INVALID_ARGUMENT", "invalidPageToken", "youtube.parameter",
				"The request specifies an invalid page token.")
			return 0, 0, "", false
		}
		from = off
	}
	from = min(from, n)
	to = min(from+size, n)
	if to < n {
		next = base64.RawURLEncoding.EncodeToString([]byte(scope + ":" + itoa(to)))
	}
	return from, to, next, true
}

func (s *Server) thumbnails(names ...string) obj {
	if len(names) == 0 {
		return nil
	}
	u := s.URL + "/media/" + url.PathEscape(names[0])
	sizes := []struct {
		key  string
		w, h int
	}{{"default", 120, 90}, {"medium", 320, 180}, {"high", 480, 360}, {"standard", 640, 480}, {"maxres", 1280, 720}}
	th := obj{}
	for _, sz := range sizes {
		th[sz.key] = obj{"url": u, "width": sz.w, "height": sz.h}
	}
	return th
}

// channels answers channels.list?id=: the channel, or no items at all for
// an unknown id (as YouTube does).
func (s *Server) channels(rw http.ResponseWriter, q url.Values) {
	var items []any
	for _, id := range strings.Split(q.Get("id"), ",") {
		if id != s.channel {
			continue
		}
		p := s.w.Profile
		snippet := obj{
			"title":       p.DisplayName,
			"description": p.Description,
			"customUrl":   customURL(p.Handle),
			"publishedAt": "2012-03-01T17:00:00Z",
			"localized":   obj{"title": p.DisplayName, "description": p.Description},
			"country":     "US",
		}
		if _, ok := s.w.Media("avatar.jpg"); ok {
			snippet["thumbnails"] = s.thumbnails("avatar.jpg")
		}
		items = append(items, obj{
			"kind":    "youtube#channel",
			"etag":    etag("channel" + p.DisplayName + p.Description),
			"id":      s.channel,
			"snippet": snippet,
			"contentDetails": obj{"relatedPlaylists": obj{
				"likes": "", "uploads": s.uploadsPlaylist(),
			}},
		})
	}
	r := listResponse("youtube#channelListResponse", items, len(items), 5, "")
	if len(items) == 0 {
		delete(r, "items")
	}
	writeJSON(rw, http.StatusOK, r)
}

// playlistItems answers playlistItems.list for the uploads playlist,
// newest first.
func (s *Server) playlistItems(rw http.ResponseWriter, q url.Values) {
	pl := q.Get("playlistId")
	if pl != s.uploadsPlaylist() {
		writeError(rw, http.StatusNotFound, "", "playlistNotFound", "youtube.playlistItem",
			"The playlist identified with the request's <code>playlistId</code> parameter cannot be found.")
		return
	}
	posts := s.w.Posts()
	from, to, next, ok := s.page(rw, q, "pl", len(posts), 50, 5)
	if !ok {
		return
	}
	items := []any{}
	for i, p := range posts[from:to] {
		vid := s.NativeID(p.ID)
		snippet := obj{
			"publishedAt":            ts(p.Created),
			"channelId":              s.channel,
			"title":                  p.Title,
			"description":            p.Text,
			"channelTitle":           s.w.Profile.DisplayName,
			"playlistId":             pl,
			"position":               from + i,
			"resourceId":             obj{"kind": "youtube#video", "videoId": vid},
			"videoOwnerChannelTitle": s.w.Profile.DisplayName,
			"videoOwnerChannelId":    s.channel,
		}
		if th := s.thumbnails(p.Media...); th != nil {
			snippet["thumbnails"] = th
		}
		items = append(items, obj{
			"kind":           "youtube#playlistItem",
			"etag":           etag("pi" + vid),
			"id":             base64.RawURLEncoding.EncodeToString([]byte(pl + "." + vid)),
			"snippet":        snippet,
			"contentDetails": obj{"videoId": vid, "videoPublishedAt": ts(p.Created)},
		})
	}
	writeJSON(rw, http.StatusOK, listResponse("youtube#playlistItemListResponse", items, len(posts), to-from, next))
}

// videos answers videos.list?id=ID1,ID2 (at most 50 ids); deleted videos
// are simply missing from the items.
func (s *Server) videos(rw http.ResponseWriter, q url.Values) {
	ids := strings.Split(q.Get("id"), ",")
	if q.Get("id") == "" || len(ids) > 50 {
		writeError(rw, http.StatusBadRequest, "INVALID_ARGUMENT", "invalidParameter", "youtube.parameter",
			"The request specifies an invalid value for the <code>id</code> parameter.")
		return
	}
	items := []any{}
	for _, vid := range ids {
		wid, ok := s.worldID(vid)
		if !ok {
			continue
		}
		p, ok := s.w.Post(wid)
		if !ok {
			continue
		}
		snippet := obj{
			"publishedAt":          ts(p.Created),
			"channelId":            s.channel,
			"title":                p.Title,
			"description":          p.Text,
			"channelTitle":         s.w.Profile.DisplayName,
			"categoryId":           "25",
			"liveBroadcastContent": "none",
			"localized":            obj{"title": p.Title, "description": p.Text},
		}
		if th := s.thumbnails(p.Media...); th != nil {
			snippet["thumbnails"] = th
		}
		items = append(items, obj{"kind": "youtube#video", "etag": etag("v" + vid + p.Text), "id": vid, "snippet": snippet})
	}
	writeJSON(rw, http.StatusOK, listResponse("youtube#videoListResponse", items, len(items), len(items), ""))
}

// commentResource renders one comment; parentID is set for replies.
func (s *Server) commentResource(c platformtest.Comment, videoID, parentID string) obj {
	updated := c.Created
	if c.Edited != nil {
		updated = *c.Edited
	}
	author := "UC" + hashID("author:"+c.Author, 22)
	snippet := obj{
		"channelId":             s.channel,
		"videoId":               videoID,
		"textDisplay":           c.Text,
		"textOriginal":          c.Text,
		"authorDisplayName":     c.AuthorName,
		"authorProfileImageUrl": "https://yt3.ggpht.com/ytc/" + hashID("img:"+c.Author, 20) + "=s48-c-k-c0x00ffffff-no-rj",
		"authorChannelUrl":      "http://www.youtube.com/channel/" + author,
		"authorChannelId":       obj{"value": author},
		"canRate":               true,
		"viewerRating":          "none",
		"likeCount":             0,
		"publishedAt":           ts(c.Created),
		"updatedAt":             ts(updated),
	}
	if parentID != "" {
		snippet["parentId"] = parentID
	}
	id := s.NativeID(c.ID)
	return obj{"kind": "youtube#comment", "etag": etag("c" + id + c.Text), "id": id, "snippet": snippet}
}

// publicReplies lists the replies YouTube shows under a top-level comment:
// every visible, not hidden comment below it, oldest first.
func (s *Server) publicReplies(postID, topID string) []platformtest.Comment {
	var out []platformtest.Comment
	for _, c := range s.descendants(postID, topID) {
		if !c.Hidden {
			out = append(out, c)
		}
	}
	return out
}
