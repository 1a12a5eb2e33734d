package storage

import (
	"context"
	"testing"
)

// TestSearchFeed runs the search indexer's reads on every backend (SQLite,
// and PostgreSQL when CIVICARCHIVE_TEST_DATABASE_URL is set), like
// TestCatalog.
func TestSearchFeed(t *testing.T) {
	tests := []suiteTest{
		{"empty_catalog", testFeedEmpty},
		{"items_changed_since_in_seq_order", testItemsChangedSince},
		{"versions_of_a_batch_oldest_first", testVersionsOf},
		{"accounts_by_id_without_credentials", testAccountsByID},
	}
	runOnBackends(t, tests)
}

func testFeedEmpty(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	if seq, err := c.MaxChangeSeq(ctx); err != nil || seq != 0 {
		t.Fatalf("MaxChangeSeq = %d, %v; want 0", seq, err)
	}
	if items, err := c.ItemsChangedSince(ctx, 0, 10); err != nil || len(items) != 0 {
		t.Fatalf("ItemsChangedSince = %d items, %v; want none", len(items), err)
	}
	if vs, err := c.VersionsOf(ctx, nil); err != nil || len(vs) != 0 {
		t.Fatalf("VersionsOf(nil) = %v, %v", vs, err)
	}
	if n, err := c.CountItems(ctx); err != nil || n != 0 {
		t.Fatalf("CountItems = %d, %v", n, err)
	}
	if _, err := c.ItemsChangedSince(ctx, 0, 0); err == nil {
		t.Fatal("a zero limit was accepted")
	}
}

// feedAccount creates an approved account for the feed tests.
func feedAccount(t *testing.T, c *Catalog, handle string) *Account {
	t.Helper()
	a := &Account{Platform: "mastodon", Handle: handle, Department: "Public Works", CredentialEnc: []byte("sealed-secret"),
		Status: AccountActive, Approval: ApprovalApproved}
	if err := c.CreateAccount(context.Background(), a, "test"); err != nil {
		t.Fatal(err)
	}
	return a
}

func testItemsChangedSince(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	acct := feedAccount(t, c, "city")
	run, err := c.StartRun(ctx, acct.ID, RunFull, "test")
	if err != nil {
		t.Fatal(err)
	}
	p1 := recordText(t, c, acct.ID, run.ID, "p1", "post", "", "", "Road closed")
	recordText(t, c, acct.ID, run.ID, "c1", "comment", "p1", "p1", "When?")
	recordText(t, c, acct.ID, run.ID, "p2", "post", "", "", "Council")
	all, err := c.ItemsChangedSince(ctx, 0, 100)
	if err != nil || len(all) != 3 {
		t.Fatalf("all changes: %d items, %v; want 3", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ChangeSeq <= all[i-1].ChangeSeq {
			t.Fatalf("not in change order: %d then %d", all[i-1].ChangeSeq, all[i].ChangeSeq)
		}
	}
	top, err := c.MaxChangeSeq(ctx)
	if err != nil || top != all[2].ChangeSeq {
		t.Fatalf("MaxChangeSeq = %d, %v; want %d", top, err, all[2].ChangeSeq)
	}
	// Bounded: two at a time, then the rest after the last one seen.
	first, _ := c.ItemsChangedSince(ctx, 0, 2)
	rest, _ := c.ItemsChangedSince(ctx, first[1].ChangeSeq, 2)
	if len(first) != 2 || len(rest) != 1 || rest[0].ID != all[2].ID {
		t.Fatalf("paged: %d then %d items", len(first), len(rest))
	}
	// An edit moves the item to the end of the sequence.
	run2, _ := c.StartRun(ctx, acct.ID, RunFull, "test")
	recordText(t, c, acct.ID, run2.ID, "p1", "post", "", "", "Road open")
	changed, _ := c.ItemsChangedSince(ctx, top, 100)
	if len(changed) != 1 || changed[0].ID != p1.ItemID || changed[0].Text != "Road open" {
		t.Fatalf("after an edit: %+v; want only p1", changed)
	}
	// A deletion is a change too.
	if _, err := c.MarkThreadDeleted(ctx, acct.ID, run2.ID, "p1", "system:test"); err != nil {
		t.Fatal(err)
	}
	changed, _ = c.ItemsChangedSince(ctx, changed[0].ChangeSeq, 100)
	if len(changed) != 1 || changed[0].NativeID != "c1" || changed[0].DeletedAt == nil {
		t.Fatalf("after a deletion: %+v; want c1 deleted", changed)
	}
	if n, err := c.CountItems(ctx); err != nil || n != 3 {
		t.Fatalf("CountItems = %d, %v; want 3", n, err)
	}
}

func testVersionsOf(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	acct := feedAccount(t, c, "city")
	run, _ := c.StartRun(ctx, acct.ID, RunFull, "test")
	a := recordText(t, c, acct.ID, run.ID, "a", "post", "", "", "one")
	b := recordText(t, c, acct.ID, run.ID, "b", "post", "", "", "solo")
	run2, _ := c.StartRun(ctx, acct.ID, RunFull, "test")
	recordText(t, c, acct.ID, run2.ID, "a", "post", "", "", "two")
	run3, _ := c.StartRun(ctx, acct.ID, RunFull, "test")
	recordText(t, c, acct.ID, run3.ID, "a", "post", "", "", "three")
	got, err := c.VersionsOf(ctx, []uint64{a.ItemID, b.ItemID, 987654})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for i, v := range got[a.ItemID] {
		if v.Seq != i+1 {
			t.Fatalf("version %d has seq %d", i, v.Seq)
		}
		texts = append(texts, v.Text)
	}
	if len(texts) != 3 || texts[0] != "one" || texts[1] != "two" || texts[2] != "three" {
		t.Fatalf("versions of a = %v; want one, two, three", texts)
	}
	if len(got[b.ItemID]) != 1 || got[b.ItemID][0].Text != "solo" {
		t.Fatalf("versions of b = %+v", got[b.ItemID])
	}
	if _, ok := got[987654]; ok || len(got) != 2 {
		t.Fatalf("unknown item in result: %v", got)
	}
}

func testAccountsByID(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	a := feedAccount(t, c, "city")
	b := feedAccount(t, c, "parks")
	got, err := c.AccountsByID(ctx)
	if err != nil || len(got) != 2 {
		t.Fatalf("AccountsByID = %d, %v; want 2", len(got), err)
	}
	if got[a.ID].Handle != "city" || got[b.ID].Department != "Public Works" || got[a.ID].Platform != "mastodon" {
		t.Fatalf("accounts: %+v", got)
	}
	for id, acct := range got {
		if len(acct.CredentialEnc) != 0 {
			t.Fatalf("account %d: the credential was read", id)
		}
	}
}
