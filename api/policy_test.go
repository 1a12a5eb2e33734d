package api

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

const goodPlan = `"mission":"Share park news","audience":"Residents","legal_risks":"Comments are public records","technical":"Staff phones","security":"Two-factor sign-in","emergency":"Post closures within an hour"`

// The coordinator approves a department's plan; only then is the account
// in the public directory, which the city's website may frame.
func TestPlanApprovalAndDirectory(t *testing.T) {
	h := newHarness(t)
	dir := func() []map[string]any {
		w := h.do("GET", "/api/v1/directory", "", nil, false)
		if w.Code != 200 {
			t.Fatalf("directory: %d", w.Code)
		}
		return decode[struct{ Accounts []map[string]any }](t, w).Accounts
	}
	// Missing parts of the plan are named; nothing is stored.
	w := h.postJSON("/api/v1/plans", "coordinator", `{"account":{"platform":"bluesky","handle":"parks.clintoncity.gov","department":"Parks"},"mission":"x"}`)
	e := decode[errorBody](t, w)
	if w.Code != 422 || strings.Join(e.Error.Fields, ",") != "audience,emergency,legal_risks,security,technical" {
		t.Fatalf("incomplete plan: %d %s", w.Code, w.Body)
	}
	if as, _ := h.cat.ListAccounts(context.Background()); len(as) != 0 {
		t.Fatal("a refused plan stored an account")
	}
	w = h.postJSON("/api/v1/plans", "clerk", `{}`)
	if w.Code != 403 {
		t.Fatalf("clerk submits a plan: %d", w.Code)
	}
	w = h.postJSON("/api/v1/plans", "coordinator", `{"account":{"platform":"bluesky","handle":"parks.clintoncity.gov","department":"Parks","display_name":"Clinton Parks <b>"},`+goodPlan+`}`)
	if w.Code != 201 {
		t.Fatalf("submit: %d %s", w.Code, w.Body)
	}
	sub := decode[struct {
		Plan    planOut
		Account accountOut
	}](t, w)
	if sub.Account.Approval != "pending" || sub.Plan.Status != "pending" || sub.Plan.Department != "Parks" {
		t.Fatalf("submitted: %+v", sub)
	}
	if len(dir()) != 0 {
		t.Fatal("a pending account is in the public directory")
	}
	w = h.postJSON(fmt.Sprintf("/api/v1/accounts/%d/captures", sub.Account.ID), "coordinator", `{}`)
	if w.Code != 409 {
		t.Errorf("capturing a pending account: %d %s", w.Code, w.Body)
	}
	w = h.postJSON(fmt.Sprintf("/api/v1/plans/%d/decision", sub.Plan.ID), "coordinator", `{"approve":false}`)
	if w.Code != 422 {
		t.Fatalf("rejection without a reason: %d", w.Code)
	}
	w = h.postJSON(fmt.Sprintf("/api/v1/plans/%d/decision", sub.Plan.ID), "coordinator", `{"approve":true,"reason":"meets 3.1"}`)
	if w.Code != 200 || decode[planOut](t, w).Status != "approved" {
		t.Fatalf("approve: %d %s", w.Code, w.Body)
	}
	w = h.postJSON(fmt.Sprintf("/api/v1/plans/%d/decision", sub.Plan.ID), "coordinator", `{"approve":false,"reason":"x"}`)
	if w.Code != 409 {
		t.Errorf("deciding twice: %d", w.Code)
	}
	w = h.send("PUT", fmt.Sprintf("/api/v1/accounts/%d/contact", sub.Account.ID), "coordinator", `{"contact_name":"Parks Office","contact_email":"parks@clintoncity.gov"}`, "")
	if w.Code != 200 {
		t.Fatalf("contact: %d %s", w.Code, w.Body)
	}
	got := dir()
	if len(got) != 1 || got[0]["link"] != "https://bsky.app/profile/parks.clintoncity.gov" || got[0]["contact_email"] != "parks@clintoncity.gov" || got[0]["department"] != "Parks" {
		t.Fatalf("directory: %v", got)
	}
	if _, leaked := got[0]["id"]; leaked {
		t.Error("the public directory shows internal ids")
	}
	// The page: escaped, framable by the city's website only.
	w = h.do("GET", "/directory", "", nil, true)
	csp := w.Header().Get("Content-Security-Policy")
	if w.Code != 200 || !strings.Contains(csp, "frame-ancestors 'self' https://www.clintoncity.gov") || w.Header().Get("X-Frame-Options") != "" {
		t.Fatalf("directory page: %d, CSP %q, XFO %q", w.Code, csp, w.Header().Get("X-Frame-Options"))
	}
	if body := w.Body.String(); !strings.Contains(body, "Clinton Parks &lt;b&gt;") || !strings.Contains(body, "parks@clintoncity.gov") {
		t.Errorf("directory page lacks the escaped account: %s", body)
	}
	// Every other page still refuses framing.
	w = h.do("GET", "/requests/new", "", nil, true)
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") || w.Header().Get("X-Frame-Options") != "DENY" {
		t.Error("the request form may be framed")
	}
}

