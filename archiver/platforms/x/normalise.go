package x

import (
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// chain is the tweet's edit chain, oldest first; a tweet from before edits
// existed (no edit_history_tweet_ids) is its own chain.
func (t *tweet) chain() []string {
	if len(t.EditHistoryTweetIDs) == 0 {
		return []string{t.ID}
	}
	return t.EditHistoryTweetIDs
}

// root is the first id of the edit chain: the item's native id.
func (t *tweet) root() string { return t.chain()[0] }

// ref returns the id the tweet references with type typ ("" if none).
func (t *tweet) ref(typ string) string {
	for _, r := range t.ReferencedTweets {
		if r.Type == typ {
			return r.ID
		}
	}
	return ""
}

// created parses created_at (nil when absent or unreadable).
func (t *tweet) created() *time.Time {
	if t.CreatedAt == "" {
		return nil
	}
	ts, err := time.Parse(time.RFC3339Nano, t.CreatedAt)
	if err != nil {
		return nil
	}
	ts = ts.UTC()
	return &ts
}

// fullText is the whole text: long posts come truncated in text and whole
// in note_tweet.text.
func (t *tweet) fullText() string {
	if t.NoteTweet != nil && t.NoteTweet.Text != "" {
		return t.NoteTweet.Text
	}
	return t.Text
}

// latest keeps, per edit chain, the newest version among tweets (the one
// with the longest chain), in the order the chains first appear.
func latest(tweets []tweet) []tweet {
	idx := map[string]int{}
	var out []tweet
	for _, t := range tweets {
		r := t.root()
		if i, ok := idx[r]; ok {
			if len(t.chain()) > len(out[i].chain()) {
				out[i] = t
			}
			continue
		}
		idx[r] = len(out)
		out = append(out, t)
	}
	return out
}

// shape says where an item sits: its kind, what it answers, its post.
type shape struct {
	kind, parent, root string
}

// normalise turns one tweet version into an Item. marker is the edit chain
// up to and including this version. Only content goes in: no counts.
func normalise(t *tweet, inc *includes, s shape, marker, rawKey string) platforms.Item {
	it := platforms.Item{
		NativeID:       t.root(),
		Kind:           s.kind,
		ParentNativeID: s.parent,
		RootNativeID:   s.root,
		AuthorID:       t.AuthorID,
		Text:           t.fullText(),
		CreatedAt:      t.created(),
		EditMarker:     marker,
		RawKey:         rawKey,
	}
	username := ""
	if u := findUser(inc, t.AuthorID); u != nil {
		username = u.Username
		it.AuthorName = u.Name
		if it.AuthorName == "" {
			it.AuthorName = u.Username
		}
	}
	if username != "" {
		it.Permalink = "https://x.com/" + username + "/status/" + t.ID
	} else {
		it.Permalink = "https://x.com/i/web/status/" + t.ID
	}
	it.Media = mediaOf(t, inc)
	it.Extra = extraOf(t, s.kind == platforms.KindPost)
	return it
}

// extraOf collects content fields beyond the text: the expanded links the
// t.co links stand for, and what the tweet reposts, quotes or (for a post)
// answers.
func extraOf(t *tweet, post bool) map[string]string {
	ex := map[string]string{}
	if t.Entities != nil {
		var urls []string
		for _, u := range t.Entities.URLs {
			e := u.ExpandedURL
			if u.UnwoundURL != "" {
				e = u.UnwoundURL
			}
			if e != "" {
				urls = append(urls, e)
			}
		}
		if len(urls) > 0 {
			ex["expanded_urls"] = strings.Join(urls, " ")
		}
	}
	for _, r := range t.ReferencedTweets {
		switch r.Type {
		case "retweeted":
			ex["retweeted_tweet_id"] = r.ID
		case "quoted":
			ex["quoted_tweet_id"] = r.ID
		case "replied_to":
			if post { // the account answering someone else's post
				ex["in_reply_to_tweet_id"] = r.ID
			}
		}
	}
	if len(ex) == 0 {
		return nil
	}
	return ex
}

// findUser finds an expanded user by id.
func findUser(inc *includes, id string) *user {
	if inc == nil || id == "" {
		return nil
	}
	for i := range inc.Users {
		if inc.Users[i].ID == id {
			return &inc.Users[i]
		}
	}
	return nil
}

// mediaOf lists the tweet's attachments by media_key. A video's file is
// its best mp4 variant when variants are present, else its preview image.
func mediaOf(t *tweet, inc *includes) []platforms.Media {
	if t.Attachments == nil || inc == nil {
		return nil
	}
	var out []platforms.Media
	for _, key := range t.Attachments.MediaKeys {
		for _, m := range inc.Media {
			if m.MediaKey != key {
				continue
			}
			pm := platforms.Media{NativeID: m.MediaKey, URL: m.URL, Kind: mediaKind(m.Type), AltText: m.AltText}
			if pm.URL == "" {
				if v, ok := bestVariant(m.Variants); ok {
					pm.URL, pm.ContentType = v.URL, v.ContentType
				} else {
					pm.URL, pm.Kind = m.PreviewImageURL, "thumbnail"
				}
			}
			if pm.URL != "" {
				out = append(out, pm)
			}
			break
		}
	}
	return out
}

// bestVariant picks the highest-bitrate mp4 (or any variant when none is
// mp4).
func bestVariant(vs []variant) (variant, bool) {
	best, ok := variant{}, false
	for _, v := range vs {
		if v.URL == "" {
			continue
		}
		mp4 := v.ContentType == "video/mp4"
		bestMP4 := best.ContentType == "video/mp4"
		if !ok || (mp4 && !bestMP4) || (mp4 == bestMP4 && v.BitRate > best.BitRate) {
			best, ok = v, true
		}
	}
	return best, ok
}

// mediaKind maps X's media types onto platforms.Media kinds.
func mediaKind(t string) string {
	switch t {
	case "photo":
		return "image"
	case "video":
		return "video"
	case "animated_gif":
		return "gif"
	}
	return t
}

// profileOf normalises the account's user object.
func profileOf(u *user, rawKey string) platforms.Profile {
	p := platforms.Profile{
		NativeID:    u.ID,
		Handle:      u.Username,
		DisplayName: u.Name,
		Description: u.Description,
		Website:     u.URL,
		URL:         "https://x.com/" + u.Username,
		AvatarURL:   u.ProfileImageURL,
		Verified:    u.Verified,
		RawKey:      rawKey,
	}
	if u.Entities != nil && u.Entities.URL != nil {
		for _, e := range u.Entities.URL.URLs {
			if e.URL == u.URL && e.ExpandedURL != "" {
				p.Website = e.ExpandedURL
			}
		}
	}
	if u.Entities != nil && u.Entities.Description != nil {
		var urls []string
		for _, e := range u.Entities.Description.URLs {
			if e.ExpandedURL != "" {
				urls = append(urls, e.ExpandedURL)
			}
		}
		if len(urls) > 0 {
			p.Extra = map[string]string{"description_urls": strings.Join(urls, " ")}
		}
	}
	return p
}
