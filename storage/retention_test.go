package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRetention runs the retention catalog suite on every backend.
func TestRetention(t *testing.T) {
	tests := []suiteTest{
		{"blob_key_columns_cover_the_schema", testBlobKeyColumns},
		{"rules_upsert_and_precedence", testRulesPrecedence},
		{"eligible_items_in_batches", testEligibleItems},
		{"dispose_items_checks_again", testDisposeItemsChecks},
		{"referenced_blobs", testReferencedBlobs},
		{"disposition_status_moves", testDispositionMoves},
	}
	runOnBackends(t, tests)
}

// testBlobKeyColumns fails when a table gains a column naming a blob that
// ReferencedBlobs does not look at: a disposition would then delete a blob
// that row still needs.
func testBlobKeyColumns(t *testing.T, c *Catalog, _ Options) {
	notBlobs := map[string]bool{"requests.requester_key": true} // a hash of contact data
	listed := map[string]bool{}
	for _, col := range blobKeyColumns {
		listed[col.table+"."+col.column] = true
	}
	tables, err := c.db.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, table := range tables {
		cols, err := c.db.Migrator().ColumnTypes(table)
		if err != nil {
			t.Fatal(err)
		}
		for _, col := range cols {
			name := table + "." + col.Name()
			if !strings.HasSuffix(col.Name(), "_key") || notBlobs[name] {
				continue
			}
			seen++
			if !listed[name] {
				t.Errorf("column %s looks like a blob key but blobKeyColumns does not list it", name)
			}
		}
	}
	if seen != len(blobKeyColumns) {
		t.Errorf("found %d blob key columns, blobKeyColumns lists %d", seen, len(blobKeyColumns))
	}
}

func retentionAccount(t *testing.T, c *Catalog, handle string) *Account {
	t.Helper()
	a := &Account{Platform: "mastodon", Handle: handle, Status: AccountActive, Approval: ApprovalApproved}
	if err := c.CreateAccount(context.Background(), a, "test"); err != nil {
		t.Fatal(err)
	}
	return a
}

func testRulesPrecedence(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	if n, err := c.EnsureDefaultRules(ctx, "system"); err != nil || n != len(DefaultRetentionRules()) {
		t.Fatalf("EnsureDefaultRules = %d, %v", n, err)
	}
	if _, err := c.EffectiveRule(ctx, 0, "video"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rule of an unknown kind: %v; want ErrNotFound", err)
	}
	a, b := retentionAccount(t, c, "a"), retentionAccount(t, c, "b")
	for _, r := range []RetentionRule{
		{Kind: RetentionComment, KeepDays: 100, Trigger: TriggerCaptured, Citation: "all", UpdatedBy: "user:x"},
		{AccountID: &a.ID, Kind: RetentionComment, KeepDays: 10, Trigger: TriggerCaptured, Citation: "a", UpdatedBy: "user:x"},
		{AccountID: &a.ID, Kind: RetentionComment, KeepDays: 20, Trigger: TriggerCaptured, Citation: "a2", UpdatedBy: "user:y"},
	} {
		if err := c.SetRule(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}
	rules, err := c.Rules(ctx)
	if err != nil || len(rules) != 5 || rules[0].AccountID != nil || rules[4].AccountID == nil {
		t.Fatalf("rules %+v, %v; want the 4 defaults first, then a's own", rules, err)
	}
	for _, tc := range []struct {
		account uint64
		days    int
	}{{a.ID, 20}, {b.ID, 100}} {
		if r, err := c.EffectiveRule(ctx, tc.account, RetentionComment); err != nil || r.KeepDays != tc.days {
			t.Errorf("account %d: %+v, %v; want %d", tc.account, r, err, tc.days)
		}
	}
	if r, _ := NewRuleSet(rules).For(b.ID, RetentionPost); r.KeepDays != 0 || !strings.Contains(r.Citation, "GRS-1678") {
		t.Errorf("post rule %+v", r)
	}
	if err := c.DeleteRule(ctx, b.ID, RetentionComment, "user:x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting a rule b never had: %v", err)
	}
	evs, _ := c.CustodyEvents(ctx, "retention_rule", fmt.Sprint(rules[4].ID))
	if len(evs) != 2 || !strings.Contains(evs[1].Details, `"before":{"citation":"a"`) {
		t.Errorf("custody of a's rule: %+v", evs)
	}
	if n, _ := c.EnsureDefaultRules(ctx, "system"); n != 0 {
		t.Errorf("EnsureDefaultRules on a set schedule added %d", n)
	}
}