// flagged records a comment on a new account through the catalog,
// screened as the archiver screens it, and returns its item id.
func flagged(t *testing.T, h *harness, text, author string) (acct, item uint64) {
	t.Helper()
	ctx := context.Background()
	as, _ := h.cat.ListAccounts(ctx)
	var a *storage.Account
	if len(as) > 0 {
		a = &as[0]
	} else {
		a = &storage.Account{Platform: "mastodon", Handle: "clintoncity", Status: storage.AccountActive, Approval: storage.ApprovalApproved}
		if err := h.cat.CreateAccount(ctx, a, "test"); err != nil {
			t.Fatal(err)
		}
	}
	run, _ := h.cat.StartRun(ctx, a.ID, storage.RunFull, "test")
	ref, _, _ := blob.PutBytes(ctx, h.srv.Blobs, []byte(text))
	post := storage.ItemCapture{AccountID: a.ID, RunID: run.ID, Platform: "mastodon", NativeID: "p1", Kind: "post", Actor: "test",
		Versions: []storage.VersionCapture{{SHA256: strings.Repeat("0", 64), NormalizedKey: ref.Key, RawKey: ref.Key, Text: "Parade today"}}}
	if _, err := h.cat.RecordItem(ctx, post); err != nil {
		t.Fatal(err)
	}
	in := storage.ItemCapture{AccountID: a.ID, RunID: run.ID, Platform: "mastodon", NativeID: "c-" + ref.SHA256[:8], Kind: "comment",
		ParentNativeID: "p1", RootNativeID: "p1", AuthorID: author, AuthorName: "Name " + author, Actor: "test", Flags: h.srv.Policy.Screen(text),
		Versions: []storage.VersionCapture{{SHA256: ref.SHA256, NormalizedKey: ref.Key, RawKey: ref.Key, Text: text}}}
	res, err := h.cat.RecordItem(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, res.ItemID
}

func TestReviewQueueAndRemovalRecords(t *testing.T) {
	h := newHarness(t)
	_, bad := flagged(t, h, "You are a bunch of sh1t heads, d*mn it", "troll")
	_, bad2 := flagged(t, h, "I will kill you all at the parade", "troll")
	_, fine := flagged(t, h, "Buy now! Use promo code PARADE for 20% off at my shop", "shop")
	_, clean := flagged(t, h, "What time does the parade start?", "ana")
	w := h.do("GET", "/api/v1/flags", "coordinator", nil, false)
	list := decode[struct{ Flags []flagItemOut }](t, w)
	items := map[uint64]bool{}
	for _, f := range list.Flags {
		items[f.ItemID] = true
		if f.Item == nil || f.CategoryName == "" || f.Status != "pending" {
			t.Errorf("flag without its item or category name: %+v", f)
		}
	}
	if !items[bad] || !items[bad2] || !items[fine] || items[clean] {
		t.Fatalf("review queue items %v; want %d, %d, %d and not %d", items, bad, bad2, fine, clean)
	}
	// The items API shows the flags to clerks too.
	w = h.do("GET", fmt.Sprintf("/api/v1/items/%d", bad2), "clerk", nil, false)
	if it := decode[itemOut](t, w); len(it.Flags) == 0 || it.Flags[0].Category != "K" {
		t.Errorf("item API flags of a threat: %+v", it.Flags)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"decision":"delete","reason":"x"}`, "decision"},
		{`{"decision":"remove"}`, "reason"},
	} {
		w := h.postJSON(fmt.Sprintf("/api/v1/items/%d/review", bad), "coordinator", tc.body)
		if w.Code != 422 || !strings.Contains(w.Body.String(), tc.field) {
			t.Errorf("review %s: %d %s", tc.body, w.Code, w.Body)
		}
	}
	if w := h.postJSON(fmt.Sprintf("/api/v1/items/%d/review", clean), "coordinator", `{"decision":"keep","reason":"fine"}`); w.Code != 409 {
		t.Errorf("reviewing an unflagged item: %d", w.Code)
	}
	w = h.postJSON(fmt.Sprintf("/api/v1/items/%d/review", fine), "coordinator", `{"decision":"keep","reason":"a sponsor thank-you"}`)
	if w.Code != 200 || strings.Contains(w.Body.String(), `"removal"`) {
		t.Fatalf("keep: %d %s", w.Code, w.Body)
	}
	var removals []removalOut
	for _, id := range []uint64{bad, bad2} {
		w = h.postJSON(fmt.Sprintf("/api/v1/items/%d/review", id), "coordinator", `{"decision":"remove","reason":"3.4.3 violation"}`)
		if w.Code != 200 {
			t.Fatalf("remove: %d %s", w.Code, w.Body)
		}
		removals = append(removals, decode[struct{ Removal removalOut }](t, w).Removal)
	}
	r := removals[0]
	if r.ItemID != bad || r.Cause != "decision" || r.Reason != "3.4.3 violation" || r.PDF == "" {
		t.Fatalf("removal: %+v", r)
	}
	// Legal fetches the printable record, byte for byte what was stored.
	w = h.do("GET", r.PDF, "legal", nil, false)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/pdf" || !strings.HasPrefix(w.Body.String(), "%PDF-") {
		t.Fatalf("record.pdf: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	w = h.do("GET", r.HTML, "clerk", nil, false)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "sh1t heads") {
		t.Fatalf("record.html: %d", w.Code)
	}
	if w := h.do("GET", fmt.Sprintf("/api/v1/removals/%d/../../etc/passwd", r.ID), "legal", nil, false); w.Code != 404 {
		t.Errorf("a traversal file name: %d", w.Code)
	}
	if w := h.do("GET", fmt.Sprintf("/api/v1/removals/%d/secret.txt", r.ID), "legal", nil, false); w.Code != 404 {
		t.Errorf("an unknown file name: %d", w.Code)
	}
	// The repeat violator.
	w = h.do("GET", "/api/v1/reports/violators?min=2", "coordinator", nil, false)
	vs := decode[struct{ Violators []violatorOut }](t, w).Violators
	if len(vs) != 1 || vs[0].AuthorID != "troll" || vs[0].Removed != 2 {
		t.Fatalf("violators: %+v", vs)
	}
	if w := h.do("GET", "/api/v1/reports/violators?min=zero", "coordinator", nil, false); w.Code != 422 {
		t.Errorf("bad min: %d", w.Code)
	}
	// Nothing pending is left; the removed ones are listed as removed.
	w = h.do("GET", "/api/v1/flags", "coordinator", nil, false)
	if n := len(decode[struct{ Flags []flagItemOut }](t, w).Flags); n != 0 {
		t.Errorf("%d flags still pending", n)
	}
	w = h.do("GET", "/api/v1/flags?status=removed&category=K", "coordinator", nil, false)
	if fs := decode[struct{ Flags []flagItemOut }](t, w).Flags; len(fs) != 1 || fs[0].ItemID != bad2 {
		t.Errorf("removed K flags: %+v", fs)
	}
	for _, q := range []string{"status=maybe", "category=M", "category=AB", "account=x", "after=-1"} {
		if w := h.do("GET", "/api/v1/flags?"+q, "coordinator", nil, false); w.Code != 422 {
			t.Errorf("flags?%s: %d", q, w.Code)
		}
	}
}

func TestDesignatedUsersCustodiansPages(t *testing.T) {
	h := newHarness(t)
	acct, _ := flagged(t, h, "hello", "ana")
	base := fmt.Sprintf("/api/v1/accounts/%d", acct)
	if w := h.postJSON(base+"/designated-users", "coordinator", `{"name":"Ana","capability":"root"}`); w.Code != 422 {
		t.Errorf("bad capability: %d", w.Code)
	}
	if w := h.postJSON(base+"/designated-users", "coordinator", `{"name":"Ana","capability":"publish","extra":1}`); w.Code != 400 {
		t.Errorf("unknown field: %d", w.Code)
	}
	w := h.postJSON(base+"/designated-users", "coordinator", `{"name":"Ana Pérez","email":"ana@clintoncity.gov","capability":"publish"}`)
	if w.Code != 201 {
		t.Fatalf("designate: %d %s", w.Code, w.Body)
	}
	du := decode[designatedOut](t, w)
	if du.Acknowledgment != "missing" {
		t.Errorf("new designated user: %+v", du)
	}
	w = h.postJSON(fmt.Sprintf("%s/designated-users/%d/acknowledgment", base, du.ID), "coordinator", `{}`)
	if w.Code != 200 || decode[designatedOut](t, w).Acknowledgment != "current" {
		t.Fatalf("acknowledge: %d %s", w.Code, w.Body)
	}
	w = h.do("GET", "/api/v1/designated-users.csv", "coordinator", nil, false)
	rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][4] != "Ana Pérez" || rows[1][7] != "current" || rows[1][8] != "2026.1" {
		t.Fatalf("csv: %v %v", rows, err)
	}
	for _, n := range []string{"Ana", "Ben"} {
		if w := h.postJSON(base+"/custodians", "coordinator", `{"name":"`+n+`"}`); w.Code != 201 {
			t.Fatalf("custodian: %d %s", w.Code, w.Body)
		}
	}
	if w := h.postJSON(base+"/custodians", "coordinator", `{"name":"Cy, password: hunter2"}`); w.Code != 422 {
		t.Errorf("a password in a custodian's name: %d", w.Code)
	}
	w = h.do("GET", "/api/v1/compliance", "coordinator", nil, false)
	comp := decode[struct{ Accounts []complianceOut }](t, w).Accounts
	if len(comp) != 1 || comp[0].CustodiansEnough || !strings.Contains(strings.Join(comp[0].Gaps, ";"), "2 custodians") {
		t.Fatalf("compliance: %+v", comp)
	}
	// The same through the coordinator's pages: CSRF checked, then done.
	page := fmt.Sprintf("/coordinator/accounts/%d", acct)
	w = h.do("POST", page+"/custodian", "coordinator", strings.NewReader("name=Cy"), true)
	if w.Code != 403 {
		t.Errorf("form without CSRF: %d", w.Code)
	}
	w = h.do("POST", page+"/custodian", "coordinator", strings.NewReader("csrf_token="+h.csrf["coordinator"]+"&name=Cy&title=Clerk"), true)
	if w.Code != 303 {
		t.Fatalf("add custodian page: %d %s", w.Code, w.Body)
	}
	w = h.do("GET", page, "coordinator", nil, true)
	if body := w.Body.String(); w.Code != 200 || strings.Contains(body, "custodians (at least 3 required)") || !strings.Contains(body, "Cy, Clerk") {
		t.Errorf("account page after the third custodian: %d", w.Code)
	}
	w = h.do("POST", page+"/designate", "coordinator", strings.NewReader("csrf_token="+h.csrf["coordinator"]+"&name=&capability=view"), true)
	if w.Code != 422 || !strings.Contains(w.Body.String(), "name is required") {
		t.Errorf("bad designate form: %d", w.Code)
	}
	// The dashboard draws its charts on the server.
	w = h.do("GET", "/coordinator", "coordinator", nil, true)
	if body := w.Body.String(); w.Code != 200 || strings.Count(body, "<svg") != 2 || strings.Contains(body, "<script") {
		t.Errorf("dashboard: %d, %d charts", w.Code, strings.Count(body, "<svg"))
	}
	w = h.do("GET", "/coordinator/review", "coordinator", nil, true)
	if w.Code != 200 {
		t.Errorf("review page: %d", w.Code)
	}
	_ = url.Values{}
}
