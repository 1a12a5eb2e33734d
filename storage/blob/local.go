package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tmpDirName is the directory under the store root where Put writes before
// publishing. It must be on the same filesystem as the blobs for os.Link.
const tmpDirName = "tmp"

// staleTempAge is how old (by modification time) a temp file must be before
// NewLocal removes it. Several processes (the server, a CLI command) may
// share one directory, so NewLocal must not remove the temp file of a Put in
// progress elsewhere: that Put would then fail at os.Link. A live Put touches
// its temp file with every write; one untouched for an hour was left by a
// process that died.
const staleTempAge = time.Hour

// Local is a Store in a directory of the local filesystem. A blob lives at
// DIR/KEY (DIR/sha256/ab/cd/abcd…), read-only (0444).
//
// Put is crash-safe: a blob appears under its key only as a hard link to a
// complete, fsynced temp file, so a process killed during Put leaves at most
// a temp file under DIR/tmp, never a partial blob.
type Local struct {
	dir string
}

var _ Store = (*Local)(nil)

// NewLocal opens (creating if needed) a blob store in dir and removes temp
// files that crashed Puts left behind.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("blob: open local: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: open local: %w", err)
	}
	l := &Local{dir: abs}
	for _, d := range []string{abs, filepath.Join(abs, "sha256"), l.tmpDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("blob: open local: %w", err)
		}
	}
	if err := l.removeStaleTemps(time.Now().Add(-staleTempAge)); err != nil {
		return nil, fmt.Errorf("blob: open local: %w", err)
	}
	return l, nil
}

// Name returns "local".
func (l *Local) Name() string { return "local" }

// Put stores the content of r; see Store.Put.
func (l *Local) Put(ctx context.Context, r io.Reader) (Ref, bool, error) {
	f, err := os.CreateTemp(l.tmpDir(), "put-*")
	if err != nil {
		return Ref{}, false, fmt.Errorf("blob: put: %w", err)
	}
	tmp := f.Name()
	// Once published, the blob lives on under its final name; before that,
	// the temp file is garbage either way.
	defer os.Remove(tmp)

	sum, size, err := spool(ctx, f, r)
	if err == nil {
		// The data must be on disk before a name that promises it is.
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Ref{}, false, fmt.Errorf("blob: put: write temp file: %w", err)
	}

	ref := Ref{Key: KeyFor(sum), SHA256: sum, Size: size}
	created, err := l.publish(tmp, ref.Key)
	if err != nil {
		return Ref{}, false, fmt.Errorf("blob: put %s: %w", ref.Key, err)
	}
	return ref, created, nil
}

// publish links the complete temp file tmp to key's path. os.Link never
// replaces an existing name, so a blob already there (from an earlier Put or
// a concurrent one) is left untouched and publish reports created=false.
func (l *Local) publish(tmp, key string) (created bool, err error) {
	final := l.path(key)
	if _, err := os.Lstat(final); err == nil {
		return false, nil
	}
	dir := filepath.Dir(final)
	if err := mkdirSynced(dir); err != nil {
		return false, err
	}
	// Read-only before it gets its public name, so it is never writable there.
	if err := os.Chmod(tmp, 0o444); err != nil {
		return false, err
	}
	if err := os.Link(tmp, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, err
	}
	// Make the new name itself durable.
	if err := syncDir(dir); err != nil {
		return false, err
	}
	return true, nil
}

// Get opens the blob under key; see Store.Get.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	sum, err := ParseKey(key)
	if err != nil {
		return nil, fmt.Errorf("blob: get: %w", err)
	}
	f, err := os.Open(l.path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("blob: get %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("blob: get %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob: get %s: %w", key, err)
	}
	return newVerifyingReader(f, key, sum, fi.Size()), nil
}

// Stat returns the Ref of the blob under key; see Store.Stat.
func (l *Local) Stat(ctx context.Context, key string) (Ref, error) {
	sum, err := ParseKey(key)
	if err != nil {
		return Ref{}, fmt.Errorf("blob: stat: %w", err)
	}
	fi, err := os.Stat(l.path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Ref{}, fmt.Errorf("blob: stat %s: %w", key, ErrNotFound)
		}
		return Ref{}, fmt.Errorf("blob: stat %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		return Ref{}, fmt.Errorf("blob: stat %s: not a regular file", key)
	}
	return Ref{Key: key, SHA256: sum, Size: fi.Size()}, nil
}

// Check verifies that the store directory is writable by creating and
// removing a file in it.
func (l *Local) Check(ctx context.Context) error {
	f, err := os.CreateTemp(l.tmpDir(), "check-*")
	if err != nil {
		return fmt.Errorf("blob: check: %w", err)
	}
	name := f.Name()
	_, err = f.WriteString("ok")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("blob: check: %w", err)
	}
	return nil
}

func (l *Local) tmpDir() string { return filepath.Join(l.dir, tmpDirName) }

// path maps a key that ParseKey accepted to its file.
func (l *Local) path(key string) string {
	return filepath.Join(l.dir, filepath.FromSlash(key))
}

// removeStaleTemps removes temp files last modified before cutoff.
func (l *Local) removeStaleTemps(cutoff time.Time) error {
	entries, err := os.ReadDir(l.tmpDir())
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !(strings.HasPrefix(e.Name(), "put-") || strings.HasPrefix(e.Name(), "check-")) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // another process cleaned it up
		}
		if err != nil {
			return err
		}
		if info.ModTime().Before(cutoff) {
			if err := os.Remove(filepath.Join(l.tmpDir(), e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// mkdirSynced creates dir and any missing parents, fsyncing each parent that
// gained an entry so that the new directories survive a power loss.
func mkdirSynced(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirSynced(parent); err != nil {
			return err
		}
	}
	// A concurrent Put may have made it; sync the parent all the same, since
	// that Put may not have got that far yet.
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

// syncDir fsyncs a directory, making the names in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
