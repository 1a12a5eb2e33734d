package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// The seeded archive: threads of perThread items (a post, then comments
// on it, about a third of them replies to an earlier comment), spread over
// the seeded accounts (busier accounts first) and over 2019–2025. Item i
// depends only on the seed and i. 12% of texts are Spanish, ~9% carry
// emoji; 10% of items have two versions and 2% three (the earlier ones
// say "tentatively"), 1% of comments are hidden, 2% carry a screening
// flag. Nothing is deleted (RecordItem cannot seed deletions).

const perThread = 10

var (
	departments = []string{"Mayor's Office", "City Council", "Public Works", "Parks and Recreation", "Police", "Fire", "Library", "Water Utility"}
	seedPlats   = []string{"facebook", "mastodon", "instagram"}
	genStart    = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	genSpan     = 7 * 365 * 24 * time.Hour
)

const vocabSize = 2000

// textGen writes civic texts: templates with their slots filled, then
// filler sentences from a small Zipf vocabulary.
type textGen struct{ vocab []string }

func newTextGen(seed uint64) *textGen {
	r := rand.New(rand.NewPCG(seed, 0xC1))
	g := &textGen{vocab: append([]string(nil), headWords...)}
	seen := map[string]bool{}
	for _, w := range headWords {
		seen[w] = true
	}
	for len(g.vocab) < vocabSize {
		var b strings.Builder
		for n := 2 + r.IntN(3); n > 0; n-- {
			b.WriteString(syllables[r.IntN(len(syllables))])
		}
		if w := b.String(); !seen[w] && len(w) > 3 {
			seen[w] = true
			g.vocab = append(g.vocab, w)
		}
	}
	return g
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

func clock(r *rand.Rand) string {
	return fmt.Sprintf("%d:%s %s", 1+r.IntN(12), []string{"00", "15", "30", "45"}[r.IntN(4)], []string{"a.m.", "p.m."}[r.IntN(2)])
}

// text is an original text of the kind: a template, filler, maybe emoji.
func (g *textGen) text(r *rand.Rand, post, spanish bool) string {
	tpl, fillers := commentsEN, r.IntN(2)
	switch {
	case post && spanish:
		tpl, fillers = postsES, r.IntN(2)
	case post:
		tpl, fillers = postsEN, r.IntN(3)
	case spanish:
		tpl = commentsES
	}
	var b strings.Builder
	b.WriteString(g.fill(r, pick(r, tpl), spanish))
	for range fillers {
		b.WriteByte(' ')
		b.WriteString(g.filler(r, 4+r.IntN(12)))
	}
	if r.IntN(100) < 9 {
		b.WriteByte(' ')
		b.WriteString(pick(r, emoji))
	}
	return b.String()
}

func (g *textGen) filler(r *rand.Rand, n int) string {
	z := rand.NewZipf(r, 1.1, 2, uint64(len(g.vocab)-1))
	var b strings.Builder
	for i := range n {
		w := g.vocab[z.Uint64()]
		if i == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	b.WriteByte('.')
	return b.String()
}

func (g *textGen) fill(r *rand.Rand, tpl string, spanish bool) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(tpl, '{')
		if i < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		j := strings.IndexByte(tpl[i:], '}') + i
		b.WriteString(tpl[:i])
		switch tpl[i+1 : j] {
		case "street":
			b.WriteString(pick(r, streets))
		case "time":
			b.WriteString(clock(r))
		case "day":
			if spanish {
				b.WriteString(pick(r, daysES))
			} else {
				b.WriteString(pick(r, daysEN))
			}
		case "num":
			b.WriteString(strconv.Itoa(2 + r.IntN(300)))
		case "park":
			b.WriteString(pick(r, parks))
		case "branch":
			b.WriteString(pick(r, branches))
		case "event":
			b.WriteString(pick(r, events))
		case "fy":
			b.WriteString("FY" + strconv.Itoa(2019+r.IntN(8)))
		case "route":
			b.WriteString(strconv.Itoa(1 + r.IntN(60)))
		case "phone":
			fmt.Fprintf(&b, "(801) 555-%04d", r.IntN(10000))
		case "first":
			b.WriteString(pick(r, firstNames))
		case "holiday":
			b.WriteString(pick(r, holidays))
		case "dept":
			b.WriteString(pick(r, departments))
		default:
			b.WriteString(tpl[i : j+1])
		}
		tpl = tpl[j+1:]
	}
}

// blobData is one blob to upload: its key, SHA-256 and bytes.
type blobData struct {
	key, sum string
	b        []byte
}

