package api

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/storage"
)

// A department head works only with its own department's accounts: the
// others are as if they did not exist, and the coordinator's decisions stay
// the coordinator's.
func TestDepartmentHeadLimitedToItsDepartment(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	mk := func(handle, dept string) uint64 {
		a := &storage.Account{Platform: "mastodon", Handle: handle, Department: dept, Status: storage.AccountActive, Approval: storage.ApprovalApproved}
		if err := h.cat.CreateAccount(ctx, a, "test"); err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	parks, police := mk("clintonparks", " parks "), mk("clintonpd", "Police")

	w := h.do("GET", "/api/v1/accounts", "department", nil, false)
	as := decode[struct{ Accounts []accountOut }](t, w).Accounts
	if w.Code != 200 || len(as) != 1 || as[0].ID != parks {
		t.Fatalf("department head's accounts: %d %+v", w.Code, as)
	}
	for _, path := range []string{"/api/v1/accounts/%d", "/api/v1/accounts/%d/designated-users", "/api/v1/accounts/%d/custodians"} {
		if w := h.do("GET", fmt.Sprintf(path, police), "department", nil, false); w.Code != 404 {
			t.Errorf("GET %s of another department: %d; want 404", fmt.Sprintf(path, police), w.Code)
		}
		if w := h.do("GET", fmt.Sprintf(path, parks), "department", nil, false); w.Code != 200 {
			t.Errorf("GET %s of its own: %d", fmt.Sprintf(path, parks), w.Code)
		}
	}
	if w := h.postJSON(fmt.Sprintf("/api/v1/accounts/%d/custodians", police), "department", `{"name":"Mallory"}`); w.Code != 404 {
		t.Errorf("naming a custodian of another department: %d", w.Code)
	}
	if cs, _ := h.cat.Custodians(ctx, []uint64{police}); len(cs) != 0 {
		t.Fatal("a department head changed another department's account")
	}
	if w := h.postJSON(fmt.Sprintf("/api/v1/accounts/%d/designated-users", parks), "department", `{"name":"Pat","capability":"publish"}`); w.Code != 201 {
		t.Errorf("designating on its own account: %d %s", w.Code, w.Body)
	}
	w = h.do("GET", "/api/v1/compliance", "department", nil, false)
	if comp := decode[struct{ Accounts []complianceOut }](t, w).Accounts; len(comp) != 1 || comp[0].Account.ID != parks {
		t.Errorf("compliance of a department head: %+v", comp)
	}
	// A plan is for its own department, whatever the body says.
	w = h.postJSON("/api/v1/plans", "department", `{"account":{"platform":"bluesky","handle":"pool.clintoncity.gov","department":"Police"},"department":"Police",`+goodPlan+`}`)
	if w.Code != 201 {
		t.Fatalf("department head submits a plan: %d %s", w.Code, w.Body)
	}
	sub := decode[struct {
		Plan    planOut
		Account accountOut
	}](t, w)
	if sub.Account.Department != testDepartment || sub.Plan.Department != testDepartment || sub.Account.Approval != "pending" {
		t.Errorf("plan of a department head: %+v", sub)
	}
	if w := h.postJSON("/api/v1/plans", "department", `{"account_id":`+fmt.Sprint(police)+`,`+goodPlan+`}`); w.Code != 404 {
		t.Errorf("a plan for another department's account: %d", w.Code)
	}
	if w := h.postJSON(fmt.Sprintf("/api/v1/plans/%d/decision", sub.Plan.ID), "department", `{"approve":true}`); w.Code != 403 {
		t.Errorf("a department head approving its own plan: %d", w.Code)
	}
	// Pages: another department's account is not found; the directory and
	// authenticity stay the coordinator's.
	if w := h.do("GET", fmt.Sprintf("/coordinator/accounts/%d", police), "department", nil, true); w.Code != 404 {
		t.Errorf("another department's account page: %d", w.Code)
	}
	w = h.do("GET", fmt.Sprintf("/coordinator/accounts/%d", parks), "department", nil, true)
	if w.Code != 200 || strings.Contains(w.Body.String(), "Save contact") || strings.Contains(w.Body.String(), "Check now") {
		t.Errorf("own account page: %d (contact and authenticity forms must be the coordinator's)", w.Code)
	}
	w = h.do("POST", fmt.Sprintf("/coordinator/accounts/%d/contact", parks), "department",
		strings.NewReader("csrf_token="+h.csrf["department"]+"&contact_name=x"), true)
	if w.Code != 403 {
		t.Errorf("a department head setting the directory contact: %d", w.Code)
	}
	if w := h.do("GET", "/api/v1/search?q=x", "department", nil, false); w.Code != 403 {
		t.Errorf("a department head searching the archive: %d", w.Code)
	}
}

// Every read of non-public content is in the custody log, with who read
// what; public pages and refused requests are not reads.
func TestReadsAreAudited(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, item := flagged(t, h, "hello", "ana")
	count := func() int {
		evs, err := h.cat.CustodyEvents(ctx, "route", fmt.Sprintf("GET /api/v1/items/:id"))
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	if w := h.do("GET", fmt.Sprintf("/api/v1/items/%d?x=1", item), "clerk", nil, false); w.Code != 200 {
		t.Fatalf("read item: %d", w.Code)
	}
	evs, _ := h.cat.CustodyEvents(ctx, "route", "GET /api/v1/items/:id")
	if len(evs) != 1 || evs[0].Kind != "read" || evs[0].Actor != "token:clerk token" ||
		!strings.Contains(evs[0].Details, fmt.Sprintf(`"path":"/api/v1/items/%d"`, item)) || !strings.Contains(evs[0].Details, `"query":"x=1"`) {
		t.Fatalf("audit of a read: %+v", evs)
	}
	h.do("GET", fmt.Sprintf("/api/v1/items/%d", item), "coordinator", nil, false) // refused: not a read
	h.do("GET", fmt.Sprintf("/api/v1/items/%d", item), "", nil, false)            // anonymous: not a read
	if n := count(); n != 1 {
		t.Errorf("refused reads were audited: %d events", n)
	}
	h.do("GET", "/api/v1/directory", "", nil, false)
	if evs, _ := h.cat.CustodyEvents(ctx, "route", "GET /api/v1/directory"); len(evs) != 0 {
		t.Error("a public read was audited")
	}
	w := h.do("GET", "/search?q=hello", "legal", nil, true)
	if evs, _ := h.cat.CustodyEvents(ctx, "route", "GET /search"); w.Code != 200 || len(evs) != 1 || evs[0].Actor != "user:legal1" {
		t.Errorf("a page read: %d, %+v", w.Code, evs)
	}
	if _, err := h.cat.VerifyCustody(ctx); err != nil {
		t.Fatal(err)
	}
}
