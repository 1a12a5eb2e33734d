package screening

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// Reading a regexp for what every match of it contains, for the
// prefilters: the analysis may know too little, never too much.

// facts is what analyse knows of a regexp, in ASCII lower case: exact is
// every string it matches (nil: too many, or not known); prefix a set of
// strings every match starts with one of ("" among them: no constraint);
// req a set of strings one of which is in every match (nil: none known);
// all, for a concatenation, every such set found among its parts.
type facts struct {
	exact  []string
	prefix []string
	req    []string
	all    [][]string
}

var anything = []string{""}

// analyse reads what every match of re contains.
func analyse(re *syntax.Regexp) facts {
	f := analyseOp(re)
	if f.exact != nil {
		f.prefix = f.exact
	}
	if f.prefix == nil {
		f.prefix = anything
	}
	for _, set := range [][]string{f.exact, f.prefix} {
		if better(set, f.req) {
			f.req = set
			f.all = append(f.all, set)
		}
	}
	if f.all == nil && f.req != nil {
		f.all = [][]string{f.req}
	}
	return f
}

// better reports whether set is a usable requirement stronger than req.
func better(set, req []string) bool {
	return len(set) > 0 && minLen(set) > 0 && (req == nil || strength(set) > strength(req))
}

// strength guesses how rarely a set's strings occur in comments: the
// length of the shortest, but 1 for a common word ("the ", " is"), which
// nearly every comment contains.
func strength(set []string) int {
	n := -1
	for _, s := range set {
		l := len(s)
		if common[strings.TrimSpace(s)] {
			l = 1
		}
		if n < 0 || l < n {
			n = l
		}
	}
	return n
}

var common = map[string]bool{
	"the": true, "and": true, "for": true, "you": true, "are": true, "was": true, "were": true, "is": true,
	"on": true, "of": true, "to": true, "in": true, "it": true, "that": true, "this": true, "with": true,
	"have": true, "has": true, "not": true, "but": true, "can": true, "all": true, "our": true, "your": true,
	"will": true, "what": true, "when": true, "just": true, "they": true, "there": true, "city": true,
}

func analyseOp(re *syntax.Regexp) facts {
	switch re.Op {
	case syntax.OpLiteral:
		s := strings.ToLower(string(re.Rune))
		if !ascii(s) {
			return facts{}
		}
		return facts{exact: []string{s}}
	case syntax.OpCharClass:
		return classFacts(re)
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return facts{exact: anything}
	case syntax.OpCapture:
		return analyse(re.Sub[0])
	case syntax.OpQuest:
		if f := analyse(re.Sub[0]); f.exact != nil {
			return facts{exact: union(f.exact, anything)}
		}
	case syntax.OpPlus:
		f := analyse(re.Sub[0])
		return facts{prefix: f.prefix, req: f.req}
	case syntax.OpRepeat:
		if re.Min > 0 {
			f := analyse(re.Sub[0])
			return facts{prefix: f.prefix, req: f.req}
		}
	case syntax.OpAlternate:
		return alternateFacts(re.Sub)
	case syntax.OpConcat:
		return concatFacts(re.Sub)
	}
	return facts{}
}

func classFacts(re *syntax.Regexp) facts {
	var set []string
	for i := 0; i < len(re.Rune); i += 2 {
		for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
			if r >= utf8.RuneSelf || len(set) > 3 {
				return facts{}
			}
			set = union(set, []string{strings.ToLower(string(r))})
		}
	}
	if len(set) == 0 {
		return facts{}
	}
	return facts{exact: set}
}

// alternateFacts: a match of an alternation is a match of one branch, so
// the sets are unions, known only if known for every branch.
func alternateFacts(subs []*syntax.Regexp) facts {
	var f facts
	exact, prefix, req := true, true, true
	for _, sub := range subs {
		sf := analyse(sub)
		if exact = exact && sf.exact != nil; exact {
			f.exact = union(f.exact, sf.exact)
			exact = len(f.exact) <= maxLits
		}
		if prefix {
			f.prefix = union(f.prefix, sf.prefix)
			prefix = len(f.prefix) <= maxLits
		}
		if req = req && sf.req != nil; req {
			f.req = union(f.req, sf.req)
		}
	}
	if !exact {
		f.exact = nil
	}
	if !prefix {
		f.prefix = nil
	}
	if !req {
		f.req = nil
	}
	return f
}

// concatFacts multiplies out runs of exactly known parts, continued into
// the prefixes of the part that ends the run ("re" "-"? "elect" is
// re-elect or reelect; "d" (?:ob|ate) is dob or date). Every set found is
// kept in all; req is the strongest.
func concatFacts(subs []*syntax.Regexp) facts {
	var f facts
	consider := func(set []string) {
		if len(set) == 0 || minLen(set) == 0 {
			return
		}
		f.all = append(f.all, set)
		if better(set, f.req) {
			f.req = set
		}
	}
	cur, exact, prefix := anything, anything, anything
	for _, sub := range subs {
		sf := analyse(sub)
		if sf.req != nil {
			for _, set := range sf.all {
				consider(set)
			}
		}
		if prefix != nil {
			if len(prefix)*len(sf.prefix) > maxLits {
				f.prefix, prefix = prefix, nil
			} else if prefix = product(prefix, sf.prefix); sf.exact == nil {
				f.prefix, prefix = prefix, nil
			}
		}
		if exact != nil && sf.exact != nil && len(exact)*len(sf.exact) <= maxLits {
			exact = product(exact, sf.exact)
		} else {
			exact = nil
		}
		if sf.exact != nil && len(cur)*len(sf.exact) <= maxLits {
			cur = product(cur, sf.exact)
			continue
		}
		if len(cur)*len(sf.prefix) <= maxLits {
			consider(product(cur, sf.prefix))
		}
		consider(cur)
		cur = anything
		if sf.exact != nil {
			cur = sf.exact
		}
	}
	consider(cur)
	f.exact = exact
	if prefix != nil {
		f.prefix = prefix
	}
	return f
}

func product(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = union(out, []string{x + y})
		}
	}
	return out
}

func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func minLen(set []string) int {
	n := -1
	for _, s := range set {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
