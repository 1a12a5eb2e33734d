// Package chart draws small, self-contained SVG charts on the server for the
// coordinator dashboard ("capture volume and flags over time").
//
// The output is meant to be embedded inline in HTML pages served with a strict
// Content-Security-Policy (style-src 'self', script-src 'none'): it uses only
// SVG presentation attributes (fill, stroke, font-size, ...), never a style
// attribute, a <style> element, a <script> element or an external reference.
// Every piece of text that comes from the caller is XML-escaped, so labels and
// titles taken from user data (account handles, etc.) come out inert.
//
// Output is deterministic: the same Chart always renders to the same bytes.
package chart

import (
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Point is one x position of a chart: one bar group or one line vertex.
type Point struct {
	Label string // e.g. "2026-11-03"
	Value float64
}

// Series is one named sequence of points. All series of a chart share the
// same labels in the same order; labels are taken from the first series that
// has a point at a given position.
type Series struct {
	Name   string
	Points []Point
}

// Chart describes what to draw.
type Chart struct {
	Title  string   // becomes <title> (accessible name) and a visible heading in the SVG
	Desc   string   // <desc>: a sentence summarising the data for screen readers; generated when empty
	YLabel string   // e.g. "items captured"
	Series []Series // 1..4 series; bars grouped per label (Bars) or lines (Lines)

	Width, Height int // default 640x240
}

const (
	defaultWidth  = 640
	defaultHeight = 240
	minWidth      = 160
	minHeight     = 120

	// maxValue caps values so that axis arithmetic can never overflow.
	maxValue = 1e300

	fontSize      = 11
	titleFontSize = 14
	charWidth     = 6.6 // rough advance of one character at fontSize

	maxTicks       = 5  // including 0
	maxXLabels     = 12 // at most this many x labels are shown
	maxLabelRunes  = 16 // x axis labels
	maxLegendRunes = 20 // legend entries
	maxTipRunes    = 120
	maxTitleRunes  = 200

	textColor = "#222222"
	axisColor = "#444444"
	gridColor = "#dddddd"
)

// palette is the Okabe–Ito colour-blind safe palette, without its yellow
// (too little contrast on white). The first four are used for the 1..4
// series the dashboard draws; further series cycle.
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"}

// dashes distinguish lines without relying on colour alone.
var dashes = []string{"", "6 3", "2 3", "8 3 2 3"}

type kind int

const (
	barKind kind = iota
	lineKind
)

// Bars renders c as a grouped bar chart: one group per label, one bar per
// series in each group.
func Bars(c Chart) template.HTML { return template.HTML(render(c, barKind)) }

// Lines renders c as a line chart with a marker at every point.
func Lines(c Chart) template.HTML { return template.HTML(render(c, lineKind)) }

// series is a cleaned copy of a Series.
type series struct {
	name   string
	values []float64
}

func render(c Chart, k kind) string {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = defaultWidth
	}
	if h <= 0 {
		h = defaultHeight
	}
	w, h = max(w, minWidth), max(h, minHeight)

	title := strings.TrimSpace(c.Title)
	if title == "" {
		title = "Chart"
	}

	// Clean the input: names, values, shared labels.
	var ss []series
	var labels []string
	for i, s := range c.Series {
		name := strings.TrimSpace(s.Name)
		if name == "" {
			name = "Series " + strconv.Itoa(i+1)
		}
		vs := make([]float64, len(s.Points))
		for j, p := range s.Points {
			vs[j] = clean(p.Value)
			if j >= len(labels) {
				labels = append(labels, p.Label)
			}
		}
		ss = append(ss, series{name: name, values: vs})
	}
	n := len(labels)

	id := chartID(c, k, w, h)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-title" aria-describedby="%s-desc" class="chart %s" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="%d" fill="%s">`,
		w, h, w, h, id, id, kindName(k), fontSize, textColor)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`, id, esc(truncate(title, maxTitleRunes)))

	desc := strings.TrimSpace(c.Desc)
	if desc == "" {
		desc = describe(k, ss, labels)
	}
	fmt.Fprintf(&b, `<desc id="%s-desc">%s</desc>`, id, esc(truncate(desc, 4*maxTitleRunes)))
	fmt.Fprintf(&b, `<text class="heading" x="10" y="18" font-size="%d" font-weight="bold">%s</text>`,
		titleFontSize, esc(truncate(title, int(float64(w-20)/(charWidth*titleFontSize/fontSize)))))

	if n == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%s" y="%s" text-anchor="middle" fill="#555555">No data yet</text>`,
			num(float64(w)/2), num(float64(h)/2+4))
		b.WriteString(`</svg>`)
		return b.String()
	}

	// Y scale.
	var top float64
	for _, s := range ss {
		for _, v := range s.values {
			top = max(top, v)
		}
	}
	ticks := niceTicks(top)
	axisMax := ticks[len(ticks)-1]
	tickLabels := make([]string, len(ticks))
	tickW := 0.0
	for i, t := range ticks {
		tickLabels[i] = tickLabel(t)
		tickW = max(tickW, float64(utf8.RuneCountInString(tickLabels[i]))*charWidth)
	}

	// Legend rows (only with more than one series).
	type legendItem struct {
		x, row int
		text   string
	}
	var legend []legendItem
	legendRows := 0
	if len(ss) > 1 {
		x, row := 10, 0
		for _, s := range ss {
			text := truncate(s.name, maxLegendRunes)
			iw := 18 + int(math.Ceil(float64(utf8.RuneCountInString(text))*charWidth)) + 14
			if x > 10 && x+iw > w-10 {
				x, row = 10, row+1
			}
			legend = append(legend, legendItem{x: x, row: row, text: text})
			x += iw
		}
		legendRows = row + 1
	}

	// Margins (integers, so the plot area is exact).
	plotTop := 30
	if legendRows > 0 {
		plotTop = 26 + 16*legendRows + 8
	}
	left := 8 + int(math.Ceil(tickW)) + 6
	if strings.TrimSpace(c.YLabel) != "" {
		left += 16
	}
	const right, bottom = 12, 22
	plotW := w - left - right
	plotH := h - plotTop - bottom
	if plotW < 20 || plotH < 20 {
		// Degenerate size (lots of legend rows in a tiny chart): squeeze the
		// legend out of the way rather than drawing upside down.
		plotTop, legend, legendRows = 30, nil, 0
		plotW, plotH = max(w-left-right, 20), max(h-plotTop-bottom, 20)
	}
	plotBottom := plotTop + plotH
	plotRight := left + plotW
	slot := float64(plotW) / float64(n)

	// heightOf maps a value to its bar height, rounded like every coordinate.
	baseline := float64(plotBottom)
	heightOf := func(v float64) float64 { return round1(float64(plotH) * v / axisMax) }

	// Legend.
	for i, it := range legend {
		y := 26 + 16*it.row
		col := palette[i%len(palette)]
		if k == barKind {
			fmt.Fprintf(&b, `<rect class="legend-key" x="%d" y="%d" width="12" height="12" fill="%s"/>`, it.x, y, col)
		} else {
			fmt.Fprintf(&b, `<line class="legend-key" x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`,
				it.x, y+6, it.x+14, y+6, col, dashAttr(i))
		}
		fmt.Fprintf(&b, `<text class="legend" x="%d" y="%d">%s</text>`, it.x+18, y+10, esc(it.text))
	}

	// Grid lines and y ticks.
	for i, t := range ticks {
		y := round1(baseline - heightOf(t))
		if i > 0 {
			fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s" stroke-width="1"/>`,
				left, num(y), plotRight, num(y), gridColor)
		}
		fmt.Fprintf(&b, `<text class="ytick" x="%d" y="%s" text-anchor="end" data-value="%s">%s</text>`,
			left-6, num(y+4), num(t), esc(tickLabels[i]))
	}
	if yl := strings.TrimSpace(c.YLabel); yl != "" {
		cy := float64(plotTop) + float64(plotH)/2
		fmt.Fprintf(&b, `<text class="ylabel" transform="translate(14 %s) rotate(-90)" text-anchor="middle">%s</text>`,
			num(cy), esc(truncate(yl, max(int(float64(plotH)/charWidth), 4))))
	}

	// X labels, thinned so they never overlap.
	longest := 0
	short := make([]string, n)
	for i, l := range labels {
		short[i] = truncate(strings.TrimSpace(l), maxLabelRunes)
		longest = max(longest, utf8.RuneCountInString(short[i]))
	}
	step := thinStep(n, slot, float64(longest)*charWidth, float64(left), float64(right))
	for i := 0; i < n; i += step {
		lw := float64(utf8.RuneCountInString(short[i])) * charWidth
		cx := float64(left) + (float64(i)+0.5)*slot
		cx = min(max(cx, lw/2+2), float64(w)-lw/2-2)
		fmt.Fprintf(&b, `<text class="xlabel" x="%s" y="%d" text-anchor="middle">%s</text>`,
			num(cx), plotBottom+15, esc(short[i]))
	}

	// Data.
	tip := func(s series, i int) string {
		return esc(truncate(s.name, maxTipRunes) + " — " + truncate(labels[i], maxTipRunes) + ": " + valueLabel(s.values[i]))
	}
	switch k {
	case barKind:
		inner := slot * 0.8
		bw := inner / float64(len(ss))
		for si, s := range ss {
			col := palette[si%len(palette)]
			for i := range s.values {
				x := round1(float64(left) + float64(i)*slot + slot*0.1 + float64(si)*bw)
				bh := heightOf(s.values[i])
				fmt.Fprintf(&b, `<rect class="bar" data-series="%d" data-index="%d" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`,
					si, i, num(x), num(round1(baseline-bh)), num(round1(bw)), num(bh), col, tip(s, i))
			}
		}
	case lineKind:
		r := 3.0
		if slot < 8 {
			r = 2
		}
		for si, s := range ss {
			col := palette[si%len(palette)]
			pts := make([]string, len(s.values))
			for i, v := range s.values {
				pts[i] = num(round1(float64(left)+(float64(i)+0.5)*slot)) + "," + num(round1(baseline-heightOf(v)))
			}
			if len(pts) > 1 {
				fmt.Fprintf(&b, `<polyline class="line" data-series="%d" points="%s" fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round"%s/>`,
					si, strings.Join(pts, " "), col, dashAttr(si))
			}
			for i, p := range pts {
				x, y, _ := strings.Cut(p, ",")
				fmt.Fprintf(&b, `<circle class="point" data-series="%d" data-index="%d" cx="%s" cy="%s" r="%s" fill="%s"><title>%s</title></circle>`,
					si, i, x, y, num(r), col, tip(s, i))
			}
		}
	}

	// Axes last, so they sit on top of the bars.
	fmt.Fprintf(&b, `<line class="axis x" x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1"/>`,
		left, plotBottom, plotRight, plotBottom, axisColor)
	fmt.Fprintf(&b, `<line class="axis y" x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1"/>`,
		left, plotTop, left, plotBottom, axisColor)
	b.WriteString(`</svg>`)
	return b.String()
}

