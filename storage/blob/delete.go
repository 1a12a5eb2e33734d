package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ErrLocked is returned (wrapped) by Delete when the store refuses to
// delete a blob because S3 Object Lock protects it: a retention date not
// yet passed, or a legal hold.
var ErrLocked = errors.New("blob: locked by object lock (retention or legal hold)")

// Deleter is implemented by stores that can destroy a blob, which only a
// lawful disposition does. It is not part of Store: nothing else deletes.
type Deleter interface {
	// Delete destroys the blob under key, every stored version of it
	// included. A missing blob gives an error wrapping ErrNotFound; one
	// that Object Lock protects, an error wrapping ErrLocked.
	Delete(ctx context.Context, key string) error
}

// Locker is implemented by stores with S3 Object Lock: legal holds on the
// catalog mirror to legal holds on the objects, and retention dates follow
// the retention schedule.
type Locker interface {
	// SetLegalHold turns the object legal hold of the blob on or off.
	SetLegalHold(ctx context.Context, key string, on bool) error
	// SetRetention makes the blob's COMPLIANCE retention last at least
	// until the given time. Retention is only ever extended: an earlier
	// date than the one in force changes nothing.
	SetRetention(ctx context.Context, key string, until time.Time) error
}

var (
	_ Deleter = (*Local)(nil)
	_ Deleter = (*S3)(nil)
	_ Locker  = (*S3)(nil)
)

// Delete removes the blob's file (read-only files can be removed: it is the
// directory that must be writable) and makes the removal durable.
func (l *Local) Delete(ctx context.Context, key string) error {
	if _, err := ParseKey(key); err != nil {
		return fmt.Errorf("blob: delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	p := l.path(key)
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("blob: delete %s: %w", key, ErrNotFound)
		}
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}
