package screening

import (
	"strings"
	"testing"
)

// TestLoadErrors loads broken rules files: each error names the rule and
// says what is wrong.
func TestLoadErrors(t *testing.T) {
	const head = "version: test\nrules:\n"
	tests := []struct {
		why  string
		yaml string
		want []string // all in the error
	}{
		{"unknown category", head + "  - id: M.thing\n    category: M\n    words: [x]\n",
			[]string{`rule "M.thing"`, `unknown category "M"`}},
		{"missing category", head + "  - id: A.thing\n    words: [x]\n",
			[]string{`rule "A.thing"`, `unknown category ""`}},
		{"id without its category", head + "  - id: profanity\n    category: A\n    words: [x]\n",
			[]string{`rule "profanity"`, `id must be the category, a dot and a name`}},
		{"bad regexp", head + "  - id: L.phone\n    category: L\n    regexp: '(\\d{3}'\n",
			[]string{`rule "L.phone"`, "bad regexp", "missing closing )"}},
		{"regexp matching nothing", head + "  - id: L.empty\n    category: L\n    regexp: '\\d*'\n",
			[]string{`rule "L.empty"`, "matches empty text"}},
		{"duplicate id", head + "  - id: A.x\n    category: A\n    words: [damn]\n  - id: A.x\n    category: A\n    words: [shit]\n",
			[]string{`rule "A.x"`, "duplicate id"}},
		{"unknown field", head + "  - id: A.x\n    category: A\n    words: [damn]\n    colour: red\n",
			[]string{`rule "A.x"`, `unknown field "colour"`, "line 6"}},
		{"unknown field in a rule without id", head + "  - category: A\n    wrds: [damn]\n",
			[]string{`rule rules[0]`, `unknown field "wrds"`}},
		{"unknown top-level field", "version: test\nname: x\nrules:\n  - id: A.x\n    category: A\n    words: [damn]\n",
			[]string{`unknown field "name"`}},
		{"empty rule", head + "  - id: A.x\n    category: A\n",
			[]string{`rule "A.x"`, "nothing to match"}},
		{"empty word list", head + "  - id: A.x\n    category: A\n    words: []\n",
			[]string{`rule "A.x"`, "words: empty list"}},
		{"empty phrase list", head + "  - id: A.x\n    category: A\n    phrases: []\n",
			[]string{`rule "A.x"`, "phrases: empty list"}},
		{"blank word", head + "  - id: A.x\n    category: A\n    words: [damn, '  ']\n",
			[]string{`rule "A.x"`, "words[1]", "no letters or digits"}},
		{"two words as a word", head + "  - id: A.x\n    category: A\n    words: [damn it]\n",
			[]string{`rule "A.x"`, "more than one word; list it under phrases"}},
		{"masked word", head + "  - id: A.x\n    category: A\n    words: [d*mn]\n",
			[]string{`rule "A.x"`, "masking characters"}},
		{"regexp and words", head + "  - id: A.x\n    category: A\n    words: [damn]\n    regexp: 'x'\n",
			[]string{`rule "A.x"`, "make them two rules"}},
		{"unknown check", head + "  - id: L.card\n    category: L\n    regexp: '\\d{16}'\n    check: mod97\n",
			[]string{`rule "L.card"`, `unknown check "mod97"`}},
		{"check without regexp", head + "  - id: L.card\n    category: L\n    words: [card]\n    check: luhn\n",
			[]string{`rule "L.card"`, "needs a regexp"}},
		{"bad except", head + "  - id: K.bomb\n    category: K\n    words: [bomb]\n    except: ['!!']\n",
			[]string{`rule "K.bomb"`, "except[0]"}},
		{"no id", head + "  - category: A\n    words: [damn]\n",
			[]string{"rule rules[0]", "no id"}},
		{"no version", "rules:\n  - id: A.x\n    category: A\n    words: [damn]\n",
			[]string{"version is missing"}},
		{"no rules", "version: test\n", []string{"no rules"}},
		{"not YAML", head + "  - id: A.x\n    category: A\n    words: [damn\n",
			[]string{`rule "A.x"`, "line"}},
		{"a list where a word goes", head + "  - id: A.x\n    category: A\n    words: [[damn]]\n",
			[]string{`rule "A.x"`, "cannot unmarshal"}},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			_, err := Load([]byte(tt.yaml))
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "screening: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestLoadReportsEveryProblem: a file with several broken rules names
// each of them, so one run of the program shows all there is to fix.
func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load([]byte(`version: test
rules:
  - id: M.one
    category: M
    words: [x]
  - id: L.two
    category: L
    regexp: '['
  - id: A.three
    category: A
`))
	if err == nil {
		t.Fatal("Load succeeded")
	}
	for _, w := range []string{`"M.one"`, `"L.two"`, `"A.three"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %s", err, w)
		}
	}
}

// TestLoadVersion: Version follows the bytes of the file, Label its
// version: field.
func TestLoadVersion(t *testing.T) {
	a := mustLoad(t, "version: one\nrules:\n  - id: A.x\n    category: A\n    words: [damn]\n")
	b := mustLoad(t, "version: one\nrules:\n  - id: A.x\n    category: A\n    words: [damn, shit]\n")
	if a.Version() == b.Version() || len(a.Version()) != 12 {
		t.Errorf("versions %q and %q: want 12 hex digits, different for different files", a.Version(), b.Version())
	}
	if a.Label() != "one" || b.Label() != "one" {
		t.Errorf("labels %q, %q, want one", a.Label(), b.Label())
	}
}
