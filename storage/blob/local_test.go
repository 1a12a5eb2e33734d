package blob

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func openLocalHarness(t *testing.T) *harness {
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	return &harness{
		store: l,
		fingerprint: func(t *testing.T, key string) string {
			fi, err := os.Stat(l.path(key))
			if err != nil {
				t.Fatalf("stat %s: %v", key, err)
			}
			st, ok := fi.Sys().(*syscall.Stat_t)
			if !ok {
				t.Skip("no inode numbers on this platform")
			}
			return fmt.Sprintf("ino=%d mtime=%d ctime=%d.%d mode=%v",
				st.Ino, fi.ModTime().UnixNano(), st.Ctim.Sec, st.Ctim.Nsec, fi.Mode())
		},
		checkStored: func(t *testing.T, ref Ref) {
			fi, err := os.Stat(l.path(ref.Key))
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o444 {
				t.Errorf("blob mode = %v, want 0444", perm)
			}
			if tmps := listDir(t, l.tmpDir()); len(tmps) != 0 {
				t.Errorf("temp files left after Put: %v", tmps)
			}
		},
		corrupt: func(t *testing.T, key string) {
			path := l.path(key)
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil || len(b) == 0 {
				t.Fatalf("read %s: %d bytes, %v", key, len(b), err)
			}
			b[len(b)/2] ^= 0x01
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o444); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// crashDirEnv, when set, makes TestLocalPutKilled act as the child process
// that gets killed in the middle of a Put into that directory.
const crashDirEnv = "CIVICARCHIVE_BLOB_CRASH_DIR"

// crashMarker is the line the child prints once Put has written some bytes
// and is waiting for more.
const crashMarker = "put-is-blocked"

// TestLocalPutKilled kills (SIGKILL) a process in the middle of Put and
// checks that no partial blob appears under any key, that the store still
// works afterwards, and that NewLocal removes stale temp files.
func TestLocalPutKilled(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		runCrashChild(dir)
		return
	}
	dir := t.TempDir()
	prefix := crashPrefix()
	killPutChild(t, dir)

	if blobs := regularFiles(t, filepath.Join(dir, "sha256")); len(blobs) != 0 {
		t.Fatalf("killed Put left files under sha256/: %v", blobs)
	}
	tmps := listDir(t, filepath.Join(dir, tmpDirName))
	if len(tmps) != 1 {
		t.Fatalf("want the killed Put's one temp file, got %v", tmps)
	}
	tmp := filepath.Join(dir, tmpDirName, tmps[0])
	if fi, err := os.Stat(tmp); err != nil || fi.Size() != int64(len(prefix)) {
		t.Fatalf("temp file: %v, %v; want %d bytes written before the kill", fi, err, len(prefix))
	}

	// A fresh temp file may belong to a live Put elsewhere: it stays.
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("NewLocal removed a fresh temp file: %v", err)
	}
	if _, err := l.Stat(t.Context(), KeyFor(hexSHA256(prefix))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Stat of the bytes written before the kill: %v, want ErrNotFound", err)
	}
	ref, created, err := l.Put(t.Context(), bytes.NewReader(prefix))
	if err != nil || !created {
		t.Fatalf("Put after crash: created=%v, %v", created, err)
	}
	if got := mustRead(t, l, ref.Key); !bytes.Equal(got, prefix) {
		t.Fatal("Get after crash returned other bytes")
	}

	// One left untouched for longer than staleTempAge is removed.
	old := time.Now().Add(-2 * staleTempAge)
	if err := os.Chtimes(tmp, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLocal(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("NewLocal kept a stale temp file: %v", err)
	}
}

// killPutChild re-executes this test binary as a child that Puts into dir
// from a source that stalls, and SIGKILLs it once the Put has written
// crashPrefix and is waiting for more.
func killPutChild(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLocalPutKilled$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // never written: the child's source blocks on it
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	if !waitForLine(stdout, crashMarker) {
		t.Fatal("child exited without reaching the blocked Put")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v", err)
	}
}

// runCrashChild puts a stream that delivers some bytes and then blocks on
// stdin forever; the parent kills the process there.
func runCrashChild(dir string) {
	l, err := NewLocal(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	r := &stallingReader{data: bytes.NewReader(crashPrefix())}
	_, _, err = l.Put(context.Background(), r)
	fmt.Fprintln(os.Stderr, "Put returned:", err)
	os.Exit(3)
}

// crashPrefix is what the child writes before blocking; the parent knows it
// too.
func crashPrefix() []byte {
	b := make([]byte, 200<<10)
	rand.NewChaCha8([32]byte{'c', 'r', 'a', 's', 'h'}).Read(b)
	return b
}

// stallingReader yields data, then announces on stdout that it is blocked
// and blocks reading stdin (which the parent never writes). Blocking in a
// read keeps the Go runtime from declaring a deadlock.
type stallingReader struct {
	data      *bytes.Reader
	announced bool
}

func (r *stallingReader) Read(p []byte) (int, error) {
	if r.data.Len() > 0 {
		return r.data.Read(p)
	}
	if !r.announced {
		// io.Copy reads again only after writing what it got, so every byte
		// so far is in the temp file now.
		r.announced = true
		fmt.Println(crashMarker)
	}
	n, err := os.Stdin.Read(p)
	if err == nil {
		err = io.ErrUnexpectedEOF // not part of the test: fail the Put
	}
	return n, err
}

// waitForLine reads r until a line equal to want; false if r ends first.
func waitForLine(r io.Reader, want string) bool {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if sc.Text() == want {
			return true
		}
	}
	return false
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func regularFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
