// Package screening screens captured posts and comments for the kinds of
// content that section 3.4.3 of the social media use policy says may be
// removed, categories A to L, so the coordinator reviews what a rule
// flagged instead of reading everything.
//
// Rules are data (configs/screening/default.yaml, or the file named by
// policy.screening_file): word lists, phrases and regular expressions, each
// under one category. Words and phrases are matched against the text
// normalised once into a token stream (lower case, accents and look-alike
// letters folded, leetspeak read as letters, masked and stretched letters
// allowed: D*MN, sh1t, $hit, shiiit, f**k, s.h.i.t and D A M N are all
// "damn" or "shit"), always as whole words, so "class" never matches
// "ass". Regular expressions run on the text as written, for numbers and
// patterns: phone and social security numbers, card numbers that pass the
// Luhn check, addresses, "<Name> is a thief".
//
// Screening flags; it does not decide. Every hit is a prompt for a person
// to read the post.
package screening

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/civicarchive/civicarchive/configs"
)

// Hit is one rule that fired on a text.
type Hit struct {
	Category string // "A".."L"
	Rule     string // the rule's id, e.g. "A.profanity": stable, shown to the coordinator
	Match    string // the text that fired, as written in the input (at most MaxMatch bytes, valid UTF-8)
}

// MaxMatch is the most bytes of the input a Hit.Match holds.
const MaxMatch = 80

// Rule describes one rule of a loaded rule set.
type Rule struct {
	ID       string // e.g. "L.phone"
	Category string // "A".."L"
	Kind     string // "words", "phrases" (a rule with both is "words") or "regexp"
	Note     string // the rules file's note on why the rule exists, if any
}

// Engine is a compiled rule set. It is safe for concurrent use; Screen
// keeps its scratch space in a pool.
type Engine struct {
	version string // sha256 of the rules file, 12 hex digits
	label   string // the file's version: field
	rules   []rule // sorted by category, then id
	regexps []int  // indexes of the regexp rules
	lex     lexicon
	ac      *acMatcher // the regexp prefilters' strings
}

// Default returns the engine of the embedded rules
// (configs.DefaultScreening), compiled once. The tests load that file, so
// a broken one fails them; at run time it panics.
func Default() *Engine { return defaultEngine() }

var defaultEngine = sync.OnceValue(func() *Engine {
	e, err := Load(configs.DefaultScreening)
	if err != nil {
		panic("screening: embedded default rules: " + err.Error())
	}
	return e
})

// Version identifies the rules file the engine was loaded from: the first
// 12 hex digits of the SHA-256 of its bytes, stored with each flag so it is
// known which rule set fired.
func (e *Engine) Version() string { return e.version }

// Label is the version: the rules file gives itself, e.g. "clinton-2026.1".
// Unlike Version it is written by hand and may stay the same across edits.
func (e *Engine) Label() string { return e.label }

// Rules describes the rules in the order their hits are reported.
func (e *Engine) Rules() []Rule {
	out := make([]Rule, len(e.rules))
	for i, r := range e.rules {
		out[i] = r.Rule
	}
	return out
}

// Screen returns the rules that fire on text, at most one hit per rule
// (its first match in the text), sorted by category and then rule id; nil
// for text that fires none.
func (e *Engine) Screen(text string) []Hit {
	s := scanners.Get().(*scanner)
	defer s.put()
	s.reset(text, len(e.rules))
	s.tokenize()
	e.matchWords(s)
	e.matchRegexps(s)
	var hits []Hit
	for i, b := range s.best {
		if b.start >= 0 {
			r := &e.rules[i]
			hits = append(hits, Hit{Category: r.Category, Rule: r.ID, Match: clipMatch(text[b.start:b.end])})
		}
	}
	return hits
}

// matchRegexps finds each regexp rule's first match that passes its check
// and is not covered by an exception.
func (e *Engine) matchRegexps(s *scanner) {
	for _, ri := range e.regexps {
		r := &e.rules[ri]
		switch {
		case r.pre.skip(e, s):
		case r.anchored != nil:
			e.matchAtNumbers(s, ri)
		case r.check == nil && r.except == nil:
			if loc := r.re.FindStringIndex(s.text); loc != nil {
				s.record(ri, int32(loc[0]), int32(loc[1]))
			}
		default:
			for _, loc := range r.re.FindAllStringIndex(s.text, -1) {
				if e.accept(s, ri, int32(loc[0]), int32(loc[1])) {
					break
				}
			}
		}
	}
}

// matchAtNumbers is matchRegexps for a regexp that starts at a number:
// tried anchored where each number starts, it finds the matches the
// regexp would, in order, without scanning the text between.
func (e *Engine) matchAtNumbers(s *scanner, ri int) {
	r := &e.rules[ri]
	next := int32(0)
	for _, k := range s.numberStarts() {
		if k < next {
			continue
		}
		loc := r.anchored.FindStringIndex(s.text[k:])
		if loc == nil {
			continue
		}
		start, end := k+int32(loc[0]), k+int32(loc[1])
		if e.accept(s, ri, start, end) {
			return
		}
		next = end
	}
}

// accept records a match of regexp rule ri if it passes the rule's check
// and no exception covers it.
func (e *Engine) accept(s *scanner, ri int, start, end int32) bool {
	r := &e.rules[ri]
	if r.check != nil && !r.check(s.text[start:end]) || e.excepted(s, ri, start, end) {
		return false
	}
	s.record(ri, start, end)
	return true
}

// clipMatch makes a match fit Hit.Match: cut before any invalid UTF-8 and
// to MaxMatch bytes on a character boundary, without surrounding space.
// The result is still a substring of the input.
func clipMatch(m string) string {
	for i := 0; i < len(m); {
		r, size := utf8.DecodeRuneInString(m[i:])
		if r == utf8.RuneError && size == 1 {
			m = m[:i]
			break
		}
		i += size
	}
	if len(m) > MaxMatch {
		n := MaxMatch
		for n > 0 && !utf8.RuneStart(m[n]) {
			n--
		}
		m = m[:n]
	}
	return strings.TrimSpace(m)
}
