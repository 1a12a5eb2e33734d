package screening

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The text is normalised once into a stream of tokens that word and phrase
// rules look up in maps. Each token keeps its byte span in the input (for
// Hit.Match) and its normal form: lower case, accents and look-alike
// letters folded to ASCII, leetspeak read as letters, zero-width characters
// and apostrophes dropped. Two bytes in a normal form are not letters:
//
//	'*' a masking character inside a word (d*mn, f**k): any one letter
//	'!' a 1, ! (or |) inside a word: i or l
//
// Repeated letters stay in the normal form; matching reads runs of letters
// (see runsMatch) instead.
const (
	maskByte = '*'
	ambByte  = '!'
)

// class is what a character does to a token.
type class uint8

const (
	cSep    class = iota // ends a token: space, punctuation, symbols, emoji
	cLetter              // a letter, folded on output
	cDigit               // 0-9: a digit, or leetspeak inside a word with letters
	cLeet                // @ $ !: a letter inside a word with letters, else dropped
	cMask                // * _ # %: a masked letter inside a word
	cJoin                // . - within a chunk: splits it into parts (s.h.i.t, re-elect)
	cSkip                // apostrophes, zero-width characters, combining marks: nothing
)

// classOf sorts one character (already mapped by canon).
func classOf(r rune) class {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	switch r {
	case '\u2019', '\u2018', '\u02bc', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad':
		return cSkip
	case '\u2010', '\u2011':
		return cJoin
	}
	if unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Variation_Selector, r) {
		return cSkip
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return cLetter
	}
	return cSep
}

var asciiClass = func() (t [utf8.RuneSelf]class) {
	for r := 'a'; r <= 'z'; r++ {
		t[r], t[r-'a'+'A'] = cLetter, cLetter
	}
	for r := '0'; r <= '9'; r++ {
		t[r] = cDigit
	}
	for _, r := range "@$!" {
		t[r] = cLeet
	}
	for _, r := range "*_#%" {
		t[r] = cMask
	}
	t['.'], t['-'] = cJoin, cJoin
	t['\''] = cSkip
	return t
}()

// canon maps fullwidth ASCII (ｓｈｉｔ) to ASCII; everything else is itself.
func canon(r rune) rune {
	if r >= 0xff01 && r <= 0xff5e {
		return r - 0xff01 + '!'
	}
	return r
}

// leet reads a digit or symbol inside a word as the letter it stands for;
// 0 means the character stays a digit.
var leet = [utf8.RuneSelf]byte{
	'0': 'o', '1': ambByte, '3': 'e', '4': 'a', '5': 's', '7': 't',
	'@': 'a', '$': 's', '!': ambByte,
}

// special folds letters that have no decomposition to ASCII, and the
// Cyrillic and Greek letters that look like Latin ones (lower case).
var special = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i", 'ħ': "h", 'ŧ': "t",
	'а': "a", 'в': "b", 'е': "e", 'ё': "e", 'і': "i", 'ј': "j", 'к': "k", 'н': "h", 'о': "o", 'р': "p", 'с': "c",
	'т': "t", 'у': "y", 'х': "x", 'ѕ': "s",
	'α': "a", 'ε': "e", 'ι': "i", 'κ': "k", 'ν': "v", 'ο': "o", 'ρ': "p", 'τ': "t", 'υ': "u", 'χ': "x",
}

// appendFolded appends the normal form of a letter: lower case, then its
// compatibility decomposition's ASCII letters (é → e, 𝐬 → s, ﬁ → fi), else
// the lower-case letter itself.
func appendFolded(dst []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, byte(r))
	}
	r = unicode.ToLower(r)
	if s, ok := special[r]; ok {
		return append(dst, s...)
	}
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	if d := norm.NFKD.Properties(b[:n]).Decomposition(); d != nil {
		k := len(dst)
		for _, c := range d {
			if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
				dst = append(dst, c)
			} else if 'A' <= c && c <= 'Z' {
				dst = append(dst, c+'a'-'A')
			}
		}
		if len(dst) > k {
			return dst
		}
	}
	return utf8.AppendRune(dst, r)
}

// token is one word of the stream, or a candidate made of several (a
// joined chunk like s.h.i.t, a run of spaced letters like D A M N).
type token struct {
	start, end int32 // byte span in the input
	n0, n1     int32 // normal form: scanner.buf[n0:n1]
	masks      uint8 // '*' bytes in the normal form (saturating)
	amb        uint8 // '!' bytes in the normal form (saturating)
	letter     bool  // a single ASCII letter standing alone, for spaced words
}

// crune is a character of the chunk being tokenised.
type crune struct {
	r    rune
	c    class
	off  int32 // byte offset in the input
	size int32
}

// tokenize fills s.toks (the stream) and s.extra (joined chunks) from
// s.text, and counts its ASCII digits.
func (s *scanner) tokenize() {
	text := s.text
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if '0' <= r && r <= '9' {
			s.digits++
		}
		cr := canon(r)
		c := classOf(cr)
		if c == cSep {
			i += size
			continue
		}
		s.runes = append(s.runes[:0], crune{cr, c, int32(i), int32(size)})
		i += size
		for i < len(text) {
			r, size = utf8.DecodeRuneInString(text[i:])
			cr = canon(r)
			if c = classOf(cr); c == cSep {
				break
			}
			if '0' <= r && r <= '9' {
				s.digits++
			}
			s.runes = append(s.runes, crune{cr, c, int32(i), int32(size)})
			i += size
		}
		s.chunk(s.runes)
	}
}

