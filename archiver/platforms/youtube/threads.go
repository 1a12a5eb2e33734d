package youtube

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// thread captures every comment thread of a video and every reply, then
// says the thread is complete. Comments disabled is a complete, empty
// thread. A video that vanished during the run (404) is left incomplete
// without an error: the next run sees whether it is gone.
func (r *run) thread(ctx context.Context, videoID string) error {
	token := ""
	seen := map[string]bool{}
	for {
		q := url.Values{
			"part":       {"snippet,replies"},
			"videoId":    {videoID},
			"maxResults": {fmt.Sprint(commentPageSize)},
			"textFormat": {"plainText"},
		}
		if token != "" {
			q.Set("pageToken", token)
		}
		p, err := r.get(ctx, "/commentThreads", q)
		switch {
		case err != nil && token == "" && errors.Is(err, errCommentsDisabled):
			return r.complete(ctx, videoID)
		case err != nil && errors.Is(err, platforms.ErrNotFound):
			return nil
		case err != nil:
			return fmt.Errorf("youtube: comments of video %s: %w", videoID, err)
		}
		resp, err := decodeCommentThreads(p.Body)
		if err != nil {
			return fmt.Errorf("youtube: comments of video %s: %w", videoID, err)
		}
		for _, t := range resp.Items {
			if err := r.commentThread(ctx, videoID, t, p.RawKey); err != nil {
				return err
			}
		}
		next := resp.NextPageToken
		if next == "" {
			return r.complete(ctx, videoID)
		}
		if seen[next] {
			return fmt.Errorf("youtube: comments of video %s: %w: page token %q repeats", videoID, platforms.ErrMalformed, next)
		}
		seen[next], token = true, next
	}
}

func (r *run) complete(ctx context.Context, videoID string) error {
	if err := r.sink.ThreadComplete(ctx, videoID); err != nil {
		return fmt.Errorf("youtube: thread complete %s: %w: %w", videoID, errSink, err)
	}
	return nil
}

// commentThread reports a top-level comment and all its replies. The
// replies embedded in the thread are only a subset: when totalReplyCount
// says there are more, every reply is paged from /comments instead.
func (r *run) commentThread(ctx context.Context, videoID string, t commentThread, rawKey string) error {
	top := t.Snippet.TopLevelComment
	if err := r.item(ctx, commentOf(top, videoID, videoID, rawKey)); err != nil {
		return err
	}
	if t.Snippet.TotalReplyCount <= len(t.Replies.Comments) {
		for _, c := range t.Replies.Comments {
			if err := r.item(ctx, commentOf(c, videoID, replyParent(c, top.ID), rawKey)); err != nil {
				return err
			}
		}
		return nil
	}
	return r.replies(ctx, videoID, t.ID, top.ID)
}

// replies pages every reply of a top-level comment from /comments.
func (r *run) replies(ctx context.Context, videoID, threadID, topID string) error {
	token := ""
	seen := map[string]bool{}
	for {
		q := url.Values{
			"part":       {"snippet"},
			"parentId":   {threadID},
			"maxResults": {fmt.Sprint(commentPageSize)},
			"textFormat": {"plainText"},
		}
		if token != "" {
			q.Set("pageToken", token)
		}
		p, err := r.get(ctx, "/comments", q)
		if err != nil {
			return fmt.Errorf("youtube: replies to comment %s: %w", threadID, err)
		}
		resp, err := decodeComments(p.Body)
		if err != nil {
			return fmt.Errorf("youtube: replies to comment %s: %w", threadID, err)
		}
		for _, c := range resp.Items {
			if err := r.item(ctx, commentOf(c, videoID, replyParent(c, topID), p.RawKey)); err != nil {
				return err
			}
		}
		next := resp.NextPageToken
		if next == "" {
			return nil
		}
		if seen[next] {
			return fmt.Errorf("youtube: replies to comment %s: %w: page token %q repeats", threadID, platforms.ErrMalformed, next)
		}
		seen[next], token = true, next
	}
}

func (r *run) item(ctx context.Context, it platforms.Item) error {
	if err := r.sink.Item(ctx, it); err != nil {
		return fmt.Errorf("youtube: item %s: %w: %w", it.NativeID, errSink, err)
	}
	return nil
}
