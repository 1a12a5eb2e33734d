package policy

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

type env struct {
	ctx   context.Context
	cat   *storage.Catalog
	blobs blob.Store
	o     *Office
	acct  *storage.Account
	run   uint64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	cat, err := storage.Open(ctx, storage.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	blobs, err := blob.NewLocal(dir + "/blobs")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("America/Denver")
	o := New(Config{Catalog: cat, Blobs: blobs, Entity: "Clinton City", CityDomain: "clintoncity.gov",
		CityWebsite: "https://www.clintoncity.gov", PolicyVersion: "2026.1", Location: loc})
	a := &storage.Account{Platform: "mastodon", Handle: "clintoncity", APIBase: "https://social.example", Department: "Communications",
		DisplayName: "Clinton City", Status: storage.AccountActive, Approval: storage.ApprovalApproved}
	if err := cat.CreateAccount(ctx, a, "test"); err != nil {
		t.Fatal(err)
	}
	run, err := cat.StartRun(ctx, a.ID, storage.RunFull, "test")
	if err != nil {
		t.Fatal(err)
	}
	return &env{ctx: ctx, cat: cat, blobs: blobs, o: o, acct: a, run: run.ID}
}

// capture records an item with text, screened as the archiver screens it.
func (e *env) capture(t *testing.T, native, kind, author, text string) uint64 {
	t.Helper()
	ref, _, err := blob.PutBytes(e.ctx, e.blobs, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	in := storage.ItemCapture{AccountID: e.acct.ID, RunID: e.run, Platform: "mastodon", NativeID: native, Kind: kind,
		AuthorID: author, AuthorName: "Name " + author, Actor: "system:archiver", Flags: e.o.Screen(text),
		Versions: []storage.VersionCapture{{SHA256: ref.SHA256, NormalizedKey: ref.Key, RawKey: ref.Key, Text: text}}}
	if kind != "post" {
		in.ParentNativeID, in.RootNativeID = "p1", "p1"
	}
	res, err := e.cat.RecordItem(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return res.ItemID
}

func TestDecideRemoveWritesRecord(t *testing.T) {
	e := newEnv(t)
	e.capture(t, "p1", "post", "city", "Road closures this weekend.")
	hostile := `You are all idiots, d*mn you <script>alert("x")</script>`
	id := e.capture(t, "c1", "comment", "troll", hostile)
	clean := e.capture(t, "c2", "comment", "ana", "Thanks for the update, see you at the parade!")
	fs, _ := e.cat.ItemFlags(e.ctx, id)
	if len(fs) == 0 {
		t.Fatalf("a profane comment was not flagged at capture")
	}
	if fs, _ := e.cat.ItemFlags(e.ctx, clean); len(fs) != 0 {
		t.Fatalf("a clean comment was flagged: %+v", fs)
	}
	// Bad decisions change nothing.
	for _, bad := range []struct{ decision, reason string }{{"delete", "x"}, {Remove, ""}, {Remove, "   "}} {
		_, _, err := e.o.Decide(e.ctx, id, bad.decision, bad.reason, "user:coord")
		if _, ok := IsFieldErrors(err); !ok {
			t.Errorf("Decide(%q, %q): %v; want field errors", bad.decision, bad.reason, err)
		}
	}
	if fs, _ := e.cat.ItemFlags(e.ctx, id); fs[0].Status != storage.FlagPending {
		t.Fatalf("a refused decision changed the flag: %s", fs[0].Status)
	}
	decided, r, err := e.o.Decide(e.ctx, id, Remove, "profanity (3.4.3 A)", "user:coord")
	if err != nil || r == nil || len(decided) != len(fs) {
		t.Fatalf("Decide remove: %v, %+v, %d flags", err, r, len(decided))
	}
	if r.Cause != storage.RemovalDecision || !strings.Contains(r.Categories, "A") || r.AuthorID != "troll" || r.Reason != "profanity (3.4.3 A)" {
		t.Errorf("removal record: %+v", r)
	}
	html := e.blob(t, r.HTMLKey)
	for _, want := range []string{"Record of Removed Social Media Content", "Profan", "profanity (3.4.3 A)", "Name troll", "user:coord", "&lt;script&gt;"} {
		if !strings.Contains(html, want) {
			t.Errorf("removal record HTML lacks %q", want)
		}
	}
	if strings.Contains(html, "<script>") {
		t.Error("captured script is live in the removal record")
	}
	if pdf := e.blob(t, r.PDFKey); !strings.HasPrefix(pdf, "%PDF-") {
		t.Errorf("removal record PDF starts %q", pdf[:min(8, len(pdf))])
	}
	// Every version is kept; deciding again is refused.
	if vs, _ := e.cat.Versions(e.ctx, id); len(vs) != 1 {
		t.Errorf("versions after removal: %d", len(vs))
	}
	if _, _, err := e.o.Decide(e.ctx, id, Keep, "again", "user:coord"); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("second decision: %v; want ErrConflict", err)
	}
	// The follower finds nothing more to record.
	if n, err := e.o.RecordRemovals(e.ctx); err != nil || n != 0 {
		t.Errorf("RecordRemovals after a decision = %d, %v", n, err)
	}
}

func (e *env) blob(t *testing.T, key string) string {
	t.Helper()
	rc, err := e.blobs.Get(e.ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDeletionsGetRemovalRecords(t *testing.T) {
	e := newEnv(t)
	e.capture(t, "p1", "post", "city", "Road closures this weekend.")
	id := e.capture(t, "c1", "comment", "ana", "I posted my phone 801-555-0199 by mistake")
	// A complete sweep that no longer sees the comment marks it deleted.
	run2, _ := e.cat.StartRun(e.ctx, e.acct.ID, storage.RunFull, "test")
	e.run = run2.ID
	e.capture(t, "p1", "post", "city", "Road closures this weekend.")
	if n, err := e.cat.MarkThreadDeleted(e.ctx, e.acct.ID, e.run, "p1", "system:archiver"); err != nil || n != 1 {
		t.Fatalf("MarkThreadDeleted = %d, %v", n, err)
	}
	n, err := e.o.RecordRemovals(e.ctx)
	if err != nil || n != 1 {
		t.Fatalf("RecordRemovals = %d, %v; want 1", n, err)
	}
	r, err := e.cat.RemovalOfItem(e.ctx, id)
	if err != nil || r.Cause != storage.RemovalDeleted || r.DecidedBy != "system:archiver" || !strings.Contains(r.Categories, "L") {
		t.Fatalf("removal of a deleted comment: %+v, %v", r, err)
	}
	if html := e.blob(t, r.HTMLKey); !strings.Contains(html, "801-555-0199") || !strings.Contains(html, "Found deleted from the platform") {
		t.Error("the record of a deleted comment lacks its content or cause")
	}
}

func TestAuthenticity(t *testing.T) {
	o := New(Config{CityDomain: "clintoncity.gov", CityWebsite: "https://www.clintoncity.gov"})
	for _, tc := range []struct {
		name                string
		p                   profileDoc
		official, mail, web bool
	}{
		{"all three", profileDoc{DisplayName: "Clinton City", Description: "The official account of Clinton City, Utah. Contact comms@clintoncity.gov", Website: "https://www.clintoncity.gov/parks"}, true, true, true},
		{"subdomain mail and bare link", profileDoc{Description: "Official page of the Parks Department. parks@rec.clintoncity.gov · clintoncity.gov"}, true, true, true},
		{"personal", profileDoc{DisplayName: "Bob's page", Description: "Just me. bob@gmail.com https://bob.example"}, false, false, false},
		{"lookalike domain", profileDoc{Description: "Official. info@clintoncity.gov.evil.com https://clintoncity.gov.evil.com"}, true, false, false},
		{"official only in a word", profileDoc{Description: "Unofficially the best. mayor@clintoncity.gov", Website: "www.clintoncity.gov"}, false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := o.judge(tc.p)
			if got.Official != tc.official || got.Email != tc.mail || got.Website != tc.web {
				t.Errorf("judge = official %v, email %v, website %v (%s); want %v %v %v", got.Official, got.Email, got.Website, got.Note, tc.official, tc.mail, tc.web)
			}
		})
	}
}

func TestCheckAuthenticityFromSnapshot(t *testing.T) {
	e := newEnv(t)
	if _, err := e.o.CheckAuthenticity(e.ctx, *e.acct); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("an account never captured: %v; want ErrNotFound", err)
	}
	doc, _ := json.Marshal(map[string]any{"display_name": "Clinton City", "description": "Official account. comms@clintoncity.gov",
		"website": "https://www.clintoncity.gov", "url": "https://social.example/@clintoncity"})
	ref, _, _ := blob.PutBytes(e.ctx, e.blobs, doc)
	if err := e.cat.AddProfileSnapshot(e.ctx, e.acct.ID, e.run, ref.SHA256, ref.Key); err != nil {
		t.Fatal(err)
	}
	res, err := e.o.CheckAuthenticity(e.ctx, *e.acct)
	if err != nil || !res.Official || !res.Email || !res.Website {
		t.Fatalf("check: %+v, %v", res, err)
	}
	a, _ := e.cat.AccountByID(e.ctx, e.acct.ID)
	if a.AuthCheckedAt == nil || ProfileLink(*a) != "https://social.example/@clintoncity" {
		t.Errorf("after the check: checked %v, link %q", a.AuthCheckedAt, ProfileLink(*a))
	}
}

func TestPlansDesignatedCustodians(t *testing.T) {
	e := newEnv(t)
	_, err := e.o.SubmitPlan(e.ctx, &storage.Account{Platform: "x", Handle: "clintonparks", Status: storage.AccountActive}, 0,
		PlanInput{Mission: "Share park news"}, "user:dept")
	fe, ok := IsFieldErrors(err)
	if !ok || len(fe) != 5 {
		t.Fatalf("a plan missing five parts: %v", err)
	}
	if as, _ := e.cat.ListAccounts(e.ctx); len(as) != 1 {
		t.Fatalf("a refused plan stored an account: %d accounts", len(as))
	}
	full := PlanInput{Department: "Parks", Mission: "Share park news", Audience: "Residents", LegalRisks: "Comments are public records",
		Technical: "Staff phones", Security: "Two-factor sign-in", Emergency: "Post closures within an hour"}
	p, err := e.o.SubmitPlan(e.ctx, &storage.Account{Platform: "x", Handle: "clintonparks", Status: storage.AccountActive}, 0, full, "user:dept")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.o.DecidePlan(e.ctx, p.ID, false, "", "user:coord"); err == nil {
		t.Error("a rejection without a reason was accepted")
	}
	if _, err := e.o.DecidePlan(e.ctx, p.ID, true, "", "user:coord"); err != nil {
		t.Fatal(err)
	}
	dir, _ := e.o.Directory(e.ctx)
	if len(dir) != 2 || dir[1].Link != "https://x.com/clintonparks" || dir[1].Department != "Parks" {
		t.Fatalf("directory after approval: %+v", dir)
	}

	if _, err := e.o.AddDesignated(e.ctx, e.acct.ID, DesignatedInput{Name: "Ana", Capability: "admin"}, "u"); err == nil {
		t.Error("an unknown capability was accepted")
	}
	d, err := e.o.AddDesignated(e.ctx, e.acct.ID, DesignatedInput{Name: "=HYPERLINK(\"http://evil\")", Email: "ana@clintoncity.gov", Capability: "publish"}, "u")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.o.AddDesignated(e.ctx, e.acct.ID, DesignatedInput{Name: "Ben", Capability: "view"}, "u"); err != nil {
		t.Fatal(err)
	}
	if err := e.o.Acknowledge(e.ctx, e.acct.ID, d.ID, "u"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := e.o.DesignatedCSV(e.ctx, nil, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("csv: %d rows, %v", len(rows), err)
	}
	byName := map[string][]string{}
	for _, r := range rows[1:] {
		byName[r[4]] = r
	}
	if r := byName[`'=HYPERLINK("http://evil")`]; r == nil || r[7] != "current" || r[8] != "2026.1" {
		t.Errorf("acknowledged user's row (formula defused): %v", rows)
	}
	if r := byName["Ben"]; r == nil || r[7] != "missing" {
		t.Errorf("unacknowledged user's row: %v", byName["Ben"])
	}

	if _, err := e.o.AddCustodian(e.ctx, e.acct.ID, CustodianInput{Name: "Ana password: hunter2"}, "u"); err == nil {
		t.Error("a custodian name holding a password was accepted")
	}
	for _, n := range []string{"Ana", "Ben"} {
		if _, err := e.o.AddCustodian(e.ctx, e.acct.ID, CustodianInput{Name: n}, "u"); err != nil {
			t.Fatal(err)
		}
	}
	comp, err := e.o.Compliance(e.ctx, []uint64{e.acct.ID})
	if err != nil || len(comp) != 1 {
		t.Fatalf("compliance: %v", err)
	}
	gaps := strings.Join(comp[0].Gaps, "; ")
	for _, want := range []string{"no approved work plan", "1 designated user has not acknowledged", "2 custodians (at least 3 required)", "authenticity not checked"} {
		if !strings.Contains(gaps, want) {
			t.Errorf("gaps %q lack %q", gaps, want)
		}
	}
	if _, err := e.o.AddCustodian(e.ctx, e.acct.ID, CustodianInput{Name: "Cy"}, "u"); err != nil {
		t.Fatal(err)
	}
	comp, _ = e.o.Compliance(e.ctx, []uint64{e.acct.ID})
	if strings.Contains(strings.Join(comp[0].Gaps, ";"), "custodian") {
		t.Errorf("three custodians still a gap: %v", comp[0].Gaps)
	}
	if err := e.o.SetContact(e.ctx, e.acct.ID, "Comms", "not an address", "u"); err == nil {
		t.Error("a bad contact e-mail was accepted")
	}
}
