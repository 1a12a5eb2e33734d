package records

import (
	"bufio"
	"context"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/civicarchive/civicarchive/storage"
)

// The rendered pages are for people: one standalone HTML page per thread,
// readable offline in any browser. html/template escapes everything
// captured, so a <script> in a comment is shown as text; the pages load
// nothing from outside (an inline style, relative links to the bag's own
// files, and a Content-Security-Policy that forbids the rest).

// itemData is the catalog rows of a chunk of items.
type itemData struct {
	items    map[uint64]storage.Item
	versions map[uint64][]storage.Version
	media    map[uint64][]storage.Media
}

// load reads the items ids with their versions and media.
func (j *exportJob) load(ctx context.Context, ids []uint64) (*itemData, error) {
	items, err := j.o.cat.ItemsByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("records: export: items: %w", err)
	}
	versions, err := j.o.cat.VersionsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	media, err := j.o.cat.MediaOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	return &itemData{items: items, versions: versions, media: media}, nil
}

// threadEnd returns the end of the thread starting at refs[i].
func (j *exportJob) threadEnd(i int) int {
	root := j.refs[i].Thread
	return i + sort.Search(len(j.refs)-i, func(k int) bool { return j.refs[i+k].Thread > root })
}

// writeRendered writes the thread pages, threads batched so that one
// catalog read serves many small threads, then the index.
func (j *exportJob) writeRendered(ctx context.Context) error {
	for start := 0; start < len(j.refs); {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := j.threadEnd(start)
		for end < len(j.refs) {
			next := j.threadEnd(end)
			if next-start > exportChunk {
				break
			}
			end = next
		}
		if err := j.writeThreads(ctx, j.refs[start:end]); err != nil {
			return err
		}
		start = end
	}
	return j.writeIndex(ctx)
}

// writeThreads writes the pages of the threads in batch: read at once
// when small, a chunk at a time when it is one large thread.
func (j *exportJob) writeThreads(ctx context.Context, batch []itemRef) error {
	if len(batch) > exportChunk {
		fetch := func(ids []uint64) (*itemData, error) { return j.load(ctx, ids) }
		return j.writeThread(batch, fetch)
	}
	ids := exportIDs(batch)
	in := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	for _, r := range batch {
		if root := r.Thread; !in[root] {
			in[root] = true
			ids = append(ids, root) // a thread's post, shown for context
		}
	}
	data, err := j.load(ctx, ids)
	if err != nil {
		return err
	}
	fetch := func([]uint64) (*itemData, error) { return data, nil }
	for i := 0; i < len(batch); {
		end := i + 1
		for end < len(batch) && batch[end].Thread == batch[i].Thread {
			end++
		}
		if err := j.writeThread(batch[i:end], fetch); err != nil {
			return err
		}
		i = end
	}
	return nil
}

// placed is an item in a thread's reading order.
type placed struct {
	ref      itemRef
	depth    int
	detached bool // its parent is not in the export
}

// threadOrder returns a thread's exported items in reading order: the
// post, then each comment followed by its replies, depth first, by id.
// An item whose parent is not exported hangs under the post (or at the
// top when the post is not exported either), marked detached.
func threadOrder(thread []itemRef) []placed {
	root := thread[0].Thread
	in := make(map[uint64]bool, len(thread))
	for _, r := range thread {
		in[r.ID] = true
	}
	children := map[uint64][]placed{}
	var top []placed
	for _, r := range thread {
		p := placed{ref: r, detached: r.ID != root && (r.Parent == 0 || !in[r.Parent])}
		switch {
		case r.ID == root:
			top = append(top, p)
		case !p.detached && r.Parent != r.ID:
			children[r.Parent] = append(children[r.Parent], p)
		case in[root]:
			children[root] = append(children[root], p)
		default:
			top = append(top, p)
		}
	}
	out := make([]placed, 0, len(thread))
	seen := make(map[uint64]bool, len(thread))
	var walk func(ps []placed, depth int)
	walk = func(ps []placed, depth int) {
		for _, p := range ps {
			if seen[p.ref.ID] {
				continue
			}
			seen[p.ref.ID] = true
			p.depth = depth
			out = append(out, p)
			walk(children[p.ref.ID], depth+1)
		}
	}
	walk(top, 0)
	for _, r := range thread { // parents in a cycle: never reached from the top
		if !seen[r.ID] {
			walk([]placed{{ref: r, detached: true}}, 0)
		}
	}
	return out
}

