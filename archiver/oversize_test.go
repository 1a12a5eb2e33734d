package archiver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/storage"
)

// A platform answer larger than capture.max_page_bytes is cut off at the
// limit, never read whole into memory: the page counts as failed, the run
// says why, and nothing the archive holds is marked deleted or changed.
func TestOversizedPageIsCutOffAndCountsAsFailed(t *testing.T) {
	e := newEnv(t)
	if r := e.capture(t, storage.RunFull); r.Status != storage.RunSucceeded {
		t.Fatalf("first capture: %s %v", r.Status, r.Errors)
	}
	before := e.archived(t)
	// The same account through an archiver whose page limit is smaller
	// than the platform's thread answers (a list of posts is larger still).
	small := New(Options{Catalog: e.cat, Blobs: e.blobs, Sealer: e.arc.Sealer(),
		Connectors: map[string]platforms.Connector{platforms.Mastodon: worldConnector{}}, MaxPageBytes: 200,
		Limits: platforms.NewHostLimits(1000, 1000), Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	defer small.Close(context.Background())
	r, err := small.Capture(context.Background(), e.acct.ID, storage.RunFull, "test")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status == storage.RunSucceeded {
		t.Fatalf("a run whose pages were too large succeeded")
	}
	if errs := r.Errors; !strings.Contains(errs, "too large") || !strings.Contains(errs, "200 bytes") {
		t.Errorf("run errors do not say the page was too large: %q", errs)
	}
	after := e.archived(t)
	if len(after) != len(before) {
		t.Fatalf("items: %d before, %d after", len(before), len(after))
	}
	for id, it := range after {
		if it.DeletedAt != nil || it.VersionCount != before[id].VersionCount {
			t.Errorf("%s changed by a failed run: deleted %v, versions %d→%d", id, it.DeletedAt, before[id].VersionCount, it.VersionCount)
		}
	}
}
