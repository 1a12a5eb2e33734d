package bagit

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Reserved bag-info.txt labels the writer fills in (RFC 8493 §2.2.2).
const (
	labelDate     = "Bagging-Date"
	labelOxum     = "Payload-Oxum"
	labelSize     = "Bag-Size"
	labelSoftware = "Bag-Software-Agent"
)

// checkField reports whether f can be written to bag-info.txt: the label is
// not empty, has no colon, CR or LF and does not start or end with
// whitespace (RFC 8493 §2.2.2); the value is valid UTF-8.
func checkField(f Field) error {
	l := f.Label
	switch {
	case l == "":
		return fmt.Errorf("bagit: bag-info label is empty")
	case strings.ContainsAny(l, ":\r\n"):
		return fmt.Errorf("bagit: bag-info label %q contains a colon, CR or LF", l)
	case strings.TrimSpace(l) != l:
		return fmt.Errorf("bagit: bag-info label %q starts or ends with whitespace", l)
	case !utf8.ValidString(l) || !utf8.ValidString(f.Value):
		return fmt.Errorf("bagit: bag-info field %q is not valid UTF-8", l)
	}
	return nil
}

// writeField writes f as "Label: value". A value holding line breaks is
// folded: each further line is indented by two spaces, which RFC 8493
// §2.2.2 says is padding, not part of the value, while the line break is.
// Single-line values are never folded, however long, since a reader would
// then see a line break the value did not have.
func writeField(w io.Writer, f Field) error {
	lines := splitLines(f.Value)
	if _, err := fmt.Fprintf(w, "%s: %s\n", f.Label, lines[0]); err != nil {
		return err
	}
	for _, l := range lines[1:] {
		if _, err := fmt.Fprintf(w, "  %s\n", l); err != nil {
			return err
		}
	}
	return nil
}

// splitLines splits s at CRLF, CR and LF; it always returns one line at least.
func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n")
}

// parseInfo reads bag-info.txt: "Label: value" lines, each possibly
// continued by lines starting with a space or tab, whose leading whitespace
// is dropped and which join the value with a line feed. Blank lines are
// skipped. A line that is neither is an error naming its number.
func parseInfo(r io.Reader) ([]Field, error) {
	var fields []Field
	sc := newLineScanner(r, maxInfoLine)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "":
			continue
		case isContinuation(line):
			if len(fields) == 0 {
				return nil, fmt.Errorf("line %d: continuation line before any label", n)
			}
			f := &fields[len(fields)-1]
			f.Value += "\n" + strings.TrimLeft(line, " \t")
			continue
		}
		label, value, ok := strings.Cut(line, ":")
		if !ok || label == "" || strings.TrimSpace(label) != label {
			return nil, fmt.Errorf("line %d: not of the form \"Label: value\"", n)
		}
		if value != "" && value[0] != ' ' && value[0] != '\t' {
			return nil, fmt.Errorf("line %d: no whitespace after the colon", n)
		}
		if value != "" {
			value = value[1:]
		}
		fields = append(fields, Field{Label: label, Value: value})
	}
	return fields, sc.Err()
}

func isContinuation(line string) bool {
	return line != "" && (line[0] == ' ' || line[0] == '\t')
}

// oxum formats a Payload-Oxum value: total payload octets, a dot, and the
// number of payload files.
func oxum(bytes int64, files int) string {
	return strconv.FormatInt(bytes, 10) + "." + strconv.Itoa(files)
}

// checkOxum compares the bag's Payload-Oxum, if it has one, to the payload
// actually found. RFC 8493 §2.2.2 forbids repeating it.
func checkOxum(info []Field, bytes int64, files int) *Problem {
	var got []string
	for _, f := range info {
		if strings.EqualFold(f.Label, labelOxum) {
			got = append(got, f.Value)
		}
	}
	switch {
	case len(got) == 0:
		return nil
	case len(got) > 1:
		return problem(infoName, KindOxum, "Payload-Oxum appears %d times", len(got))
	}
	octets, count, ok := strings.Cut(strings.TrimSpace(got[0]), ".")
	o, err1 := strconv.ParseInt(octets, 10, 64)
	c, err2 := strconv.ParseInt(count, 10, 64)
	if !ok || err1 != nil || err2 != nil || o < 0 || c < 0 {
		return problem(infoName, KindOxum, "Payload-Oxum %q is not OCTETS.FILES", got[0])
	}
	if o != bytes || c != int64(files) {
		return problem(infoName, KindOxum, "Payload-Oxum says %s, payload is %s", got[0], oxum(bytes, files))
	}
	return nil
}

// bagSize formats n octets for people, in decimal units as in the RFC's
// examples ("42.6 GB"): three significant digits at most.
func bagSize(n int64) string {
	if n < 1000 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	v := float64(n)
	units := []string{"KB", "MB", "GB", "TB", "PB", "EB"}
	u := -1
	for v >= 999.5 && u < len(units)-1 {
		v /= 1000
		u++
	}
	if v < 9.995 {
		return strconv.FormatFloat(v, 'f', 2, 64) + " " + units[u]
	}
	if v < 99.95 {
		return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[u]
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " " + units[u]
}

// hasLabel reports whether fields hold label, compared case-insensitively
// as RFC 8493 §2.2.2 says reserved labels are.
func hasLabel(fields []Field, label string) bool {
	for _, f := range fields {
		if strings.EqualFold(f.Label, label) {
			return true
		}
	}
	return false
}

// maxInfoLine bounds one bag-info.txt line; longer ones are refused rather
// than buffered.
const maxInfoLine = 1 << 20

// newLineScanner splits r into lines ended by LF, CR or CRLF (RFC 8493 §2.3),
// refusing lines longer than max bytes.
func newLineScanner(r io.Reader, max int) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), max)
	sc.Split(scanLines)
	return sc
}

// scanLines is bufio.ScanLines that also ends lines at a lone CR.
func scanLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	for i, c := range data {
		switch c {
		case '\n':
			return i + 1, data[:i], nil
		case '\r':
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			return 0, nil, nil // CR at the end of the buffer: need one more byte
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
