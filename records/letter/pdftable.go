package letter

// Table layout, in points.
const (
	cellPadX = 5.0 // left and right of a cell's text
	cellPadY = 2.5 // above and below a row's text
)

// table draws t across the content width. Rows are kept whole on a page
// when they fit on one, and the header repeats at the top of each page
// the table continues on.
func (w *pdfWriter) table(t *Table) {
	n := t.columns()
	if n == 0 {
		return
	}
	widths := w.columnWidths(t, n)
	header := func() {
		if len(t.Header) > 0 {
			w.tableRow(t, t.Header, widths, strongStyle)
			w.rule(margin, contentWidth, 1, 0x33)
		}
	}
	header()
	w.onNewPage = header
	for i, row := range t.Rows {
		if i > 0 {
			w.rule(margin, contentWidth, 0.5, 0xbb)
		}
		w.tableRow(t, row, widths, bodyStyle)
	}
	w.onNewPage = nil
	if len(t.Footer) > 0 {
		w.ensure(strongStyle.lead + 2*cellPadY)
		w.rule(margin, contentWidth, 1, 0x33)
		w.tableRow(t, t.Footer, widths, strongStyle)
	}
}

// tableRow draws one row, each cell wrapped within its column and
// right-aligned where t says so.
func (w *pdfWriter) tableRow(t *Table, row []string, widths []float64, st style) {
	cells := make([][]string, len(widths))
	lines := 1
	for i, cw := range widths {
		cells[i] = w.wrap(cell(row, i), st, cw-2*cellPadX)
		lines = max(lines, len(cells[i]))
	}
	if h := float64(lines)*st.lead + 2*cellPadY; fits(h) {
		w.ensure(h)
	}
	w.y += cellPadY
	for l := range lines {
		w.ensure(st.lead + cellPadY)
		x := margin
		for i, cw := range widths {
			if l < len(cells[i]) {
				text := cells[i][l]
				tx := x + cellPadX
				if t.rightAligned(i) {
					tx = x + cw - cellPadX - w.width(text, st)
				}
				w.draw(tx, text, st)
			}
			x += cw
		}
		w.y += st.lead
	}
	w.y += cellPadY
}

// columnWidths sizes the columns of t to fill the content width. Each
// column wants the width of its longest cell; when they all fit, the
// spare room goes to the first left-aligned column (the description).
// When they do not, narrow columns keep their width and the wide ones
// share the rest equally, wrapping their text.
func (w *pdfWriter) columnWidths(t *Table, n int) []float64 {
	want := make([]float64, n)
	for i := range want {
		for _, row := range t.Rows {
			want[i] = max(want[i], w.width(w.clean(collapse(cell(row, i))), bodyStyle))
		}
		for _, row := range [][]string{t.Header, t.Footer} {
			want[i] = max(want[i], w.width(w.clean(collapse(cell(row, i))), strongStyle))
		}
		want[i] += 2 * cellPadX
	}
	var sum float64
	for _, x := range want {
		sum += x
	}
	if sum <= contentWidth {
		spare := 0
		for spare < n-1 && t.rightAligned(spare) {
			spare++
		}
		want[spare] += contentWidth - sum
		return want
	}
	return shareWidth(want, contentWidth)
}

// shareWidth divides total among columns wanting want: max-min fairly,
// so every column wanting less than an equal share gets what it wants and
// the others split what is left equally.
func shareWidth(want []float64, total float64) []float64 {
	out := make([]float64, len(want))
	open := make([]int, len(want))
	for i := range open {
		open[i] = i
	}
	for len(open) > 0 {
		share := total / float64(len(open))
		var still []int
		for _, i := range open {
			if want[i] <= share {
				out[i] = want[i]
				total -= want[i]
			} else {
				still = append(still, i)
			}
		}
		if len(still) == len(open) {
			for _, i := range open {
				out[i] = share
			}
			break
		}
		open = still
	}
	return out
}