// setFirstSeen back-dates an item's first capture.
func setFirstSeen(t *testing.T, c *Catalog, id uint64, at time.Time) {
	t.Helper()
	if err := c.db.Model(&Item{}).Where("id = ?", id).Update("first_seen_at", at).Error; err != nil {
		t.Fatal(err)
	}
}

func testEligibleItems(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	c.EnsureDefaultRules(ctx, "system")
	a, b := retentionAccount(t, c, "a"), retentionAccount(t, c, "b")
	c.SetRule(ctx, &RetentionRule{Kind: RetentionComment, KeepDays: 30, Trigger: TriggerCaptured, Citation: "c", UpdatedBy: "u"})
	c.SetRule(ctx, &RetentionRule{AccountID: &b.ID, Kind: RetentionComment, KeepDays: 60, Trigger: TriggerCaptured, Citation: "b", UpdatedBy: "u"})
	asOf := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	run, _ := c.StartRun(ctx, a.ID, RunFull, "test")
	runB, _ := c.StartRun(ctx, b.ID, RunFull, "test")
	want := map[string]bool{}
	for i, age := range []int{31, 31, 31, 30, 5} { // 30 days exactly is not yet past
		native := fmt.Sprintf("a%d", i)
		id := recordText(t, c, a.ID, run.ID, native, "comment", "", "", native).ItemID
		setFirstSeen(t, c, id, asOf.AddDate(0, 0, -age))
		want[native] = age > 30
	}
	for i, age := range []int{45, 61} { // b keeps comments 60 days
		native := fmt.Sprintf("b%d", i)
		id := recordText(t, c, b.ID, runB.ID, native, "comment", "", "", native).ItemID
		setFirstSeen(t, c, id, asOf.AddDate(0, 0, -age))
		want[native] = age > 60
	}
	post := recordText(t, c, a.ID, run.ID, "p", "post", "", "", "p").ItemID // posts are permanent
	setFirstSeen(t, c, post, asOf.AddDate(-50, 0, 0))

	var got []string
	batches := 0
	err := c.EachEligibleItem(ctx, asOf, 2, func(items []EligibleItem) error {
		batches++
		if len(items) > 2 {
			t.Errorf("batch of %d, want at most 2", len(items))
		}
		for _, it := range items {
			got = append(got, it.NativeID)
			if at, _ := it.Rule.EligibleAt(it.FirstSeenAt); !at.Before(asOf) {
				t.Errorf("%s eligible only at %v", it.NativeID, at)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var wantList []string
	for n, ok := range want {
		if ok {
			wantList = append(wantList, n)
		}
	}
	slices.Sort(got)
	slices.Sort(wantList)
	if !slices.Equal(got, wantList) || batches < 2 {
		t.Errorf("eligible %v in %d batches, want %v", got, batches, wantList)
	}
}

func testDisposeItemsChecks(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	c.EnsureDefaultRules(ctx, "system")
	c.SetRule(ctx, &RetentionRule{Kind: RetentionComment, KeepDays: 1, Trigger: TriggerCaptured, Citation: "c", UpdatedBy: "u"})
	a := retentionAccount(t, c, "a")
	run, _ := c.StartRun(ctx, a.ID, RunFull, "test")
	ids := map[string]uint64{}
	for _, n := range []string{"free", "held", "attached", "young", "post"} {
		kind := "comment"
		if n == "post" {
			kind = "post"
		}
		ids[n] = recordText(t, c, a.ID, run.ID, n, kind, "", "", "text "+n).ItemID
	}
	old := time.Now().UTC().AddDate(0, 0, -3)
	for n, id := range ids {
		if n != "young" {
			setFirstSeen(t, c, id, old)
		}
	}
	if err := c.CreateHold(ctx, &Hold{Matter: "m", CreatedBy: "user:l"}, []uint64{ids["held"]}); err != nil {
		t.Fatal(err)
	}
	req := &Request{Name: "n", Phone: "p", MailingAddress: "m", Description: "d", DueDate: "2030-01-01", CalendarVersion: "v", Status: "received"}
	if err := c.CreateRequest(ctx, req, "T", 2030, RequestEvent{Actor: "a", Kind: "filed"}); err != nil {
		t.Fatal(err)
	}
	if err := c.db.Create(&RequestItem{RequestID: req.ID, ItemID: ids["attached"], VersionID: 1, AttachedBy: "a", AttachedAt: old}).Error; err != nil {
		t.Fatal(err)
	}
	all := []uint64{ids["free"], ids["held"], ids["attached"], ids["young"], ids["post"], 987654}
	done, skipped, err := c.DisposeItems(ctx, 1, all, time.Now(), "user:ada")
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0].ID != ids["free"] || done[0].Versions != 1 || len(done[0].Keys) != 2 {
		t.Errorf("disposed %+v; want only free", done)
	}
	for n, want := range map[string]string{"held": BlockLegalHold, "attached": BlockRequest, "young": BlockNotEligible, "post": BlockNotEligible} {
		if skipped[ids[n]] != want {
			t.Errorf("%s skipped as %q, want %q", n, skipped[ids[n]], want)
		}
	}
	if skipped[987654] != BlockMissing {
		t.Errorf("missing item skipped as %q", skipped[987654])
	}
	it, _ := c.ItemByID(ctx, ids["free"])
	if it.DisposedAt == nil || it.Text != "" || it.VersionCount != 0 || it.ChangeSeq == 0 {
		t.Errorf("tombstone %+v", it)
	}
	_, skipped, _ = c.DisposeItems(ctx, 2, []uint64{ids["free"]}, time.Now(), "user:ada")
	if skipped[ids["free"]] != BlockAlreadyGone {
		t.Errorf("disposing twice: %q", skipped[ids["free"]])
	}
	// The search indexer sees the tombstone as a change.
	if changed, _ := c.ItemsChangedSince(ctx, it.ChangeSeq-1, 10); len(changed) != 1 || changed[0].ID != it.ID {
		t.Errorf("changed since the disposal: %+v", changed)
	}
}

func testReferencedBlobs(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	a := retentionAccount(t, c, "a")
	run, _ := c.StartRun(ctx, a.ID, RunFull, "test")
	res := recordText(t, c, a.ID, run.ID, "x", "post", "", "", "x")
	vs, _ := c.Versions(ctx, res.ItemID)
	c.db.Create(&Export{Scope: "{}", Status: "ready", CreatedBy: "u", BundleKey: "bundle-key"})
	c.db.Create(&Disposition{Status: DispositionProposed, ProposedBy: "u", ListKey: "list-key"})
	refs, err := c.ReferencedBlobs(ctx, []string{vs[0].NormalizedKey, "r", "bundle-key", "list-key", "nobody-names-me"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{vs[0].NormalizedKey, "r", "bundle-key", "list-key"} {
		if !refs[k] {
			t.Errorf("%s not seen as referenced", k)
		}
	}
	if refs["nobody-names-me"] {
		t.Error("an unreferenced key was seen as referenced")
	}
	// Many keys go in chunks.
	many := make([]string, 1200)
	for i := range many {
		many[i] = fmt.Sprintf("k%d", i)
	}
	if refs, err := c.ReferencedBlobs(ctx, append(many, "r")); err != nil || len(refs) != 1 {
		t.Errorf("1201 keys: %v, %v", refs, err)
	}
}

func testDispositionMoves(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	d := &Disposition{ProposedBy: "user:lee", ProposedAt: time.Now().UTC(), ListKey: "k"}
	if err := c.CreateDisposition(ctx, d, "sum"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ApproveDisposition(ctx, d.ID, "user:lee", time.Now()); !errors.Is(err, ErrConflict) {
		t.Errorf("self-approval: %v; want ErrConflict", err)
	}
	got, err := c.ApproveDisposition(ctx, d.ID, "user:ada", time.Now())
	if err != nil || got.Status != DispositionApproved || got.ApprovedBy != "user:ada" {
		t.Fatalf("approve: %+v, %v", got, err)
	}
	if _, err := c.CancelDisposition(ctx, d.ID, "user:ada", "late"); !errors.Is(err, ErrConflict) {
		t.Errorf("cancelling an approved disposition: %v; want ErrConflict", err)
	}
	now := time.Now().UTC()
	got.Status, got.CompletedAt, got.CertificateKey, got.CertificateSHA256 = DispositionCompleted, &now, "ck", "cs"
	if err := c.FinishDisposition(ctx, got, "user:ada"); err != nil {
		t.Fatal(err)
	}
	if err := c.FinishDisposition(ctx, got, "user:ada"); !errors.Is(err, ErrConflict) {
		t.Errorf("finishing twice: %v; want ErrConflict", err)
	}
	evs, _ := c.CustodyEvents(ctx, "disposition", fmt.Sprint(d.ID))
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Equal(kinds, []string{"disposition_proposed", "disposition_approved", "disposition_completed"}) {
		t.Errorf("custody %v", kinds)
	}
	if _, err := c.DispositionByID(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing disposition: %v", err)
	}
}