func kindName(k kind) string {
	if k == barKind {
		return "chart-bars"
	}
	return "chart-lines"
}

func dashAttr(i int) string {
	if d := dashes[i%len(dashes)]; d != "" {
		return ` stroke-dasharray="` + d + `"`
	}
	return ""
}

// clean makes a value drawable: NaN and ±Inf become 0, negatives are clamped
// to 0 and huge values are capped so axis arithmetic cannot overflow.
func clean(v float64) float64 {
	switch {
	case math.IsNaN(v), math.IsInf(v, 0), v < 0:
		return 0
	case v > maxValue:
		return maxValue
	}
	return v
}

// niceTicks returns 3..5 ticks 0, s, 2s, ... with s = 1, 2 or 5 × 10^k, the
// last one at or above top. A top of 0 gives the axis 0..1.
func niceTicks(top float64) []float64 {
	if !(top > 0) {
		top = 1
	}
	e := int(math.Floor(math.Log10(top)))
	// Start a decade below, where the count is ≥ 10, and take the first step
	// that needs at most maxTicks-1 intervals. Since consecutive steps differ
	// by at most 2.5×, that step needs at least 2 intervals (3 ticks).
	for exp := e - 1; ; exp++ {
		for _, d := range []int64{1, 2, 5} {
			s := pow10(float64(d), exp)
			cnt := math.Ceil(top/s - 1e-9)
			if cnt <= maxTicks-1 {
				ticks := make([]float64, int(cnt)+1)
				for i := range ticks {
					ticks[i] = pow10(float64(int64(i)*d), exp)
				}
				return ticks
			}
		}
	}
}

