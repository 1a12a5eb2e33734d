package screening

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/civicarchive/civicarchive/configs"
)

// FuzzScreen screens arbitrary text: Screen never panics, every Match is
// valid UTF-8, at most MaxMatch bytes and a substring of the input, hits
// are sorted with one per rule; no regexp prefilter skips a regexp that
// matches, and a regexp tried only where numbers start finds what a
// search of the whole text finds.
func FuzzScreen(f *testing.F) {
	for _, seed := range []string{
		"", "damn", "d*mn sh1t $hit shiiit f**k D A M N s.h.i.t", "Call (801) 555-1234",
		"4111 1111 1111 1111", "John Smith is a thief", "bath bomb and a bomb", "\xff\xfe\xfd",
		"d\xffamn", "s h i t \xff t", "ＳＨＩＴ", "sh\u200bit", "!!!!", "****", "a.b.c.d.e.f.g.h",
		"a b c d e f g h i j k l m n o p q r s t u v w x y z a b c", strings.Repeat("1", 40),
		"I will kill the mayor at 4567 North 200 East, DOB 1/2/1990",
		"a1234 W 1800 N, _123 Main St, x4111111111111111 4111111111111111", "12 34 4567 North 200 East",
	} {
		f.Add(seed)
	}
	e := mustDefault(f)
	f.Fuzz(func(t *testing.T, text string) {
		hits := e.Screen(text)
		seen := map[string]bool{}
		for i, h := range hits {
			if !utf8.ValidString(h.Match) || len(h.Match) > MaxMatch || !strings.Contains(text, h.Match) {
				t.Fatalf("hit %+v: Match must be valid UTF-8, at most %d bytes, in the input", h, MaxMatch)
			}
			if CategoryName(h.Category) == "" || !strings.HasPrefix(h.Rule, h.Category+".") || seen[h.Rule] {
				t.Fatalf("hit %+v: bad category or repeated rule", h)
			}
			seen[h.Rule] = true
			if i > 0 && (hits[i-1].Category > h.Category || hits[i-1].Category == h.Category && hits[i-1].Rule >= h.Rule) {
				t.Fatalf("hits not sorted: %+v", hits)
			}
		}
		s := new(scanner)
		s.reset(text, len(e.rules))
		s.tokenize()
		for _, ri := range e.regexps {
			r := &e.rules[ri]
			if r.pre.skip(e, s) && r.re.MatchString(s.text) {
				t.Fatalf("rule %s matches but its prefilter skips it", r.ID)
			}
			if r.anchored != nil {
				if got, want := firstAtNumbers(s, r), r.re.FindStringIndex(s.text); !slices.Equal(got, want) {
					t.Fatalf("rule %s: tried at numbers %v, searched %v", r.ID, got, want)
				}
			}
		}
	})
}

// FuzzLoad loads arbitrary rules files: Load returns an engine or an
// error, never panics, and an engine screens.
func FuzzLoad(f *testing.F) {
	f.Add(string(configs.DefaultScreening))
	f.Add("version: x\nrules:\n  - id: A.x\n    category: A\n    words: [d4mn, '1!1']\n    except: [x y]\n")
	f.Add("version: x\nrules:\n  - id: L.x\n    category: L\n    regexp: '(?i)\\b\\d{3}(?:a|b)+'\n    check: luhn\n")
	f.Fuzz(func(t *testing.T, rules string) {
		e, err := Load([]byte(rules))
		if err != nil {
			return
		}
		e.Screen("damn it, call 801-555-1234 about 4111 1111 1111 1111")
	})
}

// firstAtNumbers is the first match of r's anchored regexp where a number
// starts, as matchAtNumbers finds it.
func firstAtNumbers(s *scanner, r *rule) []int {
	for _, k := range s.numberStarts() {
		if loc := r.anchored.FindStringIndex(s.text[k:]); loc != nil {
			return []int{int(k) + loc[0], int(k) + loc[1]}
		}
	}
	return nil
}
