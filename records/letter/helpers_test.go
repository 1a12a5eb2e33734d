package letter

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"
)

// sampleLetter returns a one-page denial letter with a fee table.
func sampleLetter() Letter {
	return Letter{
		Entity:        "Clinton City",
		EntityAddress: []string{"2267 North 1500 West", "Clinton, Utah 84015"},
		Title:         "Notice of Denial of Records Request",
		Reference:     "GRAMA-2026-000123",
		Date:          time.Date(2026, time.March, 5, 0, 0, 0, 0, time.UTC),
		To:            []string{"Jane Doe", "123 Main Street", "Clinton, Utah 84015"},
		Salutation:    "Dear Jane Doe:",
		Sections: []Section{
			{
				Paragraphs: []string{
					"The city received your request for records on February 20, 2026. This letter is the city's response under the Government Records Access and Management Act.",
				},
			},
			{
				Heading:    "Records withheld",
				Paragraphs: []string{"The following records are protected and will not be released."},
				Items: []string{
					"Personnel file of an employee, protected under Utah Code 63G-2-302(2)(a).",
					"Draft budget memoranda, protected under Utah Code 63G-2-305(22).",
				},
			},
			{
				Heading:    "Fee estimate",
				Paragraphs: []string{"Copies of the records that can be released cost as follows."},
				Table: &Table{
					Header:     []string{"Item", "Quantity", "Amount"},
					Rows:       [][]string{{"Paper copies", "40", "$10.00"}, {"Staff time (first 15 minutes free)", "1.5 h", "$45.00"}},
					RightAlign: []int{1, 2},
					Footer:     []string{"Total", "", "$55.00"},
				},
			},
			{
				Heading:    "Your right to appeal",
				Paragraphs: []string{"You may appeal this denial to the chief administrative officer within 30 days of the date of this letter."},
			},
		},
		Closing:   "Sincerely,",
		Signature: []string{"Lisa Smith", "City Recorder", "Clinton City"},
	}
}

// longLetter returns a letter with the given number of long sections,
// enough for several pages.
func longLetter(sections int) Letter {
	l := sampleLetter()
	l.Sections = nil
	for i := range sections {
		l.Sections = append(l.Sections, Section{
			Heading: fmt.Sprintf("Part %d", i+1),
			Paragraphs: []string{
				fmt.Sprintf("Paragraph %d begins here. ", i+1) + strings.Repeat("The records custodian searched the archive and the shared drives for responsive documents. ", 6),
			},
			Items: []string{fmt.Sprintf("Finding %d of the search.", i+1)},
		})
	}
	return l
}

// MustPDF renders l as a PDF or fails the test.
func MustPDF(tb testing.TB, l Letter) []byte {
	tb.Helper()
	b, err := l.PDF()
	if err != nil {
		tb.Fatalf("PDF: %v", err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		tb.Fatalf("PDF does not start with %%PDF-: %q", b[:min(len(b), 16)])
	}
	return b
}

// MustPDFPages extracts the text of each page of a PDF.
func MustPDFPages(tb testing.TB, b []byte) []string {
	tb.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatalf("read PDF: %v", err)
	}
	pages := make([]string, r.NumPage())
	for i := range pages {
		text, err := r.Page(i + 1).GetPlainText(nil)
		if err != nil {
			tb.Fatalf("page %d text: %v", i+1, err)
		}
		pages[i] = text
	}
	return pages
}

// flat collapses white space so that text a PDF broke across lines can be
// compared with the paragraph it came from.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// run is one piece of text a PDF page shows: its baseline origin in
// points from the bottom-left corner, its font resource and size.
type run struct {
	X, Y, Size float64
	Font, S    string
}

// MustPDFRuns reads where each piece of text sits on each page. gopdf
// positions every text object with one TD, which the extraction library's
// own layout functions do not follow, so this walks the operators itself.
func MustPDFRuns(tb testing.TB, b []byte) [][]run {
	tb.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatalf("read PDF: %v", err)
	}
	pages := make([][]run, r.NumPage())
	for i := range pages {
		page := r.Page(i + 1)
		var cur run
		var enc pdf.TextEncoding
		pdf.Interpret(page.V.Key("Contents"), func(stk *pdf.Stack, op string) {
			args := make([]pdf.Value, stk.Len())
			for j := len(args) - 1; j >= 0; j-- {
				args[j] = stk.Pop()
			}
			switch {
			case op == "TD" && len(args) == 2:
				cur.X, cur.Y = args[0].Float64(), args[1].Float64()
			case op == "Tf" && len(args) == 2:
				cur.Font, cur.Size = args[0].Name(), args[1].Float64()
				font := page.Font(cur.Font)
				enc = font.Encoder()
			case op == "TJ" && len(args) == 1 && enc != nil:
				var s strings.Builder
				for j := range args[0].Len() {
					if v := args[0].Index(j); v.Kind() == pdf.String {
						s.WriteString(enc.Decode(v.RawString()))
					}
				}
				cur.S = s.String()
				pages[i] = append(pages[i], cur)
			}
		})
	}
	return pages
}
