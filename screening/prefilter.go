package screening

import (
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Most comments can be ruled out for a regexp rule without running it: a
// phone number needs ten digits, a defamation pattern needs one of its
// words. At load time each regexp is read for what every match must
// contain; Screen checks that first. The checks only ever skip a regexp
// that cannot match.

// prefilter is what every match of a regexp contains.
type prefilter struct {
	digits int        // at least this many ASCII digits
	sets   [][]string // one string of each set, in lower case
	ids    [][]int32  // the sets as ids of the engine's acMatcher
}

// maxLits bounds the literal sets built while analysing a regexp.
const maxLits = 64

func newPrefilter(re *syntax.Regexp) prefilter {
	p := prefilter{digits: minDigits(re)}
	all := analyse(re).all
	// Likely absent first: most comments are ruled out by the first set.
	slices.SortStableFunc(all, func(a, b []string) int { return strength(b) - strength(a) })
	for _, set := range all {
		if strength(set) >= 3 && !slices.ContainsFunc(p.sets, func(s []string) bool { return subset(s, set) }) {
			p.sets = append(p.sets, set)
		}
	}
	return p
}

// subset reports whether every string of a is in b: then b says nothing a
// does not.
func subset(a, b []string) bool {
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}

// compilePrefilters gives every string of the regexp rules' prefilters an
// id and builds the matcher that finds them all in one pass.
func (e *Engine) compilePrefilters() {
	ids := map[string]int32{}
	var strs []string
	for _, ri := range e.regexps {
		p := &e.rules[ri].pre
		for _, set := range p.sets {
			var is []int32
			for _, s := range set {
				id, ok := ids[s]
				if !ok {
					id = int32(len(strs))
					ids[s] = id
					strs = append(strs, s)
				}
				is = append(is, id)
			}
			p.ids = append(p.ids, is)
		}
	}
	if len(strs) > 0 {
		e.ac = newACMatcher(strs)
	}
}

// skip reports whether the regexp surely cannot match s.text.
func (p *prefilter) skip(e *Engine, s *scanner) bool {
	if s.digits < p.digits {
		return true
	}
	if len(p.ids) == 0 {
		return false
	}
	if !s.scanned {
		s.scanned = true
		s.lower = lowerASCII(s.lower[:0], s.text)
		s.found = slices.Grow(s.found[:0], e.ac.strings/64+1)[:e.ac.strings/64+1]
		e.ac.scan(s.lower, s.found)
	}
	for _, set := range p.ids {
		found := false
		for _, id := range set {
			if s.found[id/64]&(1<<(id%64)) != 0 {
				found = true
				break
			}
		}
		if !found {
			return true
		}
	}
	return false
}

// foldsToASCII maps the characters outside ASCII that (?i) matches to an
// ASCII letter (the Kelvin sign K, the long s ſ) to that letter.
var foldsToASCII = func() map[rune]byte {
	m := map[rune]byte{}
	for c := 'a'; c <= 'z'; c++ {
		for r := unicode.SimpleFold(c); r != c; r = unicode.SimpleFold(r) {
			if r >= utf8.RuneSelf {
				m[r] = byte(c)
			}
		}
	}
	return m
}()

// lowerASCII appends text with ASCII letters, and the characters that
// fold to them, in lower case; the rest is copied.
func lowerASCII(dst []byte, text string) []byte {
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if l, ok := foldsToASCII[r]; ok {
			dst = append(dst, l)
		} else {
			dst = append(dst, text[i:i+size]...)
		}
		i += size
	}
	return dst
}

// minDigits is how many ASCII digits any match of re contains.
func minDigits(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			if '0' <= r && r <= '9' {
				n++
			}
		}
		return n
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return 0
		}
		for i := 0; i < len(re.Rune); i += 2 {
			if re.Rune[i] < '0' || re.Rune[i+1] > '9' {
				return 0
			}
		}
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minDigits(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * minDigits(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, sub := range re.Sub {
			n += minDigits(sub)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, sub := range re.Sub {
			if d := minDigits(sub); n < 0 || d < n {
				n = d
			}
		}
		return max(n, 0)
	}
	return 0
}
