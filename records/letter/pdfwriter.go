package letter

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// Page geometry in points: US Letter with 1-inch margins. y grows down
// the page, as in gopdf.
const (
	pageWidth      = 612.0
	pageHeight     = 792.0
	margin         = 72.0
	contentWidth   = pageWidth - 2*margin
	contentBottom  = pageHeight - margin
	footerBaseline = pageHeight - margin/2
)

// fontFamily names the embedded Go fonts: regular and bold, which cover
// Latin, Greek and Cyrillic, and are BSD-licensed so they may be embedded.
const fontFamily = "go"

// style is one kind of text in the PDF.
type style struct {
	bold bool
	size float64 // points
	lead float64 // line height, points
	gray uint8   // text colour: 0 is black
}

// The letter's styles, from the letterhead down to the footer.
var (
	entityStyle  = style{bold: true, size: 16, lead: 20}
	addressStyle = style{size: 9.5, lead: 12, gray: 0x44}
	titleStyle   = style{bold: true, size: 13, lead: 17}
	headingStyle = style{bold: true, size: 11, lead: 15}
	bodyStyle    = style{size: 11, lead: 15}
	strongStyle  = style{bold: true, size: 11, lead: 15}
	footerStyle  = style{size: 9, lead: 12, gray: 0x55}
)

// glyph keys the advance-width cache.
type glyph struct {
	r    rune
	bold bool
}

// pdfWriter lays text out down the page, starting a new page when the
// next line would cross the bottom margin. Like bufio.Writer it keeps the
// first error and does nothing after it; callers check err once at the end.
type pdfWriter struct {
	pdf       *gopdf.GoPdf
	err       error
	y         float64 // top of the next line, points from the top edge
	font      style
	hasFont   bool
	advance   map[glyph]float64 // advance widths at a size of 1pt
	supported map[rune]bool     // whether the fonts have a glyph for a rune
	onNewPage func()            // e.g. repeats a table's header; nil for none
}

// newPDFWriter starts a document on its first page with the fonts loaded.
func newPDFWriter() (*pdfWriter, error) {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeLetter, Unit: gopdf.UnitPT})
	fonts := []struct {
		ttf   []byte
		style int
	}{{goregular.TTF, gopdf.Regular}, {gobold.TTF, gopdf.Bold}}
	for _, f := range fonts {
		// clean already replaced runes the fonts lack; the substitute is a
		// second line of defence so a missed rune still shows as "?".
		opt := gopdf.TtfOption{Style: f.style, OnGlyphNotFoundSubstitute: func(rune) rune { return '?' }}
		if err := pdf.AddTTFFontDataWithOption(fontFamily, f.ttf, opt); err != nil {
			return nil, fmt.Errorf("letter: load font: %w", err)
		}
	}
	w := &pdfWriter{pdf: pdf, advance: map[glyph]float64{}, supported: map[rune]bool{}}
	w.setFont(bodyStyle)
	w.newPage()
	return w, w.err
}

// fail records the first error.
func (w *pdfWriter) fail(err error) {
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("letter: render pdf: %w", err)
	}
}

// setFont makes st the current font and colour.
func (w *pdfWriter) setFont(st style) {
	if w.hasFont && w.font == st {
		return
	}
	fontStyle := ""
	if st.bold {
		fontStyle = "B"
	}
	w.fail(w.pdf.SetFont(fontFamily, fontStyle, st.size))
	w.pdf.SetTextColor(st.gray, st.gray, st.gray)
	w.font, w.hasFont = st, true
}

// clean makes s safe to draw: white space becomes a space, invisible
// control and format characters go, and a rune the fonts cannot draw
// (an emoji, say) becomes "?" rather than an empty box or an error.
func (w *pdfWriter) clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return -1
		case w.has(r):
			return r
		default:
			return '?'
		}
	}, s)
}

// has reports whether the fonts have a glyph for r. The regular and bold
// Go fonts cover the same characters, so asking the current one answers
// for both.
func (w *pdfWriter) has(r rune) bool {
	ok, seen := w.supported[r]
	if !seen {
		var err error
		ok, err = w.pdf.IsCurrFontContainGlyph(r)
		ok = ok && err == nil
		w.supported[r] = ok
	}
	return ok
}

// width returns the width of cleaned text s in style st. gopdf does not
// kern, so a string's width is the sum of its runes' advances.
func (w *pdfWriter) width(s string, st style) float64 {
	var sum float64
	for _, r := range s {
		sum += w.runeAdvance(r, st.bold)
	}
	return sum * st.size
}

// runeAdvance returns the advance of r at 1pt, measuring it once.
func (w *pdfWriter) runeAdvance(r rune, bold bool) float64 {
	g := glyph{r, bold}
	if a, ok := w.advance[g]; ok {
		return a
	}
	const size = 1000 // measured large, as gopdf rounds to font units
	prev, hadFont := w.font, w.hasFont
	w.setFont(style{bold: bold, size: size})
	a, err := w.pdf.MeasureTextWidth(string(r))
	w.fail(err)
	if hadFont {
		w.setFont(prev)
	}
	w.advance[g] = a / size
	return w.advance[g]
}

// wrap cleans s and fills its words into lines no wider than width. A
// word wider than a line is broken across lines: unlike e-mail, a page has
// no room to let it run on.
func (w *pdfWriter) wrap(s string, st style, width float64) []string {
	var lines []string
	var line string
	var lineWidth float64
	space := w.width(" ", st)
	for _, word := range strings.Fields(w.clean(s)) {
		for _, part := range w.breakWord(word, st, width) {
			pw := w.width(part, st)
			switch {
			case line == "":
				line, lineWidth = part, pw
			case lineWidth+space+pw <= width:
				line, lineWidth = line+" "+part, lineWidth+space+pw
			default:
				lines = append(lines, line)
				line, lineWidth = part, pw
			}
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// breakWord splits word into pieces no wider than width, each at least
// one rune long so that even an impossibly narrow column makes progress.
func (w *pdfWriter) breakWord(word string, st style, width float64) []string {
	if w.width(word, st) <= width {
		return []string{word}
	}
	var parts []string
	start, partWidth := 0, 0.0
	for i, r := range word {
		rw := w.runeAdvance(r, st.bold) * st.size
		if i > start && partWidth+rw > width {
			parts = append(parts, word[start:i])
			start, partWidth = i, 0
		}
		partWidth += rw
	}
	return append(parts, word[start:])
}
