package bagit

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Report describes a bag that verified.
type Report struct {
	// Dir is the bag's base directory, the ZIP's one top-level directory.
	Dir string
	// Files and Bytes count the payload files and their total length.
	Files int
	Bytes int64
	// Info are the bag-info.txt fields in file order; continuation lines
	// are joined to their value with a line feed.
	Info []Field
}

// Kinds of Problem.
const (
	// KindStructure: not a readable ZIP; entries that are unsafe (absolute,
	// "..", backslashes, symbolic links, encrypted), duplicated, or outside
	// the one top-level directory; a missing or wrong bagit.txt; no data/
	// directory; no payload manifest; a manifest using an unsupported
	// algorithm; a malformed bag-info.txt.
	KindStructure = "structure"
	// KindZip: the ZIP container itself is not as written. Bytes that
	// belong to no entry (before the first local header, between an
	// entry's data or data descriptor and the next record, after the
	// central directory or the end record, or an end record comment); a
	// local header, data descriptor or zip64 record that disagrees with
	// the central directory or the end record (name, extra field, version
	// needed, flags, method, time, CRC-32, sizes, offsets, counts);
	// entries sharing data; an entry whose data does not match its CRC-32
	// or sizes, or whose DEFLATE stream has non-zero padding bits or bytes
	// after its end, found when no manifest lists the entry (a manifest
	// reports it as its own kind). And for a bag whose Bag-Software-Agent
	// starts with "civicarchive", any field written otherwise than Writer
	// writes it, when the ZIP has an entry whose central directory fields
	// are exactly Writer's (so a bag re-zipped by another tool is not held
	// to them). Path is the entry's name in the ZIP, or empty.
	KindZip = "zip"
	// KindTagManifest: a tag manifest line that is malformed or unsafe,
	// names a payload file, a tag manifest or a missing file, is repeated,
	// or whose checksum does not match; or a payload manifest that a tag
	// manifest does not list.
	KindTagManifest = "tagmanifest"
	// KindManifest: a payload manifest line that is malformed or unsafe,
	// names a file outside data/ or a directory, or is repeated.
	KindManifest = "manifest"
	// KindMissing: a payload manifest lists a file the bag lacks.
	KindMissing = "missing"
	// KindChecksum: a payload file does not hash to its manifest checksum,
	// or cannot be read from the ZIP (its data does not match its CRC-32 or
	// sizes, or its DEFLATE stream is malformed).
	KindChecksum = "checksum"
	// KindExtra: a file under data/ that a payload manifest does not list.
	KindExtra = "extra"
	// KindOxum: Payload-Oxum is repeated, malformed or wrong.
	KindOxum = "oxum"
)

// Problem is the first thing found wrong with a bag.
type Problem struct {
	// Path is the file concerned, relative to the bag's base directory
	// ("data/media/ab.jpg", "bag-info.txt"); for a ZIP entry outside the
	// bag or unsafe, and for every KindZip problem, the entry's name in the
	// ZIP; empty for the ZIP as a whole.
	Path string
	// Kind is one of the Kind constants.
	Kind string
	// Msg says what is wrong.
	Msg string
}

// Error returns "bagit: PATH: MSG", or "bagit: MSG" when Path is empty.
func (p *Problem) Error() string {
	if p.Path == "" {
		return "bagit: " + p.Msg
	}
	path := p.Path
	if strings.ContainsAny(path, "\r\n") {
		path = strconv.Quote(path)
	}
	return "bagit: " + path + ": " + p.Msg
}

