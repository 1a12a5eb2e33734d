package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// testThreshold makes the multipart path reachable with small test blobs
// (S3's minimum part size is 5 MiB).
const testThreshold = 5<<20 + 1

// harness is one backend under test, with the back doors the suite needs to
// check what a Store did without going through the Store.
type harness struct {
	store Store
	// fingerprint identifies what is stored under key (file identity, object
	// versions, or a server write count); any rewrite changes it.
	fingerprint func(t *testing.T, key string) string
	// corrupt changes the stored bytes of key behind the store's back.
	corrupt func(t *testing.T, key string)
	// multipart reports whether key was stored by a multipart upload; nil
	// where the notion does not apply.
	multipart func(t *testing.T, key string) bool
	// checkStored checks backend-specific properties of a stored blob
	// (file mode, object metadata, retention); nil for none.
	checkStored func(t *testing.T, ref Ref)
}

type backend struct {
	name string
	open func(t *testing.T) *harness // nil: skip, for the reason in skip
	skip string
}

// backends lists every Store implementation the suite runs against.
func backends() []backend {
	return []backend{
		{name: "local", open: openLocalHarness},
		{name: "gofakes3", open: openGofakes3Harness},
		realS3Backend(),
	}
}

// TestStore runs the same user-level checks against every backend; subtests
// are named TestStore/<backend>/<check>.
func TestStore(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			if b.open == nil {
				t.Skip(b.skip)
			}
			h := b.open(t)
			t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, h) })
			t.Run("PutExistingWritesNothing", func(t *testing.T) { testPutExisting(t, h) })
			t.Run("ConcurrentPut", func(t *testing.T) { testConcurrentPut(t, h) })
			t.Run("Missing", func(t *testing.T) { testMissing(t, h) })
			t.Run("InvalidKey", func(t *testing.T) { testInvalidKey(t, h) })
			t.Run("Corrupt", func(t *testing.T) { testCorrupt(t, h) })
			t.Run("CancelledPut", func(t *testing.T) { testCancelledPut(t, h) })
			t.Run("Check", func(t *testing.T) { testCheck(t, h) })
		})
	}
}

func testRoundTrip(t *testing.T, h *harness) {
	tests := []struct {
		name      string
		size      int
		multipart bool
	}{
		{"empty", 0, false},
		{"small", 1000, false},
		{"below threshold", testThreshold - 1, false},
		{"at threshold", testThreshold, true},
		{"multipart", 12<<20 + 7, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			data := content(t, tt.size)
			ref, created, err := h.store.Put(ctx, bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			want := Ref{Key: KeyFor(hexSHA256(data)), SHA256: hexSHA256(data), Size: int64(tt.size)}
			if !created || ref != want {
				t.Fatalf("Put = %+v, created=%v; want %+v, created=true", ref, created, want)
			}
			if got := mustRead(t, h.store, ref.Key); !bytes.Equal(got, data) {
				t.Fatalf("Get returned %d bytes that differ from the %d put", len(got), len(data))
			}
			st, err := h.store.Stat(ctx, ref.Key)
			if err != nil || st != want {
				t.Fatalf("Stat = %+v, %v; want %+v", st, err, want)
			}
			if h.multipart != nil && h.multipart(t, ref.Key) != tt.multipart {
				t.Errorf("multipart upload = %v, want %v", !tt.multipart, tt.multipart)
			}
			if h.checkStored != nil {
				h.checkStored(t, ref)
			}
		})
	}
}

func testPutExisting(t *testing.T, h *harness) {
	ctx := testContext(t)
	data := content(t, 4096)
	ref, created, err := h.store.Put(ctx, bytes.NewReader(data))
	if err != nil || !created {
		t.Fatalf("first Put: created=%v, %v", created, err)
	}
	before := h.fingerprint(t, ref.Key)
	again, created, err := h.store.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("second Put: %v", err)
	}
	if created || again != ref {
		t.Fatalf("second Put = %+v, created=%v; want %+v, created=false", again, created, ref)
	}
	if after := h.fingerprint(t, ref.Key); after != before {
		t.Fatalf("second Put rewrote the blob: %s -> %s", before, after)
	}
	if got := mustRead(t, h.store, ref.Key); !bytes.Equal(got, data) {
		t.Fatal("content changed after second Put")
	}
}

