package screening

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// fileSpec is a rules file as written; see configs/screening/default.yaml.
type fileSpec struct {
	Version string     `yaml:"version"`
	Rules   []ruleSpec `yaml:"rules"`
}

// ruleSpec is one rule as written. Words and Phrases are pointers so an
// empty list ("words: []") can be told from none.
type ruleSpec struct {
	ID       string    `yaml:"id"`
	Category string    `yaml:"category"`
	Note     string    `yaml:"note"`
	Words    *[]string `yaml:"words"`
	Phrases  *[]string `yaml:"phrases"`
	Regexp   string    `yaml:"regexp"`
	Check    string    `yaml:"check"`
	Except   []string  `yaml:"except"`
}

// rule is a compiled rule.
type rule struct {
	Rule
	re       *regexp.Regexp
	anchored *regexp.Regexp // re at the start of the text, if re starts at a number (digitStart)
	pre      prefilter
	check    func(string) bool
	except   [][]string // normal forms, each a sequence of words
}

// Load reads and compiles a rules file. Every problem is reported, each
// naming its rule: a missing or unknown category, an id that is not
// unique or does not start with its category, a rule with nothing to
// match or an empty list, a bad regexp, an unknown check, a field the
// format does not have.
func Load(yamlBytes []byte) (*Engine, error) {
	var f fileSpec
	dec := yaml.NewDecoder(bytes.NewReader(yamlBytes))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, decodeError(yamlBytes, err)
	}
	sum := sha256.Sum256(yamlBytes)
	e := &Engine{version: hex.EncodeToString(sum[:])[:12], label: f.Version,
		lex: lexicon{byKey: map[string][]int32{}, byLen: map[int][]int32{}}}
	var errs []error
	if strings.TrimSpace(f.Version) == "" {
		errs = append(errs, errors.New("screening: version is missing"))
	}
	if len(f.Rules) == 0 {
		errs = append(errs, errors.New("screening: no rules"))
	}
	// Sorted by category then id, rule order is the order of Screen's hits.
	order := make([]int, len(f.Rules))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ra, rb := f.Rules[order[a]], f.Rules[order[b]]
		return ra.Category < rb.Category || ra.Category == rb.Category && ra.ID < rb.ID
	})
	first := map[string]int{}
	for _, i := range order {
		sp := f.Rules[i]
		name := fmt.Sprintf("rules[%d]", i)
		if sp.ID != "" {
			name = fmt.Sprintf("%q", sp.ID)
		}
		fail := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("screening: rule %s: %s", name, fmt.Sprintf(format, args...)))
		}
		if j, dup := first[sp.ID]; dup && sp.ID != "" {
			fail("duplicate id (rules[%d] has it too)", j)
			continue
		}
		first[sp.ID] = i
		e.compile(sp, fail)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	e.compilePrefilters()
	return e, nil
}

// compile checks one rule and adds it to e; problems go to fail.
func (e *Engine) compile(sp ruleSpec, fail func(string, ...any)) {
	r := rule{Rule: Rule{ID: sp.ID, Category: sp.Category, Note: sp.Note}}
	switch {
	case sp.ID == "":
		fail("no id")
	case categoryIndex(sp.Category) < 0:
		fail("unknown category %q (want a letter A to L)", sp.Category)
	case !strings.HasPrefix(sp.ID, sp.Category+".") || len(sp.ID) == 2:
		fail("id must be the category, a dot and a name, like %q", sp.Category+".name")
	}
	n := len(e.rules)
	var entries []entry
	switch {
	case sp.Regexp != "" && (sp.Words != nil || sp.Phrases != nil):
		fail("has a regexp and words or phrases; make them two rules")
	case sp.Regexp != "":
		r.Kind = "regexp"
		e.compileRegexp(&r, sp, fail)
	case sp.Words == nil && sp.Phrases == nil:
		fail("has nothing to match: give words, phrases or a regexp")
	default:
		r.Kind = "words"
		if sp.Words == nil {
			r.Kind = "phrases"
		}
		entries = listEntries(n, "words", sp.Words, true, fail)
		entries = append(entries, listEntries(n, "phrases", sp.Phrases, false, fail)...)
		if sp.Check != "" {
			fail("check %q needs a regexp", sp.Check)
		}
	}
	for i, x := range sp.Except {
		forms, err := phraseForms(x)
		if err != nil {
			fail("except[%d]: %v", i, err)
		}
		r.except = append(r.except, forms...)
	}
	for _, en := range entries {
		e.lex.add(en)
	}
	e.rules = append(e.rules, r)
	if r.re != nil {
		e.regexps = append(e.regexps, n)
	}
}