// chunk turns a run of non-separator characters into stream tokens: edges
// that are punctuation rather than obfuscation are cut, the rest is split
// at joiners, and a chunk of several parts is also offered joined.
func (s *scanner) chunk(rs []crune) {
	rs = trimChunk(rs)
	if len(rs) == 0 {
		return
	}
	if spelledOut(rs) {
		for i := 1; i < len(rs); i += 2 {
			rs[i].c = cJoin
		}
	}
	first := len(s.toks)
	for len(rs) > 0 {
		j := 0
		for j < len(rs) && rs[j].c != cJoin {
			j++
		}
		s.part(rs[:j])
		for j < len(rs) && rs[j].c == cJoin {
			j++
		}
		rs = rs[j:]
	}
	if n := len(s.toks) - first; n > 1 {
		t0, t1 := s.toks[first], s.toks[len(s.toks)-1]
		tok, ok := s.normalise(s.joined(first), t0.start, t1.end)
		if ok {
			s.extra = append(s.extra, tok)
		}
	} else if n == 1 {
		t := &s.toks[first]
		t.letter = t.n1-t.n0 == 1 && t.masks == 0 && t.amb == 0 && s.buf[t.n0] >= 'a' && s.buf[t.n0] <= 'z'
	}
}

// joined is the characters of the stream tokens from first on, without
// the joiners between them, for normalising the chunk as one word.
func (s *scanner) joined(first int) []crune {
	s.join = s.join[:0]
	for _, r := range s.runes {
		if r.c != cJoin && r.off >= s.toks[first].start && r.off < s.toks[len(s.toks)-1].end {
			s.join = append(s.join, r)
		}
	}
	return s.join
}

// trimChunk cuts leading and trailing characters that are punctuation
// here: joiners and masks at the edges ("*sigh*", "end."), a leading @ (a
// mention), trailing and repeated leading ! ("wow!!"). A single leading !
// before a letter stays: it is leetspeak (!diot).
func trimChunk(rs []crune) []crune {
	for len(rs) > 0 {
		c, r := rs[0].c, rs[0].r
		if c == cJoin || c == cMask || c == cSkip || r == '@' {
			rs = rs[1:]
			continue
		}
		if r == '!' && (len(rs) == 1 || rs[1].r == '!' || rs[1].c != cLetter) {
			for len(rs) > 0 && rs[0].r == '!' {
				rs = rs[1:]
			}
			continue
		}
		break
	}
	for len(rs) > 0 {
		last := rs[len(rs)-1]
		if last.c == cJoin || last.c == cMask || last.c == cSkip || last.r == '!' || last.r == '@' {
			rs = rs[:len(rs)-1]
			continue
		}
		break
	}
	return rs
}

// spelledOut reports whether rs is single characters with a mask or
// joiner between each (F_U_C_K, f*u*c*k): the masks separate letters
// rather than hide them.
func spelledOut(rs []crune) bool {
	if len(rs) < 5 || len(rs)%2 == 0 {
		return false
	}
	for i, r := range rs {
		sep := r.c == cMask || r.c == cJoin
		if sep != (i%2 == 1) || r.c == cSkip {
			return false
		}
	}
	return true
}

// part adds one stream token, if it has anything to match.
func (s *scanner) part(rs []crune) {
	if len(rs) == 0 {
		return
	}
	if t, ok := s.normalise(rs, rs[0].off, rs[len(rs)-1].off+rs[len(rs)-1].size); ok {
		s.toks = append(s.toks, t)
	}
}

// normalise appends the normal form of rs to s.buf. Leetspeak and masks
// count only in a word that has a letter, so numbers stay numbers. A
// masked word needs as many letters as masks, or "**" would match anything.
func (s *scanner) normalise(rs []crune, start, end int32) (token, bool) {
	letters := 0
	for _, r := range rs {
		if r.c == cLetter {
			letters++
		}
	}
	t := token{start: start, end: end, n0: int32(len(s.buf))}
	masks, amb := 0, 0
	for _, r := range rs {
		switch r.c {
		case cLetter:
			s.buf = appendFolded(s.buf, r.r)
		case cDigit, cLeet:
			switch l := leet[r.r]; {
			case letters > 0 && l != 0:
				if l == ambByte {
					amb++
				}
				s.buf = append(s.buf, l)
			case r.c == cDigit:
				s.buf = append(s.buf, byte(r.r))
			}
		case cMask:
			if letters > 0 {
				masks++
				s.buf = append(s.buf, maskByte)
			}
		}
	}
	t.n1 = int32(len(s.buf))
	if t.n1 == t.n0 || masks > letters {
		s.buf = s.buf[:t.n0]
		return t, false
	}
	t.masks, t.amb = uint8(min(masks, 255)), uint8(min(amb, 255))
	return t, true
}
