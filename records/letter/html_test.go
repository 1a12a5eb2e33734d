package letter

import (
	"html/template"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	payload        = "<script>alert(1)</script>"
	escapedPayload = "&lt;script&gt;alert(1)&lt;/script&gt;"
)

// MustHTML renders l as HTML or fails the test.
func MustHTML(tb testing.TB, l Letter) string {
	tb.Helper()
	b, err := l.HTML()
	if err != nil {
		tb.Fatalf("HTML: %v", err)
	}
	return string(b)
}

func TestHTMLEscapesEveryField(t *testing.T) {
	table := func(f func(*Table)) func(*Letter) {
		return func(l *Letter) {
			tb := &Table{Header: []string{"a", "b"}, Rows: [][]string{{"1", "2"}}, Footer: []string{"t", "3"}}
			f(tb)
			l.Sections = append(l.Sections, Section{Table: tb})
		}
	}
	fields := map[string]func(*Letter){
		"Entity":        func(l *Letter) { l.Entity = payload },
		"EntityAddress": func(l *Letter) { l.EntityAddress = []string{"1 Main St", payload} },
		"Title":         func(l *Letter) { l.Title = payload },
		"Reference":     func(l *Letter) { l.Reference = payload },
		"To":            func(l *Letter) { l.To = []string{payload, payload} },
		"Salutation":    func(l *Letter) { l.Salutation = payload },
		"Heading":       func(l *Letter) { l.Sections = []Section{{Heading: payload}} },
		"Paragraphs":    func(l *Letter) { l.Sections = []Section{{Paragraphs: []string{"x", payload}}} },
		"Items":         func(l *Letter) { l.Sections = []Section{{Items: []string{payload}}} },
		"Table.Header":  table(func(t *Table) { t.Header[1] = payload }),
		"Table.Rows":    table(func(t *Table) { t.Rows[0][0] = payload }),
		"Table.Footer":  table(func(t *Table) { t.Footer[1] = payload }),
		"Closing":       func(l *Letter) { l.Closing = payload },
		"Signature":     func(l *Letter) { l.Signature = []string{payload, payload} },
	}
	for name, set := range fields {
		t.Run(name, func(t *testing.T) {
			l := sampleLetter()
			set(&l)
			got := MustHTML(t, l)
			if strings.Contains(got, "<script") {
				t.Errorf("raw <script> tag in output:\n%s", got)
			}
			if !strings.Contains(got, escapedPayload) {
				t.Errorf("escaped payload %q missing from output:\n%s", escapedPayload, got)
			}
		})
	}
}

func TestHTMLStylesheet(t *testing.T) {
	tests := []struct {
		name, href string
		want       string // substring of the output; "" means no <link>
	}{
		{"unset", "", ""},
		{"path", "/static/letter.css", `<link rel="stylesheet" href="/static/letter.css">`},
		{"attribute breakout", `x"><script>alert(1)</script>`, `<link rel="stylesheet" href="x%22%3e%3cscript%3ealert%281%29%3c/script%3e">`},
		{"javascript url", "javascript:alert(1)", `<link rel="stylesheet" href="#ZgotmplZ">`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := sampleLetter()
			l.Stylesheet = tt.href
			got := MustHTML(t, l)
			if tt.want == "" {
				if strings.Contains(got, `<link rel="stylesheet"`) {
					t.Errorf("unexpected stylesheet link in:\n%s", got)
				}
				return
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("missing %q in:\n%s", tt.want, got)
			}
			if strings.Contains(got, "<script") {
				t.Errorf("raw <script> tag in:\n%s", got)
			}
		})
	}
}

func TestHTMLHasNoInlineStyles(t *testing.T) {
	got := MustHTML(t, sampleLetter())
	for _, banned := range []string{"<style", "style=", "<script"} {
		if strings.Contains(got, banned) {
			t.Errorf("output contains %q, which CSP style-src 'self' would block:\n%s", banned, got)
		}
	}
}

func TestHTMLKeepsOrder(t *testing.T) {
	l := sampleLetter()
	want := []string{l.Entity, l.EntityAddress[0], "March 5, 2026", l.To[0], l.Title, l.Reference, l.Salutation}
	for _, s := range l.Sections {
		if s.Heading != "" {
			want = append(want, s.Heading)
		}
		want = append(want, s.Paragraphs...)
		want = append(want, s.Items...)
		if s.Table != nil {
			want = append(want, s.Table.Header...)
			for _, row := range s.Table.Rows {
				want = append(want, row...)
			}
			want = append(want, "Total", "$55.00")
		}
	}
	want = append(want, l.Closing)
	want = append(want, l.Signature...)

	got := MustHTML(t, l)
	body := got[strings.Index(got, "<body>"):]
	at := 0
	for _, s := range want {
		i := strings.Index(body[at:], template.HTMLEscapeString(s))
		if i < 0 {
			t.Fatalf("%q missing, or out of order, after offset %d in:\n%s", s, at, body)
		}
		at += i + len(template.HTMLEscapeString(s))
	}
}

func TestHTMLStructure(t *testing.T) {
	got := MustHTML(t, sampleLetter())
	for _, want := range []string{
		"<!DOCTYPE html>",
		`<html lang="en">`,
		`<meta charset="utf-8">`,
		"<title>Notice of Denial of Records Request — GRAMA-2026-000123</title>",
		`<time datetime="2026-03-05">March 5, 2026</time>`,
		`<h2>Fee estimate</h2>`,
		`<th scope="col" class="num">Amount</th>`,
		`<td class="num">$10.00</td>`,
		`<tfoot><tr><td>Total</td><td class="num"></td><td class="num">$55.00</td></tr></tfoot>`,
		`<span class="signer">Lisa Smith</span><br>City Recorder`,
		"</html>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestHTMLOmitsEmptyParts(t *testing.T) {
	got := MustHTML(t, Letter{Title: "Notice", Date: time.Time{}})
	if !strings.Contains(got, "<title>Notice</title>") {
		t.Errorf("want the title alone in <title>:\n%s", got)
	}
	for _, absent := range []string{"<time", `class="recipient"`, `class="reference"`, "<section", `class="signature"`, "<table"} {
		if strings.Contains(got, absent) {
			t.Errorf("empty letter renders %q:\n%s", absent, got)
		}
	}
}

// TestCSSCoversClasses keeps CSS and the template in step: every class
// the HTML uses has a rule.
func TestCSSCoversClasses(t *testing.T) {
	got := MustHTML(t, sampleLetter())
	for _, m := range regexp.MustCompile(`class="([^"]+)"`).FindAllStringSubmatch(got, -1) {
		for _, class := range strings.Fields(m[1]) {
			if !strings.Contains(CSS, "."+class+" ") && !strings.Contains(CSS, "."+class+",") {
				t.Errorf("class %q has no rule in CSS", class)
			}
		}
	}
	if strings.Contains(CSS, "`") || strings.Contains(CSS, "</") {
		t.Error("CSS must be plain CSS")
	}
}
