package letter

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/ledongthuc/pdf"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
)

func TestPDFContainsTheLetter(t *testing.T) {
	l := sampleLetter()
	pages := MustPDFPages(t, MustPDF(t, l))
	if len(pages) != 1 {
		t.Fatalf("got %d pages, want 1", len(pages))
	}
	got := flat(pages[0])
	want := []string{l.Entity, l.Title, "Reference: " + l.Reference, "March 5, 2026", l.Salutation, l.Closing, "GRAMA-2026-000123 — page 1 of 1"}
	want = append(want, l.EntityAddress...)
	want = append(want, l.To...)
	want = append(want, l.Signature...)
	for _, s := range l.Sections {
		want = append(want, s.Heading)
		want = append(want, s.Paragraphs...)
		want = append(want, s.Items...)
	}
	for _, w := range want {
		if !strings.Contains(got, flat(w)) {
			t.Errorf("PDF text lacks %q; text:\n%s", w, pages[0])
		}
	}
}

func TestPDFMetadataTitle(t *testing.T) {
	l := sampleLetter()
	l.Title = "Notice — décision 🚫"
	b := MustPDF(t, l)
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	info := r.Trailer().Key("Info")
	if got, want := info.Key("Title").Text(), "Notice — décision ?"; got != want {
		t.Errorf("Title = %q, want %q", got, want)
	}
	if got, want := info.Key("Subject").Text(), l.Reference; got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
}

func TestPDFPaginates(t *testing.T) {
	l := longLetter(15)
	pages := MustPDFPages(t, MustPDF(t, l))
	if len(pages) < 3 {
		t.Fatalf("got %d pages, want 3 or more", len(pages))
	}
	for i, p := range pages {
		footer := fmt.Sprintf("GRAMA-2026-000123 — page %d of %d", i+1, len(pages))
		if !strings.HasSuffix(strings.TrimSpace(p), footer) {
			t.Errorf("page %d does not end with footer %q:\n…%s", i+1, footer, p[max(0, len(p)-200):])
		}
	}
	all := flat(strings.Join(pages, "\n"))
	for _, s := range l.Sections {
		for _, p := range s.Paragraphs {
			// A paragraph may cross a page break, and with it the footer.
			for _, word := range strings.Fields(p) {
				if !strings.Contains(all, word) {
					t.Fatalf("word %q of %q missing", word, s.Heading)
				}
			}
		}
		if !strings.Contains(all, s.Items[0]) {
			t.Errorf("item %q missing", s.Items[0])
		}
	}
	if last := pages[len(pages)-1]; !strings.Contains(last, "Sincerely,") || !strings.Contains(last, "Lisa Smith") {
		t.Errorf("closing and signature not together on the last page:\n%s", last)
	}
}

func TestPDFWithoutReferenceNumbersPages(t *testing.T) {
	l := longLetter(15)
	l.Reference = ""
	pages := MustPDFPages(t, MustPDF(t, l))
	for i, p := range pages {
		if want := fmt.Sprintf("Page %d of %d", i+1, len(pages)); !strings.HasSuffix(strings.TrimSpace(p), want) {
			t.Errorf("page %d lacks %q", i+1, want)
		}
	}
}

func TestPDFUnicodeRoundTrips(t *testing.T) {
	l := sampleLetter()
	l.Salutation = "Estimada señora Muñoz:"
	l.Sections = []Section{{
		Heading:    "Décision",
		Paragraphs: []string{"Le café est fermé. Уважаемая госпожа Иванова, ваш запрос получен. Ελληνικά γράμματα."},
		Items:      []string{"Ärger über Straße — “quoted” €12"},
	}}
	got := flat(strings.Join(MustPDFPages(t, MustPDF(t, l)), "\n"))
	for _, want := range []string{l.Salutation, "Décision", l.Sections[0].Paragraphs[0], l.Sections[0].Items[0]} {
		if !strings.Contains(got, want) {
			t.Errorf("PDF text lacks %q; text:\n%s", want, got)
		}
	}
}

func TestPDFReplacesWhatTheFontLacks(t *testing.T) {
	l := sampleLetter()
	l.Title = "Records 📄 ready 🎉"
	l.Sections = []Section{{Paragraphs: []string{"Tab\there, nul\x00, zero\u200bwidth, invalid \xff byte, 日本."}}}
	got := flat(strings.Join(MustPDFPages(t, MustPDF(t, l)), "\n"))
	for _, want := range []string{"Records ? ready ?", "Tab here, nul, zerowidth, invalid \uFFFD byte, ??."} {
		if !strings.Contains(got, want) {
			t.Errorf("PDF text lacks %q; text:\n%s", want, got)
		}
	}
}

func TestPDFTable(t *testing.T) {
	l := sampleLetter()
	b := MustPDF(t, l)
	got := flat(MustPDFPages(t, b)[0])
	for _, want := range []string{"Item Quantity Amount", "Paper copies 40 $10.00", "Staff time (first 15 minutes free) 1.5 h $45.00", "Total $55.00"} {
		if !strings.Contains(got, want) {
			t.Errorf("PDF text lacks row %q; text:\n%s", want, got)
		}
	}
	// Right-aligned amounts share a right edge.
	edges := map[string]float64{}
	for _, r := range MustPDFRuns(t, b)[0] {
		if strings.HasPrefix(r.S, "$") {
			edges[r.S] = r.X + runWidth(t, r)
		}
	}
	if len(edges) != 3 {
		t.Fatalf("found amounts %v, want 3", edges)
	}
	for s, edge := range edges {
		if math.Abs(edge-edges["$55.00"]) > 0.01 {
			t.Errorf("%s ends at %.2f, $55.00 at %.2f", s, edge, edges["$55.00"])
		}
	}
}

