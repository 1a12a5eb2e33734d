package bagit

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestBagSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"},
		{999, "999 bytes"},
		{1000, "1.00 KB"},
		{1234, "1.23 KB"},
		{9_994, "9.99 KB"},
		{9_995, "10.0 KB"},
		{99_949, "99.9 KB"},
		{99_950, "100 KB"},
		{999_499, "999 KB"},
		{999_500, "1.00 MB"},
		{42_600_000_000, "42.6 GB"},
		{1 << 40, "1.10 TB"},
		{1<<63 - 1, "9.22 EB"},
	}
	for _, tt := range tests {
		if got := bagSize(tt.n); got != tt.want {
			t.Errorf("bagSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestPathEncoding(t *testing.T) {
	tests := []struct{ raw, encoded string }{
		{"data/plain.txt", "data/plain.txt"},
		{"data/100%.txt", "data/100%25.txt"},
		{"data/a\nb\rc\r\nd", "data/a%0Ab%0Dc%0D%0Ad"},
		{"data/%25", "data/%2525"},
		{"data/é 日本", "data/é 日本"},
	}
	for _, tt := range tests {
		if got := encodePath(tt.raw); got != tt.encoded {
			t.Errorf("encodePath(%q) = %q, want %q", tt.raw, got, tt.encoded)
		}
		if got := decodePath(tt.encoded); got != tt.raw {
			t.Errorf("decodePath(%q) = %q, want %q", tt.encoded, got, tt.raw)
		}
	}
	// Lower-case escapes decode; a stray "%" stays, as bagit-python writes it.
	for in, want := range map[string]string{
		"data/%0a%0d%25": "data/\n\r%", "data/50% off": "data/50% off",
		"data/%": "data/%", "data/%2": "data/%2", "data/%41": "data/%41",
	} {
		if got := decodePath(in); got != want {
			t.Errorf("decodePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInfoRoundTrip(t *testing.T) {
	fields := []Field{
		{"Source-Organization", "Clinton City"},
		{"Export-Query", "a\nb\r\nc\rd"},
		{"Empty", ""},
		{"Blank-Line-Inside", "one\n\ntwo"},
		{"Long", strings.Repeat("word ", 40)},
		{"Label With Spaces", "x: y"},
	}
	var buf bytes.Buffer
	for _, f := range fields {
		if err := checkField(f); err != nil {
			t.Fatal(err)
		}
		if err := writeField(&buf, f); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Count(buf.String(), "\n") != 11 {
		t.Errorf("bag-info.txt =\n%s", buf.String())
	}
	got, err := parseInfo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	fields[1].Value = "a\nb\nc\nd" // line ends are normalized to LF
	if !slices.Equal(got, fields) {
		t.Errorf("parseInfo =\n%q\nwant\n%q", got, fields)
	}
}

func TestParseInfoRefuses(t *testing.T) {
	for _, in := range []string{
		"  continuation first\n",
		"no colon\n",
		"Label:no space\n",
		" Label: leading space\n",
		"Label : space before colon\n",
		": no label\n",
	} {
		if _, err := parseInfo(strings.NewReader(in)); err == nil {
			t.Errorf("parseInfo(%q) succeeded", in)
		}
	}
}

func TestScanLines(t *testing.T) {
	in := "a\nb\r\nc\rd\r\r\ne"
	sc := newLineScanner(strings.NewReader(in), 64)
	var got []string
	for sc.Scan() {
		got = append(got, sc.Text())
	}
	want := []string{"a", "b", "c", "d", "", "e"}
	if !slices.Equal(got, want) {
		t.Errorf("lines = %q, want %q", got, want)
	}
	// A CR at the end of one read must not split a CRLF in two.
	sc = newLineScanner(&oneByteReader{s: "x\r\ny\r\n"}, 64)
	got = got[:0]
	for sc.Scan() {
		got = append(got, sc.Text())
	}
	if !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("lines = %q, want [x y]", got)
	}
}

type oneByteReader struct{ s string }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}

func TestAlgorithm(t *testing.T) {
	tests := []struct{ rel, kind, want string }{
		{"manifest-sha256.txt", "manifest", "sha256"},
		{"tagmanifest-md5.txt", "tagmanifest", "md5"},
		{"tagmanifest-md5.txt", "manifest", ""},
		{"manifest-.txt", "manifest", ""},
		{"manifest-sha256.txt.bak", "manifest", ""},
		{"sub/manifest-sha256.txt", "manifest", ""},
		{"manifest-sha256", "manifest", ""},
	}
	for _, tt := range tests {
		if got := algorithm(tt.rel, tt.kind); got != tt.want {
			t.Errorf("algorithm(%q, %q) = %q, want %q", tt.rel, tt.kind, got, tt.want)
		}
	}
}
