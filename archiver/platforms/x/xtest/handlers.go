package xtest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	timelineTokenPrefix = "7140dibdnow9c7btw4"
	searchTokenPrefix   = "b26v89c19zqg8o3f"
)

// nodes lists every visible post, and every visible comment and reply.
func (s *Server) nodes() []node {
	var out []node
	for _, p := range s.w.Posts() {
		out = append(out, postNode(p))
		for _, c := range s.w.Thread(p.ID) {
			out = append(out, commentNode(c))
		}
	}
	return out
}

// node finds a visible post or comment by world id.
func (s *Server) node(worldID string) (node, bool) {
	if p, ok := s.w.Post(worldID); ok {
		return postNode(p), true
	}
	if c, ok := s.w.Comment(worldID); ok {
		return commentNode(c), true
	}
	return node{}, false
}

// render is version v of a node as an X Tweet object.
func (s *Server) render(n node, v int) jsonTweet {
	chain := make([]string, n.versions())
	for i := range chain {
		chain[i] = tweetID(n.worldID, i)
	}
	t := jsonTweet{ID: chain[v], CreatedAt: n.versionTime(v).UTC().Format("2006-01-02T15:04:05.000Z"),
		AuthorID: s.user(n).ID, ConversationID: tweetID(n.postID, 0), EditHistoryTweetIDs: chain,
		PublicMetrics: map[string]int{"retweet_count": 0, "reply_count": len(s.w.Comments(n.postID, n.worldID)), "like_count": 3}}
	text := n.versionText(v)
	var ents jsonEntities
	if !n.post {
		parentID := n.parent
		if parentID == "" {
			parentID = n.postID
		}
		parent, _ := s.node(parentID)
		pu := s.user(parent)
		text = "@" + pu.Username + " " + text
		ents.Mentions = []jsonMention{{Start: 0, End: 1 + utf8.RuneCountInString(pu.Username), Username: pu.Username, ID: pu.ID}}
		pv := 0
		if parent.edited != nil && n.created.After(*parent.edited) {
			pv = parent.versions() - 1
		}
		t.ReferencedTweets = []jsonRef{{Type: "replied_to", ID: tweetID(parentID, pv)}}
		t.InReplyToUserID = pu.ID
	}
	t.Text, ents.URLs = linkify(text)
	if len(ents.URLs) > 0 || len(ents.Mentions) > 0 {
		t.Entities = &ents
	}
	if len(n.media) > 0 {
		t.Attachments = &jsonAttach{}
		for i := range n.media {
			t.Attachments.MediaKeys = append(t.Attachments.MediaKeys, mediaKey(n.worldID, i))
		}
	}
	return t
}

// page renders a list of (node, version) as a response with includes.
func (s *Server) page(ns []node, vs []int) *jsonPage {
	p := &jsonPage{}
	inc := &jsonIncludes{}
	users := map[string]bool{}
	for i, n := range ns {
		p.Data = append(p.Data, s.render(n, vs[i]))
		if u := s.user(n); !users[u.ID] {
			users[u.ID] = true
			inc.Users = append(inc.Users, u)
		}
		for j, name := range n.media {
			m := jsonMedia{MediaKey: mediaKey(n.worldID, j), Type: "photo", URL: s.URL + "/media/" + name}
			if f, ok := s.w.Media(name); ok {
				switch {
				case f.ContentType == "image/gif":
					m.Type, m.PreviewImageURL, m.URL = "animated_gif", m.URL, ""
				case strings.HasPrefix(f.ContentType, "video/"):
					m.Type, m.PreviewImageURL, m.URL = "video", m.URL, ""
				}
			}
			m.AltText = "Attachment " + name
			inc.Media = append(inc.Media, m)
		}
	}
	if len(ns) > 0 {
		p.Includes = inc
	}
	return p
}

// maxResults reads max_results within X's bounds, capped at the server's
// page size; ok is false after a 400 was sent.
func (s *Server) maxResults(rw http.ResponseWriter, r *http.Request, lo, hi int) (int, bool) {
	n := hi
	if v := r.URL.Query().Get("max_results"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < lo || n > hi {
			invalid(rw, "max_results", v, "The `max_results` query parameter value ["+v+"] is not between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
			return 0, false
		}
	}
	return min(n, s.cfg.pageSize), true
}

// offset reads a pagination token; ok is false after a 400 was sent.
func offset(rw http.ResponseWriter, r *http.Request, param, prefix string) (int, bool) {
	v := r.URL.Query().Get(param)
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(v, prefix), 36, 64)
	if !strings.HasPrefix(v, prefix) || err != nil || n < 0 {
		invalid(rw, param, v, "The `"+param+"` query parameter value ["+v+"] is not valid")
		return 0, false
	}
	return int(n), true
}