// writeThread writes rendered/<root>.html, reading the items through fetch
// a chunk at a time in reading order.
func (j *exportJob) writeThread(thread []itemRef, fetch func([]uint64) (*itemData, error)) error {
	root := thread[0].Thread
	order := threadOrder(thread)
	return j.addGenerated(fmt.Sprintf("rendered/%d.html", root), func(w *bufio.Writer) error {
		rootData, err := fetch([]uint64{root})
		if err != nil {
			return err
		}
		if err := renderTmpl.ExecuteTemplate(w, "head", j.threadHead(root, thread, rootData)); err != nil {
			return err
		}
		open := 0
		for i := 0; i < len(order); i += exportChunk {
			part := order[i:min(i+exportChunk, len(order))]
			ids := make([]uint64, len(part))
			for k, p := range part {
				ids[k] = p.ref.ID
			}
			data, err := fetch(ids)
			if err != nil {
				return err
			}
			for _, p := range part {
				for ; open > p.depth; open-- {
					w.WriteString(closeItem)
				}
				if err := renderTmpl.ExecuteTemplate(w, "item", j.itemView(data, p, true)); err != nil {
					return err
				}
				open++
			}
		}
		for ; open > 0; open-- {
			w.WriteString(closeItem)
		}
		return renderTmpl.ExecuteTemplate(w, "foot", nil)
	})
}

// closeItem ends what the "item" template opens.
const closeItem = "</div></article>\n"

// pageHead is what a thread page says about itself.
type pageHead struct {
	Title, Entity, Matter string
	ExportID, RootID      uint64
	Items                 int
	Context               *itemView // the post, when it is not exported
	Missing               bool      // the post is not in the catalog
}

func (j *exportJob) threadHead(root uint64, thread []itemRef, data *itemData) pageHead {
	h := pageHead{Entity: j.o.cfg.Entity.Name, Matter: j.e.Matter, ExportID: j.e.ID, RootID: root, Items: len(thread)}
	it, ok := data.items[root]
	switch {
	case !ok:
		h.Missing = true
		h.Title = fmt.Sprintf("Thread %d", root)
	case thread[0].ID != root:
		v := j.itemView(data, placed{ref: itemRef{ID: root}}, false)
		h.Context = &v
		fallthrough
	default:
		h.Title = fmt.Sprintf("%s %s on %s: %s", it.Kind, it.NativeID, it.Platform, excerpt(it.Text, 80))
	}
	return h
}

// itemView is one item as the page shows it.
type itemView struct {
	ID                                   uint64
	Kind, Platform, Account, AccountName string
	NativeID, ParentNativeID             string
	Author, URL, CurrentText             string
	Created, Edited, FirstSeen, LastSeen string
	Deleted, Disposed                    string
	Hidden, Detached, Exported           bool
	Versions                             []versionView
	Media                                []mediaView
}

// versionView is one version of an item.
type versionView struct {
	Seq                     int
	Captured, SHA256, Text  string
	Normalized, Raw, Marker string
	Current                 bool
}

// mediaView is one attachment.
type mediaView struct {
	Path, Type, SHA256, URL string
	Size                    int64
	Image                   bool
}

