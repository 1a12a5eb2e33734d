// Package letter renders the city's official letters — responses to
// records requests — from one structure into three forms: an HTML page
// (HTML), a PDF for printing and archiving (PDF), and plain text for e-mail
// bodies (Text). The three say the same thing in the same order, so a
// requester who reads the e-mail has read the letter.
package letter

import (
	"slices"
	"strings"
	"time"
)

// Letter is an official letter on the city's letterhead.
type Letter struct {
	Entity        string    // letterhead name, e.g. "Clinton City"
	EntityAddress []string  // letterhead address lines
	Title         string    // subject, e.g. "Notice of Denial of Records Request"
	Reference     string    // request number, e.g. "GRAMA-2026-000123"
	Date          time.Time // civil date of the letter; the zero time prints no date
	To            []string  // recipient block: name, then address lines
	Salutation    string    // e.g. "Dear Jane Doe:"
	Sections      []Section // body
	Closing       string    // e.g. "Sincerely,"
	Signature     []string  // name, title, address lines

	// Stylesheet is the URL of a stylesheet the HTML form links to, e.g.
	// "/static/letter.css" where the app serves CSS; empty links none. The
	// app's Content-Security-Policy forbids inline styles, so the HTML
	// carries none of its own.
	Stylesheet string
}

// Section is a titled part of the letter body; the heading may be empty.
type Section struct {
	Heading    string
	Paragraphs []string
	Items      []string // a bulleted list after the paragraphs
	Table      *Table   // optional, after the list
}

// Table is a simple table, such as a fee estimate.
type Table struct {
	Header     []string
	Rows       [][]string
	RightAlign []int    // indexes of columns to right-align (amounts)
	Footer     []string // totals row; empty for none
}

// dateLayout is how every form of the letter writes its date.
const dateLayout = "January 2, 2006"

// dateText returns the letter's date as written, or "" when it has none.
func (l Letter) dateText() string {
	if l.Date.IsZero() {
		return ""
	}
	return l.Date.Format(dateLayout)
}

// columns returns the number of columns in t: the widest of its rows.
func (t *Table) columns() int {
	n := max(len(t.Header), len(t.Footer))
	for _, row := range t.Rows {
		n = max(n, len(row))
	}
	return n
}

// rightAligned reports whether column i is right-aligned.
func (t *Table) rightAligned(i int) bool {
	return slices.Contains(t.RightAlign, i)
}

// cell returns row[i], or "" for a row shorter than the table.
func cell(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}

// collapse turns every run of white space in s, line breaks included, into
// one space and trims the ends: fields are flowed text, and a stray newline
// from a form must not break a line in the middle of a sentence.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
