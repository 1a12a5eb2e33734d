package search

import (
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
	"golang.org/x/text/unicode/norm"
)

// textAnalyzerName is the analyzer of the text fields: bleve's English
// analyzer (possessives, lower case, English stop words, Porter stemming)
// with two additions for a city's posts: accents are folded (so "informacion"
// finds "información"), and emoji are tokens (so "🚧" finds the post).
// Both keep each token's byte offsets into the original text, which
// highlighting relies on.
const textAnalyzerName = "civicarchive_en"

const (
	emojiTokenizerName = "civicarchive_unicode_emoji"
	foldFilterName     = "civicarchive_fold"
)

func init() {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(registry.RegisterTokenizer(emojiTokenizerName, func(map[string]any, *registry.Cache) (analysis.Tokenizer, error) {
		return emojiTokenizer{words: unicodetok.NewUnicodeTokenizer()}, nil
	}))
	must(registry.RegisterTokenFilter(foldFilterName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return foldFilter{}, nil
	}))
	must(registry.RegisterAnalyzer(textAnalyzerName, func(_ map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
		tok, err := cache.TokenizerNamed(emojiTokenizerName)
		if err != nil {
			return nil, err
		}
		var filters []analysis.TokenFilter
		for _, name := range []string{en.PossessiveName, lowercase.Name, foldFilterName, en.StopName, porter.Name} {
			f, err := cache.TokenFilterNamed(name)
			if err != nil {
				return nil, err
			}
			filters = append(filters, f)
		}
		return &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: filters}, nil
	}))
}

// emojiTokenizer is bleve's Unicode word tokenizer plus the emoji (and
// other pictographic symbols) between words, which it drops: each symbol,
// with the modifiers, variation selectors and joined symbols that follow
// it, becomes one token.
type emojiTokenizer struct{ words analysis.Tokenizer }

func (t emojiTokenizer) Tokenize(input []byte) analysis.TokenStream {
	words := t.words.Tokenize(input)
	out := make(analysis.TokenStream, 0, len(words))
	emit := func(tok *analysis.Token) {
		tok.Position = len(out) + 1
		out = append(out, tok)
	}
	gap := func(from, to int) {
		for i := from; i < to; {
			r, n := utf8.DecodeRune(input[i:])
			if !unicode.Is(unicode.So, r) {
				i += n
				continue
			}
			end := i + n
			for end < to {
				r2, n2 := utf8.DecodeRune(input[end:])
				joined := r2 == '\u200d' || r2 == '\ufe0f' || unicode.In(r2, unicode.Sk, unicode.Mn, unicode.Me) ||
					(unicode.Is(unicode.So, r2) && end > 0 && isZWJBefore(input, end))
				if !joined {
					break
				}
				end += n2
			}
			emit(&analysis.Token{Term: input[i:end], Start: i, End: end, Type: analysis.Single})
			i = end
		}
	}
	prev := 0
	for _, w := range words {
		gap(prev, w.Start)
		emit(w)
		prev = w.End
	}
	gap(prev, len(input))
	return out
}

// isZWJBefore reports whether the rune ending at end is a zero width joiner.
func isZWJBefore(b []byte, end int) bool {
	r, _ := utf8.DecodeLastRune(b[:end])
	return r == '\u200d'
}

// foldFilter removes accents: compatibility decomposition, then combining
// marks dropped. Only the term changes; offsets stay on the original text.
type foldFilter struct{}

func (foldFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, tok := range in {
		tok.Term = foldBytes(tok.Term)
	}
	return in
}

// foldBytes folds accents out of b (returned unchanged when it is ASCII).
func foldBytes(b []byte) []byte {
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return b
	}
	d := norm.NFKD.Bytes(b)
	out := make([]byte, 0, len(d)) // never in place: b may be the stored text
	for i := 0; i < len(d); {
		r, n := utf8.DecodeRune(d[i:])
		if !unicode.Is(unicode.Mn, r) {
			out = append(out, d[i:i+n]...)
		}
		i += n
	}
	return out
}

// foldString is foldBytes for query terms that bypass analysis (wildcards).
func foldString(s string) string { return string(foldBytes([]byte(s))) }
