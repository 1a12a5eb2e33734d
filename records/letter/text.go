package letter

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// textWidth is the column Text wraps at: the customary limit for e-mail,
// which some clients re-wrap or quote beyond.
const textWidth = 72

// Text renders the letter as plain text for an e-mail body, wrapped at 72
// columns (counted in runes). A word longer than a line — usually a URL —
// is kept whole on a line of its own so it stays clickable.
func (l Letter) Text() string {
	var t textWriter
	t.lines(l.Entity)
	t.lines(l.EntityAddress...)
	t.blank()
	t.lines(l.dateText())
	t.blank()
	t.lines(l.To...)
	t.blank()
	if title := collapse(l.Title); title != "" {
		t.wrap("Re: "+title, "    ")
	}
	if ref := collapse(l.Reference); ref != "" {
		t.wrap("Reference: "+ref, "    ")
	}
	t.blank()
	t.lines(l.Salutation)
	t.blank()
	for _, s := range l.Sections {
		t.section(s)
	}
	t.lines(l.Closing)
	t.blank()
	t.lines(l.Signature...)
	return t.b.String()
}

// textWriter builds the plain-text letter line by line. It keeps at most
// one blank line between blocks, so empty fields leave no gaps.
type textWriter struct {
	b       strings.Builder
	pending bool // a blank line is owed before the next text
}

// blank ends a block: the next text starts after one blank line.
func (t *textWriter) blank() { t.pending = true }

// line writes one line as given, less trailing spaces.
func (t *textWriter) line(s string) {
	if t.pending && t.b.Len() > 0 {
		t.b.WriteByte('\n')
	}
	t.pending = false
	t.b.WriteString(strings.TrimRight(s, " "))
	t.b.WriteByte('\n')
}

// lines writes each non-empty field on a line of its own, wrapped.
func (t *textWriter) lines(fields ...string) {
	for _, f := range fields {
		t.wrap(f, "")
	}
}

// wrap writes s as flowed text, continuing on lines that start with
// indent. An empty s writes nothing.
func (t *textWriter) wrap(s, indent string) {
	for _, l := range wrapText(s, "", indent, textWidth) {
		t.line(l)
	}
}

// section writes one body section: heading underlined, paragraphs, a
// bulleted list with hanging indents, then the table.
func (t *textWriter) section(s Section) {
	if h := collapse(s.Heading); h != "" {
		lines := wrapText(h, "", "", textWidth)
		for _, l := range lines {
			t.line(l)
		}
		t.line(strings.Repeat("-", utf8.RuneCountInString(lines[len(lines)-1])))
		t.blank()
	}
	for _, p := range s.Paragraphs {
		t.wrap(p, "")
		t.blank()
	}
	for _, item := range s.Items {
		for _, l := range wrapText(item, "  * ", "    ", textWidth) {
			t.line(l)
		}
	}
	t.blank()
	if s.Table != nil {
		t.table(s.Table)
		t.blank()
	}
}

// wrapText fills the words of s into lines of at most width runes, the
// first starting with first and the rest with rest. It returns nil for
// text with no words.
func wrapText(s, first, rest string, width int) []string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return nil
	}
	var lines []string
	line, n := first+words[0], utf8.RuneCountInString(first+words[0])
	for _, w := range words[1:] {
		wn := utf8.RuneCountInString(w)
		if n+1+wn <= width {
			line, n = line+" "+w, n+1+wn
			continue
		}
		lines = append(lines, line)
		line, n = rest+w, utf8.RuneCountInString(rest)+wn
	}
	return append(lines, line)
}

// columnGap separates table columns in plain text.
const columnGap = "  "

// table writes tb as aligned columns when they fit in the line, and
// otherwise, since a wrapped grid is unreadable in plain text, as one
// "Header: value" block per row.
func (t *textWriter) table(tb *Table) {
	n := tb.columns()
	if n == 0 {
		return
	}
	widths := make([]int, n)
	total := len(columnGap) * (n - 1)
	for i := range widths {
		for _, row := range tableRows(tb) {
			widths[i] = max(widths[i], utf8.RuneCountInString(collapse(cell(row, i))))
		}
		total += widths[i]
	}
	if total > textWidth {
		t.tableRecords(tb)
		return
	}
	rule := strings.Repeat("-", total)
	if len(tb.Header) > 0 {
		t.line(tableLine(tb, tb.Header, widths))
		t.line(rule)
	}
	for _, row := range tb.Rows {
		t.line(tableLine(tb, row, widths))
	}
	if len(tb.Footer) > 0 {
		t.line(rule)
		t.line(tableLine(tb, tb.Footer, widths))
	}
}

// tableRows returns the header, body and footer rows of tb.
func tableRows(tb *Table) [][]string {
	return append([][]string{tb.Header, tb.Footer}, tb.Rows...)
}

// tableLine lays out one row in columns of the given widths.
func tableLine(tb *Table, row []string, widths []int) string {
	cells := make([]string, len(widths))
	for i, w := range widths {
		c := collapse(cell(row, i))
		pad := strings.Repeat(" ", w-utf8.RuneCountInString(c))
		if tb.rightAligned(i) {
			cells[i] = pad + c
		} else {
			cells[i] = c + pad
		}
	}
	return strings.Join(cells, columnGap)
}

// tableRecords writes each row of tb as lines of "Header: value".
func (t *textWriter) tableRecords(tb *Table) {
	for _, row := range slices.Concat(tb.Rows, [][]string{tb.Footer}) {
		for i := range row {
			label := collapse(cell(tb.Header, i))
			if label == "" {
				label = "Column " + strconv.Itoa(i+1)
			}
			t.wrap(label+": "+cell(row, i), "    ")
		}
		t.blank()
	}
}
