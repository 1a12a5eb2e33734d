package api

import (
	"strings"
	"unicode"
)

// Diff operations of diffPart.
const (
	diffSame = "same"
	diffDel  = "del"
	diffIns  = "ins"
)

// diffPart is one run of a word diff: text kept, removed or added.
type diffPart struct {
	Op   string // diffSame, diffDel or diffIns
	Text string
}

// maxDiffCells bounds the LCS table (rows × columns) of wordDiff; past it
// the changed middle is shown as one removal and one insertion, which is
// still correct, only coarser.
const maxDiffCells = 4_000_000

// wordDiff is the word-level difference from a to b: runs of words (with
// the spaces around them) kept, removed and added, in reading order.
// Joining the same and del parts gives a; the same and ins parts give b.
func wordDiff(a, b string) []diffPart {
	x, y := splitWords(a), splitWords(b)
	// The common head and tail are cheap and usually most of an edit.
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	var d differ
	d.add(diffSame, x[:pre]...)
	mx, my := x[pre:len(x)-suf], y[pre:len(y)-suf]
	if len(mx)*len(my) > maxDiffCells {
		d.add(diffDel, mx...)
		d.add(diffIns, my...)
	} else {
		d.lcs(mx, my)
	}
	d.add(diffSame, x[len(x)-suf:]...)
	return joinChanges(d.parts)
}

// joinChanges folds a run of changes split only by spaces into one
// removal and one insertion: "<del>a</del><ins>b</ins> <del>c</del><ins>d</ins>"
// reads better as "<del>a c</del><ins>b d</ins>".
func joinChanges(parts []diffPart) []diffPart {
	var out []diffPart
	for i := 0; i < len(parts); {
		if parts[i].Op == diffSame {
			out = append(out, parts[i])
			i++
			continue
		}
		var del, ins strings.Builder
		j := i
		for j < len(parts) {
			p := parts[j]
			if p.Op == diffSame {
				if strings.TrimSpace(p.Text) != "" || j+1 == len(parts) {
					break
				}
				del.WriteString(p.Text)
				ins.WriteString(p.Text)
			} else if p.Op == diffDel {
				del.WriteString(p.Text)
			} else {
				ins.WriteString(p.Text)
			}
			j++
		}
		// Same parts never follow each other (add merges them), so a space
		// run taken in here always has a change after it.
		dt, it := del.String(), ins.String()
		if dt != "" {
			out = append(out, diffPart{Op: diffDel, Text: dt})
		}
		if it != "" {
			out = append(out, diffPart{Op: diffIns, Text: it})
		}
		i = j
	}
	return out
}

type differ struct{ parts []diffPart }

// add appends words to the diff, merging with the last part when it has
// the same operation.
func (d *differ) add(op string, words ...string) {
	if len(words) == 0 {
		return
	}
	text := strings.Join(words, "")
	if n := len(d.parts); n > 0 && d.parts[n-1].Op == op {
		d.parts[n-1].Text += text
		return
	}
	d.parts = append(d.parts, diffPart{Op: op, Text: text})
}

// lcs diffs x and y through their longest common subsequence; removals
// come before insertions where both are possible.
func (d *differ) lcs(x, y []string) {
	n, m := len(x), len(y)
	// t[i][j] is the LCS length of x[i:] and y[j:], in one slice.
	t := make([]int32, (n+1)*(m+1))
	at := func(i, j int) int32 { return t[i*(m+1)+j] }
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				t[i*(m+1)+j] = at(i+1, j+1) + 1
			} else {
				t[i*(m+1)+j] = max(at(i+1, j), at(i, j+1))
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case x[i] == y[j]:
			d.add(diffSame, x[i])
			i, j = i+1, j+1
		case at(i+1, j) >= at(i, j+1):
			d.add(diffDel, x[i])
			i++
		default:
			d.add(diffIns, y[j])
			j++
		}
	}
	d.add(diffDel, x[i:]...)
	d.add(diffIns, y[j:]...)
}

// splitWords cuts text into tokens: runs of spaces, runs of letters and
// digits, and single other characters (punctuation, emoji), so a changed
// comma does not mark its whole word.
func splitWords(s string) []string {
	var out []string
	start := -1
	class := 0
	classOf := func(r rune) int {
		switch {
		case unicode.IsSpace(r):
			return 1
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			return 2
		}
		return 3
	}
	for i, r := range s {
		c := classOf(r)
		if start >= 0 && (c != class || c == 3) {
			out = append(out, s[start:i])
			start = -1
		}
		if start < 0 {
			start, class = i, c
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}
