package bagit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Options configure a Writer.
type Options struct {
	// Dir names the bag's base directory, the one top-level directory in
	// the ZIP; the export's name is a good choice. Required: one path
	// segment, no slashes, backslashes or control characters.
	Dir string
	// Info are the bag-info.txt fields, written first and in this order
	// (Source-Organization, External-Identifier, ...). The writer then adds
	// Bagging-Date, Bag-Size and Bag-Software-Agent unless Info already has
	// them, and always adds Payload-Oxum, which it alone can count: an
	// Info holding Payload-Oxum is refused.
	Info []Field
	// Modified is the modification time written on every ZIP entry, in its
	// own location, and its date there is the default Bagging-Date. The
	// same Options and the same calls give identical ZIP bytes. Zero means
	// the time NewWriter is called.
	Modified time.Time
	// Software, when set, is written as a Bag-Software-Agent field.
	Software string
}

// Writer streams a bag into a ZIP. Each payload file is hashed while it is
// compressed into the ZIP; the manifests and bag-info.txt are written by
// Close. Memory stays flat: per file the writer keeps its path once, in one
// buffer shared by the manifest and the ZIP's central directory, and about
// 100 bytes more (offsets, sizes, digest, a path hash to refuse duplicates).
// A Writer is not safe for concurrent use.
//
// An error from Options, from a reader passed to Add or AddTag, or from the
// underlying io.Writer is sticky: every later call returns it, and what was
// written is not a bag and should be discarded. Refusing a bad path or a
// duplicate is not sticky.
type Writer struct {
	z        *zipWriter // names its entries relative to the base directory
	dir      string     // Options.Dir + "/"
	info     []Field
	software string
	modified time.Time
	err      error
	started  bool
	closed   bool
	// Every bag-relative path claimed so far, so that none is used twice
	// and none is both a file and a directory. files maps a hash of a
	// file's path to its ZIP entry, whose name is the path; a path whose
	// hash is taken by another goes in collided. dirs are the directories.
	seed     maphash.Seed
	files    map[uint64]uint32
	collided map[string]struct{}
	dirs     map[string]struct{}
	payload  []payloadEntry
	tags     []entry
	bytes    int64
	buf      []byte
}

// entry is one tag manifest line.
type entry struct {
	path string // relative to the bag's base directory
	sum  [sha256.Size]byte
}

// payloadEntry is one payload manifest line: the path is the name of ZIP
// entry zip.
type payloadEntry struct {
	zip uint32
	sum [sha256.Size]byte
}

// NewWriter returns a Writer that writes a bag to w. A problem with opts is
// returned by the first call to Add, AddTag or Close. Close does not close w.
func NewWriter(w io.Writer, opts Options) *Writer {
	bw := &Writer{
		dir:      opts.Dir + "/",
		info:     slices.Clone(opts.Info),
		software: opts.Software,
		modified: opts.Modified,
		seed:     maphash.MakeSeed(),
		files:    map[uint64]uint32{},
		collided: map[string]struct{}{},
		dirs:     map[string]struct{}{"data": {}},
		buf:      make([]byte, 64<<10),
	}
	if bw.modified.IsZero() {
		bw.modified = time.Now()
	}
	bw.z = newZipWriter(w, bw.dir, bw.modified)
	bw.err = checkOptions(opts)
	return bw
}

// checkOptions validates the base directory name and the bag-info fields.
func checkOptions(opts Options) error {
	d := opts.Dir
	if err := checkRelPath(d); err != nil || strings.Contains(d, "/") ||
		strings.ContainsFunc(d, unicode.IsControl) {
		return fmt.Errorf("bagit: Dir %q is not a single safe path segment", d)
	}
	for _, f := range opts.Info {
		if err := checkField(f); err != nil {
			return err
		}
		if strings.EqualFold(f.Label, labelOxum) {
			return fmt.Errorf("bagit: Payload-Oxum is counted by the writer; remove it from Info")
		}
	}
	if !utf8.ValidString(opts.Software) || strings.ContainsAny(opts.Software, "\r\n") {
		return fmt.Errorf("bagit: Software %q is not a single line of UTF-8", opts.Software)
	}
	return nil
}

