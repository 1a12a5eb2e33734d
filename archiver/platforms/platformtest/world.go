package platformtest

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"
)

// World is a platform-neutral account: a profile, posts, and comment trees,
// which each platform's fake server (the <platform>test packages) renders in
// that platform's real API shapes. Tests change the world (edit, delete,
// hide, add) between captures and compare what was archived with it.
type World struct {
	mu       sync.RWMutex
	Profile  Profile
	posts    []*Post
	comments []*Comment
	media    map[string]MediaFile
	next     int
	clock    time.Time
	// indexes, so worlds of 100,000 items stay fast
	postByID    map[string]*Post
	commentByID map[string]*Comment
	children    map[string][]*Comment // key: postID + "/" + parentID
	livePosts   int
}

// Profile is the account's profile.
type Profile struct {
	ID, Handle, DisplayName, Description, Website, Email string
}

// Post is something the account published.
type Post struct {
	ID      string
	Title   string // videos, feed entries
	Text    string
	Created time.Time
	Edited  *time.Time
	History []string // earlier texts, oldest first (platforms that expose edit history)
	Media   []string // names of MediaFiles
	Hidden  bool
	Deleted bool
}

// Comment is a comment on a post (ParentID == "") or a reply to a comment.
type Comment struct {
	ID, PostID, ParentID string
	Author, AuthorName   string
	Text                 string
	Created              time.Time
	Edited               *time.Time
	History              []string
	Hidden               bool
	Deleted              bool
}

// MediaFile is an attachment the fake server serves at /media/<Name>.
type MediaFile struct {
	Name, ContentType string
	Data              []byte
}

// NewWorld makes an empty world whose clock starts at start.
func NewWorld(start time.Time, p Profile) *World {
	return &World{Profile: p, media: map[string]MediaFile{}, next: 1000, clock: start,
		postByID: map[string]*Post{}, commentByID: map[string]*Comment{}, children: map[string][]*Comment{}}
}

func (w *World) id() string {
	w.next++
	return strconv.Itoa(w.next)
}

func (w *World) tick() time.Time {
	w.clock = w.clock.Add(time.Minute)
	return w.clock
}

// AddMedia registers a file the fake server will serve.
func (w *World) AddMedia(name, contentType string, data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.media[name] = MediaFile{Name: name, ContentType: contentType, Data: data}
}

// Media returns a registered file.
func (w *World) Media(name string) (MediaFile, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	m, ok := w.media[name]
	return m, ok
}

// AddPost publishes a post and returns its id.
func (w *World) AddPost(title, text string, media ...string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := &Post{ID: w.id(), Title: title, Text: text, Created: w.tick(), Media: media}
	w.posts = append(w.posts, p)
	w.postByID[p.ID] = p
	w.livePosts++
	return p.ID
}

// AddComment adds a comment (parentID "") or a reply and returns its id.
func (w *World) AddComment(postID, parentID, author, text string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := &Comment{ID: w.id(), PostID: postID, ParentID: parentID, Author: "u" + author, AuthorName: author, Text: text, Created: w.tick()}
	w.comments = append(w.comments, c)
	w.commentByID[c.ID] = c
	w.children[postID+"/"+parentID] = append(w.children[postID+"/"+parentID], c)
	return c.ID
}

// Edit changes a post's or comment's text, keeping the old one in History.
func (w *World) Edit(id, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	at := w.tick()
	for _, p := range w.posts {
		if p.ID == id {
			p.History = append(p.History, p.Text)
			p.Text, p.Edited = text, &at
			return
		}
	}
	for _, c := range w.comments {
		if c.ID == id {
			c.History = append(c.History, c.Text)
			c.Text, c.Edited = text, &at
			return
		}
	}
	panic(fmt.Sprintf("platformtest: edit of unknown id %s", id))
}