// itemView prepares an item for the page; exported false shows it as
// context only: its current text, no versions or files.
func (j *exportJob) itemView(data *itemData, p placed, exported bool) itemView {
	it := data.items[p.ref.ID]
	acct := j.accounts[it.AccountID]
	v := itemView{ID: p.ref.ID, Kind: it.Kind, Platform: it.Platform, Account: acct.Handle, AccountName: acct.DisplayName,
		NativeID: it.NativeID, ParentNativeID: it.ParentNativeID, Author: it.AuthorName, URL: it.URL, CurrentText: it.Text,
		Created: stamp(it.PlatformCreatedAt), Edited: stamp(it.PlatformEditedAt), FirstSeen: stamp(&it.FirstSeenAt),
		LastSeen: stamp(&it.LastSeenAt), Deleted: stamp(it.DeletedAt), Disposed: stamp(it.DisposedAt),
		Hidden: it.Hidden, Detached: p.detached, Exported: exported}
	if !exported {
		return v
	}
	vs := data.versions[p.ref.ID]
	for i, ver := range vs {
		v.Versions = append(v.Versions, versionView{Seq: ver.Seq, Captured: stamp(&ver.CapturedAt), SHA256: ver.SHA256,
			Text: ver.Text, Marker: ver.EditMarker, Current: i == len(vs)-1,
			Normalized: "../" + normalizedPath(ver), Raw: relTo(j.rawPath(ver.RawKey))})
	}
	for _, m := range data.media[p.ref.ID] {
		v.Media = append(v.Media, mediaView{Path: relTo(j.mediaPath(m)), Type: m.ContentType, SHA256: m.SHA256, URL: m.URL,
			Size: m.Size, Image: strings.HasPrefix(m.ContentType, "image/")})
	}
	return v
}

// relTo makes a payload path relative to rendered/; "" stays "".
func relTo(p string) string {
	if p == "" {
		return ""
	}
	return "../" + p
}

// stamp formats a time for people and machines alike: RFC 3339 in UTC.
func stamp(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// excerpt shortens s to n characters on one line.
func excerpt(s string, n int) string {
	s = oneLine(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// writeIndex writes rendered/index.html: one row per thread.
func (j *exportJob) writeIndex(ctx context.Context) error {
	return j.addGenerated("rendered/index.html", func(w *bufio.Writer) error {
		head := pageHead{Title: "Threads", Entity: j.o.cfg.Entity.Name, Matter: j.e.Matter, ExportID: j.e.ID, Items: len(j.refs)}
		if err := renderTmpl.ExecuteTemplate(w, "index-head", head); err != nil {
			return err
		}
		var rows []indexRow
		flush := func() error {
			if err := j.fillIndexRows(ctx, rows); err != nil {
				return err
			}
			for _, r := range rows {
				if err := renderTmpl.ExecuteTemplate(w, "index-row", r); err != nil {
					return err
				}
			}
			rows = rows[:0]
			return nil
		}
		for i := 0; i < len(j.refs); {
			end := j.threadEnd(i)
			rows = append(rows, indexRow{Root: j.refs[i].Thread, Items: end - i, Exported: j.refs[i].ID == j.refs[i].Thread})
			if len(rows) == exportChunk {
				if err := flush(); err != nil {
					return err
				}
			}
			i = end
		}
		if err := flush(); err != nil {
			return err
		}
		return renderTmpl.ExecuteTemplate(w, "index-foot", nil)
	})
}

// indexRow is one thread in the index.
type indexRow struct {
	Root                                         uint64
	Items                                        int
	Exported, Deleted                            bool
	Page, Kind, Platform, Account, Created, Text string
}

// fillIndexRows reads the threads' posts for their rows.
func (j *exportJob) fillIndexRows(ctx context.Context, rows []indexRow) error {
	ids := make([]uint64, len(rows))
	for i, r := range rows {
		ids[i] = r.Root
	}
	items, err := j.o.cat.ItemsByIDs(ctx, ids)
	if err != nil {
		return fmt.Errorf("records: export: items: %w", err)
	}
	for i := range rows {
		r := &rows[i]
		it := items[r.Root]
		r.Page = fmt.Sprintf("%d.html", r.Root)
		r.Kind, r.Platform, r.Account = it.Kind, it.Platform, j.accounts[it.AccountID].Handle
		r.Created, r.Text, r.Deleted = stamp(it.PlatformCreatedAt), excerpt(it.Text, 200), it.DeletedAt != nil
	}
	return nil
}

// renderTmpl holds the page fragments; see the package comment above.
var renderTmpl = template.Must(template.New("render").Parse(renderTemplates))