// Add writes r to the payload as data/p and returns its SHA-256 (lower-case
// hex) and length. p is slash-separated and relative to data/; Add refuses
// an empty, absolute or non-UTF-8 path, empty, "." or ".." segments,
// backslashes, and a path already added or used as a directory. Formats
// that are already compressed (JPEG, PNG, MP4, PDF, ZIP, gzip, ...; see
// isCompressed) are stored, everything else is deflated.
//
// A "%" in p is written to the manifest as "%25" as RFC 8493 requires;
// `sha256sum -c` does not decode it and will report such a file missing.
func (w *Writer) Add(p string, r io.Reader) (digest string, n int64, err error) {
	if err := w.ready(); err != nil {
		return "", 0, err
	}
	if err := checkRelPath(p); err != nil {
		return "", 0, err
	}
	rel := payloadDir + p
	if err := w.claim(rel); err != nil {
		return "", 0, err
	}
	at := uint32(len(w.z.dir))
	sum, n, err := w.copy(rel, r)
	if err != nil {
		return "", 0, err
	}
	w.payload = append(w.payload, payloadEntry{zip: at, sum: sum})
	w.bytes += n
	return hex.EncodeToString(sum[:]), n, nil
}

// AddTag writes r as the tag file name, relative to the bag's base
// directory, and lists it in tagmanifest-sha256.txt. name follows the rules
// of Add's paths, must not be under data/ (that is payload: use Add), and
// must not be a file this package writes or RFC 8493 reserves (bagit.txt,
// bag-info.txt, fetch.txt, manifest-*.txt, tagmanifest-*.txt). Tag files
// may sit in tag directories, such as "custody/events.txt".
func (w *Writer) AddTag(name string, r io.Reader) error {
	if err := w.ready(); err != nil {
		return err
	}
	if err := checkRelPath(name); err != nil {
		return err
	}
	if name == "data" || strings.HasPrefix(name, payloadDir) || reservedTag(name) {
		return fmt.Errorf("bagit: %q is payload or a reserved tag file name", name)
	}
	if err := w.claim(name); err != nil {
		return err
	}
	sum, _, err := w.copy(name, r)
	if err != nil {
		return err
	}
	w.tags = append(w.tags, entry{path: name, sum: sum})
	return nil
}

// reservedTag reports whether name is a tag file RFC 8493 gives a meaning
// to, which a custom tag file must not imitate.
func reservedTag(name string) bool {
	switch {
	case name == declarationName, name == infoName, name == "fetch.txt":
		return true
	case strings.Contains(name, "/") || !strings.HasSuffix(name, ".txt"):
		return false
	}
	return strings.HasPrefix(name, "manifest-") || strings.HasPrefix(name, "tagmanifest-")
}

// Stats returns the number of payload files added so far and their total
// length in bytes.
func (w *Writer) Stats() (files int, bytes int64) {
	return len(w.payload), w.bytes
}

