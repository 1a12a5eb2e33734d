// Package blob stores civicarchive's blobs — raw platform responses,
// normalised JSON, media and export bundles — content-addressed by SHA-256
// and written once.
//
// A blob's key is derived from its SHA-256, so storing the same bytes twice
// writes nothing the second time and a stored blob is never overwritten.
// Reads verify the content against the key as they stream, so corruption in
// the store is reported (ErrCorrupt) rather than passed on.
//
// Two stores implement Store: Local (a directory) and S3 (any S3-compatible
// server, optionally with Object Lock retention).
package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// keyPrefix names the hash algorithm, so another algorithm could live beside
// it later without key collisions.
const keyPrefix = "sha256/"

// sumOffset is where the full sum starts in a key: after "sha256/ab/cd/".
const sumOffset = len(keyPrefix) + len("ab/cd/")

// keyLen is the length of every valid key.
const keyLen = sumOffset + 64

// ErrNotFound is returned (wrapped) when no blob exists under a key.
var ErrNotFound = errors.New("blob: not found")

// ErrCorrupt is returned (wrapped) by a reader from Get when the bytes read do
// not hash to the key they were stored under.
var ErrCorrupt = errors.New("blob: content does not match its hash")

// ErrInvalidKey is returned (wrapped) for a key that ParseKey rejects.
var ErrInvalidKey = errors.New("blob: invalid key")

// Ref identifies a stored blob.
type Ref struct {
	// Key is the store key, as returned by KeyFor.
	Key string
	// SHA256 is the lowercase hex SHA-256 of the content.
	SHA256 string
	// Size is the content length in bytes.
	Size int64
}

// Store is a content-addressed, write-once blob store.
type Store interface {
	// Put streams r into the store, hashing as it goes. When a blob with that
	// hash already exists it writes nothing and returns created=false. It
	// never overwrites.
	Put(ctx context.Context, r io.Reader) (ref Ref, created bool, err error)
	// Get streams the blob. The returned reader verifies the SHA-256 (and
	// size) as it is read and returns an error wrapping ErrCorrupt at the end
	// (instead of io.EOF) when they don't match. A missing key gives an error
	// wrapping ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat returns the Ref of an existing blob, or an error wrapping
	// ErrNotFound.
	Stat(ctx context.Context, key string) (Ref, error)
	// Check is the readiness probe: the store is reachable and writable.
	Check(ctx context.Context) error
	// Name is "local" or "s3".
	Name() string
}

// KeyFor returns the key of the blob whose SHA-256 is sum (64 lowercase hex
// digits): "sha256/" + sum[0:2] + "/" + sum[2:4] + "/" + sum. The two levels
// of fan-out keep directories (and S3 listings) small. KeyFor does not
// validate sum; ParseKey(KeyFor(sum)) does.
func KeyFor(sum string) string {
	if len(sum) < 4 {
		return keyPrefix + sum
	}
	return keyPrefix + sum[0:2] + "/" + sum[2:4] + "/" + sum
}

// ParseKey validates key and returns its SHA-256 as lowercase hex. Anything
// but the exact form KeyFor produces is rejected — uppercase hex, other
// lengths, "..", extra slashes — so a key from outside can be used as a path
// or object name safely.
func ParseKey(key string) (string, error) {
	if len(key) != keyLen || !strings.HasPrefix(key, keyPrefix) {
		return "", fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	sum := key[sumOffset:]
	if !isLowerHex(sum) || KeyFor(sum) != key {
		return "", fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	return sum, nil
}

func isLowerHex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Stater is the part of Store that PutBytes needs to skip known content.
type Stater interface {
	Stat(ctx context.Context, key string) (Ref, error)
}

// Putter is the part of Store that writes.
type Putter interface {
	Put(ctx context.Context, r io.Reader) (Ref, bool, error)
}

// PutBytes stores b, but first hashes it and asks the store whether that
// content is already there: unchanged content (most of a nightly re-capture)
// then costs one stat instead of a temp file, an fsync and a link.
func PutBytes(ctx context.Context, s Putter, b []byte) (Ref, bool, error) {
	if st, ok := s.(Stater); ok {
		sum := sha256.Sum256(b)
		hexsum := hex.EncodeToString(sum[:])
		if ref, err := st.Stat(ctx, KeyFor(hexsum)); err == nil && ref.Size == int64(len(b)) {
			return ref, false, nil
		}
	}
	return s.Put(ctx, bytes.NewReader(b))
}
