package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/storage/storagetest"
)

// backend opens a fresh, empty catalog of one kind.
type backend struct {
	name string
	open func(tb testing.TB) (*Catalog, Options)
}

// backends lists SQLite always and PostgreSQL when
// CIVICARCHIVE_TEST_DATABASE_URL is set. Each PostgreSQL test gets its own
// schema, dropped afterwards.
func backends() []backend {
	bs := []backend{{"sqlite", func(tb testing.TB) (*Catalog, Options) {
		o := Options{DataDir: tb.TempDir()}
		return MustOpen(tb, o), o
	}}}
	if base := os.Getenv("CIVICARCHIVE_TEST_DATABASE_URL"); base != "" {
		bs = append(bs, backend{"postgres", func(tb testing.TB) (*Catalog, Options) {
			return openPostgresSchema(tb, base)
		}})
	}
	return bs
}

// MustOpen opens a catalog or fails the test, closing it at cleanup.
func MustOpen(tb testing.TB, o Options) *Catalog {
	tb.Helper()
	c, err := Open(context.Background(), o)
	if err != nil {
		tb.Fatalf("open catalog: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func openPostgresSchema(tb testing.TB, base string) (*Catalog, Options) {
	tb.Helper()
	o := Options{URL: storagetest.PostgresSchemaURL(tb, base)}
	return MustOpen(tb, o), o
}

// TestCatalog runs the catalog suite on every backend.
func TestCatalog(t *testing.T) {
	tests := []suiteTest{
		{"migrations_applied_and_idempotent", testMigrations},
		{"newer_schema_refused", testNewerSchemaRefused},
		{"users_and_passwords", testUsers},
		{"login_lockout", testLoginLockout},
		{"api_tokens_stored_hashed", testTokens},
		{"sessions", testSessions},
		{"custody_chain_detects_tampering", testCustodyTamper},
		{"custody_concurrent_appends", testCustodyConcurrent},
		{"custody_in_rolled_back_tx_leaves_no_trace", testCustodyRollback},
		{"item_uniqueness_and_foreign_keys", testItemConstraints},
		{"record_items_versions_and_deletions", testRecordItems},
		{"disposed_item_not_recaptured", testDisposedItemNotRecaptured},
	}
	runOnBackends(t, tests)
}

func testMigrations(t *testing.T, c *Catalog, o Options) {
	ctx := context.Background()
	v, err := c.AppliedVersion(ctx)
	if err != nil || v != SchemaVersion() {
		t.Fatalf("applied version = %d, %v; want %d", v, err, SchemaVersion())
	}
	for _, table := range []string{"accounts", "items", "versions", "media", "capture_runs", "requests", "holds", "exports", "custody_events", "users", "api_tokens", "sessions", "custodians", "designated_users"} {
		if !c.db.Migrator().HasTable(table) {
			t.Errorf("table %s missing", table)
		}
	}
	// Opening again applies nothing and keeps data.
	if _, err := c.CreateUser(ctx, NewUser{Username: "keep", Role: RoleClerk, Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	c2 := MustOpen(t, o)
	if _, err := c2.Authenticate(ctx, "keep", "correct horse battery"); err != nil {
		t.Fatalf("user lost on reopen: %v", err)
	}
	if c.Dialect() == "sqlite" {
		var mode string
		var fk int
		c.db.Raw("PRAGMA journal_mode").Scan(&mode)
		c.db.Raw("PRAGMA foreign_keys").Scan(&fk)
		if mode != "wal" || fk != 1 {
			t.Fatalf("journal_mode=%q foreign_keys=%d; want wal, 1", mode, fk)
		}
	}
}

func testNewerSchemaRefused(t *testing.T, c *Catalog, o Options) {
	if err := c.db.Create(&SchemaMigration{Version: SchemaVersion() + 1, Name: "from the future", AppliedAt: time.Now()}).Error; err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "newer than this program") {
		t.Fatalf("want a refusal of the newer schema, got %v", err)
	}
}

func testUsers(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	u, err := c.CreateUser(ctx, NewUser{Username: "clerk1", DisplayName: "Clerk One", Role: RoleClerk, Password: "a long enough passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(u.PasswordHash, "passphrase") || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("password not hashed with argon2id: %q", u.PasswordHash)
	}
	cases := []struct {
		user, pass string
		ok         bool
	}{
		{"clerk1", "a long enough passphrase", true},
		{"clerk1", "a long enough passphrasE", false},
		{"nobody", "a long enough passphrase", false},
		{"clerk1", "", false},
	}
	for _, cs := range cases {
		got, err := c.Authenticate(ctx, cs.user, cs.pass)
		if cs.ok && (err != nil || got.ID != u.ID) {
			t.Errorf("Authenticate(%q) = %v; want success", cs.user, err)
		}
		if !cs.ok && !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Authenticate(%q, %q) = %v; want ErrBadCredentials", cs.user, cs.pass, err)
		}
	}
	if _, err := c.CreateUser(ctx, NewUser{Username: "clerk1", Role: RoleClerk, Password: "another long passphrase"}); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate username: %v; want ErrConflict", err)
	}
	if _, err := c.CreateUser(ctx, NewUser{Username: "x", Role: "janitor", Password: "another long passphrase"}); err == nil {
		t.Error("unknown role accepted")
	}
	if _, err := c.CreateUser(ctx, NewUser{Username: "y", Role: RoleLegal, Password: "short"}); err == nil {
		t.Error("short password accepted")
	}
}

func testTokens(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	plain, tok, err := c.CreateToken(ctx, "records office laptop", RoleLegal, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.TokenByPlain(ctx, plain)
	if err != nil || got.ID != tok.ID || got.Role != RoleLegal {
		t.Fatalf("lookup = %+v, %v", got, err)
	}
	for _, bad := range []string{"", plain + "x", plain[:len(plain)-1], "Bearer " + plain, strings.ToUpper(plain)} {
		if _, err := c.TokenByPlain(ctx, bad); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("TokenByPlain(%q) = %v; want ErrBadCredentials", bad, err)
		}
	}
	// The database holds no plaintext token anywhere in the row.
	var rows []map[string]any
	c.db.Table("api_tokens").Find(&rows)
	for _, r := range rows {
		for col, v := range r {
			if strings.Contains(fmt.Sprint(v), plain[len(TokenPrefix)+6:]) {
				t.Fatalf("column %s holds the token in clear", col)
			}
		}
	}
	now := time.Now().UTC()
	c.db.Model(&APIToken{}).Where("id = ?", tok.ID).Update("revoked_at", now)
	if _, err := c.TokenByPlain(ctx, plain); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("revoked token still works: %v", err)
	}
}

func testSessions(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	u, err := c.CreateUser(ctx, NewUser{Username: "legal1", Role: RoleLegal, Password: "a long enough passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	cookie, _, err := c.CreateSession(ctx, u.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.SessionByPlain(ctx, cookie)
	if err != nil || s.User.Username != "legal1" || s.CSRFToken == "" {
		t.Fatalf("session lookup = %+v, %v", s, err)
	}
	expired, _, _ := c.CreateSession(ctx, u.ID, -time.Minute)
	if _, err := c.SessionByPlain(ctx, expired); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("expired session accepted: %v", err)
	}
	if err := c.DeleteSession(ctx, cookie); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SessionByPlain(ctx, cookie); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("session survives logout: %v", err)
	}
}

func appendN(t *testing.T, c *Catalog, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		_, err := c.AppendCustody(context.Background(), NewEvent{Kind: "capture", Actor: "system:archiver", SubjectType: "item", SubjectID: fmt.Sprint(i), Details: map[string]any{"sha256": fmt.Sprintf("%064d", i), "text": "¶ \"quoted\" 🙂"}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func testCustodyTamper(t *testing.T, c *Catalog, o Options) {
	ctx := context.Background()
	tampers := []struct {
		name    string
		do      string
		wantSeq uint64
	}{
		{"edited_details", "UPDATE custody_events SET details = '{\"sha256\":\"forged\"}' WHERE seq = 3", 3},
		{"edited_actor", "UPDATE custody_events SET actor = 'user:mallory' WHERE seq = 4", 4},
		{"deleted_middle", "DELETE FROM custody_events WHERE seq = 2", 2},
		{"deleted_tail", "DELETE FROM custody_events WHERE seq = 5", 5},
		{"reordered", "UPDATE custody_events SET seq = CASE seq WHEN 2 THEN 3 WHEN 3 THEN 2 END + 1000 WHERE seq IN (2, 3)", 2},
	}
	for _, tm := range tampers {
		t.Run(tm.name, func(t *testing.T) {
			c, _ := freshLike(t, c, o)
			appendN(t, c, 5)
			if n, err := c.VerifyCustody(ctx); err != nil || n != 5 {
				t.Fatalf("intact log: n=%d err=%v", n, err)
			}
			if err := c.db.Exec(tm.do).Error; err != nil {
				t.Fatal(err)
			}
			// the reorder case parks seqs at +1000 to dodge the unique index, then brings them back
			c.db.Exec("UPDATE custody_events SET seq = seq - 1000 WHERE seq > 1000")
			_, err := c.VerifyCustody(ctx)
			var ce *ChainError
			if !errors.As(err, &ce) || ce.Seq != tm.wantSeq {
				t.Fatalf("VerifyCustody = %v; want a ChainError at event %d", err, tm.wantSeq)
			}
		})
	}
}

// freshLike opens an empty catalog of the same backend as c.
func freshLike(t *testing.T, c *Catalog, o Options) (*Catalog, Options) {
	t.Helper()
	if c.Dialect() == "postgres" {
		return openPostgresSchema(t, os.Getenv("CIVICARCHIVE_TEST_DATABASE_URL"))
	}
	o2 := Options{DataDir: t.TempDir()}
	return MustOpen(t, o2), o2
}

func testCustodyConcurrent(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				if _, err := c.AppendCustody(ctx, NewEvent{Kind: "export", Actor: fmt.Sprintf("user:%d", g)}); err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, err := c.VerifyCustody(ctx)
	if err != nil || n != 64 {
		t.Fatalf("after concurrent appends: n=%d err=%v; want 64, nil", n, err)
	}
}

func testCustodyRollback(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	appendN(t, c, 2)
	boom := errors.New("capture failed after the event")
	err := c.Tx(ctx, func(tx *Catalog) error {
		if _, err := tx.AppendCustody(ctx, NewEvent{Kind: "capture", Actor: "system:archiver"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v", err)
	}
	appendN(t, c, 1)
	if n, err := c.VerifyCustody(ctx); err != nil || n != 3 {
		t.Fatalf("n=%d err=%v; want 3 intact events", n, err)
	}
}

func testItemConstraints(t *testing.T, c *Catalog, _ Options) {
	db := c.db
	acct := Account{Platform: "mastodon", Handle: "clintoncity@mastodon.example", APIBase: "https://mastodon.example"}
	if err := db.Create(&acct).Error; err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	it := Item{AccountID: acct.ID, Platform: "mastodon", NativeID: "1001", Kind: "post", FirstSeenAt: now, LastSeenAt: now}
	if err := db.Create(&it).Error; err != nil {
		t.Fatal(err)
	}
	dup := Item{AccountID: acct.ID, Platform: "mastodon", NativeID: "1001", Kind: "post", FirstSeenAt: now, LastSeenAt: now}
	if err := mapErr(db.Create(&dup).Error); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate (platform, account, native id): %v; want ErrConflict", err)
	}
	orphan := Version{ItemID: 987654, Seq: 1, SHA256: strings.Repeat("a", 64), NormalizedKey: "k", RawKey: "r", CapturedAt: now}
	if err := db.Create(&orphan).Error; err == nil {
		t.Error("a version of a missing item was stored: foreign keys are off")
	}
	v1 := Version{ItemID: it.ID, Seq: 1, SHA256: strings.Repeat("b", 64), NormalizedKey: "k", RawKey: "r", CapturedAt: now}
	if err := db.Create(&v1).Error; err != nil {
		t.Fatal(err)
	}
	again := Version{ItemID: it.ID, Seq: 1, SHA256: strings.Repeat("c", 64), NormalizedKey: "k", RawKey: "r", CapturedAt: now}
	if err := db.Create(&again).Error; err == nil {
		t.Error("two versions with the same number were stored")
	}
}

func recordText(t *testing.T, c *Catalog, acct, run uint64, native, kind, parent, root, text string) RecordResult {
	t.Helper()
	h := sha256.Sum256([]byte(native + "\x00" + text))
	sum := hex.EncodeToString(h[:])
	res, err := c.RecordItem(context.Background(), ItemCapture{AccountID: acct, RunID: run, Platform: "mastodon", NativeID: native, Kind: kind,
		ParentNativeID: parent, RootNativeID: root, Versions: []VersionCapture{{SHA256: sum, NormalizedKey: "n-" + sum[:8], RawKey: "r", Text: text}}, Actor: "system:test"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func testRecordItems(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	acct := &Account{Platform: "mastodon", Handle: "city", Status: AccountActive, Approval: ApprovalApproved}
	if err := c.CreateAccount(ctx, acct, "test"); err != nil {
		t.Fatal(err)
	}
	run1, _ := c.StartRun(ctx, acct.ID, RunFull, "test")
	if r := recordText(t, c, acct.ID, run1.ID, "p1", "post", "", "", "Road closed 🚧"); !r.New || r.NewVersions != 1 {
		t.Fatalf("first record: %+v", r)
	}
	recordText(t, c, acct.ID, run1.ID, "c1", "comment", "p1", "p1", "When?")
	recordText(t, c, acct.ID, run1.ID, "r1", "reply", "c1", "p1", "At 3")
	recordText(t, c, acct.ID, run1.ID, "p2", "post", "", "", "Council")
	// Same content again: nothing new.
	if r := recordText(t, c, acct.ID, run1.ID, "p1", "post", "", "", "Road closed 🚧"); r.New || r.NewVersions != 0 {
		t.Fatalf("unchanged record: %+v", r)
	}
	run2, _ := c.StartRun(ctx, acct.ID, RunFull, "test")
	if r := recordText(t, c, acct.ID, run2.ID, "p1", "post", "", "", "Road open ✅"); r.NewVersions != 1 {
		t.Fatalf("edit: %+v", r)
	}
	recordText(t, c, acct.ID, run2.ID, "c1", "comment", "p1", "p1", "When?")
	// r1 and p2 are not seen by run2.
	if n, err := c.MarkThreadDeleted(ctx, acct.ID, run2.ID, "p1", "system:test"); err != nil || n != 1 {
		t.Fatalf("thread sweep: %d, %v; want r1 deleted", n, err)
	}
	if n, err := c.MarkMissingPosts(ctx, acct.ID, run2.ID, "system:test"); err != nil || n != 1 {
		t.Fatalf("post sweep: %d, %v; want p2 deleted", n, err)
	}
	page, _ := c.ListItems(ctx, acct.ID, 0, 100)
	got := map[string]Item{}
	for _, it := range page.Items {
		got[it.NativeID] = it
	}
	if got["r1"].DeletedAt == nil || got["p2"].DeletedAt == nil || got["c1"].DeletedAt != nil || got["p1"].DeletedAt != nil {
		t.Fatalf("deletion marks wrong: %+v", got)
	}
	if got["r1"].ParentID == nil || *got["r1"].ParentID != got["c1"].ID || *got["r1"].RootID != got["p1"].ID {
		t.Fatalf("reply links: %+v", got["r1"])
	}
	vs, _ := c.Versions(ctx, got["p1"].ID)
	if len(vs) != 2 || vs[0].Text != "Road closed 🚧" || vs[1].Text != "Road open ✅" || got["p1"].Text != "Road open ✅" || got["p1"].VersionCount != 2 {
		t.Fatalf("versions: %+v", vs)
	}
	thread, more, err := c.ThreadItems(ctx, got["p1"].ID, 1)
	if err != nil || len(thread) != 1 || !more || thread[0].NativeID != "c1" {
		t.Fatalf("thread page of 1: %+v more=%v err=%v", thread, more, err)
	}
	if thread, more, _ = c.ThreadItems(ctx, got["p1"].ID, 10); len(thread) != 2 || more {
		t.Fatalf("whole thread: %d items, more=%v; want c1 and r1", len(thread), more)
	}
	// A deleted item seen again comes back, with a custody event.
	run3, _ := c.StartRun(ctx, acct.ID, RunFull, "test")
	if r := recordText(t, c, acct.ID, run3.ID, "p2", "post", "", "", "Council"); !r.Reappeared || r.NewVersions != 0 {
		t.Fatalf("reappeared: %+v", r)
	}
	if n, err := c.VerifyCustody(ctx); err != nil || n == 0 {
		t.Fatalf("custody: %d %v", n, err)
	}
	if ev, _ := c.CustodyEvents(ctx, "item", fmt.Sprint(got["r1"].ID)); len(ev) != 2 || ev[1].Kind != "deletion_detected" {
		t.Fatalf("r1 custody: %+v", ev)
	}
}

func testLoginLockout(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	if _, err := c.CreateUser(ctx, NewUser{Username: "ana", Role: RoleClerk, Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	// Failures below the limit, then a success, start the count again.
	for i := 0; i < MaxFailedLogins-1; i++ {
		if _, err := c.Authenticate(ctx, "ana", "wrong"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if _, err := c.Authenticate(ctx, "ana", "correct horse battery"); err != nil {
		t.Fatalf("right password before the limit: %v", err)
	}
	for i := 0; i < MaxFailedLogins-1; i++ {
		c.Authenticate(ctx, "ana", "wrong")
	}
	if _, err := c.Authenticate(ctx, "ana", "wrong"); !errors.Is(err, ErrLocked) {
		t.Fatalf("the failure that reaches the limit: %v; want ErrLocked", err)
	}
	if _, err := c.Authenticate(ctx, "ana", "correct horse battery"); !errors.Is(err, ErrLocked) {
		t.Fatalf("the right password while locked: %v; want ErrLocked", err)
	}
	// When the lock has run out, the right password works again.
	past := time.Now().Add(-time.Minute)
	if err := c.gdb(ctx).Model(&User{}).Where("username = ?", "ana").Update("locked_until", past).Error; err != nil {
		t.Fatal(err)
	}
	u, err := c.Authenticate(ctx, "ana", "correct horse battery")
	if err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	var fresh User
	c.gdb(ctx).Take(&fresh, u.ID)
	if fresh.FailedLogins != 0 || fresh.LockedUntil != nil {
		t.Errorf("after success: %d failures, locked until %v", fresh.FailedLogins, fresh.LockedUntil)
	}
}

// An item disposed of under its schedule and still on the platform is
// not kept again: the next capture leaves the tombstone as it is.
func testDisposedItemNotRecaptured(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	acct := &Account{Platform: "mastodon", Handle: "city", Status: AccountActive, Approval: ApprovalApproved}
	if err := c.CreateAccount(ctx, acct, "test"); err != nil {
		t.Fatal(err)
	}
	run, _ := c.StartRun(ctx, acct.ID, RunFull, "test")
	r := recordText(t, c, acct.ID, run.ID, "c9", "comment", "", "", "old comment")
	now := time.Now().UTC()
	if err := c.gdb(ctx).Model(&Item{}).Where("id = ?", r.ItemID).Updates(map[string]any{"disposed_at": now, "text": ""}).Error; err != nil {
		t.Fatal(err)
	}
	c.gdb(ctx).Where("item_id = ?", r.ItemID).Delete(&Version{})
	again := recordText(t, c, acct.ID, run.ID, "c9", "comment", "", "", "old comment, edited")
	if again.ItemID != r.ItemID || again.New || again.NewVersions != 0 {
		t.Fatalf("recapture of a disposed item: %+v", again)
	}
	var n int64
	c.gdb(ctx).Model(&Version{}).Where("item_id = ?", r.ItemID).Count(&n)
	if n != 0 {
		t.Fatalf("%d versions kept again", n)
	}
}

// suiteTest is one test of a catalog suite, run on every backend.
type suiteTest struct {
	name string
	fn   func(t *testing.T, c *Catalog, o Options)
}

// runOnBackends runs a suite on SQLite, and on PostgreSQL when
// CIVICARCHIVE_TEST_DATABASE_URL is set, each test on a fresh catalog:
// subtests are named SUITE/BACKEND/TEST, which CI counts per backend.
func runOnBackends(t *testing.T, tests []suiteTest) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					c, o := b.open(t)
					tt.fn(t, c, o)
				})
			}
		})
	}
}