// Close writes manifest-sha256.txt, bag-info.txt and tagmanifest-sha256.txt
// and closes the ZIP. It does not close the underlying io.Writer.
func (w *Writer) Close() error {
	if err := w.ready(); err != nil {
		return err
	}
	w.closed = true
	slices.SortFunc(w.payload, func(a, b payloadEntry) int {
		return bytes.Compare(w.z.name(int(a.zip)), w.z.name(int(b.zip)))
	})
	manifest, err := w.writeTag(manifestName, func(bw *bufio.Writer) error {
		for _, e := range w.payload {
			if err := writeLine(bw, e.sum, string(w.z.name(int(e.zip)))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	info, err := w.writeTag(infoName, func(bw *bufio.Writer) error {
		for _, f := range w.infoFields() {
			if err := writeField(bw, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	tags := append(slices.Clone(w.tags), entry{declarationName, sha256.Sum256([]byte(declaration))},
		entry{infoName, info}, entry{manifestName, manifest})
	slices.SortFunc(tags, func(a, b entry) int { return strings.Compare(a.path, b.path) })
	if _, err := w.writeTag(tagManifestName, func(bw *bufio.Writer) error {
		return writeManifest(bw, tags)
	}); err != nil {
		return err
	}
	if err := w.z.close(); err != nil {
		return w.fail(fmt.Errorf("bagit: close: %w", err))
	}
	return nil
}

// infoFields returns the bag-info.txt fields: the caller's, then those the
// writer adds.
func (w *Writer) infoFields() []Field {
	fields := slices.Clone(w.info)
	if !hasLabel(fields, labelDate) {
		fields = append(fields, Field{labelDate, w.modified.Format(time.DateOnly)})
	}
	fields = append(fields, Field{labelOxum, oxum(w.bytes, len(w.payload))})
	if !hasLabel(fields, labelSize) {
		fields = append(fields, Field{labelSize, bagSize(w.bytes)})
	}
	if w.software != "" && !hasLabel(fields, labelSoftware) {
		fields = append(fields, Field{labelSoftware, w.software})
	}
	return fields
}

// writeManifest writes one "HEX  PATH" line per entry, two spaces apart as
// sha256sum writes them, so that `sha256sum -c` reads the manifests too.
func writeManifest(bw *bufio.Writer, entries []entry) error {
	for _, e := range entries {
		if err := writeLine(bw, e.sum, e.path); err != nil {
			return err
		}
	}
	return nil
}

// writeLine writes one manifest line.
func writeLine(bw *bufio.Writer, sum [sha256.Size]byte, p string) error {
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	bw.Write(hx[:])
	bw.WriteString("  ")
	bw.WriteString(encodePath(p))
	return bw.WriteByte('\n')
}

// ready reports whether the writer can take another call, writing
// bagit.txt first if nothing has been written yet.
func (w *Writer) ready() error {
	switch {
	case w.err != nil:
		return w.err
	case w.closed:
		return errors.New("bagit: writer is closed")
	case w.started:
		return nil
	}
	w.started = true
	if _, err := w.writeTag(declarationName, func(bw *bufio.Writer) error {
		_, err := bw.WriteString(declaration)
		return err
	}); err != nil {
		return err
	}
	// An explicit data/ entry keeps the payload directory in an empty bag.
	if err := w.z.create(payloadDir, zipStore, true); err != nil {
		return w.fail(fmt.Errorf("bagit: %s: %w", payloadDir, err))
	}
	return nil
}

// claim reserves the bag-relative path rel for a file, refusing a path
// already used by a file or a directory, or one whose parent is a file.
// The file is the next ZIP entry.
func (w *Writer) claim(rel string) error {
	if _, dir := w.dirs[rel]; dir || w.isFile(rel) {
		return fmt.Errorf("bagit: %s: already in the bag", rel)
	}
	for i := range len(rel) {
		if rel[i] == '/' && w.isFile(rel[:i]) {
			return fmt.Errorf("bagit: %s: %s is a file, not a directory", rel, rel[:i])
		}
	}
	for i := range len(rel) {
		if rel[i] == '/' {
			if _, ok := w.dirs[rel[:i]]; !ok {
				w.dirs[rel[:i]] = struct{}{}
			}
		}
	}
	h := maphash.String(w.seed, rel)
	if _, taken := w.files[h]; taken {
		w.collided[rel] = struct{}{}
	} else {
		w.files[h] = uint32(len(w.z.dir))
	}
	return nil
}

// isFile reports whether rel was claimed for a file. The bag's own tag
// files are counted as files although they are written last.
func (w *Writer) isFile(rel string) bool {
	switch rel {
	case declarationName, infoName, manifestName, tagManifestName:
		return true
	}
	if i, ok := w.files[maphash.String(w.seed, rel)]; ok && int(i) < len(w.z.dir) && string(w.z.name(int(i))) == rel {
		return true
	}
	_, ok := w.collided[rel]
	return ok
}

// copy writes r into a new ZIP entry for rel, hashing it on the way.
func (w *Writer) copy(rel string, r io.Reader) (sum [sha256.Size]byte, n int64, err error) {
	method := uint16(zipDeflate)
	if isCompressed(rel) {
		method = zipStore
	}
	if err := w.z.create(rel, method, false); err != nil {
		return sum, 0, w.fail(fmt.Errorf("bagit: %s: %w", rel, err))
	}
	h := sha256.New()
	n, err = io.CopyBuffer(io.MultiWriter(w.z, h), r, w.buf)
	if err != nil {
		return sum, n, w.fail(fmt.Errorf("bagit: %s: %w", rel, err))
	}
	h.Sum(sum[:0])
	return sum, n, nil
}

// writeTag writes a text tag file produced by fill and returns its SHA-256.
func (w *Writer) writeTag(name string, fill func(*bufio.Writer) error) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	if err := w.z.create(name, zipDeflate, false); err != nil {
		return sum, w.fail(fmt.Errorf("bagit: %s: %w", name, err))
	}
	h := sha256.New()
	bw := bufio.NewWriter(io.MultiWriter(w.z, h))
	if err := fill(bw); err != nil {
		return sum, w.fail(fmt.Errorf("bagit: %s: %w", name, err))
	}
	if err := bw.Flush(); err != nil {
		return sum, w.fail(fmt.Errorf("bagit: %s: %w", name, err))
	}
	h.Sum(sum[:0])
	return sum, nil
}

// fail makes err sticky and returns it.
func (w *Writer) fail(err error) error {
	w.err = err
	return err
}

// isCompressed reports whether the file at p is, judging by its extension,
// in a format that is compressed already, so deflating it again would cost
// time and save nothing.
func isCompressed(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".heic",
		".mp4", ".m4v", ".mov", ".webm", ".mp3", ".m4a", ".aac", ".ogg", ".opus",
		".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".pdf":
		return true
	}
	return false
}
