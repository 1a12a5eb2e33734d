package screening

import (
	"bytes"
	"sync"
	"unicode/utf8"
)

// scanner is the scratch space of one Screen call, pooled so screening a
// comment allocates almost nothing.
type scanner struct {
	text     string // the input with invalid UTF-8 bytes as spaces (same offsets)
	clean    []byte // backing for text when the input is not valid UTF-8
	buf      []byte // normal forms of the tokens
	toks     []token
	extra    []token
	runes    []crune
	join     []crune
	tmp      []byte   // squeezed keys
	vary     []byte   // leetspeak variants
	lower    []byte   // text in lower case, for regexp prefilters
	found    []uint64 // the prefilter strings in lower, a bit each
	scanned  bool     // lower and found are filled in
	starts   []int32  // where numbers start (numberStarts)
	numbered bool     // starts is filled in
	digits   int
	best     []span
}

// span is a rule's first match, start -1 for none.
type span struct{ start, end int32 }

var scanners = sync.Pool{New: func() any { return new(scanner) }}

func (s *scanner) reset(text string, rules int) {
	s.text = text
	if !utf8.ValidString(text) {
		s.clean = append(s.clean[:0], text...)
		for i := 0; i < len(s.clean); {
			r, size := utf8.DecodeRune(s.clean[i:])
			if r == utf8.RuneError && size == 1 {
				s.clean[i] = ' '
			}
			i += size
		}
		s.text = string(s.clean)
	}
	s.buf, s.toks, s.extra, s.lower = s.buf[:0], s.toks[:0], s.extra[:0], s.lower[:0]
	s.digits, s.scanned, s.numbered = 0, false, false
	s.best = s.best[:0]
	for range rules {
		s.best = append(s.best, span{-1, -1})
	}
}

// put returns s to the pool unless one odd input made it large.
func (s *scanner) put() {
	if cap(s.buf) > 1<<16 || cap(s.toks) > 1<<12 || cap(s.clean) > 1<<16 {
		return
	}
	s.text = ""
	scanners.Put(s)
}

func (s *scanner) norm(t token) []byte { return s.buf[t.n0:t.n1] }

// record keeps the earliest match of rule r.
func (s *scanner) record(r int, start, end int32) {
	if b := s.best[r]; b.start < 0 || start < b.start {
		s.best[r] = span{start, end}
	}
}

// seen reports whether rule r already matched at or before start, so a
// later candidate need not be checked.
func (s *scanner) seen(r int, start int32) bool {
	b := s.best[r].start
	return b >= 0 && b <= start
}

// entry is one word or phrase of a rule, in normal form; words[0] is
// looked up, the rest must follow in the stream.
type entry struct {
	rule  int
	words []string
	word  bool // from a words list: its plural matches too
}

// lexicon indexes every word and phrase of every rule by the squeezed
// normal form of its first word (runs of a letter as one), and by length
// for masked tokens.
type lexicon struct {
	entries []entry
	byKey   map[string][]int32
	byLen   map[int][]int32
}

func (l *lexicon) add(e entry) {
	i := int32(len(l.entries))
	l.entries = append(l.entries, e)
	k := string(squeeze(nil, []byte(e.words[0])))
	l.byKey[k] = append(l.byKey[k], i)
	l.byLen[len(e.words[0])] = append(l.byLen[len(e.words[0])], i)
}

// squeeze appends b with each run of a repeated byte written once.
func squeeze(dst, b []byte) []byte {
	for i, c := range b {
		if i == 0 || c != b[i-1] {
			dst = append(dst, c)
		}
	}
	return dst
}

// runsMatch reports whether token t is word w, allowing letters stretched
// to three or more (shiiit, daaamn) but not doubled ("as" is not "ass",
// "good" is not "god"): both must have the same letters in the same runs,
// and each run of t is as long as w's or at least three long.
func runsMatch(t []byte, w string) bool {
	i, j := 0, 0
	for i < len(t) && j < len(w) {
		c := t[i]
		if c != w[j] {
			return false
		}
		ti, tj := i, j
		for i < len(t) && t[i] == c {
			i++
		}
		for j < len(w) && w[j] == c {
			j++
		}
		if tr, wr := i-ti, j-tj; tr != wr && (tr < 3 || tr < wr) {
			return false
		}
	}
	return i == len(t) && j == len(w)
}