func newBlob(b []byte) blobData {
	s := sha256.Sum256(b)
	sum := hex.EncodeToString(s[:])
	return blobData{key: blob.KeyFor(sum), sum: sum, b: b}
}

// seedAccount is a seeded account: its catalog id and platform.
type seedAccount struct {
	id       uint64
	platform string
	handle   string
	name     string
}

// content and normalized copy the archiver's stored JSON of one version
// (archiver/run.go), so the normalised blobs have the real shape and size.
type content struct {
	Kind           string            `json:"kind"`
	ParentNativeID string            `json:"parent_native_id"`
	RootNativeID   string            `json:"root_native_id"`
	AuthorID       string            `json:"author_id"`
	Title          string            `json:"title"`
	Text           string            `json:"text"`
	EditMarker     string            `json:"edit_marker"`
	Hidden         bool              `json:"hidden"`
	Media          []any             `json:"media"`
	Extra          map[string]string `json:"extra"`
}

type normalized struct {
	Schema        string     `json:"schema"`
	Platform      string     `json:"platform"`
	AccountID     uint64     `json:"account_id"`
	NativeID      string     `json:"native_id"`
	ContentSHA256 string     `json:"content_sha256"`
	Content       content    `json:"content"`
	AuthorName    string     `json:"author_name,omitempty"`
	Permalink     string     `json:"permalink,omitempty"`
	CreatedAt     *time.Time `json:"created_at,omitempty"`
	EditedAt      *time.Time `json:"edited_at,omitempty"`
	RawKey        string     `json:"raw_key"`
}

// seedThread generates thread t (items t*perThread ...) of an archive of
// nThreads threads: the items to record and every blob they name (one raw
// page for the thread, Mastodon-shaped statuses; one normalised JSON per
// version).
func (g *textGen) seedThread(seed uint64, t, nThreads int, accts []seedAccount) ([]storage.ItemCapture, []blobData) {
	r := rand.New(rand.NewPCG(seed^0xB10C, uint64(t)))
	a := r.Float64()
	acct := accts[int(a*a*float64(len(accts)))]
	frac := (float64(t) + r.Float64()) / float64(max(nThreads, 1))
	postTime := genStart.Add(time.Duration(frac * float64(genSpan))).Truncate(time.Second)
	post := strconv.Itoa(100_000_000 + t)
	type draft struct {
		in      storage.ItemCapture
		texts   []string
		created time.Time
	}
	drafts := make([]draft, perThread)
	for pos := range perThread {
		i := t*perThread + pos
		ir := rand.New(rand.NewPCG(seed, uint64(i)))
		spanish := ir.IntN(100) < 12
		d := draft{created: postTime}
		in := storage.ItemCapture{AccountID: acct.id, Platform: acct.platform, Actor: "system:bench"}
		if pos == 0 {
			in.NativeID, in.Kind = post, "post"
			in.AuthorID, in.AuthorName = "city-"+acct.handle, acct.name
		} else {
			in.NativeID, in.Kind = strconv.Itoa(200_000_000+i), "comment"
			in.ParentNativeID, in.RootNativeID = post, post
			if pos >= 2 && ir.IntN(3) == 0 {
				in.Kind, in.ParentNativeID = "reply", drafts[1+ir.IntN(pos-1)].in.NativeID
			}
			in.AuthorID = strconv.Itoa(100000 + ir.IntN(400000))
			in.AuthorName = pick(ir, firstNames) + " " + pick(ir, surnames)
			in.Hidden = ir.IntN(100) == 0
			d.created = postTime.Add(time.Duration(ir.ExpFloat64() * 6 * float64(time.Hour))).Truncate(time.Second)
		}
		in.URL = fmt.Sprintf("https://%s.example/%s/%s", acct.platform, acct.handle, in.NativeID)
		base := g.text(ir, pos == 0, spanish)
		nv := 1
		switch x := ir.IntN(100); {
		case x < 2:
			nv = 3
		case x < 12:
			nv = 2
		}
		for v := 1; v <= nv; v++ {
			text := base
			switch {
			case nv == 1:
			case v == 1:
				text = base + " " + g.fill(ir, pick(ir, tentative), false)
			case v < nv:
				text = base + " Time is now confirmed for " + clock(ir) + "."
			default:
				text = base + " " + g.fill(ir, pick(ir, updates), false)
			}
			d.texts = append(d.texts, text)
		}
		if nv > 1 {
			e := d.created.Add(time.Duration(1+ir.IntN(48)) * time.Hour)
			in.EditedAt = &e
		}
		if ir.IntN(50) == 0 {
			cat := string(rune('A' + ir.IntN(12)))
			in.Flags = []storage.FlagCapture{{Category: cat, Rule: cat + ".bench", Match: strings.Fields(base)[0], RulesVersion: "bench"}}
		}
		d.in = in
		drafts[pos] = d
	}
	// The raw page: the thread as the platform's API returned it.
	statuses := make([]map[string]any, 0, perThread)
	for _, d := range drafts {
		statuses = append(statuses, rawStatus(d.in, d.texts[len(d.texts)-1], d.created))
	}
	rawBytes, _ := json.Marshal(map[string]any{"ancestors": []any{}, "descendants": statuses})
	raw := newBlob(rawBytes)
	blobs := []blobData{raw}
	items := make([]storage.ItemCapture, 0, perThread)
	for _, d := range drafts {
		in := d.in
		created := d.created
		in.CreatedAt = &created
		for _, text := range d.texts {
			c := content{Kind: in.Kind, ParentNativeID: in.ParentNativeID, RootNativeID: in.RootNativeID, AuthorID: in.AuthorID,
				Text: text, Hidden: in.Hidden, Media: []any{}, Extra: map[string]string{}}
			cb, _ := json.Marshal(c)
			cs := sha256.Sum256(cb)
			csum := hex.EncodeToString(cs[:])
			nb, _ := json.Marshal(normalized{Schema: "civicarchive.item/v1", Platform: in.Platform, AccountID: in.AccountID,
				NativeID: in.NativeID, ContentSHA256: csum, Content: c, AuthorName: in.AuthorName, Permalink: in.URL,
				CreatedAt: in.CreatedAt, EditedAt: in.EditedAt, RawKey: raw.key})
			nblob := newBlob(nb)
			blobs = append(blobs, nblob)
			in.Versions = append(in.Versions, storage.VersionCapture{SHA256: csum, NormalizedKey: nblob.key, RawKey: raw.key, Text: text})
		}
		items = append(items, in)
	}
	return items, blobs
}

