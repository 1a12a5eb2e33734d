package archiver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// assertMatchesWorld checks the archive holds exactly the world's live
// posts and comments with their current text, and nothing live that the
// world no longer shows.
func assertMatchesWorld(t *testing.T, e *env) {
	t.Helper()
	got := e.archived(t)
	live := map[string]string{}
	for _, p := range e.w.Posts() {
		live[p.ID] = p.Text
		for _, c := range e.w.Thread(p.ID) {
			live[c.ID] = c.Text
		}
	}
	for id, text := range live {
		it, ok := got[id]
		if !ok || it.DeletedAt != nil || it.Text != text {
			t.Errorf("live %s: archived %v deleted=%v text=%q; want %q", id, ok, it.DeletedAt, it.Text, text)
		}
	}
	for id, it := range got {
		if _, ok := live[id]; !ok && it.DeletedAt == nil {
			t.Errorf("%s is gone from the platform but not marked deleted", id)
		}
	}
}

// assertNoDanglingBlobs checks every blob the catalog names exists and
// hashes right.
func assertNoDanglingBlobs(t *testing.T, cat *storage.Catalog, blobs blob.Store) {
	t.Helper()
	ctx := context.Background()
	p, err := cat.ListItems(ctx, 0, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range p.Items {
		vs, _ := cat.Versions(ctx, it.ID)
		if len(vs) != it.VersionCount {
			t.Errorf("item %s: version_count %d but %d versions", it.NativeID, it.VersionCount, len(vs))
		}
		for _, v := range vs {
			for _, k := range []string{v.NormalizedKey, v.RawKey} {
				if _, err := blobs.Stat(ctx, k); err != nil {
					t.Errorf("item %s v%d names blob %s: %v", it.NativeID, v.Seq, k, err)
				}
			}
		}
		ms, _ := cat.ItemMedia(ctx, it.ID)
		for _, m := range ms {
			if _, err := blobs.Stat(ctx, m.BlobKey); err != nil {
				t.Errorf("media of %s names blob %s: %v", it.NativeID, m.BlobKey, err)
			}
		}
	}
}

// With a fifth of the platform's answers failing, repeated runs converge to
// exactly the platform's content and never mark a live item deleted.
func TestConvergesUnderFaults(t *testing.T) { onBackends(t, testConverges) }

func testConverges(t *testing.T, e *env) {
	for i := 0; i < 12; i++ {
		p := e.w.AddPost("", fmt.Sprintf("post %d with ñ and 🌵", i))
		for j := 0; j < 3; j++ {
			c := e.w.AddComment(p, "", "resident", fmt.Sprintf("comment %d.%d", i, j))
			e.w.AddComment(p, c, "city", "reply")
		}
	}
	rng := rand.New(rand.NewPCG(7, 11))
	faults := []platformtest.Fault{platformtest.TooMany, platformtest.Server, platformtest.Truncated, platformtest.Slow}
	e.api.setHandler(platformtest.Faults(e.api.inner, func(int, *http.Request) platformtest.Fault {
		if rng.IntN(5) == 0 {
			return faults[rng.IntN(len(faults))]
		}
		return platformtest.None
	}))
	for round := 0; round < 6; round++ {
		r := e.capture(t, storage.RunFull)
		// Between runs the platform changes: an edit and a deletion.
		if round == 1 {
			e.w.Edit(e.w.Posts()[0].ID, "edited under fire")
			e.w.Delete(e.w.Thread(e.w.Posts()[1].ID)[0].ID)
		}
		for id, it := range e.archived(t) {
			if it.DeletedAt == nil {
				continue
			}
			if _, ok := e.w.Post(id); ok {
				t.Fatalf("round %d (%s): live post %s marked deleted", round, r.Status, id)
			}
			if _, ok := e.w.Comment(id); ok {
				t.Fatalf("round %d (%s): live comment %s marked deleted", round, r.Status, id)
			}
		}
	}
	e.api.setHandler(e.api.inner)
	if r := e.capture(t, storage.RunFull); r.Status != storage.RunSucceeded {
		t.Fatalf("clean run: %+v", r)
	}
	assertMatchesWorld(t, e)
	assertNoDanglingBlobs(t, e.cat, e.blobs)
	if _, err := e.cat.VerifyCustody(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The capture child: run one full capture of the account in the data dir,
// slowly, so the parent can kill it mid-run.
func TestMain(m *testing.M) {
	if dir := os.Getenv("ARCHIVER_TEST_CHILD_DIR"); dir != "" {
		os.Exit(runChild(dir, os.Getenv("ARCHIVER_TEST_CHILD_API")))
	}
	os.Exit(m.Run())
}

func runChild(dir, apiURL string) int {
	ctx := context.Background()
	cat, err := storage.Open(ctx, storage.Options{DataDir: dir})
	if err != nil {
		return 3
	}
	blobs, _ := blob.NewLocal(filepath.Join(dir, "blobs"))
	key, _ := storage.LoadSecretKey("", dir)
	sealer, _ := storage.NewSealer(key)
	arc := New(Options{Catalog: cat, Blobs: blobs, Sealer: sealer, Connectors: map[string]platforms.Connector{platforms.Mastodon: worldConnector{}},
		Limits: platforms.NewHostLimits(1000, 1000), ReplicaID: "restarting-replica"})
	fmt.Println("child ready")
	if _, err := arc.Capture(ctx, 1, storage.RunFull, "test"); err != nil {
		return 4
	}
	return 0
}

// Killing the process at any moment of a run loses nothing committed and
// leaves no row pointing at a missing blob; the next run completes the
// archive with no duplicates.
func TestKilledMidRunRecovers(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 20; i++ {
		p := e.w.AddPost("", "post "+strconv.Itoa(i))
		for j := 0; j < 4; j++ {
			e.w.AddComment(p, "", "r", fmt.Sprintf("c%d.%d", i, j))
		}
	}
	// Every answer is slow, so a kill lands mid-run.
	e.api.setHandler(platformtest.Faults(e.api.inner, func(int, *http.Request) platformtest.Fault { return platformtest.Slow }))
	e.cat.Close()
	for i, after := range []time.Duration{150 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "ARCHIVER_TEST_CHILD_DIR="+e.dir, "ARCHIVER_TEST_CHILD_API="+e.api.srv.URL)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		out.Read(buf)
		time.Sleep(after)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if i == 1 {
			e.w.Edit(e.w.Posts()[3].ID, "edited between kills")
		}
	}
	e.api.setHandler(e.api.inner)
	cat, err := storage.Open(context.Background(), storage.Options{DataDir: e.dir})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	// The killed run still holds its lease: to another replica it is a
	// run going on, until the lease expires.
	if _, err := cat.FailInterruptedRuns(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The same replica starting again drops what its last life held.
	if _, err := cat.ReleaseLeasesOf(context.Background(), "restarting-replica"); err != nil {
		t.Fatal(err)
	}
	if n, err := cat.FailInterruptedRuns(context.Background()); err != nil || n != 1 {
		t.Fatalf("interrupted runs: %d, %v; want the last killed run (its lease dropped at restart) marked failed", n, err)
	}
	e.cat = cat
	e.arc = New(Options{Catalog: cat, Blobs: e.blobs, Sealer: e.arc.o.Sealer, Connectors: e.arc.o.Connectors, Limits: e.arc.o.Limits, ReplicaID: "restarting-replica"})
	if r := e.capture(t, storage.RunFull); r.Status != storage.RunSucceeded {
		t.Fatalf("run after the kills: %+v", r)
	}
	assertMatchesWorld(t, e)
	assertNoDanglingBlobs(t, cat, e.blobs)
	if _, err := cat.VerifyCustody(context.Background()); err != nil {
		t.Fatalf("custody after kills: %v", err)
	}
	if strings.Contains(fmt.Sprint(e.archived(t)), token) {
		t.Fatal("token in catalog")
	}
}