// pow10 returns m × 10^exp, dividing for negative exponents so that decimal
// fractions come out as the nearest float (0.3, not 0.30000000000000004).
func pow10(m float64, exp int) float64 {
	if exp >= 0 {
		return m * math.Pow10(exp)
	}
	return m / math.Pow10(-exp)
}

// thinStep returns k such that showing every k-th of n labels gives at most
// maxXLabels labels and no two shown labels overlap. labelW is the widest
// label; leftM and rightM are the plot margins, into which the outermost
// labels may not fit (they are then pushed inwards, which the spacing allows
// for).
func thinStep(n int, slot, labelW, leftM, rightM float64) int {
	k := (n + maxXLabels - 1) / maxXLabels
	shift := max(0, labelW/2+2-(leftM+slot/2), labelW/2+2-(rightM+slot/2))
	need := labelW + 6 + shift
	if slot > 0 {
		k = max(k, int(math.Ceil(need/slot)))
	}
	return max(k, 1)
}

// describe produces a default <desc> sentence.
func describe(k kind, ss []series, labels []string) string {
	if len(labels) == 0 {
		return "No data yet."
	}
	what := "Bar chart"
	if k == lineKind {
		what = "Line chart"
	}
	var b strings.Builder
	b.WriteString(what)
	b.WriteString(" of ")
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = truncate(s.name, maxLegendRunes)
	}
	b.WriteString(strings.Join(names, ", "))
	if len(labels) == 1 {
		fmt.Fprintf(&b, " for %s.", truncate(labels[0], maxTipRunes))
	} else {
		fmt.Fprintf(&b, " over %d points from %s to %s.", len(labels),
			truncate(labels[0], maxTipRunes), truncate(labels[len(labels)-1], maxTipRunes))
	}
	best, bs, bi := -1.0, 0, 0
	for si, s := range ss {
		for i, v := range s.values {
			if v > best {
				best, bs, bi = v, si, i
			}
		}
	}
	if best >= 0 {
		fmt.Fprintf(&b, " Highest: %s (%s, %s).", valueLabel(best), names[bs], truncate(labels[bi], maxTipRunes))
	}
	return b.String()
}

