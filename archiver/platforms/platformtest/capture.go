package platformtest

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// Recording is what one capture left: what the connector reported, the raw
// pages stored, the waits the client would have slept, and the run's error.
type Recording struct {
	Sink  *Sink
	Blobs *MemBlobs
	Waits []time.Duration
	Err   error
}

// Capture runs conn once on acct with a fresh Sink and a Client (see
// Client) that redacts acct's credential. Raw pages go to blobs, or to a
// fresh MemBlobs when blobs is nil.
func Capture(t testing.TB, conn platforms.Connector, acct platforms.Account, opts platforms.Options, blobs *MemBlobs) Recording {
	t.Helper()
	if blobs == nil {
		blobs = &MemBlobs{}
	}
	r := Recording{Sink: NewSink(), Blobs: blobs}
	c := Client(t, blobs, &r.Waits, acct.Credential)
	r.Err = conn.Capture(context.Background(), acct, opts, c, r.Sink)
	return r
}

// BlobWith returns a stored blob that holds secret, if any does.
func BlobWith(blobs *MemBlobs, secret string) ([]byte, bool) {
	for _, b := range blobs.All() {
		if bytes.Contains(b, []byte(secret)) {
			return b, true
		}
	}
	return nil, false
}

// ReportedWith says whether any reported item or profile holds secret.
func ReportedWith(s *Sink, secret string) bool {
	js, _ := json.Marshal(struct {
		I []platforms.Item
		P []platforms.Profile
	}{s.Items, s.Profiles})
	return bytes.Contains(js, []byte(secret))
}

// ContainsWait says whether the client was to wait d at some point.
func ContainsWait(waits []time.Duration, d time.Duration) bool {
	for _, w := range waits {
		if w == d {
			return true
		}
	}
	return false
}
