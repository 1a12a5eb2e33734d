package api

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestLegalHolds(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	ctx := context.Background()
	if _, err := f.srv.Search.CatchUp(ctx, f.cat); err != nil {
		t.Fatal(err)
	}
	// By search: every match now, frozen, with the query kept.
	w := f.send("POST", "/api/v1/holds", "legal", `{"matter":"Doe v. Clinton City","query":"parade","filters":{"platform":["mastodon"]}}`, "")
	if w.Code != 201 {
		t.Fatalf("hold by search: %d %s", w.Code, w.Body)
	}
	bySearch := decode[holdOut](t, w)
	if len(bySearch.ItemIDs) != 1 || bySearch.ItemIDs[0] != f.items["p1"] || !strings.Contains(bySearch.Query, "q=parade") || bySearch.CreatedBy != "token:legal token" {
		t.Fatalf("hold by search: %+v", bySearch)
	}
	// By items.
	w = f.send("POST", "/api/v1/holds", "admin", fmt.Sprintf(`{"matter":"Records audit","item_ids":[%d,%d,%d]}`, f.items["p1"], f.items["p2"], f.items["p2"]), "")
	byItems := decode[holdOut](t, w)
	if w.Code != 201 || byItems.ItemCount != 2 {
		t.Fatalf("hold by items: %d %+v", w.Code, byItems)
	}
	held, err := f.cat.HeldItems(ctx)
	if err != nil || !held[f.items["p1"]] || !held[f.items["p2"]] {
		t.Fatalf("held items: %v %v", held, err)
	}
	for _, bad := range []struct{ body, field string }{
		{`{"query":"parade"}`, "matter"},
		{`{"matter":"x"}`, "scope"},
		{`{"matter":"x","query":"parade","item_ids":[1]}`, "scope"},
		{`{"matter":"x","item_ids":[999999]}`, "item_ids"},
		{`{"matter":"x","query":"nothingmatchesthis"}`, "query"},
		{`{"matter":"x","filters":{"colour":"red"}}`, "filters"},
		{`{"matter":"x","query":"title:("}`, "query"},
	} {
		if w := f.send("POST", "/api/v1/holds", "legal", bad.body, ""); w.Code != 422 || !strings.Contains(w.Body.String(), bad.field) {
			t.Errorf("%s: %d %s; want 422 naming %s", bad.body, w.Code, w.Body, bad.field)
		}
	}
	list := decode[struct{ Holds []holdOut }](t, f.send("GET", "/api/v1/holds?standing=true", "legal", "", ""))
	if len(list.Holds) != 2 {
		t.Fatalf("standing holds: %+v", list.Holds)
	}
	// Release needs a reason, happens once, and is a custody event.
	path := fmt.Sprintf("/api/v1/holds/%d/release", bySearch.ID)
	if w := f.send("POST", path, "legal", `{}`, ""); w.Code != 422 {
		t.Fatalf("release without a reason: %d", w.Code)
	}
	w = f.send("POST", path, "legal", `{"reason":"case settled"}`, "")
	if r := decode[holdOut](t, w); w.Code != 200 || r.ReleasedAt == nil || r.ReleaseReason != "case settled" {
		t.Fatalf("release: %d %+v", w.Code, r)
	}
	if w := f.send("POST", path, "legal", `{"reason":"again"}`, ""); w.Code != 409 {
		t.Fatalf("release twice: %d", w.Code)
	}
	evs, _ := f.cat.CustodyEvents(ctx, "hold", fmt.Sprint(bySearch.ID))
	if len(evs) != 2 || evs[0].Kind != "hold_placed" || evs[1].Kind != "hold_released" {
		t.Fatalf("custody events of the hold: %+v", evs)
	}
	held, _ = f.cat.HeldItems(ctx)
	if !held[f.items["p1"]] {
		t.Error("p1 is still under the other hold")
	}
}

func TestDenialHoldCannotBeReleasedByHand(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	tn := decode[map[string]string](t, f.send("POST", "/api/v1/requests", "", validRequest, ""))["tracking_number"]
	f.send("POST", "/api/v1/requests/"+tn+"/attach", "clerk", fmt.Sprintf(`{"item_ids":[%d]}`, f.items["p2"]), "")
	got := decode[requestOut](t, f.send("POST", "/api/v1/requests/"+tn+"/respond", "clerk",
		`{"kind":"deny","withheld_description":"x","citations":["Utah Code 63G-2-305(10)"]}`, ""))
	if len(got.Holds) != 1 {
		t.Fatalf("denial holds: %+v", got.Holds)
	}
	w := f.send("POST", fmt.Sprintf("/api/v1/holds/%d/release", got.Holds[0].ID), "admin", `{"reason":"tidying up"}`, "")
	if w.Code != 409 || !strings.Contains(w.Body.String(), "appeals") {
		t.Fatalf("releasing a denial's hold by hand: %d %s", w.Code, w.Body)
	}
}

func TestHoldsPage(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	page := f.do("GET", "/legal/holds", "legal", nil, true)
	if page.Code != 200 || !strings.Contains(page.Body.String(), `action="/legal/holds"`) {
		t.Fatalf("holds page: %d", page.Code)
	}
	body := fmt.Sprintf("csrf_token=%s&matter=%%3Cscript%%3EDoe&item_ids=%d,+%d", f.csrf["legal"], f.items["p1"], f.items["p2"])
	w := f.do("POST", "/legal/holds", "legal", strings.NewReader(body), true)
	if w.Code != 303 {
		t.Fatalf("place: %d %s", w.Code, w.Body)
	}
	page = f.do("GET", "/legal/holds", "legal", nil, true)
	mustContain(t, page.Body.String(), "&lt;script&gt;Doe", "<td>2</td>", "standing")
	w = f.do("POST", "/legal/holds/1/release", "legal", strings.NewReader("csrf_token="+f.csrf["legal"]+"&reason=settled"), true)
	if w.Code != 303 {
		t.Fatalf("release: %d %s", w.Code, w.Body)
	}
	mustContain(t, f.do("GET", "/legal/holds", "legal", nil, true).Body.String(), "settled")
	if w := f.do("POST", "/legal/holds", "legal", strings.NewReader("csrf_token=bad&matter=x&item_ids=1"), true); w.Code != 403 {
		t.Fatalf("forged CSRF: %d", w.Code)
	}
}
