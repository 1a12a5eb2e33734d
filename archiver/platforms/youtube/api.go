package youtube

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// The shapes below follow the YouTube Data API v3 reference
// (developers.google.com/youtube/v3/docs): only the fields the connector
// reads are declared. Counters (viewCount, likeCount) are never read.

// listHead is what every list response carries.
type listHead struct {
	Kind          string `json:"kind"`
	NextPageToken string `json:"nextPageToken"`
}

type thumbnail struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

type channelListResponse struct {
	listHead
	Items []channel `json:"items"`
}

type channel struct {
	ID      string `json:"id"`
	Snippet struct {
		Title       string               `json:"title"`
		Description string               `json:"description"`
		CustomURL   string               `json:"customUrl"`
		Thumbnails  map[string]thumbnail `json:"thumbnails"`
		Country     string               `json:"country"`
	} `json:"snippet"`
	ContentDetails struct {
		RelatedPlaylists struct {
			Uploads string `json:"uploads"`
		} `json:"relatedPlaylists"`
	} `json:"contentDetails"`
}

type playlistItemListResponse struct {
	listHead
	Items []playlistItem `json:"items"`
}

type playlistItem struct {
	ID      string `json:"id"`
	Snippet struct {
		PublishedAt string `json:"publishedAt"` // when it was added to the playlist
		ResourceID  struct {
			VideoID string `json:"videoId"`
		} `json:"resourceId"`
	} `json:"snippet"`
	ContentDetails struct {
		VideoID          string `json:"videoId"`
		VideoPublishedAt string `json:"videoPublishedAt"`
	} `json:"contentDetails"`
}

type videoListResponse struct {
	listHead
	Items []video `json:"items"`
}

type video struct {
	ID      string `json:"id"`
	Snippet struct {
		PublishedAt  string               `json:"publishedAt"`
		ChannelID    string               `json:"channelId"`
		Title        string               `json:"title"`
		Description  string               `json:"description"`
		Thumbnails   map[string]thumbnail `json:"thumbnails"`
		ChannelTitle string               `json:"channelTitle"`
		Tags         []string             `json:"tags"`
	} `json:"snippet"`
}

type commentThreadListResponse struct {
	listHead
	Items []commentThread `json:"items"`
}

type commentThread struct {
	ID      string `json:"id"`
	Snippet struct {
		VideoID         string  `json:"videoId"`
		TopLevelComment comment `json:"topLevelComment"`
		TotalReplyCount int     `json:"totalReplyCount"`
	} `json:"snippet"`
	Replies struct {
		Comments []comment `json:"comments"`
	} `json:"replies"`
}

type commentListResponse struct {
	listHead
	Items []comment `json:"items"`
}

type comment struct {
	ID      string `json:"id"`
	Snippet struct {
		AuthorDisplayName string `json:"authorDisplayName"`
		AuthorChannelID   struct {
			Value string `json:"value"`
		} `json:"authorChannelId"`
		VideoID          string `json:"videoId"`
		TextDisplay      string `json:"textDisplay"`
		TextOriginal     string `json:"textOriginal"`
		ParentID         string `json:"parentId"`
		ModerationStatus string `json:"moderationStatus"`
		PublishedAt      string `json:"publishedAt"`
		UpdatedAt        string `json:"updatedAt"`
	} `json:"snippet"`
}

// decode parses a list response and checks its kind, so that an empty
// object or a body of another shape is never taken for an empty page.
func decode(body []byte, kind string, v interface{ head() listHead }) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s: %v", platforms.ErrMalformed, kind, err)
	}
	if got := v.head().Kind; got != kind {
		return fmt.Errorf("%w: want kind %q, got %q", platforms.ErrMalformed, kind, got)
	}
	return nil
}

func (h listHead) head() listHead { return h }

func missingID(what string) error {
	return fmt.Errorf("%w: %s without id", platforms.ErrMalformed, what)
}

func decodeChannels(body []byte) (*channelListResponse, error) {
	var r channelListResponse
	if err := decode(body, "youtube#channelListResponse", &r); err != nil {
		return nil, err
	}
	for _, c := range r.Items {
		if c.ID == "" {
			return nil, missingID("channel")
		}
	}
	return &r, nil
}

func decodePlaylistItems(body []byte) (*playlistItemListResponse, error) {
	var r playlistItemListResponse
	if err := decode(body, "youtube#playlistItemListResponse", &r); err != nil {
		return nil, err
	}
	for _, it := range r.Items {
		if it.videoID() == "" {
			return nil, missingID("playlist item video")
		}
	}
	return &r, nil
}

