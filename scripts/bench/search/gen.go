package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/storage"
)

// The generator makes a city's archive from a seed, one item at a time:
// item id i (1-based, also its change seq) depends only on the seed and i,
// so the feed generates each batch when the indexer asks for it and keeps
// nothing but the batch in memory.
//
// Items come in threads of blockSize ids: the first is a post, the rest
// are comments on it (about a third replies to an earlier comment); one
// block in five holds a second post half way through. Every thread belongs
// to one account; creation times rise with the id across seven years.

const blockSize = 10

var (
	platforms   = []string{"facebook", "instagram", "x", "mastodon", "youtube", "bluesky"}
	departments = []string{"Mayor's Office", "City Council", "Public Works", "Parks and Recreation", "Police", "Fire", "Library", "Water Utility"}
	genStart    = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	genSpan     = 7 * 365 * 24 * time.Hour
)

type gen struct {
	seed     uint64
	n        int
	accounts []storage.Account
	vocab    []string // filler words, most frequent first (Zipf)
	streets  []string
	surnames []string
}

func newGen(seed uint64, n int) *gen {
	g := &gen{seed: seed, n: n}
	id := uint64(1)
	for _, d := range departments {
		for _, p := range platforms {
			handle := strings.ToLower(strings.NewReplacer(" ", "", "'", "").Replace(d))
			g.accounts = append(g.accounts, storage.Account{ID: id, Platform: p, Handle: "clinton" + handle,
				NativeID: strconv.FormatUint(1000+id, 10), Department: d, DisplayName: "Clinton City " + d})
			id++
		}
	}
	r := rand.New(rand.NewPCG(seed, 0xC1))
	seen := map[string]bool{}
	word := func(minSyl, maxSyl int) string {
		for {
			var b strings.Builder
			for n := minSyl + r.IntN(maxSyl-minSyl+1); n > 0; n-- {
				b.WriteString(syllables[r.IntN(len(syllables))])
			}
			w := b.String()
			if !seen[w] && len(w) > 3 {
				seen[w] = true
				return w
			}
		}
	}
	g.vocab = append(g.vocab, headWords...)
	for _, w := range headWords {
		seen[w] = true
	}
	for len(g.vocab) < 20000 { // the long tail: names, slang, typos, hashtags
		g.vocab = append(g.vocab, word(2, 4))
	}
	for range 3000 {
		w := word(2, 3)
		g.streets = append(g.streets, strings.ToUpper(w[:1])+w[1:]+" "+streetSuffixes[r.IntN(len(streetSuffixes))])
	}
	for range 20000 {
		w := word(2, 4)
		g.surnames = append(g.surnames, strings.ToUpper(w[:1])+w[1:])
	}
	return g
}

// rareWord is a filler word deep in the Zipf tail: a few dozen items per
// million have it (about 70).
func (g *gen) rareWord() string { return g.vocab[5000] }

// genItem is one generated item with its versions and policy flags.
type genItem struct {
	item     storage.Item
	versions []storage.Version
	flags    []string
}

type blockLayout struct {
	account  storage.Account
	postTime time.Time
	kinds    [blockSize]string
	parents  [blockSize]int // position of the parent in the block, -1 for a post
	roots    [blockSize]int
}

func (g *gen) layout(block uint64) blockLayout {
	r := rand.New(rand.NewPCG(g.seed^0xB10C, block))
	nBlocks := uint64(g.n+blockSize-1) / blockSize
	var l blockLayout
	// Busier accounts: the square skews threads toward the first accounts.
	a := r.Float64()
	l.account = g.accounts[int(a*a*float64(len(g.accounts)))]
	frac := (float64(block) + r.Float64()) / float64(max(nBlocks, 1))
	l.postTime = genStart.Add(time.Duration(frac * float64(genSpan))).Truncate(time.Second)
	second := -1
	if r.IntN(5) == 0 {
		second = blockSize / 2
	}
	root := 0
	for p := range blockSize {
		switch {
		case p == 0 || p == second:
			l.kinds[p], l.parents[p], root = "post", -1, p
		case p > root+1 && r.IntN(3) == 0:
			l.kinds[p], l.parents[p] = "reply", root+1+r.IntN(p-root-1)
		default:
			l.kinds[p], l.parents[p] = "comment", root
		}
		l.roots[p] = root
	}
	return l
}

