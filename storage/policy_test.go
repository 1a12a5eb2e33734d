package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPolicy runs the social media policy catalog suite on every backend.
func TestPolicy(t *testing.T) {
	runOnBackends(t, []suiteTest{
		{"flags_stored_with_new_versions_only", testFlagsWithVersions},
		{"decisions_and_removal_records", testDecisionsAndRemovals},
		{"work_plans_gate_approval", testWorkPlans},
		{"designated_users_and_custodians", testDesignatedAndCustodians},
		{"per_day_counts", testPerDayCounts},
	})
}

// flagCapture records one comment on account a with text and flags.
func flagCapture(t *testing.T, c *Catalog, a *Account, native, author, text string, flags ...FlagCapture) RecordResult {
	t.Helper()
	ctx := context.Background()
	run, err := c.StartRun(ctx, a.ID, RunFull, "test")
	if err != nil {
		t.Fatal(err)
	}
	post := ItemCapture{AccountID: a.ID, RunID: run.ID, Platform: a.Platform, NativeID: "post-1", Kind: "post", Actor: "test",
		Versions: []VersionCapture{{SHA256: strings.Repeat("a", 64), NormalizedKey: "sha256/aa/aa/x", RawKey: "sha256/aa/aa/y", Text: "A post"}}}
	if _, err := c.RecordItem(ctx, post); err != nil {
		t.Fatal(err)
	}
	sum := fmt.Sprintf("%064x", len(text)*1000+len(native))
	in := ItemCapture{AccountID: a.ID, RunID: run.ID, Platform: a.Platform, NativeID: native, Kind: "comment", ParentNativeID: "post-1",
		RootNativeID: "post-1", AuthorID: author, AuthorName: "Name of " + author, Actor: "test", Flags: flags,
		Versions: []VersionCapture{{SHA256: sum, NormalizedKey: "sha256/bb/" + sum, RawKey: "sha256/cc/" + sum, Text: text}}}
	res, err := c.RecordItem(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func testFlagsWithVersions(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	a := retentionAccount(t, c, "city")
	hit := FlagCapture{Category: "A", Rule: "A.profanity", Match: "d*mn", RulesVersion: "r1"}
	res := flagCapture(t, c, a, "c1", "u1", "d*mn this", hit, FlagCapture{Category: "L", Rule: "L.phone", Match: "801-555-1234"})
	fs, err := c.ItemFlags(ctx, res.ItemID)
	if err != nil || len(fs) != 2 || fs[0].Status != FlagPending || fs[0].VersionID == 0 || fs[0].AccountID != a.ID {
		t.Fatalf("flags after capture: %+v, %v", fs, err)
	}
	// The same content seen again: no new version, no new flag rows.
	flagCapture(t, c, a, "c1", "u1", "d*mn this", hit)
	if fs, _ := c.ItemFlags(ctx, res.ItemID); len(fs) != 2 {
		t.Fatalf("unchanged content re-flagged: %d flags", len(fs))
	}
	// An edit that still matches the same rule: one flag per rule per item.
	flagCapture(t, c, a, "c1", "u1", "d*mn this again", hit)
	if fs, _ := c.ItemFlags(ctx, res.ItemID); len(fs) != 2 {
		t.Fatalf("an edit duplicated a rule's flag: %d flags", len(fs))
	}
	got, err := c.FlagsOf(ctx, []uint64{res.ItemID, 999})
	if err != nil || strings.Join(got[res.ItemID], ",") != "A,L" || len(got[999]) != 0 {
		t.Fatalf("FlagsOf = %v, %v", got, err)
	}
	byItem, err := c.FlagsOfItems(ctx, []uint64{res.ItemID})
	if err != nil || len(byItem[res.ItemID]) != 2 {
		t.Fatalf("FlagsOfItems = %v, %v", byItem, err)
	}
	// A flag is part of the capture's change: the item's change sequence
	// moved, so the index reads the flag.
	it, _ := c.ItemByID(ctx, res.ItemID)
	if it.ChangeSeq == 0 {
		t.Error("flagged item has no change sequence")
	}
}

func testDecisionsAndRemovals(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	a := retentionAccount(t, c, "city")
	b := retentionAccount(t, c, "parks")
	r1 := flagCapture(t, c, a, "c1", "troll", "bad words", FlagCapture{Category: "A", Rule: "A.w"})
	r2 := flagCapture(t, c, a, "c2", "fine", "fine words", FlagCapture{Category: "D", Rule: "D.promo"})
	r3 := flagCapture(t, c, b, "c3", "troll", "more bad words", FlagCapture{Category: "K", Rule: "K.threat"})
	now := time.Now().UTC().Truncate(time.Second)
	if p, err := c.PendingFlagsByAccount(ctx); err != nil || p[a.ID] != 2 || p[b.ID] != 1 {
		t.Fatalf("pending flags by account: %v, %v; want 2 and 1", p, err)
	}
	if _, err := c.DecideFlags(ctx, r1.ItemID, "maybe", "x", "user:coord", now); err == nil {
		t.Error("a decision that is neither kept nor removed was accepted")
	}
	fs, err := c.DecideFlags(ctx, r2.ItemID, FlagKept, "an expression of thanks to a sponsor", "user:coord", now)
	if err != nil || len(fs) != 1 || fs[0].Status != FlagKept {
		t.Fatalf("keep: %+v, %v", fs, err)
	}
	if _, err := c.DecideFlags(ctx, r2.ItemID, FlagRemoved, "changed my mind", "user:coord", now); !errors.Is(err, ErrConflict) {
		t.Errorf("deciding an item twice: %v; want ErrConflict", err)
	}
	for _, id := range []uint64{r1.ItemID, r3.ItemID} {
		if _, err := c.DecideFlags(ctx, id, FlagRemoved, "profanity", "user:coord", now); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := c.CountFlags(ctx, nil)
	if err != nil || counts[FlagRemoved] != 2 || counts[FlagKept] != 1 || counts[FlagPending] != 0 {
		t.Fatalf("counts = %v, %v", counts, err)
	}
	// Removed by decision, and deleted from the platform: both need records.
	if err := c.db.Model(&Item{}).Where("id = ?", r2.ItemID).Update("deleted_at", now).Error; err != nil {
		t.Fatal(err)
	}
	todo, err := c.ItemsToRecordRemoval(ctx, 10)
	if err != nil || len(todo) != 3 {
		t.Fatalf("items to record: %d, %v; want 3", len(todo), err)
	}
	for _, it := range todo {
		cause := RemovalDecision
		if it.ID == r2.ItemID {
			cause = RemovalDeleted
		}
		r := &Removal{ItemID: it.ID, AccountID: it.AccountID, Platform: it.Platform, Kind: it.Kind, AuthorID: it.AuthorID,
			AuthorName: it.AuthorName, Cause: cause, RemovedAt: now, HTMLKey: "h", HTMLSHA256: "h", PDFKey: "p", PDFSHA256: "p"}
		if err := c.CreateRemoval(ctx, r, "user:coord"); err != nil {
			t.Fatal(err)
		}
	}
	if again := (&Removal{ItemID: r1.ItemID, Cause: RemovalDecision, HTMLKey: "h", HTMLSHA256: "h", PDFKey: "p", PDFSHA256: "p"}); !errors.Is(c.CreateRemoval(ctx, again, "x"), ErrConflict) {
		t.Error("a second removal record of one item was accepted")
	}
	if todo, _ := c.ItemsToRecordRemoval(ctx, 10); len(todo) != 0 {
		t.Errorf("after recording, %d items still to record", len(todo))
	}
	// The repeat violator: two removals by decision across two accounts;
	// the deleted comment by "fine" is not a violation.
	vs, err := c.RepeatViolators(ctx, 2)
	if err != nil || len(vs) != 1 || vs[0].AuthorID != "troll" || vs[0].Removed != 2 || vs[0].Accounts != 2 || vs[0].Last.IsZero() {
		t.Fatalf("violators = %+v, %v", vs, err)
	}
	if vs, _ := c.RepeatViolators(ctx, 1); len(vs) != 1 {
		t.Errorf("min 1: %d violators; want 1 (deletions are not decisions)", len(vs))
	}
	rs, err := c.ListRemovals(ctx, []uint64{b.ID}, 0, 10)
	if err != nil || len(rs) != 1 || rs[0].ItemID != r3.ItemID {
		t.Fatalf("removals of account b: %+v, %v", rs, err)
	}
	// Each decision and record is in the custody chain, which still verifies.
	if _, err := c.VerifyCustody(ctx); err != nil {
		t.Fatal(err)
	}
	evs, _ := c.CustodyEvents(ctx, "item", fmt.Sprint(r1.ItemID))
	kinds := []string{}
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if !strings.Contains(strings.Join(kinds, ","), "policy_decision") || !strings.Contains(strings.Join(kinds, ","), "removal_record") {
		t.Errorf("custody events of a removed item: %v", kinds)
	}
}

func testWorkPlans(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	acct := &Account{Platform: "bluesky", Handle: "parks.clinton.gov", Department: "Parks", Status: AccountActive}
	plan := &WorkPlan{Mission: "m", Audience: "a", LegalRisks: "l", Technical: "t", Security: "s", Emergency: "e", SubmittedBy: "user:dept"}
	if err := c.SubmitPlan(ctx, acct, plan); err != nil {
		t.Fatal(err)
	}
	if acct.Approval != ApprovalPending || plan.AccountID != acct.ID || plan.Department != "Parks" {
		t.Fatalf("submitted: %+v %+v", acct, plan)
	}
	// Pending: not captured, not listed.
	capt, _ := c.CapturableAccounts(ctx)
	dir, _ := c.DirectoryAccounts(ctx)
	if len(capt) != 0 || len(dir) != 0 {
		t.Fatalf("a pending account is capturable (%d) or listed (%d)", len(capt), len(dir))
	}
	// The same account again is a conflict, and nothing is stored.
	dup := &Account{Platform: "bluesky", Handle: "parks.clinton.gov"}
	if err := c.SubmitPlan(ctx, dup, &WorkPlan{SubmittedBy: "x"}); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate account: %v; want ErrConflict", err)
	}
	if ps, _ := c.ListPlans(ctx, "", 0); len(ps) != 1 {
		t.Errorf("%d plans after a refused duplicate; want 1", len(ps))
	}
	p, err := c.DecidePlan(ctx, plan.ID, true, "", "user:coord")
	if err != nil || p.Status != PlanApproved {
		t.Fatalf("approve: %+v, %v", p, err)
	}
	if _, err := c.DecidePlan(ctx, plan.ID, false, "no", "user:coord"); !errors.Is(err, ErrConflict) {
		t.Errorf("deciding twice: %v", err)
	}
	capt, _ = c.CapturableAccounts(ctx)
	dir, _ = c.DirectoryAccounts(ctx)
	if len(capt) != 1 || len(dir) != 1 {
		t.Fatalf("approved account: capturable %d, listed %d", len(capt), len(dir))
	}
	// A rejected new account stays out.
	other := &Account{Platform: "x", Handle: "clintonfun", Status: AccountActive}
	p2 := &WorkPlan{SubmittedBy: "user:dept"}
	if err := c.SubmitPlan(ctx, other, p2); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DecidePlan(ctx, p2.ID, false, "giveaways are not allowed (3.4.2)", "user:coord"); err != nil {
		t.Fatal(err)
	}
	got, _ := c.AccountByID(ctx, other.ID)
	if got.Approval != ApprovalRejected {
		t.Errorf("rejected plan left the account %s", got.Approval)
	}
	// A new plan for an approved account does not stop its captures, even
	// when rejected.
	p3 := &WorkPlan{AccountID: acct.ID, SubmittedBy: "user:dept"}
	if err := c.SubmitPlan(ctx, &Account{}, p3); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DecidePlan(ctx, p3.ID, false, "revise", "user:coord"); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.AccountByID(ctx, acct.ID); got.Approval != ApprovalApproved {
		t.Errorf("a rejected revision un-approved a running account: %s", got.Approval)
	}
}

func testDesignatedAndCustodians(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	a := retentionAccount(t, c, "city")
	d := &DesignatedUser{AccountID: a.ID, Name: "Ana", Capability: "publish"}
	if err := c.AddDesignatedUser(ctx, d, "user:coord"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddDesignatedUser(ctx, &DesignatedUser{AccountID: 999, Name: "x", Capability: "view"}, "u"); !errors.Is(err, ErrNotFound) {
		t.Errorf("designated user of a missing account: %v", err)
	}
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	if err := c.AcknowledgePolicy(ctx, a.ID, d.ID, "2026.1", at, "user:coord"); err != nil {
		t.Fatal(err)
	}
	if err := c.AcknowledgePolicy(ctx, a.ID+1, d.ID, "2026.1", at, "user:coord"); !errors.Is(err, ErrNotFound) {
		t.Errorf("acknowledging through another account: %v", err)
	}
	ds, _ := c.DesignatedUsers(ctx, []uint64{a.ID})
	if len(ds) != 1 || ds[0].PolicyVersion != "2026.1" || ds[0].AcknowledgedAt == nil || !ds[0].AcknowledgedAt.Equal(at) {
		t.Fatalf("designated users: %+v", ds)
	}
	if err := c.RemoveDesignatedUser(ctx, a.ID, d.ID, "user:coord"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveDesignatedUser(ctx, a.ID, d.ID, "user:coord"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing twice: %v", err)
	}
	if ds, _ := c.DesignatedUsers(ctx, nil); len(ds) != 0 {
		t.Errorf("removed user still listed: %+v", ds)
	}
	// The row is kept (history), marked removed.
	var n int64
	c.db.Model(&DesignatedUser{}).Where("removed_at IS NOT NULL").Count(&n)
	if n != 1 {
		t.Errorf("removed designated users kept: %d", n)
	}
	for _, name := range []string{"Ana", "Ben", "Cy"} {
		if err := c.AddCustodian(ctx, &Custodian{AccountID: a.ID, Name: name}, "user:coord"); err != nil {
			t.Fatal(err)
		}
	}
	cs, _ := c.Custodians(ctx, []uint64{a.ID})
	if len(cs) != 3 || cs[0].Name != "Ana" {
		t.Fatalf("custodians: %+v", cs)
	}
	if err := c.RemoveCustodian(ctx, a.ID, cs[1].ID, "user:coord"); err != nil {
		t.Fatal(err)
	}
	if cs, _ := c.Custodians(ctx, nil); len(cs) != 2 {
		t.Errorf("after removing one: %d custodians", len(cs))
	}
	if err := c.SetDirectoryContact(ctx, a.ID, "Comms Office", "comms@clintoncity.gov", "user:coord"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetAuthenticity(ctx, a.ID, Authenticity{CheckedAt: at, Official: true, Note: "n", ProfileURL: "https://social.example/@city"}); err != nil {
		t.Fatal(err)
	}
	got, _ := c.AccountByID(ctx, a.ID)
	if got.ContactEmail != "comms@clintoncity.gov" || !got.AuthOfficial || got.AuthEmail || got.ProfileURL != "https://social.example/@city" {
		t.Errorf("account after contact and authenticity: %+v", got)
	}
	if _, err := c.VerifyCustody(ctx); err != nil {
		t.Fatal(err)
	}
}

func testPerDayCounts(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	a := retentionAccount(t, c, "city")
	flagCapture(t, c, a, "c1", "u", "one", FlagCapture{Category: "A", Rule: "A.w"})
	flagCapture(t, c, a, "c2", "u", "two")
	items, flags, err := c.CapturedPerDay(ctx, time.Now().UTC().Add(-24*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	total := int64(0)
	for _, d := range items {
		total += d.N
		if len(d.Day) != 10 {
			t.Errorf("day %q is not YYYY-MM-DD", d.Day)
		}
	}
	if total != 3 || len(flags) != 1 || flags[0].Day != today || flags[0].N != 1 {
		t.Errorf("per day: items %+v flags %+v; want 3 items (post and two comments) and 1 flag today", items, flags)
	}
	if items, _, _ := c.CapturedPerDay(ctx, time.Now().UTC().Add(-24*time.Hour), []uint64{a.ID + 1}); len(items) != 0 {
		t.Errorf("another account's per-day counts: %+v", items)
	}
}