// maskMatch reports whether a masked token fits w letter for letter: '*'
// is any letter and '!' is i or l.
func maskMatch(t []byte, w string) bool {
	if len(t) != len(w) {
		return false
	}
	for i, c := range t {
		switch d := w[i]; c {
		case maskByte:
			if !(d >= 'a' && d <= 'z' || d >= utf8.RuneSelf) {
				return false
			}
		case ambByte:
			if d != 'i' && d != 'l' {
				return false
			}
		default:
			if c != d {
				return false
			}
		}
	}
	return true
}

// variants calls f with each reading of a token's ambiguous characters as
// i or l (all combinations up to four of them, else all-i and all-l),
// until f returns true.
func (s *scanner) variants(t []byte, f func(v []byte) bool) bool {
	n := bytes.Count(t, []byte{ambByte})
	combos := 1 << n
	if n > 4 {
		combos = 2
	}
	for m := range combos {
		s.vary = append(s.vary[:0], t...)
		k := 0
		for i, c := range s.vary {
			if c != ambByte {
				continue
			}
			l := m>>k&1 == 1
			if n > 4 {
				l = m == 1
			}
			s.vary[i] = 'i'
			if l {
				s.vary[i] = 'l'
			}
			k++
		}
		if f(s.vary) {
			return true
		}
	}
	return false
}

// wordMatch reports whether token t is the word w.
func (s *scanner) wordMatch(t token, w string) bool {
	n := s.norm(t)
	switch {
	case t.masks > 0:
		return maskMatch(n, w)
	case t.amb > 0:
		return s.variants(n, func(v []byte) bool { return runsMatch(v, w) })
	default:
		return runsMatch(n, w)
	}
}

// matchWords finds the word and phrase rules' first matches: every stream
// token starts phrases, and joined chunks and spaced letters are offered
// as single words.
func (e *Engine) matchWords(s *scanner) {
	for i := range s.toks {
		e.lookup(s, s.toks[i], i)
	}
	for _, t := range s.extra {
		e.lookup(s, t, -1)
	}
	e.spacedLetters(s)
}

// lookup tries the entries that could start at token t: stream position
// i, or -1 for a candidate outside the stream (single words only). A
// plural (dumbasses, bombs) also matches an entry of a words list.
func (e *Engine) lookup(s *scanner, t token, i int) {
	n := s.norm(t)
	e.lookupForm(s, t, i, n, false)
	if t.masks > 0 {
		return
	}
	s1, s2 := singulars(n)
	if s1 != nil {
		e.lookupForm(s, t, i, s1, true)
	}
	if s2 != nil {
		e.lookupForm(s, t, i, s2, true)
	}
}

// singulars returns the forms of n that it could be the English plural
// of (nil for none): bombs → bomb, dumbasses → dumbass, but not assess →
// asses (a singular does not end in s unless the plural adds -es).
func singulars(n []byte) (s1, s2 []byte) {
	l := len(n)
	if l < 4 || n[l-1] != 's' {
		return nil, nil
	}
	if n[l-2] != 's' {
		s1 = n[:l-1]
	}
	if l >= 5 && n[l-2] == 'e' {
		if c := n[l-3]; c == 's' || c == 'x' || c == 'z' || c == 'h' && (n[l-4] == 'c' || n[l-4] == 's') {
			s2 = n[:l-2]
		}
	}
	return s1, s2
}

// lookupForm tries the entries whose first word is n, the normal form of
// token t or its singular.
func (e *Engine) lookupForm(s *scanner, t token, i int, n []byte, plural bool) {
	switch {
	case t.masks > 0:
		for _, ei := range e.lex.byLen[len(n)] {
			if en := &e.lex.entries[ei]; maskMatch(n, en.words[0]) {
				e.follow(s, en, t, i, plural)
			}
		}
	case t.amb > 0:
		s.variants(n, func(v []byte) bool {
			s.tmp = squeeze(s.tmp[:0], v)
			for _, ei := range e.lex.byKey[string(s.tmp)] {
				if en := &e.lex.entries[ei]; runsMatch(v, en.words[0]) {
					e.follow(s, en, t, i, plural)
				}
			}
			return false
		})
	default:
		s.tmp = squeeze(s.tmp[:0], n)
		for _, ei := range e.lex.byKey[string(s.tmp)] {
			if en := &e.lex.entries[ei]; runsMatch(n, en.words[0]) {
				e.follow(s, en, t, i, plural)
			}
		}
	}
}

