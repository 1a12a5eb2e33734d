package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
)

// verifyingReader hashes what passes through it and, at the end of the
// stream, turns io.EOF into an ErrCorrupt error when the content does not
// match the key. Callers that read to io.EOF have therefore read exactly the
// bytes that were stored.
type verifyingReader struct {
	rc   io.ReadCloser
	key  string
	want string // lowercase hex SHA-256
	size int64  // expected length; -1 when unknown
	h    hash.Hash
	n    int64
	done error // sticky result once the stream has ended or gone bad
}

func newVerifyingReader(rc io.ReadCloser, key, sum string, size int64) *verifyingReader {
	return &verifyingReader{rc: rc, key: key, want: sum, size: size, h: sha256.New()}
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.done != nil {
		return 0, v.done
	}
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.size >= 0 && v.n > v.size {
		v.done = v.corrupt()
		return n, v.done
	}
	if err == io.EOF {
		v.done = io.EOF
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want || (v.size >= 0 && v.n != v.size) {
			v.done = v.corrupt()
		}
		return n, v.done
	}
	return n, err
}

func (v *verifyingReader) corrupt() error {
	return fmt.Errorf("blob: read %s: %w (read %d bytes, expected %d, sha256 %s)",
		v.key, ErrCorrupt, v.n, v.size, hex.EncodeToString(v.h.Sum(nil)))
}

// Close closes the underlying stream.
func (v *verifyingReader) Close() error { return v.rc.Close() }

// ctxReader stops a copy once ctx is done, so a Put from a stalled source
// can be cancelled between reads.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// spool copies r into f while hashing it and returns the hex SHA-256 and the
// size.
func spool(ctx context.Context, f *os.File, r io.Reader) (sum string, size int64, err error) {
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(f, h), ctxReader{ctx: ctx, r: r})
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}
