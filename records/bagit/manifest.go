package bagit

import (
	"archive/zip"
	"bufio"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"slices"
	"strings"
)

// maxManifestLine bounds one manifest line: a checksum, and a path no
// longer than a ZIP entry name can be, percent-encoded.
const maxManifestLine = 1 << 20

// manifestNames returns the bag's manifests of one kind ("manifest" or
// "tagmanifest"): payload manifests with manifest-sha256.txt first and the
// rest by name, tag manifests by name. Every payload manifest must be
// verifiable, so an algorithm outside hashers is a structure problem, and
// a bag must have a payload manifest.
func (b *bag) manifestNames(kind string) ([]string, *Problem) {
	var names []string
	for rel := range b.files {
		if algorithm(rel, kind) != "" {
			names = append(names, rel)
		}
	}
	slices.SortFunc(names, func(x, y string) int {
		switch {
		case x == manifestName:
			return -1
		case y == manifestName:
			return 1
		}
		return strings.Compare(x, y)
	})
	for _, n := range names {
		if alg := algorithm(n, kind); hashers[alg] == nil {
			return nil, problem(n, KindStructure, "unsupported checksum algorithm %q", alg)
		}
	}
	if kind == "manifest" && len(names) == 0 {
		return nil, problem(manifestName, KindStructure, "missing: the bag has no payload manifest")
	}
	return names, nil
}

// algorithm returns ALG when rel is "KIND-ALG.txt" at the bag's top, else "".
func algorithm(rel, kind string) string {
	alg, ok := strings.CutPrefix(rel, kind+"-")
	if !ok || strings.Contains(rel, "/") {
		return ""
	}
	alg, _ = strings.CutSuffix(alg, ".txt")
	if alg == "" || len(alg)+len(kind)+5 != len(rel) {
		return ""
	}
	return alg
}

// manifestLine is one parsed line of a manifest.
type manifestLine struct {
	n    int    // line number, from 1
	sum  string // lower-case hex
	path string // decoded, relative to the base directory
}

// readLines calls fn for each non-empty line of the manifest name, whose
// checksums newHash computes, in order, stopping at the first problem;
// kind is given to problems with the manifest itself.
func (b *bag) readLines(name, kind string, newHash func() hash.Hash, fn func(manifestLine) *Problem) *Problem {
	size := newHash().Size()
	rc, err := b.open(b.files[name])
	if err != nil {
		return problem(name, kind, "unreadable: %v", err)
	}
	defer rc.Close()
	sc := newLineScanner(rc, maxManifestLine)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if text == "" {
			continue
		}
		l, ok := parseLine(text, size)
		if !ok {
			return problem(name, kind, "line %d is not \"CHECKSUM  PATH\" with a %d-digit hex checksum", n, 2*size)
		}
		if fault := pathFault(l.path); fault != "" {
			return problem(name, kind, "line %d: path %q %s", n, l.path, fault)
		}
		l.n = n
		if p := fn(l); p != nil {
			return p
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return problem(name, kind, "has a line longer than %d bytes", maxManifestLine)
	} else if err != nil {
		return problem(name, kind, "unreadable: %v", err)
	}
	return nil
}

// parseLine splits "CHECKSUM 1*WSP FILEPATH" (RFC 8493 §2.1.3), checking
// that the checksum is size bytes of hex in either case.
func parseLine(text string, size int) (manifestLine, bool) {
	i := strings.IndexAny(text, " \t")
	if i != 2*size {
		return manifestLine{}, false
	}
	sum := strings.ToLower(text[:i])
	if _, err := hex.DecodeString(sum); err != nil {
		return manifestLine{}, false
	}
	p := strings.TrimLeft(text[i:], " \t")
	if p == "" {
		return manifestLine{}, false
	}
	return manifestLine{sum: sum, path: decodePath(p)}, true
}