func problem(path, kind, format string, args ...any) *Problem {
	return &Problem{Path: path, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Verify checks the bag in the ZIP read from r, of size bytes, and returns
// a Report, or a *Problem naming the first problem found. Checks run in a
// fixed order, so a bag always gets the same answer: the ZIP container
// (every byte accounted for, each local header agreeing with its central
// directory record: KindZip); structure (ZIP entries, bagit.txt, data/,
// manifest names); for a bag civicarchive wrote, the ZIP fields Writer
// writes (KindZip); each tag manifest, line by line; each payload manifest
// (manifest-sha256.txt first, then others by name), line by line; payload
// files no manifest lists, by name; bag-info.txt and its Payload-Oxum;
// then every entry not read yet (directories, unlisted tag files), whose
// data must match its CRC-32 and sizes (KindZip). So every byte of the ZIP
// is checked: the container's against each other, a stored entry's data
// against its CRC-32, which any change to one byte alters, and a DEFLATE
// entry's data by its CRC-32 after inflating and by the stream's own
// structure, including the padding bits inflating skips.
//
// Two kinds of change can still go unseen. A DEFLATE stream can encode the
// same bytes in more than one way: in data that repeats (a run of one
// byte, say), a back-reference's distance can change to another that
// copies the same bytes, and nothing in a ZIP records the compressed bytes
// to tell. And Verify does not hold a bag written by another tool to the
// fields only Writer fixes (version made by, attributes, file comments),
// which no reader needs, nor to the fields of an extended timestamp only
// the local header has.
//
// Nothing is extracted and no file is held in memory: files are hashed as
// they stream out of the ZIP, and only the names of listed files are kept.
// Entries cannot share or overlap their data, which bounds the work to
// what the ZIP's own bytes can inflate to.
//
// Other errors, such as failing reads from r, are returned as they are.
func Verify(r io.ReaderAt, size int64) (*Report, error) {
	rep, p, err := verify(r, size)
	switch {
	case err != nil:
		return nil, err
	case p != nil:
		return nil, p
	}
	return rep, nil
}

// VerifyFile verifies the bag in the ZIP file at path; see Verify.
func VerifyFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bagit: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("bagit: %w", err)
	}
	return Verify(f, fi.Size())
}

func verify(r io.ReaderAt, size int64) (*Report, *Problem, error) {
	ra := &readerAt{r: r}
	zr, err := zip.NewReader(ra, size)
	if ra.err != nil {
		return nil, nil, fmt.Errorf("bagit: read: %w", ra.err)
	}
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, problem("", KindStructure, "not a readable ZIP: %v", err), nil
	}
	z, p := checkZip(ra, size, zr.File)
	var b *bag
	if p == nil {
		b, p = scan(zr)
	}
	if p == nil {
		p = b.checkWriter(z)
	}
	if p == nil {
		p = b.check()
	}
	if p == nil {
		p = b.checkUnread(zr.File)
	}
	if ra.err != nil {
		return nil, nil, fmt.Errorf("bagit: read: %w", ra.err)
	}
	if p != nil {
		return nil, p, nil
	}
	return &Report{Dir: b.dir, Files: b.nfiles, Bytes: b.nbytes, Info: b.info}, nil, nil
}

// readerAt remembers the first error from r other than io.EOF, so that a
// failing disk is reported as such rather than as a broken bag. A negative
// offset comes from a forged ZIP, not from r, and is refused here.
type readerAt struct {
	r   io.ReaderAt
	err error
}

var errNegativeOffset = errors.New("zip: negative offset")

func (ra *readerAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errNegativeOffset
	}
	n, err := ra.r.ReadAt(p, off)
	if err != nil && err != io.EOF && ra.err == nil {
		ra.err = err
	}
	return n, err
}

// bag is a ZIP being verified.
type bag struct {
	dir    string               // base directory name
	files  map[string]*zip.File // regular files by bag-relative path
	dirs   map[string]bool      // bag-relative directories, named or implied
	info   []Field
	nfiles int
	nbytes int64
	buf    []byte
	// checked holds the entries whose data has been read to the end and
	// matched its CRC-32 and sizes; see open.
	checked map[*zip.File]bool
}

// check runs the checks after the ZIP-level ones, in Verify's order.
func (b *bag) check() *Problem {
	if p := b.checkLayout(); p != nil {
		return p
	}
	payload, p := b.manifestNames("manifest")
	if p != nil {
		return p
	}
	tags, p := b.manifestNames("tagmanifest")
	if p != nil {
		return p
	}
	for _, name := range tags {
		if p := b.checkTagManifest(name, payload); p != nil {
			return p
		}
	}
	listed := make([]map[*zip.File]bool, len(payload))
	for i, name := range payload {
		if listed[i], p = b.checkManifest(name, i == 0); p != nil {
			return p
		}
	}
	if p := b.checkExtra(payload, listed); p != nil {
		return p
	}
	return b.checkInfo()
}

