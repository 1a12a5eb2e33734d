package records

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// jsonDoc writes one JSON object field by field and array element by
// element, so a disposition list or certificate of any length is streamed
// to a file rather than built in memory. The first error sticks.
type jsonDoc struct {
	w       *bufio.Writer
	fields  int
	elems   int
	inArray bool
	err     error
}

func newJSONDoc(w io.Writer) *jsonDoc {
	d := &jsonDoc{w: bufio.NewWriter(w)}
	d.raw("{")
	return d
}

func (d *jsonDoc) raw(s string) {
	if d.err == nil {
		_, d.err = d.w.WriteString(s)
	}
}

func (d *jsonDoc) value(v any) {
	if d.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		d.err = err
		return
	}
	_, d.err = d.w.Write(b)
}

func (d *jsonDoc) key(name string) {
	if d.fields > 0 {
		d.raw(",")
	}
	d.fields++
	d.raw("\n  ")
	d.value(name)
	d.raw(": ")
}

// Field writes one field.
func (d *jsonDoc) Field(name string, v any) {
	d.key(name)
	d.value(v)
}

// BeginArray opens an array field; Elem adds to it; EndArray closes it.
func (d *jsonDoc) BeginArray(name string) {
	d.key(name)
	d.raw("[")
	d.elems, d.inArray = 0, true
}

// Elem adds one element to the open array.
func (d *jsonDoc) Elem(v any) {
	if d.elems > 0 {
		d.raw(",")
	}
	d.elems++
	d.raw("\n    ")
	d.value(v)
}

// EndArray closes the open array.
func (d *jsonDoc) EndArray() {
	if d.elems > 0 {
		d.raw("\n  ")
	}
	d.raw("]")
	d.inArray = false
}

// CopyArray writes an array field whose elements a jsonSection collected.
func (d *jsonDoc) CopyArray(name string, s *jsonSection) {
	d.BeginArray(name)
	if d.err == nil && s.n > 0 {
		d.err = s.copyTo(d.w)
		d.elems = s.n
	}
	d.EndArray()
}

// Close ends the object and flushes.
func (d *jsonDoc) Close() error {
	d.raw("\n}\n")
	if d.err == nil {
		d.err = d.w.Flush()
	}
	return d.err
}

// jsonSection collects the elements of one array in a temp file, for a
// document whose arrays fill up interleaved (the certificate's items,
// blobs and skips grow batch by batch).
type jsonSection struct {
	f   *os.File
	w   *bufio.Writer
	n   int
	err error
}

func newJSONSection() (*jsonSection, error) {
	f, err := os.CreateTemp("", "civicarchive-disposition-*")
	if err != nil {
		return nil, fmt.Errorf("records: disposition: temp file: %w", err)
	}
	return &jsonSection{f: f, w: bufio.NewWriter(f)}, nil
}

// Add appends one element.
func (s *jsonSection) Add(v any) {
	if s.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.err = err
		return
	}
	if s.n > 0 {
		s.w.WriteString(",")
	}
	s.w.WriteString("\n    ")
	_, s.err = s.w.Write(b)
	s.n++
}

func (s *jsonSection) copyTo(w io.Writer) error {
	if s.err != nil {
		return s.err
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, s.f)
	return err
}

// Close removes the temp file.
func (s *jsonSection) Close() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// readJSONDoc walks one JSON object from r: each array field named in
// arrays has its elements passed, one at a time, to that function with a
// decoder positioned on the element; every other field goes to field as
// raw JSON. Memory stays bounded by the largest single element.
func readJSONDoc(r io.Reader, field func(name string, v json.RawMessage) error, arrays map[string]func(*json.Decoder) error) error {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		if fn, ok := arrays[name]; ok {
			if err := expectDelim(dec, '['); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			for dec.More() {
				if err := fn(dec); err != nil {
					return err
				}
			}
			if err := expectDelim(dec, ']'); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			continue
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if field != nil {
			if err := field(name, v); err != nil {
				return err
			}
		}
	}
	return expectDelim(dec, '}')
}

var errNotJSONDoc = errors.New("not the expected JSON document")

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("%w: got %v, want %v", errNotJSONDoc, tok, want)
	}
	return nil
}