// paginate serves items[off:off+size] with meta; more says a next page
// exists even past the end of items (the empty page after the cap).
func (s *Server) paginate(rw http.ResponseWriter, ns []node, vs []int, off, size int, prefix string, more bool) {
	end := min(off+size, len(ns))
	off = min(off, end)
	p := s.page(ns[off:end], vs[off:end])
	p.Meta = &jsonMeta{ResultCount: end - off}
	if len(p.Data) > 0 {
		p.Meta.NewestID, p.Meta.OldestID = p.Data[0].ID, p.Data[len(p.Data)-1].ID
	}
	if end < len(ns) || (more && off < len(ns)) {
		p.Meta.NextToken = prefix + strconv.FormatInt(int64(end), 36)
	}
	writeJSON(rw, http.StatusOK, p)
}

// latestVersions is the newest version index of each node.
func latestVersions(ns []node) []int {
	vs := make([]int, len(ns))
	for i, n := range ns {
		vs[i] = n.versions() - 1
	}
	return vs
}

// timeline serves GET /2/users/:id/tweets: the account's posts and its own
// replies, newest first, only the newest cap of them reachable.
func (s *Server) timeline(rw http.ResponseWriter, r *http.Request) {
	if id := r.PathValue("id"); id != s.accountID() {
		writeJSON(rw, http.StatusOK, map[string]any{"errors": []jsonProblem{notFound("user", "id", id)}})
		return
	}
	size, ok := s.maxResults(rw, r, 5, 100)
	if !ok {
		return
	}
	off, ok := offset(rw, r, "pagination_token", timelineTokenPrefix)
	if !ok {
		return
	}
	var mine []node
	for _, n := range s.nodes() {
		if n.post || s.isAccount(n.author, n.name) {
			mine = append(mine, n)
		}
	}
	sortNewest(mine)
	capped := len(mine) > s.cfg.cap
	if capped {
		mine = mine[:s.cfg.cap]
	}
	s.paginate(rw, mine, latestVersions(mine), off, size, timelineTokenPrefix, capped)
}

// search serves /2/tweets/search/recent (the last 7 days only) and
// /2/tweets/search/all, for queries of the form conversation_id:ID. The
// conversation's root post matches too, as on X.
func (s *Server) search(recent bool) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("query")
		conv, found := strings.CutPrefix(q, "conversation_id:")
		if !found || conv == "" {
			invalid(rw, "query", q, "This fake only understands conversation_id:ID queries")
			return
		}
		hi := 500
		if recent {
			hi = 100
		}
		size, ok := s.maxResults(rw, r, 10, hi)
		if !ok {
			return
		}
		off, ok := offset(rw, r, "next_token", searchTokenPrefix)
		if !ok {
			return
		}
		since := s.cfg.now().Add(-7 * 24 * time.Hour)
		var ns []node
		for _, n := range s.nodes() {
			if tweetID(n.postID, 0) == conv && (!recent || n.versionTime(n.versions()-1).After(since)) {
				ns = append(ns, n)
			}
		}
		sortNewest(ns)
		s.paginate(rw, ns, latestVersions(ns), off, size, searchTokenPrefix, false)
	}
}

// lookup serves GET /2/tweets?ids=: any version of any visible tweet;
// missing ones are partial errors beside data.
func (s *Server) lookup(rw http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("ids")
	ids := strings.Split(raw, ",")
	if raw == "" || len(ids) > 100 {
		invalid(rw, "ids", raw, "The `ids` query parameter value ["+raw+"] does not contain 1 to 100 ids")
		return
	}
	type at struct {
		n node
		v int
	}
	index := map[string]at{}
	for _, n := range s.nodes() {
		for v := range n.versions() {
			index[tweetID(n.worldID, v)] = at{n, v}
		}
	}
	var ns []node
	var vs []int
	var problems []jsonProblem
	for _, id := range ids {
		if a, ok := index[id]; ok {
			ns, vs = append(ns, a.n), append(vs, a.v)
		} else {
			problems = append(problems, notFound("tweet", "ids", id))
		}
	}
	p := s.page(ns, vs)
	p.Errors = problems
	writeJSON(rw, http.StatusOK, p)
}

// media serves an attachment's bytes.
func (s *Server) media(rw http.ResponseWriter, r *http.Request) {
	f, ok := s.w.Media(r.PathValue("name"))
	if !ok {
		http.NotFound(rw, r)
		return
	}
	rw.Header().Set("Content-Type", f.ContentType)
	rw.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	rw.Write(f.Data)
}