// scan checks every ZIP entry: a safe name, a regular file or a directory,
// all inside one top-level directory, no name twice, and no name both a
// file and a directory. (checkZip has made sure that no two entries share
// data.)
func scan(zr *zip.Reader) (*bag, *Problem) {
	b := &bag{files: map[string]*zip.File{}, dirs: map[string]bool{}, buf: make([]byte, 64<<10),
		checked: map[*zip.File]bool{}}
	for _, f := range zr.File {
		if p := b.add(f); p != nil {
			return nil, p
		}
	}
	if b.dir == "" {
		return nil, problem("", KindStructure, "the ZIP holds no bag directory")
	}
	for _, f := range zr.File {
		if rel := b.rel(f.Name); b.files[rel] == f && b.dirs[rel] {
			return nil, problem(f.Name, KindStructure, "is both a file and a directory")
		}
	}
	return b, nil
}

// add records one ZIP entry, or says what is wrong with it.
func (b *bag) add(f *zip.File) *Problem {
	name := f.Name
	if fault := pathFault(strings.TrimSuffix(name, "/")); fault != "" {
		return problem(name, KindStructure, "unsafe ZIP entry name: %s", fault)
	}
	mode := f.Mode()
	isDir := strings.HasSuffix(name, "/") || mode.IsDir()
	switch {
	case f.Flags&0x1 != 0:
		return problem(name, KindStructure, "is encrypted")
	case mode&fs.ModeSymlink != 0:
		return problem(name, KindStructure, "is a symbolic link")
	case !isDir && !mode.IsRegular():
		return problem(name, KindStructure, "is not a regular file (mode %v)", mode)
	}
	top, rel, _ := strings.Cut(strings.TrimSuffix(name, "/"), "/")
	if b.dir == "" {
		b.dir = top
	} else if top != b.dir {
		return problem(name, KindStructure, "is outside the bag directory %q: a bag ZIP holds one top-level directory", b.dir)
	}
	if rel == "" {
		if isDir {
			return nil
		}
		return problem(name, KindStructure, "is a file at the top of the ZIP, outside any bag directory")
	}
	for i := range len(rel) {
		if rel[i] == '/' {
			b.dirs[rel[:i]] = true
		}
	}
	if isDir {
		b.dirs[rel] = true
		return nil
	}
	if _, dup := b.files[rel]; dup {
		return problem(name, KindStructure, "appears twice in the ZIP")
	}
	b.files[rel] = f
	return nil
}

// rel returns the bag-relative path of a ZIP entry name.
func (b *bag) rel(name string) string {
	return strings.TrimSuffix(strings.TrimPrefix(name, b.dir+"/"), "/")
}

// checkWriter holds a bag that says civicarchive wrote it (its
// Bag-Software-Agent starts with "civicarchive", which Writer writes when
// Options.Software says so, as the export and release writers do) to the
// ZIP fields exactly as Writer writes them, which no reader needs and so
// checkZip cannot check otherwise: version made by, attributes, disk,
// comments, the local header's zeroed CRC-32 and sizes, the data
// descriptor's form, the end records. Only if at least one entry has
// Writer's central directory fields, though: one changed byte cannot
// change them in two entries, and a bag re-zipped by another tool, which
// has none, is then not refused for it.
func (b *bag) checkWriter(z *zipLayout) *Problem {
	if !slices.ContainsFunc(z.entries, func(e zipEntry) bool { return e.writerCD }) || !b.saysCivicarchive() {
		return nil
	}
	for _, e := range z.entries {
		if e.writerFault != "" {
			return problem(e.f.Name, KindZip, "not as civicarchive writes it, though bag-info.txt says civicarchive wrote the bag: %s", e.writerFault)
		}
	}
	if z.writerFault != "" {
		return problem("", KindZip, "not as civicarchive writes it, though bag-info.txt says civicarchive wrote the bag: %s", z.writerFault)
	}
	return nil
}

