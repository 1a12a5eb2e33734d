package instagram

import (
	"fmt"
	"strings"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/graph"
)

// What the connector asks Graph for. like_count is asked for (the raw page
// keeps it) but never put in an Item.
const (
	profileFields = "id,username,name,biography,website,profile_picture_url"
	mediaFields   = "id,caption,media_type,media_url,permalink,timestamp,children{media_type,media_url}"
	commentFields = "id,text,timestamp,username,hidden,like_count"
	replyFields   = "id,text,timestamp,username,hidden"
)

// igUser is an IG User as GET /{ig-user-id}?fields=profileFields returns it.
type igUser struct {
	ID                string `json:"id"`
	Username          string `json:"username"`
	Name              string `json:"name"`
	Biography         string `json:"biography"`
	Website           string `json:"website"`
	ProfilePictureURL string `json:"profile_picture_url"`
}

// igMedia is one entry of /{ig-user-id}/media.
type igMedia struct {
	ID        string `json:"id"`
	Caption   string `json:"caption"`
	MediaType string `json:"media_type"` // IMAGE, VIDEO, CAROUSEL_ALBUM
	MediaURL  string `json:"media_url"`  // signed; absent when withheld (copyright)
	Permalink string `json:"permalink"`
	Timestamp string `json:"timestamp"`
	Children  *struct {
		Data []struct {
			ID        string `json:"id"`
			MediaType string `json:"media_type"`
			MediaURL  string `json:"media_url"`
		} `json:"data"`
	} `json:"children"`
}

// igComment is one entry of /{ig-media-id}/comments or /{ig-comment-id}/replies.
type igComment struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	Timestamp string `json:"timestamp"`
	Username  string `json:"username"`
	Hidden    bool   `json:"hidden"`
	LikeCount int    `json:"like_count"` // a counter: never in an Item
}

type mediaPage = graph.List[igMedia]

type commentsPage = graph.List[igComment]

// parseUser decodes the IG User node.
func parseUser(body []byte) (igUser, error) {
	return graph.ParseNode(body, "user", func(u igUser) string { return u.ID })
}

// parseMedia decodes one page of /{ig-user-id}/media; a body without a
// data array is malformed, never an empty page.
func parseMedia(body []byte) (mediaPage, error) { return graph.ParseList[igMedia](body, "media") }

// parseComments decodes one page of comments or replies.
func parseComments(body []byte) (commentsPage, error) {
	return graph.ParseList[igComment](body, "comments")
}

// profileOf normalises the IG User.
func profileOf(u igUser, rawKey string) platforms.Profile {
	p := platforms.Profile{
		NativeID: u.ID, Handle: u.Username, DisplayName: u.Name, Description: u.Biography,
		Website: u.Website, AvatarURL: u.ProfilePictureURL, RawKey: rawKey,
	}
	if u.Username != "" {
		p.URL = "https://www.instagram.com/" + u.Username + "/"
	}
	return p
}

// mediaItem normalises an IG Media: the caption and the files (a
// carousel's children each), with the IG media ids as stable NativeIDs.
func mediaItem(m igMedia, rawKey string) (platforms.Item, error) {
	if m.ID == "" {
		return platforms.Item{}, fmt.Errorf("%w: media without id", platforms.ErrMalformed)
	}
	created, err := graph.ParseTime(m.Timestamp)
	if err != nil {
		return platforms.Item{}, fmt.Errorf("media %s: %w", m.ID, err)
	}
	it := platforms.Item{
		NativeID: m.ID, Kind: platforms.KindPost, Text: m.Caption, Permalink: m.Permalink,
		CreatedAt: &created, RawKey: rawKey,
	}
	if m.MediaType != "" {
		it.Extra = map[string]string{"media_type": m.MediaType}
	}
	if m.Children != nil && len(m.Children.Data) > 0 {
		for _, c := range m.Children.Data {
			if c.MediaURL != "" {
				it.Media = append(it.Media, platforms.Media{NativeID: c.ID, URL: c.MediaURL, Kind: kindOf(c.MediaType)})
			}
		}
	} else if m.MediaURL != "" {
		it.Media = []platforms.Media{{NativeID: m.ID, URL: m.MediaURL, Kind: kindOf(m.MediaType)}}
	}
	return it, nil
}

func kindOf(mediaType string) string {
	if strings.EqualFold(mediaType, "VIDEO") || strings.EqualFold(mediaType, "REELS") {
		return "video"
	}
	return "image"
}

// commentItem normalises a comment (parent == root, the media) or a
// reply (parent is the comment answered).
func commentItem(c igComment, parent, root, rawKey string) (platforms.Item, error) {
	if c.ID == "" {
		return platforms.Item{}, fmt.Errorf("%w: comment without id", platforms.ErrMalformed)
	}
	created, err := graph.ParseTime(c.Timestamp)
	if err != nil {
		return platforms.Item{}, fmt.Errorf("comment %s: %w", c.ID, err)
	}
	kind := platforms.KindComment
	if parent != root {
		kind = platforms.KindReply
	}
	return platforms.Item{
		NativeID: c.ID, Kind: kind, ParentNativeID: parent, RootNativeID: root,
		AuthorName: c.Username, Text: c.Text, CreatedAt: &created, Hidden: c.Hidden, RawKey: rawKey,
	}, nil
}