// checkTagManifest verifies the tag manifest name line by line, then that
// it lists every payload manifest (RFC 8493 §2.2.1).
func (b *bag) checkTagManifest(name string, payload []string) *Problem {
	newHash := hashers[algorithm(name, "tagmanifest")]
	listed := map[*zip.File]bool{}
	p := b.readLines(name, KindTagManifest, newHash, func(l manifestLine) *Problem {
		switch {
		case strings.HasPrefix(l.path, payloadDir):
			return problem(name, KindTagManifest, "line %d lists payload file %s", l.n, l.path)
		case algorithm(l.path, "tagmanifest") != "":
			return problem(name, KindTagManifest, "line %d lists tag manifest %s", l.n, l.path)
		}
		f := b.files[l.path]
		switch {
		case f == nil:
			return problem(l.path, KindTagManifest, "listed in %s but not in the bag", name)
		case listed[f]:
			return problem(name, KindTagManifest, "line %d lists %s again", l.n, l.path)
		}
		listed[f] = true
		sum, _, err := b.hash(f, newHash)
		if err != nil {
			return problem(l.path, KindTagManifest, "unreadable: %v", err)
		}
		if sum != l.sum {
			return problem(l.path, KindTagManifest, "checksum mismatch: %s says %s, file hashes %s", name, l.sum, sum)
		}
		return nil
	})
	if p != nil {
		return p
	}
	for _, m := range payload {
		if !listed[b.files[m]] {
			return problem(m, KindTagManifest, "not listed in %s", name)
		}
	}
	return nil
}

// checkManifest verifies the payload manifest name line by line and
// returns the files it lists. The first manifest also counts the payload
// for the Report and Payload-Oxum.
func (b *bag) checkManifest(name string, first bool) (map[*zip.File]bool, *Problem) {
	newHash := hashers[algorithm(name, "manifest")]
	listed := map[*zip.File]bool{}
	p := b.readLines(name, KindManifest, newHash, func(l manifestLine) *Problem {
		if !strings.HasPrefix(l.path, payloadDir) {
			return problem(name, KindManifest, "line %d: %s is outside data/", l.n, l.path)
		}
		f := b.files[l.path]
		switch {
		case f == nil && b.dirs[l.path]:
			return problem(name, KindManifest, "line %d: %s is a directory", l.n, l.path)
		case f == nil:
			return problem(l.path, KindMissing, "listed in %s but not in the bag", name)
		case listed[f]:
			return problem(name, KindManifest, "line %d lists %s again", l.n, l.path)
		}
		listed[f] = true
		sum, n, err := b.hash(f, newHash)
		if err != nil {
			return problem(l.path, KindChecksum, "unreadable: %v", err)
		}
		if sum != l.sum {
			says := "manifest"
			if name != manifestName {
				says = name
			}
			return problem(l.path, KindChecksum, "checksum mismatch: %s says %s, file hashes %s", says, l.sum, sum)
		}
		if first {
			b.nfiles++
			b.nbytes += n
		}
		return nil
	})
	return listed, p
}

// checkExtra finds the first payload file, by name, that a payload
// manifest does not list. Other files outside data/ are tag files, which
// RFC 8493 §2.2.4 allows unlisted.
func (b *bag) checkExtra(manifests []string, listed []map[*zip.File]bool) *Problem {
	var payload []string
	for rel := range b.files {
		if strings.HasPrefix(rel, payloadDir) {
			payload = append(payload, rel)
		}
	}
	slices.Sort(payload)
	for _, rel := range payload {
		for i, m := range manifests {
			if !listed[i][b.files[rel]] {
				return problem(rel, KindExtra, "in the payload but not listed in %s", m)
			}
		}
	}
	return nil
}

// hash streams f through a new hash and returns its hex digest and length.
// The read fails if f's data is not exactly as the ZIP records it: its
// sizes, its CRC-32, a well-formed DEFLATE stream (see open).
func (b *bag) hash(f *zip.File, newHash func() hash.Hash) (string, int64, error) {
	rc, err := b.open(f)
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := newHash()
	n, err := io.CopyBuffer(h, rc, b.buf)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