// follow checks the rest of a phrase whose first word matched token t (or
// its singular), and records the match unless an exception covers it.
func (e *Engine) follow(s *scanner, en *entry, t token, i int, plural bool) {
	if plural && !en.word || s.seen(en.rule, t.start) {
		return
	}
	end := t.end
	if len(en.words) > 1 {
		if i < 0 || i+len(en.words) > len(s.toks) {
			return
		}
		for k, w := range en.words[1:] {
			if !s.wordMatch(s.toks[i+1+k], w) {
				return
			}
		}
		end = s.toks[i+len(en.words)-1].end
	}
	if e.excepted(s, en.rule, t.start, end) {
		return
	}
	s.record(en.rule, t.start, end)
}

// spacedLetters offers runs of three or more single letters written with
// a space or two between them (D A M N) as words: every stretch of the
// run, so "a s h i t" finds "shit".
func (e *Engine) spacedLetters(s *scanner) {
	const maxRun = 20
	for i := 0; i < len(s.toks); {
		j := i
		for j < len(s.toks) && s.toks[j].letter && j-i < maxRun &&
			(j == i || s.gapIsSpace(s.toks[j-1].end, s.toks[j].start)) {
			j++
		}
		if j-i >= 3 {
			e.letterRun(s, i, j)
		}
		i = max(j, i+1)
	}
}

func (s *scanner) gapIsSpace(from, to int32) bool {
	if to-from > 2 {
		return false
	}
	for k := from; k < to; k++ {
		if s.text[k] != ' ' {
			return false
		}
	}
	return true
}

// letterRun looks up each stretch of at least three of the single-letter
// tokens i..j-1 as a word.
func (e *Engine) letterRun(s *scanner, i, j int) {
	for a := i; a+3 <= j; a++ {
		for b := a + 3; b <= j; b++ {
			s.vary = s.vary[:0]
			for k := a; k < b; k++ {
				s.vary = append(s.vary, s.buf[s.toks[k].n0])
			}
			s.tmp = squeeze(s.tmp[:0], s.vary)
			for _, ei := range e.lex.byKey[string(s.tmp)] {
				en := &e.lex.entries[ei]
				start, end := s.toks[a].start, s.toks[b-1].end
				if len(en.words) == 1 && en.words[0] == string(s.vary) && !s.seen(en.rule, start) &&
					!e.excepted(s, en.rule, start, end) {
					s.record(en.rule, start, end)
				}
			}
		}
	}
}

// excepted reports whether one of rule r's exceptions occurs in the
// stream (or, for a one-word exception, as a joined chunk) overlapping the
// bytes start..end.
func (e *Engine) excepted(s *scanner, r int, start, end int32) bool {
	for _, ex := range e.rules[r].except {
		for i := range s.toks {
			if s.toks[i].start >= end || i+len(ex) > len(s.toks) {
				break
			}
			if s.toks[i+len(ex)-1].end <= start {
				continue
			}
			if s.phraseAt(i, ex) {
				return true
			}
		}
		if len(ex) == 1 {
			for _, t := range s.extra {
				if t.start < end && t.end > start && s.wordOrPlural(t, ex[0]) {
					return true
				}
			}
		}
	}
	return false
}

// phraseAt reports whether the stream from token i reads words, each
// word or its plural (an exception "bomb pop" covers "bomb pops").
func (s *scanner) phraseAt(i int, words []string) bool {
	for k, w := range words {
		if !s.wordOrPlural(s.toks[i+k], w) {
			return false
		}
	}
	return true
}

func (s *scanner) wordOrPlural(t token, w string) bool {
	if s.wordMatch(t, w) {
		return true
	}
	if t.masks > 0 || t.amb > 0 {
		return false
	}
	s1, s2 := singulars(s.norm(t))
	return s1 != nil && runsMatch(s1, w) || s2 != nil && runsMatch(s2, w)
}