// chartID derives a deterministic id from the chart's content, so that
// several charts on one page get distinct <title>/<desc> ids without a
// counter.
func chartID(c Chart, k kind, w, h int) string {
	f := fnv.New64a()
	var buf [8]byte
	str := func(s string) {
		binary.LittleEndian.PutUint64(buf[:], uint64(len(s)))
		f.Write(buf[:])
		f.Write([]byte(s))
	}
	u64 := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		f.Write(buf[:])
	}
	u64(uint64(k))
	u64(uint64(w))
	u64(uint64(h))
	str(c.Title)
	str(c.Desc)
	str(c.YLabel)
	for _, s := range c.Series {
		str(s.Name)
		u64(uint64(len(s.Points)))
		for _, p := range s.Points {
			str(p.Label)
			u64(math.Float64bits(p.Value))
		}
	}
	return fmt.Sprintf("chart-%016x", f.Sum64())
}

// esc escapes s for use in XML text and attribute values. Characters that
// are not allowed in XML become U+FFFD.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // strings.Builder never fails
	return b.String()
}

// truncate shortens s to at most n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	if n < 1 {
		n = 1
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// round1 rounds to one decimal, the precision of all coordinates.
func round1(v float64) float64 { return math.Round(v*10) / 10 }

// num formats a coordinate compactly ("12", "12.5").
func num(v float64) string {
	if v == 0 {
		return "0" // also turns -0 into 0
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// valueLabel formats a data value for tooltips: at most two decimals.
func valueLabel(v float64) string {
	if math.Abs(v) < 1e15 {
		v = math.Round(v*100) / 100
	}
	return num(v)
}

// tickLabel formats a tick value compactly: 0.5, 40, 1500, 20k, 1.5M.
func tickLabel(v float64) string {
	switch {
	case v >= 1e15:
		return strconv.FormatFloat(v, 'g', 3, 64)
	case v >= 1e6:
		return num(v/1e6) + "M"
	case v >= 1e4:
		return num(v/1e3) + "k"
	case v != 0 && v < 1e-4:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return num(v)
}