func (e *Engine) compileRegexp(r *rule, sp ruleSpec, fail func(string, ...any)) {
	re, err := regexp.Compile(sp.Regexp)
	if err != nil {
		fail("bad regexp: %v", err)
		return
	}
	if re.MatchString("") {
		fail("regexp %q matches empty text", sp.Regexp)
		return
	}
	parsed, err := syntax.Parse(sp.Regexp, syntax.Perl)
	if err != nil {
		fail("bad regexp: %v", err)
		return
	}
	r.re, r.pre = re, newPrefilter(parsed)
	if digitStart(parsed) {
		r.anchored = regexp.MustCompile(`^(?:` + sp.Regexp + `)`)
	}
	if sp.Check != "" {
		if r.check = checks[sp.Check]; r.check == nil {
			fail("unknown check %q (want %s)", sp.Check, checkNames)
		}
	}
}

// listEntries compiles a rule's words (single words) or phrases.
func listEntries(rule int, field string, list *[]string, single bool, fail func(string, ...any)) []entry {
	if list == nil {
		return nil
	}
	if len(*list) == 0 {
		fail("%s: empty list", field)
	}
	var out []entry
	for i, x := range *list {
		forms, err := phraseForms(x)
		switch {
		case err != nil:
			fail("%s[%d]: %v", field, i, err)
		case single && len(forms[0]) > 1:
			fail("%s[%d]: %q is more than one word; list it under phrases", field, i, x)
		default:
			for _, words := range forms {
				out = append(out, entry{rule: rule, words: words, word: single})
			}
		}
	}
	return out
}

// phraseForms normalises a word or phrase of a rules file as Screen
// normalises text, giving one sequence of words per reading of its
// ambiguous characters (a 1 is i or l).
func phraseForms(x string) ([][]string, error) {
	s := new(scanner)
	s.reset(x, 0)
	s.tokenize()
	if len(s.toks) == 0 {
		return nil, fmt.Errorf("%q has no letters or digits", x)
	}
	forms := [][]string{nil}
	for _, t := range s.toks {
		if t.masks > 0 {
			return nil, fmt.Errorf("%q has masking characters; write the word out", x)
		}
		var readings []string
		s.variants(s.norm(t), func(v []byte) bool {
			readings = append(readings, string(v))
			return false
		})
		var next [][]string
		for _, f := range forms {
			for _, w := range readings {
				next = append(next, append(f[:len(f):len(f)], w))
			}
		}
		if forms = next; len(forms) > 64 {
			return nil, fmt.Errorf("%q has too many characters read as i or l", x)
		}
	}
	return forms, nil
}

// decodeError names the rule a YAML error is in, from its line number.
func decodeError(data []byte, err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var out []error
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		where := ""
		if l, ok := lineOf(m); ok {
			if id := ruleAtLine(data, l); id != "" {
				where = "rule " + id + ": "
			}
		}
		if k := strings.Index(m, "field "); k >= 0 && strings.Contains(m, " not found in type ") {
			field := strings.Fields(m[k+len("field "):])[0]
			m = m[:k] + fmt.Sprintf("unknown field %q", field)
		}
		out = append(out, fmt.Errorf("screening: %s%s", where, m))
	}
	return errors.Join(out...)
}

// lineOf reads the number in a "line 12: ..." message.
func lineOf(msg string) (int, bool) {
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest[:strings.IndexFunc(rest+":", func(r rune) bool { return r < '0' || r > '9' })])
	return n, err == nil
}

// ruleAtLine names the rule whose entry starts at or before line: its id
// quoted, else its position.
func ruleAtLine(data []byte, line int) string {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return ruleAtLineText(data, line)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "rules" || root.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		name := ""
		for j, item := range root.Content[i+1].Content {
			if item.Line > line {
				break
			}
			name = fmt.Sprintf("rules[%d]", j)
			for k := 0; k+1 < len(item.Content); k += 2 {
				if item.Content[k].Value == "id" && item.Content[k+1].Value != "" {
					name = strconv.Quote(item.Content[k+1].Value)
				}
			}
		}
		return name
	}
	return ""
}

// ruleAtLineText is ruleAtLine for a file that is not valid YAML: the
// last "id:" line at or before line.
func ruleAtLineText(data []byte, line int) string {
	name := ""
	for i, l := range strings.Split(string(data), "\n") {
		if i+1 > line {
			break
		}
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "-"))
		if v, ok := strings.CutPrefix(l, "id:"); ok {
			if v = strings.Trim(v, " \t'\""); v != "" {
				name = strconv.Quote(v)
			}
		}
	}
	return name
}
