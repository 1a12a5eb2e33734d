package records_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// The people of the two-person rule.
var (
	legalLee = records.Actor{ID: "user:lee", Name: "Lee Legal", UserID: 7}
	adminAda = records.Actor{ID: "user:ada", Name: "Ada Admin", UserID: 9, IsAdmin: true}
)

const day = 24 * time.Hour

// captured is one item recorded by captureItem, with its blob keys.
type captured struct {
	id              uint64
	norm, raw, life string // normalised JSON, raw page, media ("" if none)
}

// captureItem records an item of any kind on acct, its normalised JSON,
// raw page and optional media really in the blob store. Items whose raw
// pages are the same bytes share that blob, as the comments of one API
// page do.
func (e *env) captureItem(tb testing.TB, acct *storage.Account, native, kind, root, parent string, raw, media []byte) captured {
	tb.Helper()
	run, err := e.cat.StartRun(e.ctx, acct.ID, storage.RunFull, "test")
	if err != nil {
		tb.Fatal(err)
	}
	put := func(b []byte) blob.Ref {
		ref, _, err := blob.PutBytes(e.ctx, e.blobs, b)
		if err != nil {
			tb.Fatal(err)
		}
		return ref
	}
	text := fmt.Sprintf("%s %s on %s", kind, native, acct.Handle)
	norm := put([]byte(fmt.Sprintf(`{"native_id":%q,"text":%q}`, native, text)))
	rawRef := put(raw)
	c := captured{norm: norm.Key, raw: rawRef.Key}
	var ms []storage.MediaCapture
	if media != nil {
		m := put(media)
		c.life = m.Key
		ms = append(ms, storage.MediaCapture{NativeID: native + "-m", SHA256: m.SHA256, BlobKey: m.Key, ContentType: "image/png", Size: m.Size})
	}
	res, err := e.cat.RecordItem(e.ctx, storage.ItemCapture{AccountID: acct.ID, RunID: run.ID, Platform: acct.Platform,
		NativeID: native, Kind: kind, RootNativeID: root, ParentNativeID: parent, AuthorName: "Resident " + native,
		Actor: "system:test", Media: ms,
		Versions: []storage.VersionCapture{{SHA256: norm.SHA256, NormalizedKey: norm.Key, RawKey: rawRef.Key, Text: text}}})
	if err != nil {
		tb.Fatal(err)
	}
	c.id = res.ItemID
	e.items[native] = res.ItemID
	return c
}

// newAccount registers another captured account.
func (e *env) newAccount(tb testing.TB, handle string) *storage.Account {
	tb.Helper()
	a := &storage.Account{Platform: "mastodon", Handle: handle, APIBase: "https://mastodon.example",
		Status: storage.AccountActive, Approval: storage.ApprovalApproved}
	if err := e.cat.CreateAccount(e.ctx, a, "test"); err != nil {
		tb.Fatal(err)
	}
	return a
}

func (e *env) setRule(tb testing.TB, account *uint64, kind string, days int) {
	tb.Helper()
	_, err := e.office.SetRetentionRule(e.ctx, adminAda, records.RuleInput{AccountID: account, Kind: kind, KeepDays: days,
		Citation: fmt.Sprintf("Test schedule: %s kept %d days", kind, days)})
	if err != nil {
		tb.Fatal(err)
	}
}

func (e *env) blobExists(tb testing.TB, key string) bool {
	tb.Helper()
	_, err := e.blobs.Stat(e.ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return false
	}
	if err != nil {
		tb.Fatal(err)
	}
	return true
}

