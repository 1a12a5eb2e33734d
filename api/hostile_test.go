package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// hostileValues are what an attacker types into a filter: SQL fragments,
// an already-escaped SQL fragment, LIKE and query wildcards, a NUL, a
// very long value, unicode (an RTL override, emoji, a combining accent),
// and forged page tokens. None of them names anything in the fixture.
var hostileValues = []string{
	`' OR '1'='1`,
	`1; DROP TABLE items;--`,
	`1 OR 1=1`,
	`" OR ""="`,
	`1) UNION SELECT credential_enc FROM accounts--`,
	`%27%20OR%201=1`,
	`%`, `_`, `*`, `\`, `'`, `"`, `;`,
	"\x00",
	"a\x00' OR 1=1",
	strings.Repeat("x", 10000),
	"información 🏊 \u202eevil\u202c e\u0301",
	"\xff\xfe",
	// Page tokens an attacker can forge: base64 of "i:" and SQL, or a
	// negative id.
	base64.RawURLEncoding.EncodeToString([]byte("i:1 OR 1=1")),
	base64.RawURLEncoding.EncodeToString([]byte("i:-1")),
}

// edgeNumbers are numbers at and past the edges of the integer types, and
// numbers in forms strconv may or may not take. Some are real values (0
// is "no filter", " 1" is account 1, 0 is false), so a list answered for
// one may be as long as the unfiltered list, never longer.
var edgeNumbers = []string{
	"0", "-1", "1.5", "1e3", " 1", "0x10", "+1", "01",
	"9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
	base64.RawURLEncoding.EncodeToString([]byte("i:9223372036854775807")),
	base64.RawURLEncoding.EncodeToString([]byte("i:9223372036854775808")),
	base64.RawURLEncoding.EncodeToString([]byte("i:18446744073709551615")),
}

// hostileFixture is a harness with something behind every filter: two
// accounts' items (indexed), flags, a removal record, a work plan and a
// records request.
func hostileFixture(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, func(d *Deps) { d.MaxBodyBytes = 1 << 20 })
	ctx := context.Background()
	_, bad := flagged(t, h, "You are a bunch of sh1t heads, d*mn it", "troll")
	flagged(t, h, "I will kill you all at the parade", "troll")
	flagged(t, h, "What time does the parade start?", "ana")
	if w := h.postJSON(fmt.Sprintf("/api/v1/items/%d/review", bad), "coordinator", `{"decision":"remove","reason":"3.4.3 violation"}`); w.Code != 200 {
		t.Fatalf("remove: %d %s", w.Code, w.Body)
	}
	if w := h.postJSON("/api/v1/plans", "coordinator", `{"account":{"platform":"bluesky","handle":"parks.clintoncity.gov","department":"Parks"},`+goodPlan+`}`); w.Code != 201 {
		t.Fatalf("plan: %d %s", w.Code, w.Body)
	}
	if w := h.send("POST", "/api/v1/requests", "", validRequest, "192.0.2.1"); w.Code != 201 {
		t.Fatalf("request: %d %s", w.Code, w.Body)
	}
	if _, err := h.srv.Search.CatchUp(ctx, h.cat); err != nil {
		t.Fatal(err)
	}
	return h
}

// rowCounts counts the catalog's items, requests and accounts.
func rowCounts(t *testing.T, h *harness) [3]int64 {
	t.Helper()
	ctx := context.Background()
	items, err := h.cat.CountItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	as, err := h.cat.ListAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return [3]int64{int64(items), h.countRequests(t), int64(len(as))}
}

// hostileEndpoint is one list route: who may read it, how to count what
// it answers, and which of its parameters narrow the list (a hostile
// value there must match nothing) rather than page or shape it (a
// hostile value there may show no more than the unfiltered list).
type hostileEndpoint struct {
	path, role string
	count      func(body map[string]any) int
	narrow     []string
	other      []string
}

func lenOf(key string) func(map[string]any) int {
	return func(b map[string]any) int {
		l, _ := b[key].([]any)
		return len(l)
	}
}

func totalOf(b map[string]any) int {
	n, _ := b["total"].(float64)
	return int(n)
}

