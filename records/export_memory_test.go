package records_test

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// TestExportMemoryStaysFlat exports thousands of items with far more media
// than the heap may grow by, and checks the heap in use stays bounded: the
// bundle streams from the blob store to the blob store.
func TestExportMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("exports 200 MB; skipped with -short")
	}
	items, perThread, mediaSize := 3200, 16, 64<<10 // 200 MiB of media
	if raceDetector {
		items, mediaSize = 640, 160<<10 // 100 MiB: the detector slows each item's rows
	}
	e := newEnv(t, mustOpen(t, storage.Options{DataDir: t.TempDir()}), exportStart)
	blobs, ids := seedMany(t, e, items, perThread, mediaSize)
	o := exportOffice(t, e, blobs, nil)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
	})
	began := time.Now()
	ex := runExport(t, e, o, records.ExportScope{Kind: "items", ItemIDs: ids})
	close(stop)
	wg.Wait()
	if ex.Status != storage.ExportReady {
		t.Fatalf("export: %s %s", ex.Status, ex.Error)
	}
	grew := int64(peak) - int64(base)
	t.Logf("%d items, bundle %.1f MB in %v; heap in use %.1f MB before, peak %.1f MB (+%.1f MB)", ex.ItemCount,
		float64(ex.Size)/1e6, time.Since(began).Round(time.Millisecond), float64(base)/1e6, float64(peak)/1e6, float64(grew)/1e6)
	if ex.Size < int64(items*mediaSize) {
		t.Fatalf("bundle is %d bytes, less than its media", ex.Size)
	}
	if limit := int64(48 << 20); grew > limit {
		t.Errorf("heap in use grew by %d MB exporting %d MB: not streaming", grew>>20, ex.Size>>20)
	}
}

// seedMany records items in threads of perThread (a post and its
// comments), each item with one random media blob of mediaSize bytes and
// each thread's items sharing one raw page, and returns the local blob
// store holding their blobs and their ids. Blobs are written straight into
// the store's layout, without blob.Local's fsyncs, to seed thousands fast.
func seedMany(tb testing.TB, e *env, items, perThread, mediaSize int) (blob.Store, []uint64) {
	tb.Helper()
	e.account(tb)
	dir := tb.TempDir()
	blobs, err := blob.NewLocal(dir)
	if err != nil {
		tb.Fatal(err)
	}
	put := func(b []byte) string {
		key := blob.KeyFor(fmt.Sprintf("%x", sha256.Sum256(b)))
		p := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o444); err != nil && !errors.Is(err, fs.ErrPermission) {
			tb.Fatal(err)
		}
		return key
	}
	var ids []uint64
	media := make([]byte, mediaSize)
	for start := 0; start < items; start += 400 {
		err := e.cat.Tx(e.ctx, func(tx *storage.Catalog) error {
			for i := start; i < min(start+400, items); i++ {
				rand.Read(media)
				id, err := seedOne(e, tx, i, perThread, put(media), mediaSize, put)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return blobs, ids
}

func seedOne(e *env, tx *storage.Catalog, i, perThread int, media string, size int, put func([]byte) string) (uint64, error) {
	post := fmt.Sprintf("post-%d", i/perThread)
	native, kind, parent := post, "post", ""
	if i%perThread != 0 {
		native, kind, parent = fmt.Sprintf("comment-%d", i), "comment", post
	}
	text := fmt.Sprintf("item %d of the memory test", i)
	res, err := tx.RecordItem(e.ctx, storage.ItemCapture{AccountID: e.acct.ID, RunID: e.run.ID, Platform: "mastodon",
		NativeID: native, Kind: kind, ParentNativeID: parent, RootNativeID: parent, AuthorName: "Resident", Actor: "system:test",
		Versions: []storage.VersionCapture{{SHA256: fmt.Sprintf("%x", sha256.Sum256([]byte(text))),
			NormalizedKey: put(fmt.Appendf(nil, `{"native_id":%q,"text":%q}`, native, text)),
			RawKey:        put(fmt.Appendf(nil, `{"page": %q}`, post)), Text: text}},
		Media: []storage.MediaCapture{{SHA256: media[len(media)-64:], BlobKey: media, ContentType: "image/jpeg", Size: int64(size)}}})
	return res.ItemID, err
}
