package letter

import (
	"fmt"

	"github.com/signintech/gopdf"
)

// Vertical space between blocks, in points.
const (
	blockGap     = 14.0 // between the letter's blocks (date, address, …)
	paragraphGap = 7.0  // after a paragraph
	signatureGap = 36.0 // room to sign between the closing and the name
)

// PDF renders the letter as a US Letter PDF with 1-inch margins and the Go
// fonts embedded. Paragraphs wrap, long letters break across pages, and
// every page ends with "Reference — page N of M". Characters the fonts
// lack, such as emoji, print as "?".
func (l Letter) PDF() ([]byte, error) {
	w, err := newPDFWriter()
	if err != nil {
		return nil, err
	}
	w.pdf.SetInfo(gopdf.PdfInfo{
		// clean also keeps runes outside the Basic Multilingual Plane out
		// of the metadata, which gopdf would encode as invalid UTF-16.
		Title:    w.clean(collapse(l.Title)),
		Subject:  w.clean(collapse(l.Reference)),
		Author:   w.clean(collapse(l.Entity)),
		Creator:  "civicarchive",
		Producer: "civicarchive (gopdf)",
	})
	l.pdfHeading(w)
	for _, s := range l.Sections {
		pdfSection(w, s)
	}
	l.pdfSignature(w)
	w.footers(l.Reference)
	if w.err != nil {
		return nil, w.err
	}
	b, err := w.pdf.GetBytesPdfReturnErr()
	if err != nil {
		return nil, fmt.Errorf("letter: write pdf: %w", err)
	}
	return b, nil
}

// pdfHeading writes everything above the body: letterhead, date,
// recipient, subject and salutation.
func (l Letter) pdfHeading(w *pdfWriter) {
	w.paragraph(margin, l.Entity, entityStyle)
	for _, line := range l.EntityAddress {
		w.paragraph(margin, line, addressStyle)
	}
	w.y += 4
	w.rule(margin, contentWidth, 0.75, 0x44)
	w.y += blockGap + 4
	if date := l.dateText(); date != "" {
		w.paragraph(margin, date, bodyStyle)
		w.gap(blockGap)
	}
	for _, line := range l.To {
		w.paragraph(margin, line, bodyStyle)
	}
	w.gap(blockGap)
	w.paragraph(margin, l.Title, titleStyle)
	if collapse(l.Reference) != "" {
		w.paragraph(margin, "Reference: "+l.Reference, bodyStyle)
	}
	w.gap(blockGap)
	w.paragraph(margin, l.Salutation, bodyStyle)
	w.gap(paragraphGap)
}

// pdfSection writes one body section. Its heading is kept on the same
// page as the line that follows it.
func pdfSection(w *pdfWriter, s Section) {
	if heading := w.wrap(s.Heading, headingStyle, contentWidth); len(heading) > 0 {
		w.gap(paragraphGap)
		if h := float64(len(heading))*headingStyle.lead + bodyStyle.lead; fits(h) {
			w.ensure(h)
		}
		w.lines(margin, heading, headingStyle)
		w.y += 2
	}
	for _, p := range s.Paragraphs {
		w.paragraph(margin, p, bodyStyle)
		w.gap(paragraphGap)
	}
	w.bullets(s.Items, bodyStyle)
	if len(s.Items) > 0 {
		w.gap(paragraphGap)
	}
	if s.Table != nil {
		w.table(s.Table)
		w.gap(paragraphGap)
	}
}

// pdfSignature writes the closing and the signature block, kept together
// on one page so the name is never parted from the closing above it.
func (l Letter) pdfSignature(w *pdfWriter) {
	closing := w.wrap(l.Closing, bodyStyle, contentWidth)
	var signature [][]string
	lines := len(closing)
	for _, s := range l.Signature {
		wrapped := w.wrap(s, bodyStyle, contentWidth)
		signature = append(signature, wrapped)
		lines += len(wrapped)
	}
	w.gap(paragraphGap)
	if h := float64(lines)*bodyStyle.lead + signatureGap; fits(h) {
		w.ensure(h)
	}
	w.lines(margin, closing, bodyStyle)
	w.gap(signatureGap)
	for i, s := range signature {
		st := bodyStyle
		if i == 0 {
			st = strongStyle
		}
		w.lines(margin, s, st)
	}
}