func TestHostileFilterValuesAreJustValues(t *testing.T) {
	h := hostileFixture(t)
	ctx := context.Background()
	before := rowCounts(t, h)
	if before[0] < 4 || before[1] != 1 || before[2] < 2 {
		t.Fatalf("fixture: %v items, requests, accounts", before)
	}

	endpoints := []hostileEndpoint{
		{"/api/v1/search", "clerk", totalOf,
			[]string{"q", "platform", "account", "kind", "from", "to", "deleted", "edited", "hidden", "department", "author", "flag"},
			[]string{"size", "page_token", "sort", "facets"}},
		{"/api/v1/items", "clerk", lenOf("items"), []string{"account", "page_token"}, []string{"size"}},
		{"/api/v1/flags", "coordinator", lenOf("flags"), []string{"status", "category", "account"}, []string{"after"}},
		{"/api/v1/plans", "coordinator", lenOf("plans"), []string{"status", "account"}, nil},
		{"/api/v1/requests", "clerk", totalOf, []string{"status"}, []string{"assignee", "offset"}},
		{"/api/v1/removals", "coordinator", lenOf("removals"), []string{"account"}, []string{"before"}},
	}
	get := func(t *testing.T, ep hostileEndpoint, rawQuery string) (int, map[string]any, string) {
		t.Helper()
		w := h.do("GET", ep.path+"?"+rawQuery, ep.role, nil, false)
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s?%.200s: %d, not JSON: %.300s", ep.path, rawQuery, w.Code, w.Body)
		}
		return w.Code, body, w.Body.String()
	}

	for _, ep := range endpoints {
		t.Run(strings.TrimPrefix(ep.path, "/api/v1/"), func(t *testing.T) {
			code, body, raw := get(t, ep, "")
			if code != 200 {
				t.Fatalf("%s: %d %.300s", ep.path, code, raw)
			}
			baseline := ep.count(body)
			if baseline == 0 {
				t.Fatalf("%s lists nothing in the fixture: the test would prove nothing", ep.path)
			}
			impossible := 0
			if ep.path == "/api/v1/search" {
				_, body, _ := get(t, ep, "q=zzqqxxnosuchword")
				impossible = totalOf(body)
			}
			check := func(t *testing.T, param, rawQuery, shown string, narrows bool) {
				code, body, raw := get(t, ep, rawQuery)
				switch code {
				case http.StatusOK:
					n := ep.count(body)
					if narrows && n != impossible {
						t.Errorf("%s=%s: 200 with %d results; a value that matches nothing must list %d", param, shown, n, impossible)
					}
					if !narrows && n > baseline {
						t.Errorf("%s=%s: 200 with %d results, more than the %d unfiltered", param, shown, n, baseline)
					}
				case http.StatusBadRequest, http.StatusUnprocessableEntity:
					e, _ := body["error"].(map[string]any)
					if msg, _ := e["message"].(string); msg == "" || strings.Contains(msg, "internal") {
						t.Errorf("%s=%s: %d without a message: %.300s", param, shown, code, raw)
					}
				default:
					t.Errorf("%s=%s: %d; want 200, 400 or 422: %.300s", param, shown, code, raw)
				}
			}
			for _, param := range append(append([]string{}, ep.narrow...), ep.other...) {
				narrows := false
				for _, p := range ep.narrow {
					narrows = narrows || p == param
				}
				for _, v := range hostileValues {
					if param == "q" && v == "*" {
						continue // the query language's match-everything wildcard
					}
					check(t, param, url.Values{param: {v}}.Encode(), fmt.Sprintf("%.40q", v), narrows)
				}
				for _, v := range edgeNumbers {
					check(t, param, url.Values{param: {v}}.Encode(), fmt.Sprintf("%q", v), false)
				}
				// Sent unescaped, the server decodes it to ' OR 1=1.
				check(t, param, param+"=%27%20OR%201=1", "%27%20OR%201=1 (unescaped)", narrows)
			}
		})
	}

	if after := rowCounts(t, h); after != before {
		t.Fatalf("rows (items, requests, accounts) %v before the hostile filters, %v after", before, after)
	}
	if _, err := h.cat.VerifyCustody(ctx); err != nil {
		t.Fatalf("custody chain after the hostile filters: %v", err)
	}
	// The index still finds what it found.
	w := h.do("GET", "/api/v1/search?q=parade", "clerk", nil, false)
	if w.Code != 200 || totalOf(decode[map[string]any](t, w)) == 0 {
		t.Fatalf("search for parade after the hostile filters: %d %s", w.Code, w.Body)
	}
}

// TestHostileAccountSchedule: a cron schedule the cron library cannot
// read must be a 422 naming the field, not a panic (a 500). The library
// slices "TZ=…" up to the first space without checking there is one.
func TestHostileAccountSchedule(t *testing.T) {
	h := newHarness(t)
	for _, sched := range []string{"TZ=UTC", "CRON_TZ=America/Denver", "TZ=", "* * * * * * * *", "' OR '1'='1"} {
		for _, field := range []string{"schedule", "full_sweep_schedule"} {
			body := fmt.Sprintf(`{"platform":"bluesky","handle":"parks.clintoncity.gov",%q:%q}`, field, sched)
			w := h.postJSON("/api/v1/accounts", "coordinator", body)
			if w.Code != http.StatusUnprocessableEntity {
				t.Errorf("%s %q: %d; want 422: %s", field, sched, w.Code, w.Body)
				continue
			}
			if e := decode[errorBody](t, w); strings.Join(e.Error.Fields, ",") != field {
				t.Errorf("%s %q: fields %v", field, sched, e.Error.Fields)
			}
		}
	}
	if as, _ := h.cat.ListAccounts(context.Background()); len(as) != 0 {
		t.Fatalf("%d accounts stored from refused posts", len(as))
	}
}

// TestHostileIDsInPaths: an id in a path is a number an attacker picks.
// One past int64 (which the catalog's SQL driver refuses as a parameter)
// and the largest uint64 must be "no such thing", like any other id
// nobody has, never a 500.
func TestHostileIDsInPaths(t *testing.T) {
	h := newHarness(t)
	for _, rt := range h.srv.Routes() {
		if rt.Method != "GET" || !strings.Contains(rt.Path, "/:") {
			continue
		}
		for _, id := range []string{"9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616", "-1", "1%27%20OR%201=1"} {
			parts := strings.Split(rt.Path, "/")
			for i, p := range parts {
				if strings.HasPrefix(p, ":") {
					parts[i] = id
				}
			}
			path := strings.Join(parts, "/")
			w := h.do("GET", path, "admin", nil, rt.HTML)
			if w.Code >= 500 {
				t.Errorf("GET %s: %d; want 404 (or 4xx)", path, w.Code)
			}
		}
	}
}
