package youtubetest

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// commentThreads answers commentThreads.list?videoId=: one thread per
// public top-level comment, newest first (order=time, the default), each
// embedding only the first few replies (part=replies) and giving
// totalReplyCount. Comments disabled is a 403; an unknown video a 404.
func (s *Server) commentThreads(rw http.ResponseWriter, q url.Values) {
	vid := q.Get("videoId")
	wid, ok := s.worldID(vid)
	post, visible := s.w.Post(wid)
	if vid == "" || !ok || !visible {
		writeError(rw, http.StatusNotFound, "", "videoNotFound", "youtube.commentThread",
			"The video identified by the <code><a href=\"/youtube/v3/docs/commentThreads/list#videoId\">videoId</a></code> parameter could not be found.")
		return
	}
	if s.disabled[post.ID] {
		writeError(rw, http.StatusForbidden, "", "commentsDisabled", "youtube.commentThread",
			"The video identified by the <code><a href=\"/youtube/v3/docs/commentThreads/list#videoId\">videoId</a></code> parameter has disabled comments.")
		return
	}
	var tops []platformtest.Comment
	all := s.w.Comments(post.ID, "")
	for i := len(all) - 1; i >= 0; i-- {
		if !all[i].Hidden {
			tops = append(tops, all[i])
		}
	}
	from, to, next, ok := s.page(rw, q, "ct:"+vid, len(tops), 100, 20)
	if !ok {
		return
	}
	withReplies := hasPart(q.Get("part"), "replies")
	items := []any{}
	for _, top := range tops[from:to] {
		tid := s.NativeID(top.ID)
		replies := s.publicReplies(post.ID, top.ID)
		th := obj{
			"kind": "youtube#commentThread",
			"etag": etag("t" + tid),
			"id":   tid,
			"snippet": obj{
				"channelId":       s.channel,
				"videoId":         vid,
				"topLevelComment": s.commentResource(top, vid, ""),
				"canReply":        true,
				"totalReplyCount": len(replies),
				"isPublic":        true,
			},
		}
		if withReplies && len(replies) > 0 {
			var embedded []any
			for _, r := range replies[:min(len(replies), s.cfg.embedded)] {
				embedded = append(embedded, s.commentResource(r, vid, tid))
			}
			if len(embedded) > 0 {
				th["replies"] = obj{"comments": embedded}
			}
		}
		items = append(items, th)
	}
	writeJSON(rw, http.StatusOK, listResponse("youtube#commentThreadListResponse", items, len(tops), to-from, next))
}

// comments answers comments.list?parentId=: every public reply to a
// top-level comment, oldest first. An unknown parent has no replies.
func (s *Server) comments(rw http.ResponseWriter, q url.Values) {
	parent := q.Get("parentId")
	if parent == "" {
		writeError(rw, http.StatusBadRequest, "INVALID_ARGUMENT", "missingRequiredParameter", "youtube.parameter",
			"No filter selected. Expected one of: parentId, id")
		return
	}
	var replies []platformtest.Comment
	vid := ""
	if wid, ok := s.worldID(parent); ok {
		if top, ok := s.w.Comment(wid); ok && top.ParentID == "" && !top.Hidden {
			replies = s.publicReplies(top.PostID, top.ID)
			vid = s.NativeID(top.PostID)
		}
	}
	from, to, next, ok := s.page(rw, q, "cm:"+parent, len(replies), 100, 20)
	if !ok {
		return
	}
	items := []any{}
	for _, r := range replies[from:to] {
		c := s.commentResource(r, vid, parent)
		delete(c["snippet"].(obj), "videoId") // comments.list replies omit it
		items = append(items, c)
	}
	writeJSON(rw, http.StatusOK, listResponse("youtube#commentListResponse", items, len(replies), to-from, next))
}

func hasPart(parts, want string) bool {
	for _, p := range strings.Split(parts, ",") {
		if p == want {
			return true
		}
	}
	return false
}
