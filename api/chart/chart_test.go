package chart

import (
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// node is a generic XML element, enough to inspect the SVG without golden files.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []node     `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n node) num(t *testing.T, name string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.attr(name), 64)
	if err != nil {
		t.Fatalf("<%s> attribute %s=%q: %v", n.XMLName.Local, name, n.attr(name), err)
	}
	return v
}

func (n node) hasClass(c string) bool {
	for _, f := range strings.Fields(n.attr("class")) {
		if f == c {
			return true
		}
	}
	return false
}

// all returns every element (depth first) with the given local name and,
// if class is non-empty, that class.
func (n node) all(name, class string) []node {
	var out []node
	var walk func(node)
	walk = func(x node) {
		if x.XMLName.Local == name && (class == "" || x.hasClass(class)) {
			out = append(out, x)
		}
		for _, c := range x.Nodes {
			walk(c)
		}
	}
	walk(n)
	return out
}

func (n node) child(name string) (node, bool) {
	for _, c := range n.Nodes {
		if c.XMLName.Local == name {
			return c, true
		}
	}
	return node{}, false
}

// parse checks that out is well-formed XML with an <svg> root and returns it.
func parse(t *testing.T, out template.HTML) node {
	t.Helper()
	s := string(out)
	// Well-formedness, token by token (strict mode).
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
	}
	var root node
	if err := xml.Unmarshal([]byte(s), &root); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if root.XMLName.Local != "svg" || root.XMLName.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("root = %v, want svg in the SVG namespace", root.XMLName)
	}
	return root
}

func days(n int, f func(i int) float64) []Point {
	ps := make([]Point, n)
	for i := range ps {
		ps[i] = Point{Label: fmt.Sprintf("2026-11-%02d", i%30+1), Value: f(i)}
	}
	return ps
}

func sample() Chart {
	return Chart{
		Title:  "Captures per day",
		YLabel: "items captured",
		Series: []Series{
			{Name: "captured", Points: days(7, func(i int) float64 { return float64(10 * (i + 1)) })},
			{Name: "flagged", Points: days(7, func(i int) float64 { return float64(i) })},
			{Name: "withdrawn", Points: days(7, func(i int) float64 { return 0.5 })},
		},
	}
}

func TestStructureAndAccessibility(t *testing.T) {
	for name, render := range map[string]func(Chart) template.HTML{"bars": Bars, "lines": Lines} {
		t.Run(name, func(t *testing.T) {
			root := parse(t, render(sample()))
			if got := root.attr("viewBox"); got != "0 0 640 240" {
				t.Errorf("viewBox = %q, want default 0 0 640 240", got)
			}
			if root.attr("role") != "img" {
				t.Errorf("role = %q", root.attr("role"))
			}
			title, ok := root.child("title")
			if !ok || title.Text != "Captures per day" {
				t.Fatalf("<title> = %+v", title)
			}
			desc, ok := root.child("desc")
			if !ok || !strings.Contains(desc.Text, "captured") || !strings.Contains(desc.Text, "70") {
				t.Errorf("generated <desc> = %q", desc.Text)
			}
			if root.attr("aria-labelledby") != title.attr("id") || title.attr("id") == "" {
				t.Errorf("aria-labelledby %q does not reference title id %q", root.attr("aria-labelledby"), title.attr("id"))
			}
			if root.attr("aria-describedby") != desc.attr("id") || desc.attr("id") == "" {
				t.Errorf("aria-describedby %q does not reference desc id %q", root.attr("aria-describedby"), desc.attr("id"))
			}
			if h := root.all("text", "heading"); len(h) != 1 || h[0].Text != "Captures per day" {
				t.Errorf("visible heading = %+v", h)
			}
			if yl := root.all("text", "ylabel"); len(yl) != 1 || yl[0].Text != "items captured" {
				t.Errorf("y label = %+v", yl)
			}
			if n := len(root.all("text", "legend")); n != 3 {
				t.Errorf("legend entries = %d, want 3", n)
			}
			if len(root.all("line", "axis")) != 2 {
				t.Errorf("want an x and a y axis")
			}
		})
	}
}