// item generates item id (1-based). l is the layout of its block.
func (g *gen) item(id uint64, l *blockLayout) genItem {
	r := rand.New(rand.NewPCG(g.seed, id))
	block := (id - 1) / blockSize
	pos := int((id - 1) % blockSize)
	kind := l.kinds[pos]
	it := storage.Item{ID: id, ChangeSeq: id, AccountID: l.account.ID, Platform: l.account.Platform,
		NativeID: fmt.Sprintf("%d_%d", l.account.ID, id), Kind: kind}
	if l.parents[pos] >= 0 {
		parent := block*blockSize + uint64(l.parents[pos]) + 1
		root := block*blockSize + uint64(l.roots[pos]) + 1
		it.ParentID, it.RootID = &parent, &root
		it.ParentNativeID = fmt.Sprintf("%d_%d", l.account.ID, parent)
	}
	created := l.postTime
	if kind == "post" {
		if pos > 0 {
			created = created.Add(time.Duration(r.IntN(72)) * time.Hour)
		}
		it.AuthorID, it.AuthorName = l.account.NativeID, l.account.DisplayName
	} else {
		created = created.Add(time.Duration(r.ExpFloat64() * 6 * float64(time.Hour))).Truncate(time.Second)
		it.AuthorID = strconv.Itoa(100000 + r.IntN(400000))
		it.AuthorName = firstNames[r.IntN(len(firstNames))] + " " + g.surnames[r.IntN(len(g.surnames))]
	}
	it.PlatformCreatedAt = &created
	it.FirstSeenAt = created.Add(time.Duration(10+r.IntN(50)) * time.Minute)

	spanish := r.IntN(100) < 12
	base := g.text(r, kind, spanish)

	// Versions: 10% edited (2 versions), 2% more (3–4).
	nv := 1
	switch x := r.IntN(100); {
	case x < 2:
		nv = 3 + r.IntN(2)
	case x < 12:
		nv = 2
	}
	captured := it.FirstSeenAt
	out := genItem{item: it}
	for v := 1; v <= nv; v++ {
		text := base
		switch {
		case nv == 1:
		case v == 1:
			text = base + " " + g.fill(r, pick(r, tentative), false)
		case v < nv:
			text = base + " Time is now confirmed for " + clock(r) + "."
		default:
			text = base + " " + g.fill(r, pick(r, updates), false)
		}
		out.versions = append(out.versions, storage.Version{ItemID: id, Seq: v, Text: text, CapturedAt: captured})
		captured = captured.Add(time.Duration(1+r.IntN(48)) * time.Hour)
	}
	last := out.versions[nv-1]
	out.item.Text = last.Text
	out.item.VersionCount = nv
	out.item.LastSeenAt = last.CapturedAt.Add(time.Duration(r.IntN(30*24)) * time.Hour)
	if nv > 1 {
		edited := last.CapturedAt.Add(-time.Duration(r.IntN(60)) * time.Minute)
		out.item.PlatformEditedAt = &edited
	}
	// Deleted: 4% of comments and replies, 0.5% of posts; hidden: 1% of comments.
	del := 5
	if kind != "post" {
		del = 40
		out.item.Hidden = r.IntN(100) == 0
	}
	if r.IntN(1000) < del {
		d := out.item.LastSeenAt.Add(time.Duration(1+r.IntN(72)) * time.Hour)
		out.item.DeletedAt = &d
	}
	if r.IntN(50) == 0 { // 2% carry a policy screening flag
		out.flags = []string{string(rune('A' + r.IntN(12)))}
	}
	return out
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

func clock(r *rand.Rand) string {
	h := 1 + r.IntN(12)
	m := []string{"00", "15", "30", "45"}[r.IntN(4)]
	return fmt.Sprintf("%d:%s %s", h, m, []string{"a.m.", "p.m."}[r.IntN(2)])
}

// text is an item's original text: a template of its kind and language,
// its slots filled, then filler sentences drawn from the Zipf vocabulary,
// and sometimes emoji.
func (g *gen) text(r *rand.Rand, kind string, spanish bool) string {
	var b strings.Builder
	var tpl []string
	fillers := 0
	switch {
	case kind == "post" && spanish:
		tpl, fillers = postsES, r.IntN(2)
	case kind == "post":
		tpl, fillers = postsEN, r.IntN(3)
	case spanish:
		tpl, fillers = commentsES, r.IntN(2)
	default:
		tpl, fillers = commentsEN, r.IntN(2)
	}
	b.WriteString(g.fill(r, pick(r, tpl), spanish))
	for range fillers {
		b.WriteByte(' ')
		b.WriteString(g.filler(r, 4+r.IntN(12)))
	}
	if spanish && kind == "post" && r.IntN(5) < 2 {
		b.WriteString(" Más información en el sitio web de la ciudad.")
	}
	emojiPct := 8
	if kind == "post" {
		emojiPct = 12
	}
	if r.IntN(100) < emojiPct {
		for n := 1 + r.IntN(2); n > 0; n-- {
			b.WriteByte(' ')
			b.WriteString(pick(r, emoji))
		}
	}
	return b.String()
}

// filler is a sentence of n words from the vocabulary, Zipf-distributed.
func (g *gen) filler(r *rand.Rand, n int) string {
	z := rand.NewZipf(r, 1.1, 2, uint64(len(g.vocab)-1))
	var b strings.Builder
	for i := range n {
		w := g.vocab[z.Uint64()]
		if i == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
			if r.IntN(200) == 0 {
				b.WriteByte('#')
			}
		}
		b.WriteString(w)
	}
	b.WriteByte('.')
	return b.String()
}

