package letter

import "fmt"

// This file moves down the page: lines, paragraphs, gaps, rules and page
// breaks. pdfwriter.go holds fonts and measuring.

// newPage starts a page at the top margin, then runs onNewPage.
func (w *pdfWriter) newPage() {
	w.pdf.AddPage()
	w.y = margin
	if hook := w.onNewPage; hook != nil {
		// A header taller than a page would otherwise start a page that
		// repeats the header that starts a page, and so on forever.
		w.onNewPage = nil
		hook()
		w.onNewPage = hook
	}
}

// atTop reports whether nothing has been drawn on the current page yet.
func (w *pdfWriter) atTop() bool { return w.y <= margin }

// ensure starts a new page unless h more points fit above the bottom
// margin. On an empty page it does nothing: content taller than a page
// goes down line by line instead.
func (w *pdfWriter) ensure(h float64) {
	if w.y+h > contentBottom && !w.atTop() {
		w.newPage()
	}
}

// fits reports whether h points could fit on one page at all, that is
// whether keeping a block together is possible.
func fits(h float64) bool { return h <= contentBottom-margin }

// gap adds vertical space, except at the top of a page.
func (w *pdfWriter) gap(h float64) {
	if !w.atTop() {
		w.y += h
	}
}

// draw writes one cleaned line of text with its left edge at x on the
// current line, without moving down.
func (w *pdfWriter) draw(x float64, s string, st style) {
	if s == "" || w.err != nil {
		return
	}
	w.setFont(st)
	// The baseline sits so the text is centred in its line height, with
	// 0.8em above the baseline and 0.2em below.
	w.pdf.SetXY(x, w.y+(st.lead-st.size)/2+0.8*st.size)
	w.fail(w.pdf.Text(s))
}

// lines writes already-wrapped lines at x, moving down one line each.
func (w *pdfWriter) lines(x float64, lines []string, st style) {
	for _, l := range lines {
		w.ensure(st.lead)
		w.draw(x, l, st)
		w.y += st.lead
	}
}

// paragraph wraps s to the width between x and the right margin and
// writes it.
func (w *pdfWriter) paragraph(x float64, s string, st style) {
	w.lines(x, w.wrap(s, st, margin+contentWidth-x), st)
}

// bullets writes items as a bulleted list with hanging indents.
func (w *pdfWriter) bullets(items []string, st style) {
	const bulletX, textX = margin + 8, margin + 22
	for _, item := range items {
		lines := w.wrap(item, st, margin+contentWidth-textX)
		if len(lines) == 0 {
			continue
		}
		w.ensure(st.lead)
		w.draw(bulletX, "•", st)
		w.lines(textX, lines, st)
		w.y += 3
	}
}

// rule draws a horizontal line across the given width at the current y.
func (w *pdfWriter) rule(x, width, thickness float64, gray uint8) {
	w.pdf.SetLineWidth(thickness)
	w.pdf.SetStrokeColor(gray, gray, gray)
	w.pdf.Line(x, w.y, x+width, w.y)
}

// footers writes "reference — page n of total" centred at the foot of
// every page, so a loose page can be matched to its request. It runs last,
// when the total is known.
func (w *pdfWriter) footers(reference string) {
	total := w.pdf.GetNumberOfPages()
	w.setFont(footerStyle)
	ref := w.truncate(w.clean(collapse(reference)), footerStyle, contentWidth/2)
	for n := 1; n <= total && w.err == nil; n++ {
		text := fmt.Sprintf("Page %d of %d", n, total)
		if ref != "" {
			text = fmt.Sprintf("%s — page %d of %d", ref, n, total)
		}
		w.fail(w.pdf.SetPage(n))
		w.pdf.SetXY((pageWidth-w.width(text, footerStyle))/2, footerBaseline)
		w.fail(w.pdf.Text(text))
	}
}

// truncate shortens s to fit width, ending it with "…" if cut.
func (w *pdfWriter) truncate(s string, st style, width float64) string {
	if w.width(s, st) <= width {
		return s
	}
	return w.breakWord(s, st, width-w.width("…", st))[0] + "…"
}
