package facebook

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/graph"
)

// What the connector asks Graph for. Deprecated post fields (type, link,
// name, caption, description, object_id, source) are errors since v3.3.
const (
	profileFields = "id,name,about,emails,website,link,username,verification_status"
	postFields    = "id,message,created_time,updated_time,permalink_url,attachments{media_type,media,url,target,subattachments},is_hidden"
	commentFields = "id,message,created_time,from,parent{id},is_hidden,attachment"
)

// pageNode is a Page as GET /{page-id}?fields=profileFields returns it.
type pageNode struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	About              string   `json:"about"`
	Emails             []string `json:"emails"`
	Website            string   `json:"website"`
	Link               string   `json:"link"`
	Username           string   `json:"username"`
	VerificationStatus string   `json:"verification_status"`
}

// post is one entry of /{page-id}/posts.
type post struct {
	ID           string          `json:"id"`
	Message      string          `json:"message"`
	CreatedTime  string          `json:"created_time"`
	UpdatedTime  string          `json:"updated_time"` // moves when comments arrive: never in an Item
	PermalinkURL string          `json:"permalink_url"`
	Attachments  *attachmentList `json:"attachments"`
	IsHidden     bool            `json:"is_hidden"`
}

type attachmentList struct {
	Data []attachment `json:"data"`
}

// attachment is a StoryAttachment (posts' attachments, a comment's attachment).
type attachment struct {
	MediaType   string `json:"media_type"` // photo, video, album, link, ...
	Type        string `json:"type"`       // photo, video_inline, share, sticker, ...
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	Media       *struct {
		Image *struct {
			Src    string `json:"src"`
			Height int    `json:"height"`
			Width  int    `json:"width"`
		} `json:"image"`
		Source string `json:"source"` // video file
	} `json:"media"`
	Target *struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	} `json:"target"`
	Subattachments *attachmentList `json:"subattachments"`
}