func testConcurrentPut(t *testing.T, h *harness) {
	ctx := testContext(t)
	data := content(t, 64<<10)
	const n = 16
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		errs    []error
	)
	for range n {
		wg.Go(func() {
			ref, c, err := h.store.Put(ctx, bytes.NewReader(data))
			mu.Lock()
			defer mu.Unlock()
			if err == nil && ref.SHA256 != hexSHA256(data) {
				err = errors.New("wrong ref " + ref.Key)
			}
			if err != nil {
				errs = append(errs, err)
			}
			if c {
				created++
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d Puts failed; first: %v", len(errs), n, errs[0])
	}
	if created != 1 {
		t.Fatalf("%d Puts reported created=true, want exactly 1", created)
	}
	if got := mustRead(t, h.store, KeyFor(hexSHA256(data))); !bytes.Equal(got, data) {
		t.Fatal("content differs after concurrent Puts")
	}
}

func testMissing(t *testing.T, h *harness) {
	ctx := testContext(t)
	key := KeyFor(hexSHA256(content(t, 10)))
	if rc, err := h.store.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("Get of missing key: err = %v, want ErrNotFound", err)
	}
	if _, err := h.store.Stat(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat of missing key: err = %v, want ErrNotFound", err)
	}
}

func testInvalidKey(t *testing.T, h *harness) {
	ctx := testContext(t)
	sum := hexSHA256([]byte("x"))
	for _, key := range []string{
		"",
		"../" + KeyFor(sum),
		"sha256/../../../../etc/passwd",
		strings.ToUpper(KeyFor(sum)),
		KeyFor(sum[:62]),
		sum,
	} {
		if rc, err := h.store.Get(ctx, key); !errors.Is(err, ErrInvalidKey) {
			if rc != nil {
				rc.Close()
			}
			t.Errorf("Get(%q): err = %v, want ErrInvalidKey", key, err)
		}
		if _, err := h.store.Stat(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Stat(%q): err = %v, want ErrInvalidKey", key, err)
		}
	}
}

func testCorrupt(t *testing.T, h *harness) {
	ctx := testContext(t)
	data := content(t, 10000)
	ref, _, err := h.store.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	h.corrupt(t, ref.Key)
	rc, err := h.store.Get(ctx, ref.Key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer rc.Close()
	_, err = io.ReadAll(rc)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("reading corrupt blob: err = %v, want ErrCorrupt", err)
	}
	// The error is sticky: a caller that reads again does not get io.EOF.
	if _, err := rc.Read(make([]byte, 1)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("second read after corruption: err = %v, want ErrCorrupt", err)
	}
}

func testCancelledPut(t *testing.T, h *harness) {
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	data := content(t, 3000)
	if _, _, err := h.store.Put(ctx, bytes.NewReader(data)); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	if _, err := h.store.Stat(testContext(t), KeyFor(hexSHA256(data))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after cancelled Put: Stat err = %v, want ErrNotFound", err)
	}
}

func testCheck(t *testing.T, h *harness) {
	if err := h.store.Check(testContext(t)); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if name := h.store.Name(); name != "local" && name != "s3" {
		t.Fatalf("Name = %q", name)
	}
}

// content returns n pseudo-random bytes, different for every test name, so
// subtests sharing a store never collide.
func content(t *testing.T, n int) []byte {
	seed := sha256.Sum256([]byte(t.Name()))
	r := rand.NewChaCha8(seed)
	b := make([]byte, n)
	r.Read(b)
	return b
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func mustRead(t *testing.T, s Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(testContext(t), key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return b
}

// testContext bounds network calls so a hung server fails the test instead
// of hanging it; nothing asserts on timing.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
