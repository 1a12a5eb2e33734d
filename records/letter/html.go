package letter

import (
	"bytes"
	"fmt"
	"html/template"
	"slices"
	"strings"
)

// CSS is a print-friendly stylesheet for the classes HTML uses. The app
// serves it at /static/letter.css: the letter is shown under a
// Content-Security-Policy of style-src 'self', so it cannot carry its
// styles inline.
const CSS = `/* Official letters (records/letter): one column, letter paper, 1in margins. */
@page {
  size: letter;
  margin: 1in;
  @bottom-center { content: "Page " counter(page) " of " counter(pages); font: 9pt Georgia, serif; color: #555; }
}
html { background: #eceae6; }
body { margin: 0; color: #111; font: 11pt/1.45 Georgia, "Times New Roman", serif; }
.letter { box-sizing: border-box; max-width: 8.5in; margin: 2rem auto; padding: 1in; background: #fff; box-shadow: 0 1px 4px rgba(0, 0, 0, .2); }
.letterhead { border-bottom: 1px solid #444; padding-bottom: .5em; margin-bottom: 1.5em; }
.entity { margin: 0; font-size: 16pt; font-weight: bold; }
.entity-address { margin: .2em 0 0; font-size: 9.5pt; font-style: normal; color: #333; }
.date, .recipient, .salutation { margin: 0 0 1.2em; }
.subject { margin: 1.5em 0 .2em; font-size: 13pt; line-height: 1.3; }
.reference { margin: 0 0 1.2em; }
.reference-id { white-space: nowrap; }
.section h2 { margin: 1.2em 0 .4em; font-size: 11pt; break-after: avoid; }
.section p, .section li { margin: 0 0 .8em; overflow-wrap: anywhere; }
.section ul { margin: 0 0 .8em; padding-left: 1.5em; }
.section li { margin: 0 0 .25em; }
.fees { width: 100%; margin: .4em 0 1em; border-collapse: collapse; }
.fees th, .fees td { padding: .25em .5em; text-align: left; vertical-align: top; border-bottom: 1px solid #ccc; }
.fees thead th { border-bottom: 1.5px solid #444; }
.fees tfoot td { font-weight: bold; border-top: 1.5px solid #444; border-bottom: 0; }
.fees .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.fees tr { break-inside: avoid; }
.closing { margin: 1.5em 0 3em; break-after: avoid; }
.signature { margin: 0; break-inside: avoid; }
.signer { font-weight: bold; }
@media (max-width: 40rem) { .letter { margin: 0; padding: 1.25rem; box-shadow: none; } }
@media print {
  html { background: none; }
  .letter { max-width: none; margin: 0; padding: 0; box-shadow: none; }
  a { color: inherit; }
}
`

// htmlTemplate is the letter as a standalone document. It has no style
// attributes and no <style> element (see CSS); html/template escapes every
// field for the context it lands in.
var htmlTemplate = template.Must(template.New("letter").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<link rel="icon" href="data:,">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.DocTitle}}</title>
{{- with .Stylesheet}}
<link rel="stylesheet" href="{{.}}">
{{- end}}
</head>
<body>
<article class="letter">
<header class="letterhead">
<p class="entity">{{.Entity}}</p>
{{- with .EntityAddress}}
<address class="entity-address">{{template "lines" .}}</address>
{{- end}}
</header>
{{- with .DateText}}
<p class="date"><time datetime="{{$.DateISO}}">{{.}}</time></p>
{{- end}}
{{- with .To}}
<p class="recipient">{{template "lines" .}}</p>
{{- end}}
{{- with .Title}}
<h1 class="subject">{{.}}</h1>
{{- end}}
{{- with .Reference}}
<p class="reference">Reference: <span class="reference-id">{{.}}</span></p>
{{- end}}
{{- with .Salutation}}
<p class="salutation">{{.}}</p>
{{- end}}
{{- range .Sections}}
<section class="section">
{{- with .Heading}}
<h2>{{.}}</h2>
{{- end}}
{{- range .Paragraphs}}
<p>{{.}}</p>
{{- end}}
{{- with .Items}}
<ul>
{{- range .}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
{{- with .Table}}
{{template "table" .}}
{{- end}}
</section>
{{- end}}
{{- with .Closing}}
<p class="closing">{{.}}</p>
{{- end}}
{{- with .Signature}}
<p class="signature">{{range $i, $l := .}}{{if $i}}<br>{{$l}}{{else}}<span class="signer">{{$l}}</span>{{end}}{{end}}</p>
{{- end}}
</article>
</body>
</html>
{{define "lines"}}{{range $i, $l := .}}{{if $i}}<br>{{end}}{{$l}}{{end}}{{end}}
{{- define "cells"}}{{range .}}<td{{if .Num}} class="num"{{end}}>{{.Text}}</td>{{end}}{{end}}
{{- define "table"}}<table class="fees">
{{- with .Header}}
<thead><tr>{{range .}}<th scope="col"{{if .Num}} class="num"{{end}}>{{.Text}}</th>{{end}}</tr></thead>
{{- end}}
<tbody>
{{- range .Rows}}
<tr>{{template "cells" .}}</tr>
{{- end}}
</tbody>
{{- with .Footer}}
<tfoot><tr>{{template "cells" .}}</tr></tfoot>
{{- end}}
</table>{{end}}`))

// htmlView is what htmlTemplate reads: the letter plus what the template
// language cannot work out itself.
type htmlView struct {
	Letter
	DocTitle          string // the <title>: subject and reference
	DateText, DateISO string
	Sections          []htmlSection
}

// htmlSection is a Section whose table has its alignment worked out.
type htmlSection struct {
	Section
	Table *htmlTable
}

// htmlTable is a Table as rows of cells that know their alignment.
type htmlTable struct {
	Header, Footer []htmlCell
	Rows           [][]htmlCell
}

// htmlCell is one table cell; Num marks a right-aligned (numeric) column.
type htmlCell struct {
	Text string
	Num  bool
}

// HTML renders the letter as a complete standalone HTML5 document with
// every field escaped. It links Stylesheet when set and otherwise carries
// no styling, so it is readable and prints plainly without CSS.
func (l Letter) HTML() ([]byte, error) {
	v := htmlView{Letter: l, DateText: l.dateText()}
	v.DocTitle = strings.Join(slices.DeleteFunc([]string{l.Title, l.Reference}, func(s string) bool {
		return strings.TrimSpace(s) == ""
	}), " — ")
	if v.DateText != "" {
		v.DateISO = l.Date.Format("2006-01-02")
	}
	for _, s := range l.Sections {
		v.Sections = append(v.Sections, htmlSection{Section: s, Table: newHTMLTable(s.Table)})
	}
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("letter: render html: %w", err)
	}
	return b.Bytes(), nil
}

// newHTMLTable pads every row of t to the table's width, so columns line
// up, and marks the right-aligned cells.
func newHTMLTable(t *Table) *htmlTable {
	if t == nil {
		return nil
	}
	n := t.columns()
	row := func(cells []string) []htmlCell {
		out := make([]htmlCell, n)
		for i := range out {
			out[i] = htmlCell{Text: cell(cells, i), Num: t.rightAligned(i)}
		}
		return out
	}
	h := &htmlTable{}
	if len(t.Header) > 0 {
		h.Header = row(t.Header)
	}
	if len(t.Footer) > 0 {
		h.Footer = row(t.Footer)
	}
	for _, r := range t.Rows {
		h.Rows = append(h.Rows, row(r))
	}
	return h
}