// snapshot is everything a disposition could change, in a comparable form:
// every item with its versions and media, whether each of their blobs is
// in the store, and every request file.
func (e *env) snapshot(tb testing.TB) string {
	tb.Helper()
	var b strings.Builder
	page, err := e.cat.ListItems(e.ctx, 0, 0, 1000)
	if err != nil {
		tb.Fatal(err)
	}
	for _, it := range page.Items {
		fmt.Fprintf(&b, "item %d %q %q disposed=%v\n", it.ID, it.Text, it.AuthorName, it.DisposedAt != nil)
		for _, v := range e.versions(tb, it.ID) {
			fmt.Fprintf(&b, "  version %d %s %v %v\n", v.Seq, v.SHA256, e.blobExists(tb, v.RawKey), e.blobExists(tb, v.NormalizedKey))
		}
		ms, _ := e.cat.ItemMedia(e.ctx, it.ID)
		for _, m := range ms {
			fmt.Fprintf(&b, "  media %s %v\n", m.SHA256, e.blobExists(tb, m.BlobKey))
		}
	}
	rs, _, err := e.cat.ListRequests(e.ctx, storage.RequestFilter{Limit: 500})
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range rs {
		rec := e.record(tb, r.ID)
		fmt.Fprintf(&b, "request %s %q %q events=%d messages=%d items=%d letters=%d\n", r.TrackingNumber, r.Name, r.Email,
			len(rec.Events), len(rec.Messages), len(rec.Items), len(rec.Letters))
		for _, l := range rec.Letters {
			fmt.Fprintf(&b, "  letter %v %v\n", e.blobExists(tb, l.HTMLKey), e.blobExists(tb, l.PDFKey))
		}
	}
	return b.String()
}

// certificateDoc is the disposition certificate as a reader sees it.
type certificateDoc struct {
	Format      string `json:"format"`
	Disposition uint64 `json:"disposition"`
	Status      string `json:"status"`
	ProposedBy  string `json:"proposed_by"`
	ApprovedBy  string `json:"approved_by"`
	ApprovedAt  *time.Time
	ListKey     string `json:"list_key"`
	ListSHA256  string `json:"list_sha256"`
	Rules       []struct {
		Kind     string `json:"kind"`
		KeepDays int    `json:"keep_days"`
		Citation string `json:"citation"`
	} `json:"rules"`
	Counts map[string]int `json:"counts"`
	Items  []struct {
		ID       uint64 `json:"id"`
		NativeID string `json:"native_id"`
		Platform string `json:"platform"`
		Citation string `json:"citation"`
	} `json:"items"`
	RequestFiles []struct {
		TrackingNumber string `json:"tracking_number"`
		Letters        int    `json:"letters"`
	} `json:"request_files"`
	Skipped []struct {
		Type   string `json:"type"`
		ID     uint64 `json:"id"`
		Reason string `json:"reason"`
		When   string `json:"when"`
	} `json:"skipped"`
	BlobsDestroyed  []string `json:"blobs_destroyed"`
	BlobsKeptShared []string `json:"blobs_kept_shared"`
	BlobsNotDeleted []struct {
		Key, Reason string
	} `json:"blobs_not_deleted"`
}

// certificate reads the disposition's certificate and checks it is the
// blob its row names, with the hash its row records.
func (e *env) certificate(tb testing.TB, d *storage.Disposition) certificateDoc {
	tb.Helper()
	body := e.readBlob(tb, d.CertificateKey)
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != d.CertificateSHA256 || blob.KeyFor(d.CertificateSHA256) != d.CertificateKey {
		tb.Fatalf("certificate hash %x, row says %s at %s", sum, d.CertificateSHA256, d.CertificateKey)
	}
	var c certificateDoc
	if err := json.Unmarshal(body, &c); err != nil {
		tb.Fatalf("certificate is not JSON: %v\n%s", err, body)
	}
	return c
}

