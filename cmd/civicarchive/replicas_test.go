package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon/mastodontest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/storagetest"
)

// Two replicas of the real program share one PostgreSQL catalog and one S3
// bucket (versitygw in CI), each with its own data dir and search index,
// both with the scheduler on: every scheduled capture turn runs once, an
// item captured by one is found by a search on the other, an export started
// on one is watched and downloaded from the other, and a token works on
// both. It needs CIVICARCHIVE_TEST_DATABASE_URL and
// CIVICARCHIVE_TEST_S3_ENDPOINT (scripts/ci.sh starts both servers and
// fails when this test did not run).
func TestTwoReplicasShareCatalogAndBucket(t *testing.T) {
	pg, s3 := os.Getenv("CIVICARCHIVE_TEST_DATABASE_URL"), os.Getenv("CIVICARCHIVE_TEST_S3_ENDPOINT")
	if pg == "" || s3 == "" {
		t.Skip("needs CIVICARCHIVE_TEST_DATABASE_URL and CIVICARCHIVE_TEST_S3_ENDPOINT (scripts/ci.sh sets both)")
	}
	dbURL := storagetest.PostgresSchemaURL(t, pg)
	shared := map[string]string{
		"CIVICARCHIVE_DATABASE_URL": dbURL, "CIVICARCHIVE_S3_ENDPOINT": s3, "CIVICARCHIVE_S3_BUCKET": randomName("replicas-"),
		"CIVICARCHIVE_S3_PATH_STYLE": "true", "CIVICARCHIVE_SECRET_KEY": strings.Repeat("ab", 32),
		"CIVICARCHIVE_CAPTURE_INCREMENTAL_SCHEDULE": "@every 2s", "CIVICARCHIVE_CAPTURE_FULL_SCHEDULE": "0 3 1 1 *",
	}
	replica := func(name string) map[string]string {
		env := map[string]string{"CIVICARCHIVE_DATA_DIR": filepath.Join(t.TempDir(), name), "CIVICARCHIVE_REPLICA_ID": name}
		for k, v := range shared {
			env[k] = v
		}
		return env
	}
	envA, envB := replica("replica-a"), replica("replica-b")
	baseA, stopA := startServer(t, envA)
	defer stopA()
	_, out, _ := cli(t, envA, "", "token", "create", "--name", "ops", "--role", "admin")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	admin := lines[len(lines)-1]

	w := platformtest.NewWorld(time.Now().Add(-24*time.Hour), platformtest.Profile{ID: "9", Handle: "clintonfire", DisplayName: "Clinton Fire"})
	post := w.AddPost("Burn ban", "A burn ban is in effect through Sunday.")
	w.AddComment(post, "", "Sam", "Does the burn ban cover backyard grills?")
	fp := mastodontest.NewServer(w)
	defer fp.Close()
	a := fp.Account()
	code, body := apiDo(t, "POST", baseA+"/api/v1/accounts", admin, map[string]string{"platform": a.Platform, "handle": a.Handle, "api_base": a.APIBase})
	if code != http.StatusCreated {
		t.Fatalf("register on A: %d %s", code, body)
	}
	var acct struct{ ID uint64 }
	json.Unmarshal(body, &acct)

	// The second replica starts on the same catalog and bucket.
	envB["CIVICARCHIVE_LOG_LEVEL"], envB["CIVICARCHIVE_LOG_FORMAT"] = "debug", "json"
	baseB, stopB, logsB := startServerLogs(t, envB)
	defer stopB()

	// Sessions and tokens live in the catalog: the token made through A
	// works on B.
	if code, _ := httpGet(t, baseB+"/api/v1/me", admin); code != 200 {
		t.Fatalf("A's token on B: %d", code)
	}
	// Both replicas fire the 2-second schedule; each turn is claimed once.
	time.Sleep(7 * time.Second)
	cat, err := storage.Open(context.Background(), storage.Options{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	ctx := context.Background()
	slots, _ := cat.SlotsOf(ctx, acct.ID)
	runs, _ := cat.CountRuns(ctx, acct.ID, storage.RunIncremental)
	holders := map[string]int{}
	for _, s := range slots {
		if s.Kind == storage.RunIncremental {
			holders[s.Holder]++
		}
	}
	if holders["replica-a"]+holders["replica-b"] < 2 || runs > int64(holders["replica-a"]+holders["replica-b"]) {
		t.Fatalf("scheduled turns claimed %v, incremental runs %d: want at least 2 turns and no more runs than turns", holders, runs)
	}
	t.Logf("turns claimed %v; incremental runs %d", holders, runs)
	if holders["replica-b"] == 0 && !strings.Contains(logsB.String(), "scheduled capture turn taken by another replica") {
		t.Fatalf("replica B neither claimed a turn nor saw one taken: its scheduler did not fire")
	}

	// Whichever replica captured it, both indexes find the comment.
	for name, base := range map[string]string{"A": baseA, "B": baseB} {
		found := false
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !found; time.Sleep(200 * time.Millisecond) {
			_, b := apiDo(t, "GET", base+"/api/v1/search?q=grills", admin, nil)
			var res struct{ Total int }
			json.Unmarshal(b, &res)
			found = res.Total == 1
		}
		if !found {
			t.Fatalf("replica %s's search does not find the captured comment", name)
		}
	}

	// An export started on A is watched and downloaded on B.
	id := startExport(t, baseA, admin, map[string]any{"query": "burn"})
	exp := waitExport(t, baseB, admin, id)
	if exp.Status != "ready" || exp.ItemCount != 2 {
		t.Fatalf("export seen from B: %+v", exp)
	}
	path := filepath.Join(t.TempDir(), "bundle.zip")
	download(t, fmt.Sprintf("%s/api/v1/exports/%d/bundle", baseB, id), admin, path)
	if sum := fileSHA256(t, path); sum != exp.SHA256 {
		t.Fatalf("bundle downloaded from B hashes %s; the export says %s", sum, exp.SHA256)
	}
	if code, out, errOut := cli(t, nil, "", "verify", path); code != 0 {
		t.Fatalf("verify: %d %s %s", code, out, errOut)
	}
	// The custody chain both replicas appended to is one intact chain.
	if n, err := cat.VerifyCustody(ctx); err != nil || n == 0 {
		t.Fatalf("custody chain: %d, %v", n, err)
	}
}
