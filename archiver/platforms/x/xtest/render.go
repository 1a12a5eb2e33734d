package xtest

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// JSON shapes of the X API v2 (Tweet, User, Media, the response envelope).

type jsonTweet struct {
	ID                  string         `json:"id"`
	Text                string         `json:"text"`
	CreatedAt           string         `json:"created_at,omitempty"`
	AuthorID            string         `json:"author_id,omitempty"`
	ConversationID      string         `json:"conversation_id,omitempty"`
	InReplyToUserID     string         `json:"in_reply_to_user_id,omitempty"`
	ReferencedTweets    []jsonRef      `json:"referenced_tweets,omitempty"`
	EditHistoryTweetIDs []string       `json:"edit_history_tweet_ids"`
	Attachments         *jsonAttach    `json:"attachments,omitempty"`
	Entities            *jsonEntities  `json:"entities,omitempty"`
	PublicMetrics       map[string]int `json:"public_metrics,omitempty"`
}

type jsonRef struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type jsonAttach struct {
	MediaKeys []string `json:"media_keys"`
}

type jsonEntities struct {
	URLs     []jsonURL     `json:"urls,omitempty"`
	Mentions []jsonMention `json:"mentions,omitempty"`
}

type jsonURL struct {
	Start       int    `json:"start"`
	End         int    `json:"end"`
	URL         string `json:"url"`
	ExpandedURL string `json:"expanded_url"`
	DisplayURL  string `json:"display_url"`
}

type jsonMention struct {
	Start    int    `json:"start"`
	End      int    `json:"end"`
	Username string `json:"username"`
	ID       string `json:"id"`
}

type jsonUser struct {
	ID              string        `json:"id"`
	Name            string        `json:"name"`
	Username        string        `json:"username"`
	Description     string        `json:"description,omitempty"`
	URL             string        `json:"url,omitempty"`
	ProfileImageURL string        `json:"profile_image_url,omitempty"`
	Verified        bool          `json:"verified"`
	Entities        *jsonUserEnts `json:"entities,omitempty"`
}

type jsonUserEnts struct {
	URL *jsonEntities `json:"url,omitempty"`
}

type jsonMedia struct {
	MediaKey        string `json:"media_key"`
	Type            string `json:"type"`
	URL             string `json:"url,omitempty"`
	PreviewImageURL string `json:"preview_image_url,omitempty"`
	AltText         string `json:"alt_text,omitempty"`
}

type jsonIncludes struct {
	Users []jsonUser  `json:"users,omitempty"`
	Media []jsonMedia `json:"media,omitempty"`
}

type jsonMeta struct {
	ResultCount int    `json:"result_count"`
	NewestID    string `json:"newest_id,omitempty"`
	OldestID    string `json:"oldest_id,omitempty"`
	NextToken   string `json:"next_token,omitempty"`
}

type jsonProblem struct {
	Value        string `json:"value"`
	Detail       string `json:"detail"`
	Title        string `json:"title"`
	ResourceType string `json:"resource_type"`
	Parameter    string `json:"parameter"`
	ResourceID   string `json:"resource_id"`
	Type         string `json:"type"`
}

type jsonPage struct {
	Data     []jsonTweet   `json:"data,omitempty"`
	Includes *jsonIncludes `json:"includes,omitempty"`
	Meta     *jsonMeta     `json:"meta,omitempty"`
	Errors   []jsonProblem `json:"errors,omitempty"`
}

// node is a world post or comment seen as a tweet edit chain.
type node struct {
	worldID        string
	post           bool
	postID, parent string // world ids; parent "" for posts and comments on the post
	author, name   string
	text           string
	history        []string
	created        time.Time
	edited         *time.Time
	media          []string
}

func postNode(p platformtest.Post) node {
	return node{worldID: p.ID, post: true, postID: p.ID, text: p.Text, history: p.History, created: p.Created, edited: p.Edited, media: p.Media}
}

func commentNode(c platformtest.Comment) node {
	return node{worldID: c.ID, postID: c.PostID, parent: c.ParentID, author: c.Author, name: c.AuthorName,
		text: c.Text, history: c.History, created: c.Created, edited: c.Edited}
}

// versions is how many versions the node's edit chain has.
func (n node) versions() int { return len(n.history) + 1 }

// versionText is the world text of version v.
func (n node) versionText(v int) string {
	if v < len(n.history) {
		return n.history[v]
	}
	return n.text
}

// versionTime is when version v was posted.
func (n node) versionTime(v int) time.Time {
	switch {
	case v == 0:
		return n.created
	case v == n.versions()-1 && n.edited != nil:
		return *n.edited
	}
	return n.created.Add(time.Duration(v) * time.Second)
}

// tweetID is the snowflake-like id of version v of a world item.
func tweetID(worldID string, v int) string {
	n, err := strconv.ParseUint(worldID, 10, 64)
	if err != nil || n >= 1e9 {
		n = uint64(hash32(worldID)) % 1e9
	}
	return strconv.FormatUint(1_790_000_000_000_000_000+uint64(v)*10_000_000_000+n, 10)
}

func hash32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// userID is a stable numeric user id for a world author.
func userID(author string) string {
	h := fnv.New64a()
	h.Write([]byte(author))
	return strconv.FormatUint(1_000_000_000_000_000+h.Sum64()%1_000_000_000_000_000, 10)
}

// username turns a display name into an X username ([A-Za-z0-9_], ≤ 15).
func username(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < utf8.RuneSelf && (r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s == "" {
		s = fmt.Sprintf("user%d", hash32(name)%100000)
	}
	if len(s) > 15 {
		s = s[:15]
	}
	return s
}

var linkRE = regexp.MustCompile(`https?://[^\s]+`)

// shorten is the t.co link X would put in place of u.
func shorten(u string) string {
	const abc = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	h := fnv.New64a()
	h.Write([]byte(u))
	n := h.Sum64()
	b := make([]byte, 10)
	for i := range b {
		b[i] = abc[n%62]
		n /= 62
	}
	return "https://t.co/" + string(b)
}

// linkify replaces links by t.co links, as X does, and lists them with
// their expanded forms (start and end count characters).
func linkify(s string) (string, []jsonURL) {
	var urls []jsonURL
	var out strings.Builder
	last := 0
	for _, m := range linkRE.FindAllStringIndex(s, -1) {
		out.WriteString(s[last:m[0]])
		long := s[m[0]:m[1]]
		short := shorten(long)
		start := utf8.RuneCountInString(out.String())
		out.WriteString(short)
		disp := strings.TrimPrefix(strings.TrimPrefix(long, "https://"), "http://")
		if utf8.RuneCountInString(disp) > 23 {
			disp = string([]rune(disp)[:23]) + "…"
		}
		urls = append(urls, jsonURL{Start: start, End: start + utf8.RuneCountInString(short), URL: short, ExpandedURL: long, DisplayURL: disp})
		last = m[1]
	}
	out.WriteString(s[last:])
	return out.String(), urls
}

// mediaKey is the media_key of the i-th attachment of a world post.
func mediaKey(worldID string, i int) string {
	return "3_" + tweetID(worldID, 0) + strconv.Itoa(i)
}

// sortNewest sorts nodes newest first (by original creation).
func sortNewest(ns []node) {
	sort.SliceStable(ns, func(i, j int) bool { return ns[i].created.After(ns[j].created) })
}