func TestRetentionRules(t *testing.T) {
	onEveryBackend(t, time.Now(), func(t *testing.T, e *env) {
		if n, err := e.office.EnsureRetentionDefaults(e.ctx); err != nil || n != 4 {
			t.Fatalf("defaults: %d, %v; want 4", n, err)
		}
		if n, err := e.office.EnsureRetentionDefaults(e.ctx); err != nil || n != 0 {
			t.Fatalf("defaults again: %d, %v; want none added", n, err)
		}
		rules, err := e.office.RetentionRules(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]storage.RetentionRule{}
		for _, r := range rules {
			got[r.Kind] = r
		}
		for kind, want := range map[string]struct {
			days     int
			trigger  string
			citation string
		}{
			"post":         {0, "captured", "GRS-1678"},
			"comment":      {0, "captured", "VERIFY"},
			"reply":        {0, "captured", "GRS-1759"},
			"request_file": {730, "final_action", "GRS-1711"},
		} {
			r := got[kind]
			if r.AccountID != nil || r.KeepDays != want.days || r.Trigger != want.trigger || !strings.Contains(r.Citation, want.citation) {
				t.Errorf("default %s rule %+v", kind, r)
			}
		}

		acct := e.newAccount(t, "parks")
		other := e.newAccount(t, "police")
		e.setRule(t, &acct.ID, "comment", 365)
		e.setRule(t, nil, "comment", 1000) // replaces the default, keeps one row
		e.setRule(t, nil, "comment", 1100)
		for _, tc := range []struct {
			account uint64
			want    int
		}{{acct.ID, 365}, {other.ID, 1100}} {
			r, err := e.cat.EffectiveRule(e.ctx, tc.account, "comment")
			if err != nil || r.KeepDays != tc.want {
				t.Errorf("comment rule of account %d: %+v, %v; want %d days", tc.account, r, err, tc.want)
			}
		}
		if rules, _ := e.office.RetentionRules(e.ctx); len(rules) != 5 {
			t.Errorf("%d rules, want the 4 defaults and one account's own", len(rules))
		}
		if err := e.office.DeleteRetentionRule(e.ctx, adminAda, acct.ID, "comment"); err != nil {
			t.Fatal(err)
		}
		if r, _ := e.cat.EffectiveRule(e.ctx, acct.ID, "comment"); r.KeepDays != 1100 {
			t.Errorf("after deleting its own rule the account follows %d days, want 1100", r.KeepDays)
		}
		evs := custodyOf(t, e, "retention_rule_set", "retention_rule", upTo(10)...)
		if len(evs) != 7 || evs[0].Actor != "system" || evs[6].Actor != adminAda.ID {
			t.Errorf("%d retention_rule_set events (%+v); want 7 (4 defaults, 3 changes)", len(evs), evs)
		}
		if len(custodyOf(t, e, "retention_rule_deleted", "retention_rule", upTo(10)...)) != 1 {
			t.Error("no retention_rule_deleted event")
		}

		missing := uint64(999999)
		for name, tc := range map[string]struct {
			in     records.RuleInput
			fields []string
		}{
			"unknown kind":          {records.RuleInput{Kind: "video", Citation: "x"}, []string{"kind"}},
			"negative days":         {records.RuleInput{Kind: "post", KeepDays: -1, Citation: "x"}, []string{"keep_days"}},
			"wrong trigger":         {records.RuleInput{Kind: "post", KeepDays: 5, Trigger: "final_action", Citation: "x"}, []string{"trigger"}},
			"request file trigger":  {records.RuleInput{Kind: "request_file", KeepDays: 5, Trigger: "captured", Citation: "x"}, []string{"trigger"}},
			"no such account":       {records.RuleInput{AccountID: &missing, Kind: "post", Citation: "x"}, []string{"account_id"}},
			"request file per acct": {records.RuleInput{AccountID: &acct.ID, Kind: "request_file", KeepDays: 5, Citation: "x"}, []string{"account_id"}},
			"no citation":           {records.RuleInput{Kind: "post", KeepDays: 5}, []string{"citation"}},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := e.office.SetRetentionRule(e.ctx, adminAda, tc.in)
				fieldErrors(t, err, tc.fields...)
			})
		}
	})
}