func decodeVideos(body []byte) (*videoListResponse, error) {
	var r videoListResponse
	if err := decode(body, "youtube#videoListResponse", &r); err != nil {
		return nil, err
	}
	for _, v := range r.Items {
		if v.ID == "" {
			return nil, missingID("video")
		}
		if _, err := parseTime(v.Snippet.PublishedAt); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

func decodeCommentThreads(body []byte) (*commentThreadListResponse, error) {
	var r commentThreadListResponse
	if err := decode(body, "youtube#commentThreadListResponse", &r); err != nil {
		return nil, err
	}
	for _, t := range r.Items {
		if t.ID == "" || t.Snippet.TopLevelComment.ID == "" {
			return nil, missingID("comment thread")
		}
		if err := checkComments(append([]comment{t.Snippet.TopLevelComment}, t.Replies.Comments...)); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

func decodeComments(body []byte) (*commentListResponse, error) {
	var r commentListResponse
	if err := decode(body, "youtube#commentListResponse", &r); err != nil {
		return nil, err
	}
	if err := checkComments(r.Items); err != nil {
		return nil, err
	}
	return &r, nil
}

func checkComments(cs []comment) error {
	for _, c := range cs {
		if c.ID == "" {
			return missingID("comment")
		}
		if _, err := parseTime(c.Snippet.PublishedAt); err != nil {
			return err
		}
		if c.Snippet.UpdatedAt != "" {
			if _, err := parseTime(c.Snippet.UpdatedAt); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseTime reads the API's ISO 8601 datetimes (RFC 3339, UTC).
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: bad datetime %q", platforms.ErrMalformed, s)
	}
	return t.UTC(), nil
}

func (it playlistItem) videoID() string {
	if it.ContentDetails.VideoID != "" {
		return it.ContentDetails.VideoID
	}
	return it.Snippet.ResourceID.VideoID
}

// videoPublished is when the video was published, from the playlist item
// alone (zero when YouTube does not say, e.g. for a private video).
func (it playlistItem) videoPublished() time.Time {
	t, err := parseTime(it.ContentDetails.VideoPublishedAt)
	if err != nil {
		return time.Time{}
	}
	return t
}

// thumbnailSizes lists the thumbnail keys, largest first.
var thumbnailSizes = []string{"maxres", "standard", "high", "medium", "default"}

// bestThumbnail picks the largest thumbnail; the smaller ones are scaled
// copies of the same image, so one is enough for the record.
func bestThumbnail(th map[string]thumbnail) (string, thumbnail, bool) {
	for _, k := range thumbnailSizes {
		if t, ok := th[k]; ok && t.URL != "" {
			return k, t, true
		}
	}
	return "", thumbnail{}, false
}

// profileOf normalises a channel.
func profileOf(c channel, rawKey string) platforms.Profile {
	p := platforms.Profile{
		NativeID:    c.ID,
		Handle:      c.Snippet.CustomURL,
		DisplayName: c.Snippet.Title,
		Description: c.Snippet.Description,
		URL:         "https://www.youtube.com/channel/" + url.PathEscape(c.ID),
		RawKey:      rawKey,
	}
	if _, t, ok := bestThumbnail(c.Snippet.Thumbnails); ok {
		p.AvatarURL = t.URL
	}
	if c.Snippet.Country != "" {
		p.Extra = map[string]string{"country": c.Snippet.Country}
	}
	return p
}

// postOf normalises a video: the title is the title, the description the
// text, the largest thumbnail the media.
func postOf(v video, rawKey string) platforms.Item {
	it := platforms.Item{
		NativeID:   v.ID,
		Kind:       platforms.KindPost,
		AuthorID:   v.Snippet.ChannelID,
		AuthorName: v.Snippet.ChannelTitle,
		Title:      v.Snippet.Title,
		Text:       v.Snippet.Description,
		Permalink:  "https://www.youtube.com/watch?v=" + url.QueryEscape(v.ID),
		RawKey:     rawKey,
	}
	if t, err := parseTime(v.Snippet.PublishedAt); err == nil {
		it.CreatedAt = &t
	}
	if size, t, ok := bestThumbnail(v.Snippet.Thumbnails); ok {
		it.Media = []platforms.Media{{NativeID: v.ID + "/" + size, URL: t.URL, Kind: "thumbnail"}}
	}
	if len(v.Snippet.Tags) > 0 {
		tags, _ := json.Marshal(v.Snippet.Tags)
		it.Extra = map[string]string{"tags": string(tags)}
	}
	return it
}

// commentOf normalises a top-level comment (parent = the video) or a reply
// (parent = the top-level comment; YouTube replies are one level deep).
func commentOf(c comment, videoID, parentID, rawKey string) platforms.Item {
	kind := platforms.KindComment
	if parentID != videoID {
		kind = platforms.KindReply
	}
	text := c.Snippet.TextOriginal
	if text == "" {
		text = c.Snippet.TextDisplay
	}
	it := platforms.Item{
		NativeID:       c.ID,
		Kind:           kind,
		ParentNativeID: parentID,
		RootNativeID:   videoID,
		AuthorID:       c.Snippet.AuthorChannelID.Value,
		AuthorName:     c.Snippet.AuthorDisplayName,
		Text:           text,
		Permalink:      "https://www.youtube.com/watch?v=" + url.QueryEscape(videoID) + "&lc=" + url.QueryEscape(c.ID),
		RawKey:         rawKey,
	}
	pub, err := parseTime(c.Snippet.PublishedAt)
	if err == nil {
		it.CreatedAt = &pub
	}
	if upd, err := parseTime(c.Snippet.UpdatedAt); err == nil && !upd.Equal(pub) {
		it.EditedAt = &upd
		it.EditMarker = c.Snippet.UpdatedAt
	}
	switch c.Snippet.ModerationStatus {
	case "heldForReview", "likelySpam", "rejected":
		// Only an owner-authorised request sees these; they are not public.
		it.Hidden = true
	}
	return it
}

// replyParent is the top-level comment a reply answers: snippet.parentId,
// or the part of the reply id before the dot, or the thread id.
func replyParent(c comment, threadID string) string {
	if c.Snippet.ParentID != "" {
		return c.Snippet.ParentID
	}
	if i := strings.IndexByte(c.ID, '.'); i > 0 {
		return c.ID[:i]
	}
	return threadID
}