// comment is one entry of /{object-id}/comments.
type comment struct {
	ID          string `json:"id"`
	Message     string `json:"message"`
	CreatedTime string `json:"created_time"`
	From        *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"from"`
	Parent *struct {
		ID string `json:"id"`
	} `json:"parent"`
	IsHidden   bool        `json:"is_hidden"`
	Attachment *attachment `json:"attachment"`
}

type postsPage = graph.List[post]

type commentsPage = graph.List[comment]

// parseProfile decodes the Page node.
func parseProfile(body []byte) (pageNode, error) {
	return graph.ParseNode(body, "page", func(p pageNode) string { return p.ID })
}

// parsePosts decodes one page of /{page-id}/posts. A body without a data
// array is malformed, never an empty page.
func parsePosts(body []byte) (postsPage, error) { return graph.ParseList[post](body, "posts") }

// parseComments decodes one page of /{object-id}/comments.
func parseComments(body []byte) (commentsPage, error) {
	return graph.ParseList[comment](body, "comments")
}

// profileOf normalises the Page node.
func profileOf(p pageNode, rawKey string) platforms.Profile {
	pr := platforms.Profile{
		NativeID: p.ID, Handle: p.Username, DisplayName: p.Name, Description: p.About,
		Website: p.Website, URL: p.Link, RawKey: rawKey,
		Verified: p.VerificationStatus == "blue_verified" || p.VerificationStatus == "gray_verified",
	}
	if len(p.Emails) > 0 {
		pr.Email = p.Emails[0]
	}
	extra := map[string]string{}
	if len(p.Emails) > 1 {
		extra["emails"] = strings.Join(p.Emails, ",")
	}
	if p.VerificationStatus != "" {
		extra["verification_status"] = p.VerificationStatus
	}
	if len(extra) > 0 {
		pr.Extra = extra
	}
	return pr
}

// postItem normalises a post: content only (no updated_time, no counts).
func postItem(p post, rawKey string) (platforms.Item, error) {
	if p.ID == "" {
		return platforms.Item{}, fmt.Errorf("%w: post without id", platforms.ErrMalformed)
	}
	created, err := graph.ParseTime(p.CreatedTime)
	if err != nil {
		return platforms.Item{}, fmt.Errorf("post %s: %w", p.ID, err)
	}
	it := platforms.Item{
		NativeID: p.ID, Kind: platforms.KindPost, Text: p.Message, Permalink: p.PermalinkURL,
		CreatedAt: &created, Hidden: p.IsHidden, RawKey: rawKey,
	}
	if p.Attachments != nil {
		extra := map[string]string{}
		for _, a := range p.Attachments.Data {
			addAttachment(a, &it.Media, extra)
		}
		if len(extra) > 0 {
			it.Extra = extra
		}
	}
	return it, nil
}

// commentItem normalises a comment or reply under post. Graph's stream
// filter gives replies a parent; a comment without one answers the post.
func commentItem(c comment, postID, rawKey string) (platforms.Item, error) {
	if c.ID == "" {
		return platforms.Item{}, fmt.Errorf("%w: comment without id", platforms.ErrMalformed)
	}
	created, err := graph.ParseTime(c.CreatedTime)
	if err != nil {
		return platforms.Item{}, fmt.Errorf("comment %s: %w", c.ID, err)
	}
	it := platforms.Item{
		NativeID: c.ID, Kind: platforms.KindComment, ParentNativeID: postID, RootNativeID: postID,
		Text: c.Message, CreatedAt: &created, Hidden: c.IsHidden, RawKey: rawKey,
	}
	if c.Parent != nil && c.Parent.ID != "" && c.Parent.ID != postID {
		it.Kind, it.ParentNativeID = platforms.KindReply, c.Parent.ID
	}
	if c.From != nil {
		it.AuthorID, it.AuthorName = c.From.ID, c.From.Name
	}
	if c.Attachment != nil {
		extra := map[string]string{}
		addAttachment(*c.Attachment, &it.Media, extra)
		if len(extra) > 0 {
			it.Extra = extra
		}
	}
	return it, nil
}

// addAttachment lists an attachment's media (an album's through its
// subattachments) and keeps a shared link's URL and title in extra. The
// media's NativeID is the attachment target's id (photo or video id):
// the image URLs are signed and change.
func addAttachment(a attachment, media *[]platforms.Media, extra map[string]string) {
	if a.Subattachments != nil && len(a.Subattachments.Data) > 0 {
		for _, s := range a.Subattachments.Data {
			addAttachment(s, media, extra)
		}
		if a.Title != "" {
			setExtra(extra, "album_title", a.Title)
		}
		return
	}
	var targetID string
	if a.Target != nil {
		targetID = a.Target.ID
	}
	var src, source string
	if a.Media != nil {
		source = a.Media.Source
		if a.Media.Image != nil {
			src = a.Media.Image.Src
		}
	}
	switch kind := mediaKind(a); {
	case kind == "link":
		link := a.URL
		if link == "" && a.Target != nil {
			link = a.Target.URL
		}
		setExtra(extra, "link", link)
		if a.Title != "" {
			setExtra(extra, "link_title", a.Title)
		}
		if src != "" {
			*media = append(*media, platforms.Media{NativeID: "link:" + link, URL: src, Kind: "thumbnail"})
		}
	case kind == "video" && source != "":
		*media = append(*media, platforms.Media{NativeID: targetID, URL: source, Kind: "video"})
	case kind == "video" && src != "":
		*media = append(*media, platforms.Media{NativeID: targetID, URL: src, Kind: "thumbnail"})
	case src != "":
		*media = append(*media, platforms.Media{NativeID: targetID, URL: src, Kind: kind})
	case a.URL != "":
		setExtra(extra, "attachment_url", a.URL)
	}
}

// mediaKind maps Graph's media_type/type to platforms.Media kinds.
func mediaKind(a attachment) string {
	t := a.MediaType
	if t == "" {
		t = a.Type
	}
	switch {
	case t == "photo" || t == "sticker" || t == "cover_photo" || t == "profile_media":
		return "image"
	case strings.HasPrefix(t, "video"):
		return "video"
	case strings.HasPrefix(t, "animated_image"):
		return "gif"
	case t == "link" || t == "share" || t == "event":
		return "link"
	case t == "document" || t == "file_upload":
		return "document"
	}
	return "image"
}

// setExtra stores v under key, or key_2, key_3... when key is taken.
func setExtra(extra map[string]string, key, v string) {
	if v == "" {
		return
	}
	k := key
	for n := 2; ; n++ {
		if _, taken := extra[k]; !taken {
			extra[k] = v
			return
		}
		k = key + "_" + strconv.Itoa(n)
	}
}
