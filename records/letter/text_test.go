package letter

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTextWrapsAt72Columns(t *testing.T) {
	l := longLetter(3)
	l.Sections[0].Paragraphs = append(l.Sections[0].Paragraphs,
		strings.Repeat("Le délai de réponse était très long. Ещё одна строка текста. ", 8))
	l.Sections[0].Items = append(l.Sections[0].Items, strings.Repeat("a bulleted item that goes on and on ", 5))
	got := l.Text()
	for i, line := range strings.Split(got, "\n") {
		if n := utf8.RuneCountInString(line); n > textWidth {
			t.Errorf("line %d is %d columns: %q", i+1, n, line)
		}
		if strings.HasSuffix(line, " ") {
			t.Errorf("line %d has trailing space: %q", i+1, line)
		}
	}
	// Wrapping moves words to new lines but never loses or reorders them.
	var want []string
	for _, s := range l.Sections {
		for _, p := range s.Paragraphs {
			want = append(want, flat(p))
		}
	}
	for _, p := range want {
		if !strings.Contains(flat(got), p) {
			t.Errorf("paragraph lost in wrapping: %q", p)
		}
	}
}

func TestTextLayout(t *testing.T) {
	got := sampleLetter().Text()
	for _, want := range []string{
		"Clinton City\n2267 North 1500 West\nClinton, Utah 84015\n\nMarch 5, 2026\n\nJane Doe\n",
		"\nRe: Notice of Denial of Records Request\nReference: GRAMA-2026-000123\n\nDear Jane Doe:\n\n",
		"\nRecords withheld\n----------------\n\n",
		"\n  * Personnel file of an employee, protected under Utah Code\n    63G-2-302(2)(a).\n",
		"\nSincerely,\n\nLisa Smith\nCity Recorder\nClinton City\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "\n\n\n") || strings.HasPrefix(got, "\n") || !strings.HasSuffix(got, "City\n") {
		t.Errorf("stray blank lines in:\n%s", got)
	}
}

func TestTextTable(t *testing.T) {
	t.Run("fits: columns", func(t *testing.T) {
		got := sampleLetter().Text()
		want := "" +
			"Item                                Quantity  Amount\n" +
			"----------------------------------------------------\n" +
			"Paper copies                              40  $10.00\n" +
			"Staff time (first 15 minutes free)     1.5 h  $45.00\n" +
			"----------------------------------------------------\n" +
			"Total                                         $55.00\n"
		if !strings.Contains(got, want) {
			t.Errorf("want table\n%s\nin:\n%s", want, got)
		}
	})
	t.Run("too wide: records", func(t *testing.T) {
		l := Letter{Sections: []Section{{Table: &Table{
			Header: []string{"Record", "Amount"},
			Rows:   [][]string{{strings.Repeat("Minutes of the council meeting ", 3), "$1.00"}},
			Footer: []string{"Total", "$1.00"},
		}}}}
		got := l.Text()
		want := "Record: Minutes of the council meeting Minutes of the council meeting\n" +
			"    Minutes of the council meeting\n" +
			"Amount: $1.00\n\nRecord: Total\nAmount: $1.00\n"
		if got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	})
}

func TestWrapText(t *testing.T) {
	url := "https://records.example.gov/requests/GRAMA-2026-000123/download?token=" + strings.Repeat("x", 40)
	tests := []struct {
		name, in, first, rest string
		width                 int
		want                  []string
	}{
		{"empty", "  \n ", "", "", 10, nil},
		{"fits", "one two", "", "", 7, []string{"one two"}},
		{"breaks", "one two three", "", "", 7, []string{"one two", "three"}},
		{"collapses white space", "one\n\ttwo", "", "", 20, []string{"one two"}},
		{"hanging indent", "one two three", "* ", "  ", 9, []string{"* one two", "  three"}},
		{"counts runes not bytes", "ééé ééé", "", "", 7, []string{"ééé ééé"}},
		{"long word kept whole", "see " + url + " now", "", "", 72, []string{"see", url, "now"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrapText(tt.in, tt.first, tt.rest, tt.width)
			if !slices.Equal(got, tt.want) {
				t.Errorf("wrapText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
