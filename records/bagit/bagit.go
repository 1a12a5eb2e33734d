// Package bagit writes and verifies BagIt 1.0 bags (RFC 8493) serialized as
// ZIP files, the container of civicarchive's litigation bundles.
//
// A bag is a directory holding tag files (bagit.txt, bag-info.txt, the
// manifests) and a data/ directory holding the payload. RFC 8493 itself
// does not define serialization; its drafts up to draft-kunze-bagit-14 did
// ("the top-level directory of a serialization MUST contain only one bag"),
// and this package follows them: the ZIP holds exactly one top-level
// directory, the bag's base directory, so unzipping it into an empty
// directory yields one directory, which can be checked with
// `sha256sum -c manifest-sha256.txt`.
//
// Writer streams a bag: payload files are hashed while they are compressed
// into the ZIP, so memory stays flat however large the export. Verify checks
// a bag in a ZIP without extracting it and names the first problem found.
package bagit

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"strings"
	"unicode/utf8"
)

// Field is one bag-info.txt metadata element, such as
// {"Source-Organization", "Clinton City"}. Labels are matched
// case-insensitively when the writer decides whether a reserved element was
// given; their case is kept as written.
type Field struct {
	Label string
	Value string
}

// Names of the tag files this package writes. Only SHA-256 manifests are
// written; Verify also checks manifests using the other algorithms in
// hashers.
const (
	declarationName = "bagit.txt"
	infoName        = "bag-info.txt"
	manifestName    = "manifest-sha256.txt"
	tagManifestName = "tagmanifest-sha256.txt"
	payloadDir      = "data/"

	// declaration is the exact bagit.txt this package writes (RFC 8493 §2.1.1).
	declaration = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
)

// hashers maps the normalized algorithm names of RFC 8493 §2.4 that Verify
// supports to their constructors. RFC 8493 requires SHA-256 and SHA-512 and
// recommends MD5 and SHA-1 for older bags.
var hashers = map[string]func() hash.Hash{
	"md5":    md5.New,
	"sha1":   sha1.New,
	"sha224": sha256.New224,
	"sha256": sha256.New,
	"sha384": sha512.New384,
	"sha512": sha512.New,
}

// errPath is wrapped by every refusal of a path given to Writer.
var errPath = errors.New("bagit: unsafe path")

// checkRelPath refuses p unless it is a safe slash-separated relative path;
// see pathFault.
func checkRelPath(p string) error {
	if fault := pathFault(p); fault != "" {
		return fmt.Errorf("%w: %q %s", errPath, p, fault)
	}
	return nil
}

// pathFault says what makes p unsafe as a slash-separated path relative to
// a bag, or returns "" if nothing does: it must not be empty or absolute,
// must be valid UTF-8, and must hold no empty, "." or ".." segment, no
// backslash (a separator on Windows), no NUL and no drive letter. CR and
// LF are allowed: manifests percent-encode them (RFC 8493 §2.1.3).
func pathFault(p string) string {
	switch {
	case p == "":
		return "is empty"
	case !utf8.ValidString(p):
		return "is not valid UTF-8"
	case strings.ContainsAny(p, "\\\x00"):
		return "contains a backslash or NUL"
	case strings.HasPrefix(p, "/"):
		return "is absolute"
	case len(p) >= 2 && p[1] == ':':
		return "starts with a drive letter"
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return `has an empty, "." or ".." segment`
		}
	}
	return ""
}

// encodePath percent-encodes CR, LF and "%" in a manifest file path, and
// only those, as RFC 8493 §2.1.3 requires.
func encodePath(p string) string {
	if !strings.ContainsAny(p, "%\r\n") {
		return p
	}
	return pathEncoder.Replace(p)
}

var pathEncoder = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")

// decodePath undoes encodePath. A "%" not starting %25, %0D or %0A (in either
// case) is kept as it is: some tools, bagit-python among them, do not
// encode "%", and their bags should still verify.
func decodePath(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			switch strings.ToUpper(p[i+1 : i+3]) {
			case "25":
				b.WriteByte('%')
				i += 2
				continue
			case "0D":
				b.WriteByte('\r')
				i += 2
				continue
			case "0A":
				b.WriteByte('\n')
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}