func TestCSPSafe(t *testing.T) {
	c := sample()
	c.Series[0].Points[0].Label = `x" style="color:red`
	for _, out := range []template.HTML{Bars(c), Lines(c), Bars(Chart{})} {
		s := string(out)
		root := parse(t, out)
		for _, bad := range []string{"<script", "<style", "<foreignObject", "href", "url(", "javascript:"} {
			if strings.Contains(strings.ToLower(s), strings.ToLower(bad)) {
				t.Errorf("output contains %q", bad)
			}
		}
		var walk func(node)
		walk = func(n node) {
			for _, a := range n.Attrs {
				if a.Name.Local == "style" || strings.HasPrefix(a.Name.Local, "on") {
					t.Errorf("<%s> has forbidden attribute %s", n.XMLName.Local, a.Name.Local)
				}
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		}
		walk(root)
	}
}

func TestBarCountAndTooltips(t *testing.T) {
	c := sample()
	root := parse(t, Bars(c))
	bars := root.all("rect", "bar")
	if want := 3 * 7; len(bars) != want {
		t.Fatalf("bars = %d, want %d", len(bars), want)
	}
	tips := map[string]bool{}
	fills := map[string]bool{}
	for _, b := range bars {
		tt, ok := b.child("title")
		if !ok {
			t.Fatalf("bar without <title>: %+v", b)
		}
		tips[tt.Text] = true
		fills[b.attr("fill")] = true
	}
	for _, want := range []string{"captured — 2026-11-07: 70", "flagged — 2026-11-01: 0", "withdrawn — 2026-11-03: 0.5"} {
		if !tips[want] {
			t.Errorf("missing tooltip %q", want)
		}
	}
	if len(fills) != 3 {
		t.Errorf("distinct fills = %d, want 3 (one per series)", len(fills))
	}
	// Bars of a group stay inside the plot and do not overlap each other.
	yAxis := root.all("line", "y")[0]
	xAxis := root.all("line", "x")[0]
	left, right := xAxis.num(t, "x1"), xAxis.num(t, "x2")
	if yAxis.num(t, "x1") != left {
		t.Errorf("axes do not meet")
	}
	for i := 1; i < len(bars); i++ {
		b := bars[i]
		if x := b.num(t, "x"); x < left || x+b.num(t, "width") > right+0.1 {
			t.Errorf("bar %d outside plot: x=%v w=%v plot=[%v,%v]", i, x, b.num(t, "width"), left, right)
		}
	}
}

func TestTallestBarFullHeight(t *testing.T) {
	for _, tc := range []struct {
		max     float64
		axisTop float64
	}{
		{100, 100}, {40, 40}, {8, 8}, {5, 6}, {0.2, 0.2}, {37, 40}, {101, 150},
	} {
		t.Run(strconv.FormatFloat(tc.max, 'f', -1, 64), func(t *testing.T) {
			c := Chart{Title: "t", Series: []Series{{Name: "a", Points: []Point{
				{"mon", tc.max / 4}, {"tue", tc.max}, {"wed", 0}, {"thu", tc.max / 2},
			}}}}
			root := parse(t, Bars(c))
			y := root.all("line", "y")[0]
			plotTop, plotBottom := y.num(t, "y1"), y.num(t, "y2")
			plotH := plotBottom - plotTop
			var tallest node
			for _, b := range root.all("rect", "bar") {
				if tallest.XMLName.Local == "" || b.num(t, "height") > tallest.num(t, "height") {
					tallest = b
				}
				// Every bar stands on the x axis.
				if got := b.num(t, "y") + b.num(t, "height"); math.Abs(got-plotBottom) > 0.11 {
					t.Errorf("bar bottom = %v, want %v", got, plotBottom)
				}
			}
			want := plotH * tc.max / tc.axisTop
			if got := tallest.num(t, "height"); math.Abs(got-want) > 0.11 {
				t.Errorf("tallest bar height = %v, want %v (plot height %v)", got, want, plotH)
			}
			if tc.max == tc.axisTop {
				if tallest.num(t, "height") != plotH || tallest.num(t, "y") != plotTop {
					t.Errorf("tallest bar = y %v h %v, want full plot height y %v h %v",
						tallest.num(t, "y"), tallest.num(t, "height"), plotTop, plotH)
				}
			}
			ticks := root.all("text", "ytick")
			if top := ticks[len(ticks)-1].num(t, "data-value"); top != tc.axisTop {
				t.Errorf("axis top = %v, want %v", top, tc.axisTop)
			}
		})
	}
}

func isNice(step float64) bool {
	e := math.Floor(math.Log10(step))
	m := step / math.Pow(10, e)
	for _, n := range []float64{1, 2, 5, 10} {
		if math.Abs(m-n) < 1e-9 {
			return true
		}
	}
	return false
}

func TestNiceTicks(t *testing.T) {
	for _, top := range []float64{0, 1e-7, 0.003, 0.1, 0.3, 0.7, 1, 1.5, 3, 7, 9.99, 10, 11, 37, 99, 100, 101, 250, 999, 1001, 12345, 987654, 3e9, 1e300} {
		ticks := niceTicks(top)
		if len(ticks) < 3 || len(ticks) > 5 {
			t.Errorf("niceTicks(%v) = %v: want 3..5 ticks", top, ticks)
			continue
		}
		if ticks[0] != 0 {
			t.Errorf("niceTicks(%v) = %v: does not start at 0", top, ticks)
		}
		step := ticks[1]
		if !isNice(step) {
			t.Errorf("niceTicks(%v) = %v: step %v is not 1, 2 or 5 × 10^n", top, ticks, step)
		}
		for i, v := range ticks {
			if math.Abs(v-float64(i)*step) > step*1e-9 {
				t.Errorf("niceTicks(%v) = %v: uneven", top, ticks)
			}
			if s := strconv.FormatFloat(v, 'g', -1, 64); len(s) > 8 {
				t.Errorf("niceTicks(%v): tick %v formats as %q (float noise?)", top, v, s)
			}
		}
		last := ticks[len(ticks)-1]
		if last < top || math.IsInf(last, 0) {
			t.Errorf("niceTicks(%v) = %v: does not cover the maximum", top, ticks)
		}
		if top > 0 && ticks[len(ticks)-2] >= top {
			t.Errorf("niceTicks(%v) = %v: more ticks than needed", top, ticks)
		}
	}

	// And in the SVG: the rendered labels match.
	c := Chart{Title: "t", Series: []Series{{Points: []Point{{"a", 37}, {"b", 12}}}}}
	var got []string
	for _, n := range parse(t, Lines(c)).all("text", "ytick") {
		got = append(got, n.Text)
	}
	if strings.Join(got, " ") != "0 10 20 30 40" {
		t.Errorf("y tick labels = %v, want 0 10 20 30 40", got)
	}
	c.Series[0].Points[0].Value = 25000
	got = nil
	for _, n := range parse(t, Lines(c)).all("text", "ytick") {
		got = append(got, n.Text)
	}
	if strings.Join(got, " ") != "0 10k 20k 30k" {
		t.Errorf("y tick labels = %v, want 0 10k 20k 30k", got)
	}
}

func TestAllZeros(t *testing.T) {
	c := Chart{Title: "quiet week", Series: []Series{{Name: "flags", Points: days(5, func(int) float64 { return 0 })}}}
	root := parse(t, Bars(c))
	var got []string
	for _, n := range root.all("text", "ytick") {
		got = append(got, n.Text)
	}
	if strings.Join(got, " ") != "0 0.5 1" {
		t.Errorf("all-zero ticks = %v, want 0 0.5 1", got)
	}
	for _, b := range root.all("rect", "bar") {
		if b.num(t, "height") != 0 {
			t.Errorf("zero bar has height %v", b.attr("height"))
		}
	}
}

func TestBadValues(t *testing.T) {
	c := Chart{Title: "t", Series: []Series{{Name: "s", Points: []Point{
		{"nan", math.NaN()}, {"inf", math.Inf(1)}, {"-inf", math.Inf(-1)}, {"neg", -5}, {"ok", 4},
	}}}}
	for _, out := range []template.HTML{Bars(c), Lines(c)} {
		s := string(out)
		if strings.Contains(s, "NaN") || strings.Contains(s, "Inf") {
			t.Errorf("output mentions NaN/Inf:\n%s", s)
		}
		root := parse(t, out)
		for _, n := range append(root.all("rect", "bar"), root.all("circle", "point")...) {
			tt, _ := n.child("title")
			if !strings.HasSuffix(tt.Text, ": 0") && !strings.HasSuffix(tt.Text, "ok: 4") {
				t.Errorf("tooltip %q: bad values should read 0", tt.Text)
			}
		}
		for _, b := range root.all("rect", "bar") {
			if h := b.num(t, "height"); h < 0 {
				t.Errorf("negative bar height %v", h)
			}
		}
		y := root.all("line", "y")[0]
		for _, p := range root.all("circle", "point") {
			if cy := p.num(t, "cy"); cy > y.num(t, "y2") || cy < y.num(t, "y1") {
				t.Errorf("point outside plot: cy=%v", cy)
			}
		}
	}
}

func TestEscaping(t *testing.T) {
	const hostile = `<script>alert(1)</script>`
	c := Chart{
		Title:  `Flags by <b>@mallory</b> & "friends"`,
		Desc:   `desc ` + hostile,
		YLabel: `y ` + hostile,
		Series: []Series{
			{Name: `@eve"><script>alert(2)</script>`, Points: []Point{{hostile, 3}, {`a&b 'c'`, 5}}},
			{Name: "ok", Points: []Point{{hostile, 1}, {`a&b 'c'`, 2}}},
		},
	}
	for _, out := range []template.HTML{Bars(c), Lines(c)} {
		s := string(out)
		if strings.Contains(s, "<script") || strings.Contains(s, "<b>") || strings.Contains(s, `alert(2)">`) {
			t.Fatalf("unescaped markup in output:\n%s", s)
		}
		root := parse(t, out)
		if len(root.all("script", "")) != 0 || len(root.all("b", "")) != 0 {
			t.Fatal("hostile text became elements")
		}
		if title, _ := root.child("title"); title.Text != c.Title {
			t.Errorf("title text = %q, want %q", title.Text, c.Title)
		}
		if desc, _ := root.child("desc"); desc.Text != c.Desc {
			t.Errorf("desc text = %q, want %q", desc.Text, c.Desc)
		}
		var texts []string
		for _, n := range root.all("text", "") {
			texts = append(texts, n.Text)
		}
		joined := strings.Join(texts, "\n")
		for _, want := range []string{`a&b 'c'`, "<script>alert…", `@eve"><script>alert…`} {
			if !strings.Contains(joined, want) {
				t.Errorf("visible text lacks %q (round-tripped, truncated); have:\n%s", want, joined)
			}
		}
		tips := append(root.all("rect", "bar"), root.all("circle", "point")...)
		tt, _ := tips[0].child("title")
		if want := `@eve"><script>alert(2)</script> — ` + hostile + `: 3`; tt.Text != want {
			t.Errorf("tooltip = %q, want %q", tt.Text, want)
		}
	}
	// Control characters that XML cannot carry do not break well-formedness.
	parse(t, Bars(Chart{Title: "bell\x07\x00", Series: []Series{{Name: "\x1b[31m", Points: []Point{{"\xff\xfe", 1}}}}}))
}

func TestEmpty(t *testing.T) {
	for name, c := range map[string]Chart{
		"no series":    {Title: "Flags <today>"},
		"empty series": {Title: "Flags <today>", Series: []Series{{Name: "a"}, {Name: "b", Points: []Point{}}}},
	} {
		for kind, render := range map[string]func(Chart) template.HTML{"bars": Bars, "lines": Lines} {
			t.Run(name+"/"+kind, func(t *testing.T) {
				root := parse(t, render(c))
				if title, _ := root.child("title"); title.Text != "Flags <today>" {
					t.Errorf("title = %q", title.Text)
				}
				empty := root.all("text", "empty")
				if len(empty) != 1 || empty[0].Text != "No data yet" {
					t.Errorf("empty text = %+v", empty)
				}
				if n := len(root.all("rect", "bar")) + len(root.all("circle", "point")) + len(root.all("line", "")); n != 0 {
					t.Errorf("empty chart draws %d data/axis elements", n)
				}
			})
		}
	}
	// No title at all still yields an accessible name.
	root := parse(t, Bars(Chart{}))
	if title, _ := root.child("title"); strings.TrimSpace(title.Text) == "" {
		t.Error("empty <title>")
	}
}

func TestLabelThinning(t *testing.T) {
	for _, n := range []int{1, 5, 12, 13, 30, 90, 365} {
		c := Chart{Title: "t", Series: []Series{
			{Name: "captured", Points: days(n, func(i int) float64 { return float64(i % 17) })},
			{Name: "flagged", Points: days(n, func(i int) float64 { return float64(i % 5) })},
		}}
		for kind, render := range map[string]func(Chart) template.HTML{"bars": Bars, "lines": Lines} {
			root := parse(t, render(c))
			labels := root.all("text", "xlabel")
			if len(labels) == 0 || len(labels) > 12 {
				t.Errorf("%s n=%d: %d x labels, want 1..12", kind, n, len(labels))
			}
			if n <= 7 && len(labels) != n {
				t.Errorf("%s n=%d: %d x labels, want all", kind, n, len(labels))
			}
			if n == 90 && len(labels) < 6 {
				t.Errorf("%s n=90: only %d x labels", kind, len(labels))
			}
			for i := 1; i < len(labels); i++ {
				prev, cur := labels[i-1], labels[i]
				gap := cur.num(t, "x") - prev.num(t, "x")
				need := (float64(utf8.RuneCountInString(prev.Text))+float64(utf8.RuneCountInString(cur.Text)))/2*charWidth + 4
				if gap < need {
					t.Errorf("%s n=%d: labels %q and %q overlap (gap %v < %v)", kind, n, prev.Text, cur.Text, gap, need)
				}
			}
			marks := len(root.all("rect", "bar")) + len(root.all("circle", "point"))
			if marks != 2*n {
				t.Errorf("%s n=%d: %d marks, want %d", kind, n, marks, 2*n)
			}
		}
	}
}

func TestLongLabelsTruncated(t *testing.T) {
	long := strings.Repeat("verylonghandle", 10)
	c := Chart{Title: strings.Repeat("T", 500), Series: []Series{
		{Name: long, Points: []Point{{long, 1}, {"short", 2}}},
		{Name: "b", Points: []Point{{long, 1}, {"short", 2}}},
	}}
	root := parse(t, Bars(c))
	for _, n := range root.all("text", "") {
		if strings.HasPrefix(n.Text, "verylong") || strings.HasPrefix(n.Text, "TTT") {
			if !strings.HasSuffix(n.Text, "…") {
				t.Errorf("%s text %q not truncated", n.attr("class"), n.Text)
			}
			if w := float64(utf8.RuneCountInString(n.Text)) * charWidth; w > 640 {
				t.Errorf("%s text %q wider than the chart", n.attr("class"), n.Text)
			}
		}
	}
	if xl := root.all("text", "xlabel"); utf8.RuneCountInString(xl[0].Text) > maxLabelRunes {
		t.Errorf("x label %q longer than %d runes", xl[0].Text, maxLabelRunes)
	}
	tt, _ := root.all("rect", "bar")[0].child("title")
	if !strings.Contains(tt.Text, "verylonghandleverylong") {
		t.Errorf("tooltip %q should keep more of the label", tt.Text)
	}
}

func TestDeterministicAndIDs(t *testing.T) {
	a1, a2 := Bars(sample()), Bars(sample())
	if a1 != a2 {
		t.Fatal("same input, different output")
	}
	if Lines(sample()) != Lines(sample()) {
		t.Fatal("same input, different output (lines)")
	}
	other := sample()
	other.Title = "Flags per day"
	ids := map[string]bool{}
	for _, out := range []template.HTML{a1, Bars(other), Lines(sample())} {
		title, _ := parse(t, out).child("title")
		ids[title.attr("id")] = true
	}
	if len(ids) != 3 {
		t.Errorf("charts share ids: %v", ids)
	}
}

func TestLines(t *testing.T) {
	root := parse(t, Lines(sample()))
	if n := len(root.all("circle", "point")); n != 21 {
		t.Errorf("points = %d, want 21", n)
	}
	lines := root.all("polyline", "line")
	if len(lines) != 3 {
		t.Fatalf("polylines = %d, want 3", len(lines))
	}
	for _, l := range lines {
		if l.attr("fill") != "none" || l.attr("stroke") == "" {
			t.Errorf("polyline paint: fill=%q stroke=%q", l.attr("fill"), l.attr("stroke"))
		}
		if got := len(strings.Fields(l.attr("points"))); got != 7 {
			t.Errorf("polyline has %d vertices, want 7", got)
		}
	}
	// The highest point (70) sits on the top of the plot.
	y := root.all("line", "y")[0]
	var minCY = math.Inf(1)
	for _, p := range root.all("circle", "point") {
		minCY = min(minCY, p.num(t, "cy"))
	}
	if top := y.num(t, "y1"); minCY < top-0.11 {
		t.Errorf("point above the plot: %v < %v", minCY, top)
	}

	// One series: no legend.
	one := Chart{Title: "t", Series: []Series{{Name: "only", Points: days(3, func(i int) float64 { return 1 })}}}
	for _, out := range []template.HTML{Lines(one), Bars(one)} {
		if n := len(parse(t, out).all("text", "legend")); n != 0 {
			t.Errorf("single series has %d legend entries", n)
		}
	}
	// A single point draws a marker but no polyline.
	single := Chart{Title: "t", Series: []Series{{Name: "s", Points: []Point{{"d", 3}}}}}
	r := parse(t, Lines(single))
	if len(r.all("polyline", "")) != 0 || len(r.all("circle", "point")) != 1 {
		t.Errorf("single point: %d polylines, %d points", len(r.all("polyline", "")), len(r.all("circle", "point")))
	}
}

func TestSizes(t *testing.T) {
	c := sample()
	c.Width, c.Height = 900, 300
	root := parse(t, Bars(c))
	if root.attr("viewBox") != "0 0 900 300" {
		t.Errorf("viewBox = %q", root.attr("viewBox"))
	}
	// Tiny sizes are clamped rather than drawn inside out.
	c.Width, c.Height = 10, 10
	root = parse(t, Bars(c))
	for _, b := range root.all("rect", "bar") {
		if b.num(t, "height") < 0 || b.num(t, "width") <= 0 {
			t.Errorf("degenerate bar %+v", b.Attrs)
		}
	}
	// Many series with long names wrap the legend and keep the plot sane.
	c = Chart{Title: "t", Width: 320, Height: 200}
	for i := range 6 {
		c.Series = append(c.Series, Series{Name: fmt.Sprintf("series number %d", i), Points: days(4, func(j int) float64 { return float64(i + j) })})
	}
	root = parse(t, Bars(c))
	y := root.all("line", "y")[0]
	if y.num(t, "y2")-y.num(t, "y1") < 20 {
		t.Errorf("plot squeezed to nothing: %v..%v", y.attr("y1"), y.attr("y2"))
	}
	for _, l := range root.all("text", "legend") {
		if x := l.num(t, "x") + float64(utf8.RuneCountInString(l.Text))*charWidth; x > 320 {
			t.Errorf("legend entry %q overflows (ends at %v)", l.Text, x)
		}
	}
}
