// Package platformtest helps test connectors against local servers that
// speak the platforms' real API shapes: a Sink that records what a connector
// reports, a Client that stores raw pages in memory and does not really
// sleep, and a fault injector for 429s, 500s, truncated bodies and slow
// answers.
package platformtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// Sink records everything a connector reports.
type Sink struct {
	mu             sync.Mutex
	Profiles       []platforms.Profile
	Items          []platforms.Item
	CompleteThread map[string]bool
	PostsDone      bool
}

// NewSink returns an empty recording sink.
func NewSink() *Sink { return &Sink{CompleteThread: map[string]bool{}} }

// Profile implements platforms.Sink.
func (s *Sink) Profile(_ context.Context, p platforms.Profile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Profiles = append(s.Profiles, p)
	return nil
}

// Item implements platforms.Sink.
func (s *Sink) Item(_ context.Context, it platforms.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Items = append(s.Items, it)
	return nil
}

// ThreadComplete implements platforms.Sink.
func (s *Sink) ThreadComplete(_ context.Context, post string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.CompleteThread[post] = true
	return nil
}

// PostsComplete implements platforms.Sink.
func (s *Sink) PostsComplete(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.PostsDone = true
	return nil
}

// ByID returns the recorded items by native id (the last report wins).
func (s *Sink) ByID() map[string]platforms.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]platforms.Item{}
	for _, it := range s.Items {
		m[it.NativeID] = it
	}
	return m
}

// Count returns how many recorded items have the kind.
func (s *Sink) Count(kind string) int {
	n := 0
	for _, it := range s.ByID() {
		if it.Kind == kind {
			n++
		}
	}
	return n
}

// MemBlobs is an in-memory, content-addressed BlobPutter.
type MemBlobs struct {
	mu sync.Mutex
	m  map[string][]byte
}

// Put implements platforms.BlobPutter.
func (b *MemBlobs) Put(_ context.Context, r io.Reader) (blob.Ref, bool, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return blob.Ref{}, false, err
	}
	sum := sha256.Sum256(data)
	hexsum := hex.EncodeToString(sum[:])
	key := blob.KeyFor(hexsum)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string][]byte{}
	}
	_, had := b.m[key]
	b.m[key] = data
	return blob.Ref{Key: key, SHA256: hexsum, Size: int64(len(data))}, !had, nil
}

// Get returns a stored blob.
func (b *MemBlobs) Get(key string) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.m[key]
	return d, ok
}

// All returns every stored blob's bytes (to search them for secrets).
func (b *MemBlobs) All() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([][]byte, 0, len(b.m))
	for _, d := range b.m {
		out = append(out, d)
	}
	return out
}

// Client returns a platforms.Client for tests: raw pages in blobs, no real
// waiting (waits are recorded in *waits if not nil), generous rate limits.
func Client(t testing.TB, blobs *MemBlobs, waits *[]time.Duration, secrets ...string) *platforms.Client {
	t.Helper()
	var mu sync.Mutex
	return platforms.NewClient(platforms.ClientOptions{
		Raw:         blobs,
		Limits:      platforms.NewHostLimits(10000, 10000),
		Secrets:     secrets,
		MaxAttempts: 4,
		Sleep: func(ctx context.Context, d time.Duration) error {
			if waits != nil {
				mu.Lock()
				*waits = append(*waits, d)
				mu.Unlock()
			}
			return ctx.Err()
		},
	})
}

// Fault is what the injector does to one request.
type Fault int

// Faults the injector can apply.
const (
	None      Fault = iota
	TooMany         // 429 with Retry-After: 2
	Server          // 500
	Truncated       // the real body cut in half, with the full Content-Length
	Garbage         // 200 with a body that is not JSON
	Slow            // waits 50ms, then answers normally
)

// Faults wraps a handler and applies plan(n, r) to the n-th request (from 1).
func Faults(h http.Handler, plan func(n int, r *http.Request) Fault) http.Handler {
	var mu sync.Mutex
	n := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		f := plan(n, r)
		mu.Unlock()
		switch f {
		case TooMany:
			w.Header().Set("Retry-After", "2")
			http.Error(w, `{"error":"rate limited"}`, http.StatusTooManyRequests)
		case Server:
			http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
		case Garbage:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "<html>upstream error</html>")
		case Truncated:
			rec := &recorder{header: http.Header{}}
			h.ServeHTTP(rec, r)
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			body := rec.buf.Bytes()
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.status())
			w.Write(body[:len(body)/2])
			// Returning early makes net/http close the connection: the
			// client sees fewer bytes than Content-Length promised.
		case Slow:
			time.Sleep(50 * time.Millisecond)
			h.ServeHTTP(w, r)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

type recorder struct {
	header http.Header
	buf    bytes.Buffer
	code   int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.buf.Write(b) }
func (r *recorder) WriteHeader(c int)           { r.code = c }
func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}