// rawStatus is one item as a Mastodon-like API renders it (the fields of
// docs.joinmastodon.org/entities/Status, the account abbreviated).
func rawStatus(in storage.ItemCapture, text string, created time.Time) map[string]any {
	var reply any
	if in.ParentNativeID != "" {
		reply = in.ParentNativeID
	}
	var edited any
	if in.EditedAt != nil {
		edited = in.EditedAt.Format("2006-01-02T15:04:05.000Z")
	}
	return map[string]any{
		"id": in.NativeID, "created_at": created.Format("2006-01-02T15:04:05.000Z"), "in_reply_to_id": reply,
		"in_reply_to_account_id": nil, "sensitive": false, "spoiler_text": "", "visibility": "public", "language": "en",
		"uri": in.URL, "url": in.URL, "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "edited_at": edited,
		"content": "<p>" + text + "</p>", "reblog": nil, "media_attachments": []any{}, "mentions": []any{}, "tags": []any{},
		"emojis": []any{}, "card": nil, "poll": nil,
		"account": map[string]any{"id": in.AuthorID, "username": strings.ToLower(strings.ReplaceAll(in.AuthorName, " ", "")),
			"acct": strings.ToLower(strings.ReplaceAll(in.AuthorName, " ", "")), "display_name": in.AuthorName, "locked": false,
			"bot": false, "created_at": "2018-04-01T00:00:00.000Z", "note": "",
			"url": "https://social.example/@" + in.AuthorID, "avatar": "https://social.example/avatars/original/missing.png",
			"followers_count": 12, "following_count": 40, "statuses_count": 120, "emojis": []any{}, "fields": []any{}},
	}
}

// world is the fake platform account k of a capture phase: posts posts
// with comments comments each (every third a reply to the comment before).
func (g *textGen) world(seed uint64, handle string, k, posts, comments int) *platformtest.World {
	r := rand.New(rand.NewPCG(seed^0x3017D, uint64(k)))
	w := platformtest.NewWorld(time.Now().Add(-time.Duration(posts*(comments+1)+10)*time.Minute),
		platformtest.Profile{ID: strconv.Itoa(9000 + k), Handle: handle, DisplayName: "Clinton City " + departments[k%len(departments)]})
	for range posts {
		p := w.AddPost("", g.text(r, true, r.IntN(100) < 12))
		var last string
		for j := range comments {
			parent := ""
			if j%3 == 2 {
				parent = last
			}
			last = w.AddComment(p, parent, pick(r, firstNames)+" "+pick(r, surnames), g.text(r, false, r.IntN(100) < 12))
		}
	}
	return w
}
