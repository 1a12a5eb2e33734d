package screening

import (
	"reflect"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

// streamOf is the normal forms of text's stream tokens, and of its joined
// chunks after a "|".
func streamOf(text string) string {
	s := new(scanner)
	s.reset(text, 0)
	s.tokenize()
	var out []string
	for _, t := range s.toks {
		out = append(out, string(s.norm(t)))
	}
	if len(s.extra) > 0 {
		out = append(out, "|")
		for _, t := range s.extra {
			out = append(out, string(s.norm(t)))
		}
	}
	return strings.Join(out, " ")
}

func TestTokenize(t *testing.T) {
	for text, want := range map[string]string{
		"Hello, World!":              "hello world",
		"Crème brûlée":               "creme brulee",
		"Straße":                     "strasse",
		"sh1t $hit @ss a$$":          "sh!t shit ss ass",
		"d*mn f**k *sigh*":           "d*mn f**k sigh",
		"s.h.i.t":                    "s h i t | shit",
		"re-elect":                   "re elect | reelect",
		"don't I'll":                 "dont ill",
		"801-555-1234":               "801 555 1234 | 8015551234",
		"$5 100% 2nd 4th":            "5 100 2nd ath",
		"wow!!! !diot !!!hey":        "wow !diot hey",
		"ＳＨＩＴ 𝐬𝐡𝐢𝐭":                  "shit shit",
		"sh\u200bit":                 "shit",
		"#ClintonCity @mayor":        "clintoncity mayor",
		"end.":                       "end",
		"e\u0301te\u0301":            "ete",
		"":                           "",
		"🎆 — …":                      "",
		"раypal":                     "paypal", // Cyrillic р and а
		"under_score 50%off":         "under*score so*off",
		"**** ***":                   "",
		"f***":                       "f",
		"a**hole":                    "a**hole",
		"U.S.A.":                     "u s a | usa",
		"covid-19":                   "covid 19 | covid!9",
		"x" + strings.Repeat("!", 3): "x",
	} {
		if got := streamOf(text); got != want {
			t.Errorf("stream(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestRunsMatch(t *testing.T) {
	for _, tt := range []struct {
		tok, word string
		want      bool
	}{
		{"shit", "shit", true},
		{"shiiit", "shit", true},
		{"shiit", "shit", false}, // doubled letters are ordinary spelling
		{"as", "ass", false},
		{"asss", "ass", true},
		{"good", "god", false},
		{"gooood", "god", true},
		{"ass", "as", false},
		{"damn", "damnit", false},
		{"", "", true},
	} {
		if got := runsMatch([]byte(tt.tok), tt.word); got != tt.want {
			t.Errorf("runsMatch(%q, %q) = %v, want %v", tt.tok, tt.word, got, tt.want)
		}
	}
	for _, tt := range []struct {
		tok, word string
		want      bool
	}{
		{"f**k", "fuck", true},
		{"d*mn", "damn", true},
		{"d*mn", "darn", false},
		{"sh!t", "shit", true},
		{"*", "a", true},
		{"f**k", "fucks", false},
	} {
		if got := maskMatch([]byte(tt.tok), tt.word); got != tt.want {
			t.Errorf("maskMatch(%q, %q) = %v, want %v", tt.tok, tt.word, got, tt.want)
		}
	}
}

// TestPrefilter checks what is read from regexps: the digits and words a
// match needs. A prefilter may know too little, never too much.
func TestPrefilter(t *testing.T) {
	for _, tt := range []struct {
		re     string
		digits int
		sets   [][]string
	}{
		{`\b\d{3}-\d{2}-\d{4}\b`, 9, nil},
		{`(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b`, 10, nil},
		{`\b(?:\d{4}[- ]?){3}\d{4}\b|\b\d{13,19}\b`, 13, nil},
		{`(?i)\bvote\s+(?:yes|no)\s+on\b`, 0, [][]string{{"vote"}}},
		{`\b(?i:vote\s+for|re-?elect|elect)\s+[A-Z]`, 0, [][]string{{"elect", "re-elect", "reelect", "vote"}}},
		{`(?i)(thief|thug|liar)`, 0, [][]string{{"liar", "thief", "thug"}}},
		{`(?i)shoot(?:ing)?\s+up`, 0, [][]string{{"shoot"}}},
		// Both the title and the accusation must be there ("city" is too
		// common on a city's pages to be worth checking).
		{`(?i)\b(?:mayor|city\s+council)\s+is\s+(?:corrupt|lying)\b`, 0, [][]string{{"council", "mayor"}, {"corrupt", "lying"}}},
		// Factored alternatives are multiplied back out: d(?:ob|ate).
		{`(?i)\b(?:dob|date\s+of\s+birth|born\s+on)\s*:?\s*\d`, 1, [][]string{{"born", "date", "dob"}}},
		{`ab`, 0, nil}, // too short to be worth checking
		{`x*y`, 0, nil},
	} {
		re, err := syntax.Parse(tt.re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		p := newPrefilter(re)
		var sets [][]string
		for _, set := range p.sets {
			lits := slices.Clone(set)
			slices.Sort(lits)
			sets = append(sets, lits)
		}
		for _, set := range tt.sets {
			slices.Sort(set)
		}
		if p.digits != tt.digits || !reflect.DeepEqual(sets, tt.sets) {
			t.Errorf("prefilter(%s) = %d digits, %q; want %d, %q", tt.re, p.digits, sets, tt.digits, tt.sets)
		}
	}
}

// TestPrefilterNeverSkipsAMatch runs every regexp rule of the default
// set on texts that it matches, including ones the lower-cased prefilter
// could misjudge (the Kelvin sign is a k to (?i)).
func TestPrefilterNeverSkipsAMatch(t *testing.T) {
	e := mustDefault(t)
	texts := []string{
		"VOTE YES ON prop 4", "sellinG WEED", "\u212Aill", "the Mayor IS Corrupt", "Tom Baker is a THIEF",
		"ssn 529014432", "SHOOT UP THE SCHOOL", "4111111111111111", "Password: x", "DOB 1/2/1990",
		"shoot up the par\u212A", "ſelling weed",
	}
	for _, text := range texts {
		s := new(scanner)
		s.reset(text, len(e.rules))
		s.tokenize()
		for _, ri := range e.regexps {
			r := &e.rules[ri]
			if r.re.MatchString(text) && r.pre.skip(e, s) {
				t.Errorf("rule %s matches %q but its prefilter skips it", r.ID, text)
			}
		}
	}
}

// TestACMatcher compares the one-pass matcher with strings.Contains,
// on strings that overlap and nest.
func TestACMatcher(t *testing.T) {
	strs := []string{"he", "she", "his", "hers", "ushers", "s", "vote", "re-elect", "reelect", "elect", "% off"}
	m := newACMatcher(strs)
	for _, text := range []string{"", "ushers", "this is his", "re-elect her", "reelect", "20% off", "h e", "sh", "xyz"} {
		found := make([]uint64, 1)
		m.scan([]byte(text), found)
		for id, s := range strs {
			if got, want := found[0]&(1<<id) != 0, strings.Contains(text, s); got != want {
				t.Errorf("scan(%q): %q found %v, want %v", text, s, got, want)
			}
		}
	}
}

// TestDigitStart checks which regexps are tried only where numbers start.
func TestDigitStart(t *testing.T) {
	for re, want := range map[string]bool{
		`\b\d{3}-\d{2}-\d{4}\b`:                     true,
		`\b(?:\d{4}[- ]?){3}\d{4}\b|\b3[47]\d{2}\b`: true,
		`(?i)\b\d{0,3}(?:[1-9]\d|0[1-9])\s+[nsew]`:  true,
		`\d{3}-\d{4}`:            false, // may start inside a word
		`\b\d*x`:                 false, // may start with x
		`\b[2-9]\d{2}|\(\d{3}\)`: false, // one branch starts with (
		`^\b\d+`:                 false, // looks at the start of the text
		`(?i)\bssn\s*\d{9}`:      false,
	} {
		parsed, err := syntax.Parse(re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got := digitStart(parsed); got != want {
			t.Errorf("digitStart(%s) = %v, want %v", re, got, want)
		}
	}
}