// custodyOf returns the custody events of one kind about the subjects,
// in log order, after checking the whole chain.
func custodyOf(tb testing.TB, e *env, kind, subjectType string, ids ...uint64) []storage.CustodyEvent {
	tb.Helper()
	if _, err := e.cat.VerifyCustody(e.ctx); err != nil {
		tb.Fatalf("custody chain: %v", err)
	}
	var out []storage.CustodyEvent
	for _, id := range ids {
		evs, err := e.cat.CustodyEvents(e.ctx, subjectType, itoa(id))
		if err != nil {
			tb.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Kind == kind {
				out = append(out, ev)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// upTo lists 1…n, the ids of the first n rows.
func upTo(n uint64) []uint64 {
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i + 1)
	}
	return ids
}

// TestDisposition runs a disposition end to end: what the schedule allows
// by kind and account, holds placed after the proposal, the two-person
// rule, blobs shared with kept items, tombstones, the certificate and the
// custody log.
func TestDisposition(t *testing.T) {
	onEveryBackend(t, time.Now(), func(t *testing.T, e *env) {
		if _, err := e.office.EnsureRetentionDefaults(e.ctx); err != nil {
			t.Fatal(err)
		}
		parks, police := e.newAccount(t, "parks"), e.newAccount(t, "police")
		e.setRule(t, nil, "comment", 365)
		e.setRule(t, nil, "reply", 365)
		e.setRule(t, &police.ID, "comment", 0) // the police keep their comments
		page := []byte(`{"post":"pA1","comments":["cA1"]}`)
		pA1 := e.captureItem(t, parks, "pA1", "post", "", "", page, nil)
		cA1 := e.captureItem(t, parks, "cA1", "comment", "pA1", "pA1", page, []byte("photo attached to cA1"))
		rA1 := e.captureItem(t, parks, "rA1", "reply", "pA1", "cA1", []byte("reply page"), nil)
		cA2 := e.captureItem(t, parks, "cA2", "comment", "pA1", "pA1", []byte("page cA2"), nil)
		cA3 := e.captureItem(t, parks, "cA3", "comment", "pA1", "pA1", []byte("page cA3"), nil)
		pA2 := e.captureItem(t, parks, "pA2", "post", "", "", []byte("page pA2"), pngBytes)
		cA4 := e.captureItem(t, parks, "cA4", "comment", "pA2", "pA2", []byte("page cA4"), pngBytes)
		cB1 := e.captureItem(t, police, "cB1", "comment", "", "", []byte("page cB1"), nil)

		e.clock.Add(400 * day)
		d, err := e.office.ProposeDisposition(e.ctx, legalLee, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != storage.DispositionProposed || d.Items != 5 || d.Requests != 0 || d.SkippedHeld != 0 || d.ProposedBy != legalLee.ID {
			t.Fatalf("proposal %+v; want 5 items (cA1-cA4, rA1)", d)
		}
		var list struct {
			Items []struct {
				ID       uint64 `json:"id"`
				NativeID string `json:"native_id"`
			} `json:"items"`
		}
		if err := json.Unmarshal(e.readBlob(t, d.ListKey), &list); err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, it := range list.Items {
			listed = append(listed, it.NativeID)
		}
		if slices.Sort(listed); !slices.Equal(listed, []string{"cA1", "cA2", "cA3", "cA4", "rA1"}) {
			t.Fatalf("listed %v", listed)
		}

		// After the proposal: a legal hold on cA2, and a denial withholding
		// cA3 (an automatic hold until the appeals are over).
		hold := &storage.Hold{Matter: "Doe v. Clinton City", CreatedBy: legalLee.ID}
		if err := e.cat.CreateHold(e.ctx, hold, []uint64{cA2.id}); err != nil {
			t.Fatal(err)
		}
		r := e.file(t, validFiling())
		e.attach(t, r.ID, "cA3")
		_, err = e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondDeny,
			WithheldDescription: "A comment naming a juvenile", Citations: []string{"Utah Code 63G-2-302(1)(b)"}})
		if err != nil {
			t.Fatal(err)
		}

		for _, who := range []records.Actor{legalLee, {ID: "token:lee-ci", UserID: legalLee.UserID}} {
			if _, err := e.office.ApproveDisposition(e.ctx, d.ID, who); !errors.Is(err, records.ErrSamePerson) {
				t.Fatalf("approval by %s, the proposer: %v; want ErrSamePerson", who.ID, err)
			}
		}
		d, err = e.office.ApproveDisposition(e.ctx, d.ID, adminAda)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != storage.DispositionCompleted || d.Items != 3 || d.SkippedHeld != 2 || d.ApprovedBy != adminAda.ID || d.Error != "" {
			t.Fatalf("run %+v; want 3 items disposed (cA1, rA1, cA4), 2 held", d)
		}
		if _, err := e.office.ApproveDisposition(e.ctx, d.ID, legalLee); !errors.Is(err, records.ErrNotAllowed) {
			t.Errorf("second approval: %v; want ErrNotAllowed", err)
		}

		// Tombstones: the rows stay, the content is gone.
		for _, c := range []captured{cA1, rA1, cA4} {
			it, err := e.cat.ItemByID(e.ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			ms, _ := e.cat.ItemMedia(e.ctx, c.id)
			if it.DisposedAt == nil || it.DispositionID == nil || *it.DispositionID != d.ID || it.Text != "" || it.AuthorName != "" ||
				it.NativeID == "" || len(e.versions(t, c.id)) != 0 || len(ms) != 0 {
				t.Errorf("item %s after disposition: %+v, %d media", it.NativeID, it, len(ms))
			}
		}
		for _, c := range []captured{pA1, cA2, cA3, pA2, cB1} {
			it, _ := e.cat.ItemByID(e.ctx, c.id)
			if it.DisposedAt != nil || it.Text == "" || len(e.versions(t, c.id)) != 1 {
				t.Errorf("kept item %s was touched: %+v", it.NativeID, it)
			}
		}
		if it, _ := e.cat.ItemByID(e.ctx, rA1.id); it.ParentID == nil || *it.ParentID != cA1.id {
			t.Errorf("the tombstones lost their thread links: %+v", it)
		}

		gone := []string{cA1.norm, cA1.life, rA1.norm, rA1.raw, cA4.norm, cA4.raw}
		kept := []string{cA1.raw, cA4.life} // shared with pA1's page and pA2's media
		for _, k := range gone {
			if e.blobExists(t, k) {
				t.Errorf("blob %s is still in the store", k)
			}
		}
		for _, k := range append(kept, pA1.norm, cA2.norm, cA2.raw, cA3.raw, cB1.raw) {
			if !e.blobExists(t, k) {
				t.Errorf("blob %s of a kept item was deleted", k)
			}
		}

		c := e.certificate(t, d)
		listSum := sha256.Sum256(e.readBlob(t, d.ListKey))
		if c.Format != "civicarchive-disposition-certificate/1" || c.Disposition != d.ID || c.Status != "completed" ||
			c.ProposedBy != legalLee.ID || c.ApprovedBy != adminAda.ID || c.ListKey != d.ListKey || c.ListSHA256 != hex.EncodeToString(listSum[:]) {
			t.Errorf("certificate header %+v", c)
		}
		var cites []string
		for _, r := range c.Rules {
			cites = append(cites, r.Citation)
		}
		if !slices.Contains(cites, "Test schedule: comment kept 365 days") || !slices.ContainsFunc(cites, func(s string) bool { return strings.Contains(s, "GRS-1678") }) {
			t.Errorf("certificate rules %v", cites)
		}
		var natives []string
		for _, it := range c.Items {
			natives = append(natives, it.NativeID)
			if it.Platform != "mastodon" || it.Citation == "" {
				t.Errorf("certificate item %+v", it)
			}
		}
		if slices.Sort(natives); !slices.Equal(natives, []string{"cA1", "cA4", "rA1"}) {
			t.Errorf("certificate items %v", natives)
		}
		if got := slices.Sorted(slices.Values(c.BlobsDestroyed)); !slices.Equal(got, slices.Sorted(slices.Values(gone))) {
			t.Errorf("blobs destroyed %v, want %v", got, gone)
		}
		if got := slices.Sorted(slices.Values(c.BlobsKeptShared)); !slices.Equal(got, slices.Sorted(slices.Values(kept))) {
			t.Errorf("blobs kept %v, want %v", got, kept)
		}
		skips := map[uint64]string{}
		for _, s := range c.Skipped {
			skips[s.ID] = s.Reason + "@" + s.When
		}
		if skips[cA2.id] != "legal_hold@run" || skips[cA3.id] != "denial_hold@run" || len(skips) != 2 {
			t.Errorf("certificate skips %v", skips)
		}
		if c.Counts["items_destroyed"] != 3 || c.Counts["skipped_held"] != 2 || c.Counts["blobs_destroyed"] != 6 || c.Counts["blobs_kept_shared"] != 2 {
			t.Errorf("certificate counts %v", c.Counts)
		}

		if evs := custodyOf(t, e, "disposed", "item", cA1.id, rA1.id, cA4.id, cA2.id, cA3.id); len(evs) != 3 || evs[0].Actor != adminAda.ID ||
			!strings.Contains(evs[0].Details, fmt.Sprintf(`"disposition":%d`, d.ID)) {
			t.Errorf("disposed events %+v", evs)
		}
		for kind, actor := range map[string]string{"disposition_proposed": legalLee.ID, "disposition_approved": adminAda.ID, "disposition_completed": adminAda.ID} {
			evs := custodyOf(t, e, kind, "disposition", d.ID)
			if len(evs) != 1 || evs[0].Actor != actor {
				t.Errorf("%s events %+v", kind, evs)
			}
		}
		if ev := custodyOf(t, e, "disposition_completed", "disposition", d.ID); len(ev) == 1 && !strings.Contains(ev[0].Details, d.CertificateSHA256) {
			t.Errorf("disposition_completed does not carry the certificate hash: %s", ev[0].Details)
		}

		// Nothing is left to dispose of but what the holds keep.
		next, err := e.office.ProposeDisposition(e.ctx, legalLee, time.Time{})
		if err != nil || next.Items != 0 || next.SkippedHeld != 2 {
			t.Fatalf("next proposal %+v, %v; want nothing but the 2 held", next, err)
		}
	})
}

// TestDispositionProposalChangesNothing: proposing lists, cancelling
// cancels, and neither removes anything.
func TestDispositionProposalChangesNothing(t *testing.T) {
	onEveryBackend(t, time.Now(), func(t *testing.T, e *env) {
		if _, err := e.office.EnsureRetentionDefaults(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.setRule(t, nil, "comment", 30)
		acct := e.newAccount(t, "library")
		e.captureItem(t, acct, "p", "post", "", "", []byte("page p"), pngBytes)
		e.captureItem(t, acct, "c", "comment", "p", "p", []byte("page c"), []byte("media c"))
		r := e.file(t, validFiling())
		if _, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusWithdrawn, "", "requester withdrew"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusClosed, "", ""); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(800 * day)
		before := e.snapshot(t)

		d, err := e.office.ProposeDisposition(e.ctx, legalLee, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Items != 1 || d.Requests != 1 {
			t.Fatalf("proposal %+v; want the comment and the request file", d)
		}
		if after := e.snapshot(t); after != before {
			t.Fatalf("a proposal changed the archive:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if _, err := e.office.ProposeDisposition(e.ctx, legalLee, e.clock.Now().Add(time.Hour)); err == nil {
			t.Error("a proposal as of the future was accepted")
		}
		if _, err := e.office.CancelDisposition(e.ctx, d.ID, legalLee, " "); err == nil {
			t.Error("cancelled without a reason")
		} else {
			fieldErrors(t, err, "reason")
		}
		got, err := e.office.CancelDisposition(e.ctx, d.ID, adminAda, "the Archives asked us to wait")
		if err != nil || got.Status != storage.DispositionCancelled {
			t.Fatalf("cancel: %+v, %v", got, err)
		}
		if _, err := e.office.ApproveDisposition(e.ctx, d.ID, adminAda); !errors.Is(err, records.ErrNotAllowed) {
			t.Errorf("approval of a cancelled disposition: %v; want ErrNotAllowed", err)
		}
		if _, err := e.office.CancelDisposition(e.ctx, d.ID, adminAda, "again"); !errors.Is(err, records.ErrNotAllowed) {
			t.Errorf("second cancel: %v; want ErrNotAllowed", err)
		}
		if after := e.snapshot(t); after != before {
			t.Fatalf("a cancelled disposition changed the archive:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if evs := custodyOf(t, e, "disposition_cancelled", "disposition", d.ID); len(evs) != 1 || !strings.Contains(evs[0].Details, "Archives") {
			t.Errorf("cancel custody events %+v", evs)
		}
		if ds, err := e.office.Dispositions(e.ctx, 10, 0); err != nil || len(ds) != 1 || ds[0].Status != storage.DispositionCancelled {
			t.Errorf("dispositions %+v, %v", ds, err)
		}
	})
}

// TestDispositionRequestFile: a request file is kept 2 years after final
// action (GRS-1711), then destroyed to a tombstone; the items attached to it
// are kept with it.
func TestDispositionRequestFile(t *testing.T) {
	onEveryBackend(t, time.Now(), func(t *testing.T, e *env) {
		if _, err := e.office.EnsureRetentionDefaults(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.setRule(t, nil, "comment", 30)
		acct := e.newAccount(t, "streets")
		e.captureItem(t, acct, "p1", "post", "", "", []byte("page p1"), nil)
		c1 := e.captureItem(t, acct, "c1", "comment", "p1", "p1", []byte("page c1"), nil)
		r := e.file(t, validFiling())
		e.attach(t, r.ID, "p1", "c1")
		if _, err := e.office.Note(e.ctx, r.ID, clerk, "Thanks, we are on it.", true); err != nil {
			t.Fatal(err)
		}
		if _, err := e.office.Respond(e.ctx, r.ID, clerk, records.Response{Kind: records.RespondApprove}); err != nil {
			t.Fatal(err)
		}
		closed, err := e.office.Move(e.ctx, r.ID, clerk, records.StatusClosed, "", "")
		if err != nil {
			t.Fatal(err)
		}
		rec := e.record(t, r.ID)
		if len(rec.Letters) == 0 || closed.ReleaseKey == "" || closed.ClosedAt == nil {
			t.Fatalf("fixture: %d letters, release %q", len(rec.Letters), closed.ReleaseKey)
		}
		fileKeys := []string{closed.ReleaseKey}
		for _, l := range rec.Letters {
			fileKeys = append(fileKeys, l.HTMLKey, l.PDFKey)
		}

		// 729 days after closing: the file is kept, and so is the comment
		// attached to it although its own 30 days are long over.
		e.clock.Set(closed.ClosedAt.Add(729 * day))
		early, err := e.office.ProposeDisposition(e.ctx, legalLee, time.Time{})
		if err != nil || early.Requests != 0 || early.Items != 0 || early.SkippedHeld != 1 {
			t.Fatalf("proposal at 729 days: %+v, %v; want no request file, the comment skipped", early, err)
		}
		if _, err := e.office.CancelDisposition(e.ctx, early.ID, legalLee, "too early"); err != nil {
			t.Fatal(err)
		}

		e.clock.Set(closed.ClosedAt.Add(731 * day))
		d, err := e.office.ProposeDisposition(e.ctx, legalLee, time.Time{})
		if err != nil || d.Requests != 1 {
			t.Fatalf("proposal at 731 days: %+v, %v; want the request file", d, err)
		}
		if d, err = e.office.ApproveDisposition(e.ctx, d.ID, adminAda); err != nil || d.Status != storage.DispositionCompleted || d.Requests != 1 {
			t.Fatalf("run: %+v, %v", d, err)
		}
		got := e.request(t, r.ID)
		if got.TrackingNumber != r.TrackingNumber || got.Name != "" || got.Email != "" || got.Phone != "" || got.MailingAddress != "" ||
			got.RequesterKey != "" || got.ReleaseKey != "" || got.ClosedAt == nil || !got.ReceivedAt.Equal(r.ReceivedAt) ||
			!strings.Contains(got.Description, "GRS-1711") {
			t.Errorf("request tombstone %+v", got)
		}
		rec = e.record(t, r.ID)
		if len(rec.Letters) != 0 || len(rec.Messages) != 0 || len(rec.Items) != 0 || len(rec.Events) != 1 || rec.Events[0].Kind != "disposed" {
			t.Errorf("request file after disposition: %+v", rec)
		}
		for _, k := range fileKeys {
			if e.blobExists(t, k) {
				t.Errorf("request file blob %s is still in the store", k)
			}
		}
		c := e.certificate(t, d)
		if len(c.RequestFiles) != 1 || c.RequestFiles[0].TrackingNumber != r.TrackingNumber || c.RequestFiles[0].Letters != len(fileKeys)/2 {
			t.Errorf("certificate request files %+v", c.RequestFiles)
		}
		if evs := custodyOf(t, e, "disposed", "request", r.ID); len(evs) != 1 || !strings.Contains(evs[0].Details, r.TrackingNumber) {
			t.Errorf("request custody %+v", evs)
		}
		if _, err := e.office.Lookup(e.ctx, r.TrackingNumber, "ana@example.com", ""); err == nil {
			t.Error("the requester's contact data still finds the disposed request")
		}

		// With the file gone, the comment follows its own schedule.
		last, err := e.office.ProposeDisposition(e.ctx, legalLee, time.Time{})
		if err != nil || last.Items != 1 || last.Requests != 0 || last.SkippedHeld != 0 {
			t.Fatalf("proposal after the file: %+v, %v; want the comment", last, err)
		}
		if last, err = e.office.ApproveDisposition(e.ctx, last.ID, adminAda); err != nil || last.Items != 1 {
			t.Fatalf("run: %+v, %v", last, err)
		}
		if it, _ := e.cat.ItemByID(e.ctx, c1.id); it.DisposedAt == nil {
			t.Error("the comment was not disposed of")
		}
	})
}

// lockingStore is a blob store with a recording Object Lock: legal holds
// and retention dates per key, retention only ever extended, as S3's
// COMPLIANCE mode does.
type lockingStore struct {
	blob.Store
	mu    sync.Mutex
	holds map[string]bool
	until map[string]time.Time
}

func (s *lockingStore) SetLegalHold(_ context.Context, key string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds[key] = on
	return nil
}

func (s *lockingStore) SetRetention(_ context.Context, key string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until.After(s.until[key]) {
		s.until[key] = until
	}
	return nil
}

// TestObjectLockSync mirrors legal holds onto object legal holds and makes
// retention dates follow the schedule.
func TestObjectLockSync(t *testing.T) {
	onEveryBackend(t, time.Now(), func(t *testing.T, e *env) {
		if _, err := e.office.MirrorHolds(e.ctx); !errors.Is(err, records.ErrNoObjectLock) {
			t.Fatalf("MirrorHolds on a local store: %v; want ErrNoObjectLock", err)
		}
		ls := &lockingStore{Store: e.blobs, holds: map[string]bool{}, until: map[string]time.Time{}}
		law, err := records.ParseLaw(configs.UtahGRAMA)
		if err != nil {
			t.Fatal(err)
		}
		office, err := records.New(records.Config{Catalog: e.cat, Blobs: ls, Law: law, Location: denver, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := office.EnsureRetentionDefaults(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.setRule(t, nil, "comment", 30)
		acct := e.newAccount(t, "fire")
		page := []byte("page with p and c")
		p := e.captureItem(t, acct, "p", "post", "", "", page, nil)
		c := e.captureItem(t, acct, "c", "comment", "p", "p", page, []byte("shared photo"))
		c2 := e.captureItem(t, acct, "c2", "comment", "p", "p", []byte("page c2"), []byte("shared photo"))
		h1 := &storage.Hold{Matter: "one", CreatedBy: legalLee.ID}
		h2 := &storage.Hold{Matter: "two", CreatedBy: legalLee.ID}
		if err := e.cat.CreateHold(e.ctx, h1, []uint64{c.id}); err != nil {
			t.Fatal(err)
		}
		if err := e.cat.CreateHold(e.ctx, h2, []uint64{c2.id}); err != nil {
			t.Fatal(err)
		}
		rep, err := office.MirrorHolds(e.ctx)
		if err != nil || rep.HoldsOn != 5 || rep.Failed != 0 {
			t.Fatalf("MirrorHolds: %+v, %v; want c's 3 blobs and c2's 2 others on hold", rep, err)
		}
		for _, k := range []string{c.norm, c.raw, c.life, c2.norm, c2.raw} {
			if !ls.holds[k] {
				t.Errorf("blob %s not on legal hold", k)
			}
		}
		if _, err := e.cat.ReleaseHold(e.ctx, h1.ID, legalLee.ID, "settled"); err != nil {
			t.Fatal(err)
		}
		if rep, err = office.MirrorHolds(e.ctx, h1.ID); err != nil || rep.HoldsOff != 2 {
			t.Fatalf("MirrorHolds after a release: %+v, %v; want c's own 2 blobs off", rep, err)
		}
		if ls.holds[c.norm] || ls.holds[c.raw] || !ls.holds[c.life] {
			t.Errorf("after releasing c's hold: norm %v raw %v shared photo %v; want off, off, on (c2 still held)",
				ls.holds[c.norm], ls.holds[c.raw], ls.holds[c.life])
		}

		now := e.clock.Now()
		if _, err := office.ApplyRetentionLocks(e.ctx, 100*day); err != nil {
			t.Fatal(err)
		}
		near := func(got, want time.Time) bool { return got.Sub(want).Abs() < time.Minute }
		if !near(ls.until[p.norm], now.Add(100*day)) || !near(ls.until[c.raw], now.Add(100*day)) {
			t.Errorf("permanent post retained until %v (shared page %v), want %v", ls.until[p.norm], ls.until[c.raw], now.Add(100*day))
		}
		if !near(ls.until[c.norm], now.Add(30*day)) || !near(ls.until[c2.raw], now.Add(30*day)) {
			t.Errorf("comment retained until %v, want 30 days after capture", ls.until[c.norm])
		}
	})
}