// Delete removes a post (with its comments) or a comment (with its replies)
// from what the platform shows.
func (w *World) Delete(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p, ok := w.postByID[id]; ok && !p.Deleted {
		p.Deleted = true
		w.livePosts--
	}
	for _, c := range w.comments {
		if c.ID == id {
			c.Deleted = true
		}
	}
}

// Hide sets the hidden flag of a comment (as a page moderator would).
func (w *World) Hide(id string, hidden bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.comments {
		if c.ID == id {
			c.Hidden = hidden
		}
	}
}

// Posts returns copies of the visible posts, newest first.
func (w *World) Posts() []Post {
	w.mu.RLock()
	defer w.mu.RUnlock()
	var out []Post
	for _, p := range w.posts {
		if !p.Deleted {
			out = append(out, *p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out
}

// PostCount is the number of visible posts (cheap: kept as posts come and go).
func (w *World) PostCount() int {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.livePosts
}

// Post returns one visible post.
func (w *World) Post(id string) (Post, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if p, ok := w.postByID[id]; ok && !p.Deleted {
		return *p, true
	}
	return Post{}, false
}

// Comments returns copies of the visible direct children of parentID ("" =
// top-level comments) on postID, oldest first. A comment under a deleted
// comment or post is not visible.
func (w *World) Comments(postID, parentID string) []Comment {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if !w.visibleLocked(postID) || (parentID != "" && !w.visibleLocked(parentID)) {
		return nil
	}
	var out []Comment
	for _, c := range w.children[postID+"/"+parentID] {
		if !c.Deleted {
			out = append(out, *c)
		}
	}
	return out
}

// Thread returns every visible comment and reply under a post, depth-first
// in reply order (parents before children).
func (w *World) Thread(postID string) []Comment {
	var out []Comment
	var walk func(parent string)
	walk = func(parent string) {
		for _, c := range w.Comments(postID, parent) {
			out = append(out, c)
			walk(c.ID)
		}
	}
	walk("")
	return out
}

// Comment returns one visible comment or reply.
func (w *World) Comment(id string) (Comment, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if c, ok := w.commentByID[id]; ok && w.visibleLocked(id) {
		return *c, true
	}
	return Comment{}, false
}

// visibleLocked: not deleted, and neither are its ancestors.
func (w *World) visibleLocked(id string) bool {
	if p, ok := w.postByID[id]; ok {
		return !p.Deleted
	}
	c, ok := w.commentByID[id]
	if !ok || c.Deleted {
		return false
	}
	if c.ParentID != "" {
		return w.visibleLocked(c.ParentID)
	}
	return w.visibleLocked(c.PostID)
}

// Counts returns the visible posts and the visible comments and replies.
func (w *World) Counts() (posts, comments int) {
	for _, p := range w.Posts() {
		posts++
		comments += len(w.Thread(p.ID))
	}
	return posts, comments
}

// Seed fills a world with a small realistic account: posts with media,
// comments, replies three deep, unicode and emoji.
func Seed(w *World) {
	w.AddMedia("road.jpg", "image/jpeg", []byte("\xff\xd8\xff\xe0 fake jpeg bytes of a road closure map"))
	p1 := w.AddPost("Road closure", "Main St closed between 1st and 3rd Ave on Saturday for the parade 🎉", "road.jpg")
	c1 := w.AddComment(p1, "", "Ana Pérez", "¿A qué hora abren de nuevo? 🚗")
	r1 := w.AddComment(p1, c1, "City of Clinton", "Around 3 pm, thanks for asking!")
	w.AddComment(p1, r1, "Ana Pérez", "Gracias 🙏")
	w.AddComment(p1, "", "Bob", "Will the library be open?")
	p2 := w.AddPost("Council meeting", "City council meets Tuesday at 7 pm. Agenda: budget, parks, water rates.")
	w.AddComment(p2, "", "Carol", "Please post the budget draft before the meeting.")
	w.AddPost("Winter parking", "Reminder: no street parking 2–6 am during snow events ❄️")
}