// saysCivicarchive reports whether bag-info.txt's first Bag-Software-Agent
// starts with "civicarchive". A bag-info.txt that cannot be read or parsed
// says nothing here; checkInfo reports it in its turn.
func (b *bag) saysCivicarchive() bool {
	f := b.files[infoName]
	if f == nil {
		return false
	}
	rc, err := b.open(f)
	if err != nil {
		return false
	}
	defer rc.Close()
	info, err := parseInfo(io.LimitReader(rc, maxInfo))
	if err != nil {
		return false
	}
	for _, fl := range info {
		if strings.EqualFold(fl.Label, labelSoftware) {
			return strings.HasPrefix(fl.Value, "civicarchive")
		}
	}
	return false
}

// checkUnread reads every entry that no check has read to its end
// (directories, tag files no tag manifest lists), so that the data of
// every entry is checked against its CRC-32 and sizes.
func (b *bag) checkUnread(files []*zip.File) *Problem {
	for _, f := range files {
		if b.checked[f] {
			continue
		}
		rc, err := b.open(f)
		if err == nil {
			_, err = io.CopyBuffer(io.Discard, rc, b.buf)
			rc.Close()
		}
		if err != nil {
			return problem(f.Name, KindZip, "unreadable: %v", err)
		}
	}
	return nil
}

// checkLayout checks bagit.txt and the data/ directory.
func (b *bag) checkLayout() *Problem {
	f := b.files[declarationName]
	if f == nil {
		return problem(declarationName, KindStructure, "missing: every bag has a bag declaration")
	}
	data, err := b.readSmall(f, 1024)
	if err != nil {
		return problem(declarationName, KindStructure, "%v", err)
	}
	if msg := checkDeclaration(data); msg != "" {
		return problem(declarationName, KindStructure, "%s", msg)
	}
	if b.files["data"] != nil || !b.dirs["data"] {
		return problem("data", KindStructure, "the bag has no data/ payload directory")
	}
	return nil
}

// checkDeclaration says what is wrong with bagit.txt, or returns "".
func checkDeclaration(data []byte) string {
	if strings.HasPrefix(string(data), "\uFEFF") {
		return "starts with a byte-order mark"
	}
	lines := splitLines(string(data))
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) != 2 {
		return fmt.Sprintf("has %d lines; it must have two", len(lines))
	}
	v, ok := strings.CutPrefix(lines[0], "BagIt-Version: ")
	if !ok {
		return fmt.Sprintf("first line %q is not \"BagIt-Version: M.N\"", lines[0])
	}
	if v != "1.0" {
		return fmt.Sprintf("BagIt-Version %q: only version 1.0 bags are verified", v)
	}
	enc, ok := strings.CutPrefix(lines[1], "Tag-File-Character-Encoding: ")
	if !ok || !strings.EqualFold(enc, "UTF-8") {
		return fmt.Sprintf("second line %q is not \"Tag-File-Character-Encoding: UTF-8\"", lines[1])
	}
	return ""
}

// readSmall reads a file expected to be at most max bytes.
func (b *bag) readSmall(f *zip.File, max int64) ([]byte, error) {
	rc, err := b.open(f)
	if err != nil {
		return nil, fmt.Errorf("unreadable: %v", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, max+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("unreadable: %v", err)
	case int64(len(data)) > max:
		return nil, fmt.Errorf("longer than %d bytes", max)
	}
	return data, nil
}

// checkInfo parses bag-info.txt, if there is one, and checks Payload-Oxum.
func (b *bag) checkInfo() *Problem {
	if f := b.files[infoName]; f != nil {
		rc, err := b.open(f)
		if err != nil {
			return problem(infoName, KindStructure, "unreadable: %v", err)
		}
		defer rc.Close()
		lr := &io.LimitedReader{R: rc, N: maxInfo + 1}
		info, err := parseInfo(lr)
		switch {
		case lr.N <= 0:
			return problem(infoName, KindStructure, "longer than %d bytes", maxInfo)
		case err != nil:
			return problem(infoName, KindStructure, "%v", err)
		}
		b.info = info
	}
	return checkOxum(b.info, b.nbytes, b.nfiles)
}

// maxInfo bounds bag-info.txt, which Verify holds in memory.
const maxInfo = 16 << 20
