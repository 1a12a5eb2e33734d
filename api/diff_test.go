package api

import (
	"strings"
	"testing"
)

func showDiff(parts []diffPart) string {
	var b strings.Builder
	for _, p := range parts {
		switch p.Op {
		case diffDel:
			b.WriteString("[-" + p.Text + "-]")
		case diffIns:
			b.WriteString("{+" + p.Text + "+}")
		default:
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// sides rebuilds both texts from a diff.
func sides(parts []diffPart) (a, b string) {
	var x, y strings.Builder
	for _, p := range parts {
		if p.Op != diffIns {
			x.WriteString(p.Text)
		}
		if p.Op != diffDel {
			y.WriteString(p.Text)
		}
	}
	return x.String(), y.String()
}

func TestWordDiff(t *testing.T) {
	for _, tc := range []struct{ name, a, b, want string }{
		{"same", "Road closed", "Road closed", "Road closed"},
		{"one_word_changed", "Main St closed on Saturday", "Main St open on Saturday", "Main St [-closed-]{+open+} on Saturday"},
		{"changes_split_by_spaces_join", "for the parade 🎉", "for the street fair", "for the [-parade 🎉-]{+street fair+}"},
		{"added_at_end", "Road closed", "Road closed until 3 pm", "Road closed{+ until 3 pm+}"},
		{"removed_at_start", "UPDATE: Road closed", "Road closed", "[-UPDATE: -]Road closed"},
		{"punctuation_alone", "Open today.", "Open today!", "Open today[-.-]{+!+}"},
		{"accents_are_letters", "¿A qué hora abren?", "¿A qué hora cierran?", "¿A qué hora [-abren-]{+cierran+}?"},
		{"from_empty", "", "new text", "{+new text+}"},
		{"to_empty", "old text", "", "[-old text-]"},
		{"markup_is_just_text", "hi", "<script>alert(1)</script> hi", "{+<script>alert(1)</script> +}hi"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts := wordDiff(tc.a, tc.b)
			if got := showDiff(parts); got != tc.want {
				t.Errorf("wordDiff(%q, %q) = %q; want %q", tc.a, tc.b, got, tc.want)
			}
			if a, b := sides(parts); a != tc.a || b != tc.b {
				t.Errorf("the diff rebuilds %q and %q", a, b)
			}
		})
	}
}

func TestWordDiffLargeFallsBackButStaysExact(t *testing.T) {
	a := strings.Repeat("alpha beta ", 3000) + "end"
	b := "start " + strings.Repeat("gamma delta ", 3000) + "end"
	parts := wordDiff(a, b)
	if x, y := sides(parts); x != a || y != b {
		t.Fatal("a large diff does not rebuild its texts")
	}
	if len(parts) > 4 {
		t.Errorf("past maxDiffCells the middle is one removal and one insertion; got %d parts", len(parts))
	}
}

func FuzzWordDiff(f *testing.F) {
	f.Add("Main St closed for the parade", "Main St open for the fair")
	f.Add("", "x")
	f.Add("a  b\n\tc", "a b c ")
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 2000 || len(b) > 2000 {
			return
		}
		if x, y := sides(wordDiff(a, b)); x != a || y != b {
			t.Fatalf("wordDiff(%q, %q) rebuilds %q, %q", a, b, x, y)
		}
	})
}