// TestPDFStaysInMargins draws awkward content — an unbreakable word, a
// table too wide for the page, a cell taller than a page — and checks
// that every line of text stays inside the 1-inch margins.
func TestPDFStaysInMargins(t *testing.T) {
	l := longLetter(4)
	long := strings.Repeat("abcdefghij", 60)
	l.Title = long
	l.Sections[0].Paragraphs = append(l.Sections[0].Paragraphs, long)
	l.Sections[1].Table = &Table{
		Header:     []string{"Description", "Pages", "Amount", strings.Repeat("wide ", 40)},
		Rows:       [][]string{{long, "12", "$3.00", strings.Repeat("tall cell ", 700)}},
		RightAlign: []int{1, 2},
		Footer:     []string{"Total", "12", "$3.00"},
	}
	b := MustPDF(t, l)
	for i, runs := range MustPDFRuns(t, b) {
		for _, r := range runs {
			if r.Y <= margin/2 { // the footer, in the bottom margin by design
				continue
			}
			if right := r.X + runWidth(t, r); r.X < margin-0.01 || right > pageWidth-margin+0.01 {
				t.Errorf("page %d: %q runs from x=%.2f to %.2f", i+1, r.S, r.X, right)
			}
			if r.Y < margin || r.Y > pageHeight-margin {
				t.Errorf("page %d: %q has its baseline at y=%.2f", i+1, r.S, r.Y)
			}
		}
	}
}

// TestPDFIsDeterministic: the same letter gives the same bytes, so a
// stored letter's checksum can be verified by rendering it again.
func TestPDFIsDeterministic(t *testing.T) {
	a, b := MustPDF(t, longLetter(8)), MustPDF(t, longLetter(8))
	if !bytes.Equal(a, b) {
		t.Error("two renderings of one letter differ")
	}
}

func TestPDFIsSafeForConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := sampleLetter().PDF(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestShareWidth(t *testing.T) {
	tests := []struct {
		want  []float64
		total float64
		out   []float64
	}{
		{[]float64{10, 10}, 100, []float64{10, 10}},
		{[]float64{10, 200, 400}, 110, []float64{10, 50, 50}},
		{[]float64{30, 60, 1000}, 120, []float64{30, 45, 45}},
		{[]float64{100, 100}, 50, []float64{25, 25}},
	}
	for _, tt := range tests {
		got := shareWidth(tt.want, tt.total)
		if fmt.Sprint(got) != fmt.Sprint(tt.out) {
			t.Errorf("shareWidth(%v, %v) = %v, want %v", tt.want, tt.total, got, tt.out)
		}
	}
}

// runWidth measures r with the Go font it was set in. gopdf numbers its
// fonts in the order they were added: F1 regular, F2 bold.
func runWidth(tb testing.TB, r run) float64 {
	tb.Helper()
	ttf := goregular.TTF
	if r.Font == "F2" {
		ttf = gobold.TTF
	}
	f, err := opentype.Parse(ttf)
	if err != nil {
		tb.Fatal(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: r.Size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		tb.Fatal(err)
	}
	defer face.Close()
	return float64(font.MeasureString(face, r.S)) / 64
}

func FuzzPDF(f *testing.F) {
	f.Add("Notice", "GRAMA-2026-000123", "Dear Jane Doe:", "A paragraph.", "$1.00")
	f.Add("<script>alert(1)</script>", "", "\x00\t\n", "📄🎉 emoji", "日本語")
	f.Add(strings.Repeat("x", 700), "é ñ Ж", "\xff\xfe", strings.Repeat("word ", 900), "")
	f.Fuzz(func(t *testing.T, title, ref, salutation, text, cellText string) {
		l := Letter{
			Entity: title, EntityAddress: []string{ref}, Title: title, Reference: ref,
			To: []string{salutation, text}, Salutation: salutation, Closing: cellText,
			Signature: []string{salutation, ref},
			Sections: []Section{{
				Heading: title, Paragraphs: []string{text, salutation}, Items: []string{text, cellText},
				Table: &Table{
					Header: []string{title, cellText}, Rows: [][]string{{text, cellText, ref}, {cellText}},
					RightAlign: []int{1, -1, 7}, Footer: []string{salutation},
				},
			}},
		}
		b, err := l.PDF()
		if err != nil {
			if b != nil {
				t.Errorf("PDF returned %d bytes with error %v", len(b), err)
			}
			if !strings.HasPrefix(err.Error(), "letter: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			return
		}
		if !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Fatalf("output does not start with %%PDF-: %q", b[:min(len(b), 16)])
		}
		if _, err := pdf.NewReader(bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatalf("output does not parse as a PDF: %v", err)
		}
	})
}

func BenchmarkPDF(b *testing.B) {
	for _, bm := range []struct {
		name   string
		letter Letter
	}{{"one page", sampleLetter()}, {"five pages", longLetter(20)}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bm.letter.PDF(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