// fill replaces the {slots} of a template.
func (g *gen) fill(r *rand.Rand, tpl string, spanish bool) string {
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
			if r.IntN(4) == 0 {
				b.WriteString(pick(r, commonStreets))
			} else {
				b.WriteString(g.streets[r.IntN(len(g.streets))])
			}
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
			b.WriteString(fmt.Sprintf("(801) 555-%04d", r.IntN(10000)))
		case "first":
			b.WriteString(pick(r, firstNames))
		case "person":
			b.WriteString(pick(r, firstNames) + " " + g.surnames[r.IntN(len(g.surnames))])
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

// memFeed is search.Feed (with ItemCounter and FlagFeed) over the
// generator. ItemsChangedSince generates the batch, keeps its versions and
// flags for the VersionsOf and FlagsOf calls that follow, and appends each
// item to the JSON-lines dump the first time it is generated.
type memFeed struct {
	g       *gen
	dump    *bufio.Writer
	enc     *json.Encoder
	dumped  uint64
	vers    map[uint64][]storage.Version
	flags   map[uint64][]string
	genTime time.Duration // spent generating and writing the dump
	nVers   int
}

func newMemFeed(g *gen, dump *os.File) *memFeed {
	f := &memFeed{g: g}
	if dump != nil {
		f.dump = bufio.NewWriterSize(dump, 1<<20)
		f.enc = json.NewEncoder(f.dump)
		f.enc.SetEscapeHTML(false)
	}
	return f
}

// dumpLine is one item in the dump: the texts the index holds, and the
// fields a reader would filter on.
type dumpLine struct {
	ID        uint64   `json:"id"`
	Account   uint64   `json:"account"`
	Platform  string   `json:"platform"`
	Kind      string   `json:"kind"`
	Author    string   `json:"author"`
	CreatedAt string   `json:"created_at"`
	Deleted   bool     `json:"deleted"`
	Text      string   `json:"text"`
	Versions  []string `json:"versions"`
}

func (f *memFeed) ItemsChangedSince(_ context.Context, seq uint64, limit int) ([]storage.Item, error) {
	start := time.Now()
	defer func() { f.genTime += time.Since(start) }()
	to := min(seq+uint64(limit), uint64(f.g.n))
	if seq >= to {
		return nil, nil
	}
	items := make([]storage.Item, 0, to-seq)
	f.vers = make(map[uint64][]storage.Version, to-seq)
	f.flags = make(map[uint64][]string)
	var l blockLayout
	lb := ^uint64(0)
	for id := seq + 1; id <= to; id++ {
		if b := (id - 1) / blockSize; b != lb {
			l, lb = f.g.layout(b), b
		}
		gi := f.g.item(id, &l)
		items = append(items, gi.item)
		f.vers[id] = gi.versions
		if gi.flags != nil {
			f.flags[id] = gi.flags
		}
		if id > f.dumped {
			f.dumped = id
			f.nVers += len(gi.versions)
			if f.enc != nil {
				dl := dumpLine{ID: id, Account: gi.item.AccountID, Platform: gi.item.Platform, Kind: gi.item.Kind,
					Author: gi.item.AuthorName, CreatedAt: gi.item.PlatformCreatedAt.Format(time.RFC3339),
					Deleted: gi.item.DeletedAt != nil, Text: gi.item.Text}
				for _, v := range gi.versions {
					dl.Versions = append(dl.Versions, v.Text)
				}
				if err := f.enc.Encode(dl); err != nil {
					return nil, err
				}
			}
		}
	}
	return items, nil
}

func (f *memFeed) VersionsOf(_ context.Context, ids []uint64) (map[uint64][]storage.Version, error) {
	out := make(map[uint64][]storage.Version, len(ids))
	for _, id := range ids {
		vs, ok := f.vers[id]
		if !ok {
			return nil, fmt.Errorf("versions of item %d asked outside the current batch", id)
		}
		out[id] = vs
	}
	return out, nil
}

func (f *memFeed) FlagsOf(_ context.Context, ids []uint64) (map[uint64][]string, error) {
	out := make(map[uint64][]string)
	for _, id := range ids {
		if fl, ok := f.flags[id]; ok {
			out[id] = fl
		}
	}
	return out, nil
}

func (f *memFeed) AccountsByID(context.Context) (map[uint64]storage.Account, error) {
	out := make(map[uint64]storage.Account, len(f.g.accounts))
	for _, a := range f.g.accounts {
		out[a.ID] = a
	}
	return out, nil
}

func (f *memFeed) CountItems(context.Context) (int, error) { return f.g.n, nil }

func (f *memFeed) flush() error {
	if f.dump == nil {
		return nil
	}
	return f.dump.Flush()
}
