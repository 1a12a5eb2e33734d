package mastodontest

import (
	"html"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The JSON shapes below follow docs.joinmastodon.org/entities (Status,
// Account, MediaAttachment, Context, StatusEdit).

type fieldJSON struct {
	Name       string  `json:"name"`
	Value      string  `json:"value"`
	VerifiedAt *string `json:"verified_at"`
}

type accountJSON struct {
	ID             string      `json:"id"`
	Username       string      `json:"username"`
	Acct           string      `json:"acct"`
	DisplayName    string      `json:"display_name"`
	Locked         bool        `json:"locked"`
	Bot            bool        `json:"bot"`
	Discoverable   bool        `json:"discoverable"`
	Group          bool        `json:"group"`
	CreatedAt      string      `json:"created_at"`
	Note           string      `json:"note"`
	URL            string      `json:"url"`
	Avatar         string      `json:"avatar"`
	AvatarStatic   string      `json:"avatar_static"`
	Header         string      `json:"header"`
	HeaderStatic   string      `json:"header_static"`
	FollowersCount int         `json:"followers_count"`
	FollowingCount int         `json:"following_count"`
	StatusesCount  int         `json:"statuses_count"`
	LastStatusAt   *string     `json:"last_status_at"`
	Emojis         []any       `json:"emojis"`
	Fields         []fieldJSON `json:"fields"`
}

type mediaJSON struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	URL         string         `json:"url"`
	PreviewURL  string         `json:"preview_url"`
	RemoteURL   *string        `json:"remote_url"`
	Meta        map[string]any `json:"meta"`
	Description *string        `json:"description"`
	Blurhash    *string        `json:"blurhash"`
}

type statusJSON struct {
	ID                 string      `json:"id"`
	CreatedAt          string      `json:"created_at"`
	InReplyToID        *string     `json:"in_reply_to_id"`
	InReplyToAccountID *string     `json:"in_reply_to_account_id"`
	Sensitive          bool        `json:"sensitive"`
	SpoilerText        string      `json:"spoiler_text"`
	Visibility         string      `json:"visibility"`
	Language           *string     `json:"language"`
	URI                string      `json:"uri"`
	URL                *string     `json:"url"`
	RepliesCount       int         `json:"replies_count"`
	ReblogsCount       int         `json:"reblogs_count"`
	FavouritesCount    int         `json:"favourites_count"`
	EditedAt           *string     `json:"edited_at"`
	Content            string      `json:"content"`
	Reblog             *statusJSON `json:"reblog"`
	Account            accountJSON `json:"account"`
	MediaAttachments   []mediaJSON `json:"media_attachments"`
	Mentions           []any       `json:"mentions"`
	Tags               []any       `json:"tags"`
	Emojis             []any       `json:"emojis"`
	Card               any         `json:"card"`
	Poll               any         `json:"poll"`
}

type editJSON struct {
	Content          string      `json:"content"`
	SpoilerText      string      `json:"spoiler_text"`
	Sensitive        bool        `json:"sensitive"`
	CreatedAt        string      `json:"created_at"`
	Account          accountJSON `json:"account"`
	MediaAttachments []mediaJSON `json:"media_attachments"`
	Emojis           []any       `json:"emojis"`
}

// node is a world post or comment, as one status.
type node struct {
	worldID, postID, parentID string // parentID: the post or comment answered; "" for posts
	author, authorName        string
	city                      bool
	title, text               string
	created                   time.Time
	edited                    *time.Time
	history                   []string
	media                     []string
	children                  []string
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (s *Server) node(worldID string) (node, bool) {
	if p, ok := s.w.Post(worldID); ok {
		n := node{worldID: p.ID, postID: p.ID, city: true, title: p.Title, text: p.Text, created: p.Created,
			edited: p.Edited, history: p.History, media: p.Media}
		for _, c := range s.w.Comments(p.ID, "") {
			n.children = append(n.children, c.ID)
		}
		return n, true
	}
	c, ok := s.w.Comment(worldID)
	if !ok {
		return node{}, false
	}
	n := node{worldID: c.ID, postID: c.PostID, parentID: c.ParentID, author: c.Author, authorName: c.AuthorName,
		city: c.AuthorName == s.w.Profile.DisplayName, text: c.Text, created: c.Created, edited: c.Edited, history: c.History}
	if n.parentID == "" {
		n.parentID = c.PostID
	}
	for _, k := range s.w.Comments(c.PostID, c.ID) {
		n.children = append(n.children, k.ID)
	}
	return n, true
}

func (s *Server) cityAccount() accountJSON {
	p := s.w.Profile
	a := s.baseAccount(s.accountID(), s.handle(), s.handle(), p.DisplayName, s.URL+"/@"+s.handle())
	if p.Description != "" {
		a.Note = "<p>" + html.EscapeString(p.Description) + "</p>"
	}
	if p.Website != "" {
		verified := "2024-01-02T03:04:05.000+00:00"
		a.Fields = append(a.Fields, fieldJSON{Name: "Website", Value: linkHTML(p.Website, `rel="me nofollow noopener" translate="no" target="_blank"`), VerifiedAt: &verified})
	}
	if p.Email != "" { // Mastodon links URLs in fields, not addresses
		a.Fields = append(a.Fields, fieldJSON{Name: "Email", Value: html.EscapeString(p.Email)})
	}
	a.StatusesCount = s.w.PostCount()
	return a
}

func (s *Server) baseAccount(id, username, acct, display, url string) accountJSON {
	return accountJSON{ID: id, Username: username, Acct: acct, DisplayName: display, Discoverable: true,
		CreatedAt: "2022-11-07T00:00:00.000Z", URL: url,
		Avatar: s.URL + "/avatars/original/missing.png", AvatarStatic: s.URL + "/avatars/original/missing.png",
		Header: s.URL + "/headers/original/missing.png", HeaderStatic: s.URL + "/headers/original/missing.png",
		FollowersCount: int(s.requests.Load()), Emojis: []any{}, Fields: []fieldJSON{}}
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func (s *Server) authorAccount(n node) accountJSON {
	if n.city {
		return s.cityAccount()
	}
	user := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(n.authorName), "_"), "_")
	if user == "" {
		user = "user" + strconv.Itoa(int(hash32(n.author)))
	}
	const remote = "social.example"
	return s.baseAccount(strconv.FormatInt(int64(hash32("user:"+n.author)), 10), user, user+"@"+remote, n.authorName, "https://"+remote+"/@"+user)
}

func (s *Server) render(n node) statusJSON {
	id := s.NativeID(n.worldID)
	url := s.URL + "/@" + s.handle() + "/" + id
	lang := "en"
	st := statusJSON{ID: id, CreatedAt: ts(n.created), Visibility: "public", Language: &lang,
		URI: s.URL + "/users/" + s.handle() + "/statuses/" + id, URL: &url, RepliesCount: len(n.children),
		FavouritesCount: int(s.requests.Load()), // moves by itself, as real counters do
		Content:         s.contentHTML(n.text), Account: s.authorAccount(n), SpoilerText: n.title,
		MediaAttachments: s.mediaJSON(n), Mentions: []any{}, Tags: []any{}, Emojis: []any{}}
	if !n.city {
		st.URI = "https://social.example/users/" + st.Account.Username + "/statuses/" + id
	}
	if n.parentID != "" {
		pid := s.NativeID(n.parentID)
		st.InReplyToID = &pid
		if parent, ok := s.node(n.parentID); ok {
			aid := s.authorAccount(parent).ID
			st.InReplyToAccountID = &aid
		}
	}
	if n.edited != nil {
		e := ts(*n.edited)
		st.EditedAt = &e
	}
	return st
}

func (s *Server) mediaJSON(n node) []mediaJSON {
	out := []mediaJSON{}
	for _, name := range n.media {
		m, _ := s.w.Media(name)
		kind := "unknown"
		switch {
		case m.ContentType == "image/gif":
			kind = "gifv"
		case strings.HasPrefix(m.ContentType, "image/"):
			kind = "image"
		case strings.HasPrefix(m.ContentType, "video/"):
			kind = "video"
		case strings.HasPrefix(m.ContentType, "audio/"):
			kind = "audio"
		}
		u := s.URL + "/media/" + name
		out = append(out, mediaJSON{ID: strconv.FormatInt(int64(hash32(n.worldID+"/"+name)), 10), Type: kind,
			URL: u, PreviewURL: u, Meta: map[string]any{}})
	}
	return out
}

var linkable = regexp.MustCompile(`https?://[^\s<>"]+|#[\p{L}\p{N}_]+`)

// contentHTML renders text as Mastodon's formatter does: paragraphs on
// blank lines, <br /> on single newlines, links and hashtags as anchors.
func (s *Server) contentHTML(text string) string {
	var b strings.Builder
	for _, para := range strings.Split(text, "\n\n") {
		b.WriteString("<p>")
		last := 0
		for _, m := range linkable.FindAllStringIndex(para, -1) {
			b.WriteString(brs(para[last:m[0]]))
			tok := para[m[0]:m[1]]
			if tok[0] == '#' {
				b.WriteString(`<a href="` + s.URL + `/tags/` + html.EscapeString(tok[1:]) + `" class="mention hashtag" rel="tag">#<span>` + html.EscapeString(tok[1:]) + `</span></a>`)
			} else {
				b.WriteString(linkHTML(tok, `target="_blank" rel="nofollow noopener" translate="no"`))
			}
			last = m[1]
		}
		b.WriteString(brs(para[last:]) + "</p>")
	}
	return b.String()
}

func brs(s string) string { return strings.ReplaceAll(html.EscapeString(s), "\n", "<br />") }

// linkHTML shortens a URL for display the way Mastodon does.
func linkHTML(u, attrs string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	vis, tail := rest, ""
	if len(rest) > 30 {
		vis, tail = rest[:30], rest[30:]
	}
	class := ""
	if tail != "" {
		class = "ellipsis"
	}
	return `<a href="` + html.EscapeString(u) + `" ` + attrs + `><span class="invisible">` + html.EscapeString(scheme) +
		`://</span><span class="` + class + `">` + html.EscapeString(vis) + `</span><span class="invisible">` +
		html.EscapeString(tail) + `</span></a>`
}

// cityStatuses is everything the account posted: posts and its own replies.
func (s *Server) cityStatuses() []node {
	var out []node
	for _, p := range s.w.Posts() {
		if n, ok := s.node(p.ID); ok {
			out = append(out, n)
		}
		for _, c := range s.w.Thread(p.ID) {
			if c.AuthorName == s.w.Profile.DisplayName {
				if n, ok := s.node(c.ID); ok {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

func (s *Server) lookupStatus(rw http.ResponseWriter, r *http.Request) (node, bool) {
	wid, ok := s.worldID(r.PathValue("id"))
	var n node
	if ok {
		n, ok = s.node(wid)
	}
	if !ok {
		writeError(rw, http.StatusNotFound, "Record not found")
	}
	return n, ok
}

func (s *Server) status(rw http.ResponseWriter, r *http.Request) {
	if n, ok := s.lookupStatus(rw, r); ok {
		writeJSON(rw, http.StatusOK, s.render(n))
	}
}

func idNum(id string) int64 { n, _ := strconv.ParseInt(id, 10, 64); return n }

// statuses serves GET /api/v1/accounts/:id/statuses with max_id, since_id,
// min_id, limit and exclude_replies, and a Link header: rel="next" only when
// the page is full (so an exactly full last page links to an empty one),
// rel="prev" whenever the page has statuses.
func (s *Server) statuses(rw http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != s.accountID() {
		writeError(rw, http.StatusNotFound, "Record not found")
		return
	}
	q := r.URL.Query()
	limit := 20
	if v, err := strconv.Atoi(q.Get("limit")); err == nil && v > 0 {
		limit = min(v, 40)
	}
	limit = min(limit, s.cfg.pageSize)
	maxID, sinceID, minID := idNum(q.Get("max_id")), idNum(q.Get("since_id")), idNum(q.Get("min_id"))
	var all []statusJSON
	for _, n := range s.cityStatuses() {
		st := s.render(n)
		id := idNum(st.ID)
		if (maxID > 0 && id >= maxID) || (sinceID > 0 && id <= sinceID) || (minID > 0 && id <= minID) {
			continue
		}
		if q.Get("exclude_replies") == "true" && st.InReplyToAccountID != nil && *st.InReplyToAccountID != s.accountID() {
			continue
		}
		all = append(all, st)
	}
	sort.Slice(all, func(i, j int) bool { return idNum(all[i].ID) > idNum(all[j].ID) })
	page := all
	if minID > 0 && len(all) > limit { // the statuses just above min_id
		page = all[len(all)-limit:]
	} else if len(all) > limit {
		page = all[:limit]
	}
	if len(page) > 0 {
		self := "http://" + r.Host + r.URL.Path + "?"
		keep := "limit=" + strconv.Itoa(limit)
		if q.Get("exclude_reblogs") != "" {
			keep += "&exclude_reblogs=" + q.Get("exclude_reblogs")
		}
		var links []string
		if len(page) == limit {
			links = append(links, "<"+self+keep+"&max_id="+page[len(page)-1].ID+`>; rel="next"`)
		}
		links = append(links, "<"+self+keep+"&min_id="+page[0].ID+`>; rel="prev"`)
		rw.Header().Set("Link", strings.Join(links, ", "))
	}
	if page == nil {
		page = []statusJSON{}
	}
	writeJSON(rw, http.StatusOK, page)
}

// context serves GET /api/v1/statuses/:id/context. Without a token the
// descendants stop at the public limits (60, depth 20), as Mastodon 4.
func (s *Server) context(rw http.ResponseWriter, r *http.Request) {
	n, ok := s.lookupStatus(rw, r)
	if !ok {
		return
	}
	out := struct {
		Ancestors   []statusJSON `json:"ancestors"`
		Descendants []statusJSON `json:"descendants"`
	}{Ancestors: []statusJSON{}, Descendants: []statusJSON{}}
	for p := n.parentID; p != ""; {
		a, ok := s.node(p)
		if !ok {
			break
		}
		out.Ancestors = append([]statusJSON{s.render(a)}, out.Ancestors...)
		p = a.parentID
	}
	maxN, maxDepth := 1<<30, 1<<30
	if !authed(r) {
		maxN, maxDepth = s.cfg.publicDesc, s.cfg.publicDepth
	}
	var walk func(ids []string, depth int)
	walk = func(ids []string, depth int) {
		for _, id := range ids {
			if depth > maxDepth || len(out.Descendants) >= maxN {
				return
			}
			if c, ok := s.node(id); ok {
				out.Descendants = append(out.Descendants, s.render(c))
				walk(c.children, depth+1)
			}
		}
	}
	walk(n.children, 1)
	writeJSON(rw, http.StatusOK, out)
}

// history serves GET /api/v1/statuses/:id/history: every revision, oldest
// first, the last being the current one.
func (s *Server) history(rw http.ResponseWriter, r *http.Request) {
	n, ok := s.lookupStatus(rw, r)
	if !ok {
		return
	}
	texts := append(append([]string{}, n.history...), n.text)
	out := make([]editJSON, len(texts))
	for i, t := range texts {
		at := n.created.Add(time.Duration(i) * time.Second)
		if i == len(texts)-1 && n.edited != nil {
			at = *n.edited
		}
		out[i] = editJSON{Content: s.contentHTML(t), SpoilerText: n.title, CreatedAt: ts(at),
			Account: s.authorAccount(n), MediaAttachments: s.mediaJSON(n), Emojis: []any{}}
	}
	writeJSON(rw, http.StatusOK, out)
}
