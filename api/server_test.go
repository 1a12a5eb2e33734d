package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/archiver"
	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/search"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// harness is a real server on a real SQLite catalog, blob dir and index.
type harness struct {
	srv     *Server
	cat     *storage.Catalog
	tokens  map[string]string // role → API token
	cookies map[string]string // role → session cookie
	csrf    map[string]string // role → session CSRF token
}

func newHarness(t testing.TB, mod ...func(*Deps)) *harness {
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
	idx, _, err := search.Open(dir+"/index", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	key, _ := storage.LoadSecretKey("", dir)
	sealer, _ := storage.NewSealer(key)
	conns := map[string]platforms.Connector{}
	for _, name := range platforms.Names {
		conns[name] = stubConnector{name}
	}
	arc := archiver.New(archiver.Options{Catalog: cat, Blobs: blobs, Sealer: sealer, Connectors: conns})
	t.Cleanup(func() { arc.Close(context.Background()) })
	d := Deps{Catalog: cat, Blobs: blobs, Version: "test", MaxBodyBytes: 4096, Archiver: arc, Sealer: sealer, Search: idx,
		Records: newTestOffice(t, cat, blobs, nil), Policy: newTestPolicy(cat, blobs), DirectoryFrameAncestors: []string{"https://www.clintoncity.gov"}}
	for _, m := range mod {
		m(&d)
	}
	srv, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{srv: srv, cat: cat, tokens: map[string]string{}, cookies: map[string]string{}, csrf: map[string]string{}}
	for _, role := range storage.Roles {
		dept := ""
		if role == storage.RoleDepartment {
			dept = testDepartment
		}
		plain, _, err := cat.CreateTokenIn(ctx, role+" token", role, dept, nil)
		if err != nil {
			t.Fatal(err)
		}
		h.tokens[role] = plain
		u, err := cat.CreateUser(ctx, storage.NewUser{Username: role + "1", Role: role, Department: dept, Password: "a long enough passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		cookie, sess, err := cat.CreateSession(ctx, u.ID, 3600e9)
		if err != nil {
			t.Fatal(err)
		}
		h.cookies[role], h.csrf[role] = cookie, sess.CSRFToken
	}
	return h
}

// do sends a request as role ("" = anonymous): bearer token for the API,
// session cookie for pages.
func (h *harness) do(method, path, role string, body io.Reader, html bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if role != "" {
		if html {
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: h.cookies[role]})
		} else {
			req.Header.Set("Authorization", "Bearer "+h.tokens[role])
		}
	}
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, req)
	return w
}

// testDepartment is the harness's department head's department.
const testDepartment = "Parks"

// routeAccess is who may call each route. A route missing here fails
// TestEveryRouteChecksRoles: adding a route means deciding who may use it.
var routeAccess = map[string][]string{
	"GET /account/password":                                          {"admin", "coordinator", "clerk", "legal", "department"},
	"POST /account/password":                                         {"admin", "coordinator", "clerk", "legal", "department"},
	"GET /directory":                                                 {"public"},
	"GET /api/v1/directory":                                          {"public"},
	"GET /coordinator":                                               {"admin", "coordinator", "department"},
	"GET /coordinator/accounts/:id":                                  {"admin", "coordinator", "department"},
	"POST /coordinator/accounts/:id/:action":                         {"admin", "coordinator", "department"},
	"GET /coordinator/plans":                                         {"admin", "coordinator", "department"},
	"POST /coordinator/plans":                                        {"admin", "coordinator", "department"},
	"POST /coordinator/plans/:id/decision":                           {"admin", "coordinator"},
	"GET /coordinator/review":                                        {"admin", "coordinator"},
	"POST /coordinator/review/:id":                                   {"admin", "coordinator"},
	"GET /coordinator/removals":                                      {"admin", "coordinator"},
	"GET /coordinator/removals/:id/:file":                            {"admin", "coordinator"},
	"GET /coordinator/violators":                                     {"admin", "coordinator"},
	"GET /coordinator/designated-users.csv":                          {"admin", "coordinator", "department"},
	"POST /api/v1/plans":                                             {"admin", "coordinator", "department"},
	"GET /api/v1/plans":                                              {"admin", "coordinator", "department"},
	"GET /api/v1/plans/:id":                                          {"admin", "coordinator", "department"},
	"POST /api/v1/plans/:id/decision":                                {"admin", "coordinator"},
	"GET /api/v1/accounts/:id/designated-users":                      {"admin", "coordinator", "department"},
	"POST /api/v1/accounts/:id/designated-users":                     {"admin", "coordinator", "department"},
	"DELETE /api/v1/accounts/:id/designated-users/:uid":              {"admin", "coordinator", "department"},
	"POST /api/v1/accounts/:id/designated-users/:uid/acknowledgment": {"admin", "coordinator", "department"},
	"GET /api/v1/designated-users.csv":                               {"admin", "coordinator"},
	"GET /api/v1/accounts/:id/custodians":                            {"admin", "coordinator", "department"},
	"POST /api/v1/accounts/:id/custodians":                           {"admin", "coordinator", "department"},
	"DELETE /api/v1/accounts/:id/custodians/:cid":                    {"admin", "coordinator", "department"},
	"PUT /api/v1/accounts/:id/contact":                               {"admin", "coordinator"},
	"POST /api/v1/accounts/:id/authenticity":                         {"admin", "coordinator"},
	"GET /api/v1/compliance":                                         {"admin", "coordinator", "department"},
	"GET /api/v1/dashboard":                                          {"admin", "coordinator", "department"},
	"GET /api/v1/flags":                                              {"admin", "coordinator"},
	"POST /api/v1/items/:id/review":                                  {"admin", "coordinator"},
	"GET /api/v1/removals":                                           {"admin", "coordinator", "clerk", "legal"},
	"GET /api/v1/removals/:id":                                       {"admin", "coordinator", "clerk", "legal"},
	"GET /api/v1/removals/:id/:file":                                 {"admin", "coordinator", "clerk", "legal"},
	"GET /api/v1/reports/violators":                                  {"admin", "coordinator"},
	"GET /healthz":                                                   {"public"},
	"GET /readyz":                                                    {"public"},
	"GET /metrics":                                                   {"public"},
	"GET /api/openapi.json":                                          {"public"},
	"GET /":                                                          {"public"},
	"GET /login":                                                     {"public"},
	"POST /login":                                                    {"public"},
	"POST /logout":                                                   {"admin", "coordinator", "clerk", "legal", "department"},
	"GET /search":                                                    {"admin", "clerk", "legal"},
	"GET /items/:id":                                                 {"admin", "clerk", "legal"},
	"GET /items/:id/media/:sha256":                                   {"admin", "clerk", "legal"},
	"GET /api/v1/me":                                                 {"admin", "coordinator", "clerk", "legal", "department"},
	"GET /api/v1/custody/verify":                                     {"admin", "legal"},
	"GET /api/v1/users":                                              {"admin"},
	"POST /api/v1/accounts":                                          {"admin", "coordinator"},
	"GET /api/v1/accounts":                                           {"admin", "coordinator", "department"},
	"GET /api/v1/accounts/:id":                                       {"admin", "coordinator", "department"},
	"POST /api/v1/accounts/:id/captures":                             {"admin", "coordinator"},
	"GET /api/v1/captures/:id":                                       {"admin", "coordinator"},
	"GET /api/v1/items":                                              {"admin", "clerk", "legal"},
	"GET /api/v1/items/:id":                                          {"admin", "clerk", "legal"},
	"GET /api/v1/search":                                             {"admin", "clerk", "legal"},
	"GET /requests/new":                                              {"public"},
	"POST /requests":                                                 {"public"},
	"GET /requests/filed/:tracking":                                  {"public"},
	"GET /requests/status":                                           {"public"},
	"POST /requests/status":                                          {"public"},
	"POST /requests/status/download":                                 {"public"},
	"GET /requests/log":                                              {"public"},
	"GET /calendar":                                                  {"public"},
	"GET /assets/letter.css":                                         {"public"},
	"GET /clerk/requests":                                            {"admin", "clerk"},
	"GET /clerk/requests/:id":                                        {"admin", "clerk"},
	"POST /clerk/requests/:id/:action":                               {"admin", "clerk"},
	"GET /clerk/requests/:id/files/:what":                            {"admin", "clerk"},
	"GET /admin/calendar":                                            {"admin"},
	"POST /admin/calendar":                                           {"admin"},
	"POST /api/v1/requests":                                          {"public"},
	"GET /api/v1/requests/:id/status":                                {"public"},
	"GET /api/v1/request-log":                                        {"public"},
	"GET /api/v1/calendar/due-date":                                  {"public"},
	"GET /api/v1/calendar":                                           {"public"},
	"PUT /api/v1/calendar":                                           {"admin"},
	"GET /api/v1/requests":                                           {"admin", "clerk"},
	"GET /api/v1/requests/:id":                                       {"admin", "clerk"},
	"POST /api/v1/requests/:id/:action":                              {"admin", "clerk"},
	"GET /api/v1/requests/:id/files/:what":                           {"admin", "clerk"},
	"POST /api/v1/holds":                                             {"admin", "legal"},
	"GET /api/v1/retention/rules":                                    {"admin", "legal"},
	"PUT /api/v1/retention/rules":                                    {"admin"},
	"POST /api/v1/dispositions":                                      {"admin", "legal"},
	"GET /api/v1/dispositions":                                       {"admin", "legal"},
	"GET /api/v1/dispositions/:id":                                   {"admin", "legal"},
	"POST /api/v1/dispositions/:id/:action":                          {"admin", "legal"},
	"GET /api/v1/dispositions/:id/files/:what":                       {"admin", "legal"},
	"GET /legal/exports":                                             {"admin", "legal"},
	"POST /legal/exports":                                            {"admin", "legal"},
	"GET /legal/exports/:id":                                         {"admin", "legal"},
	"GET /legal/exports/:id/bundle":                                  {"admin", "legal"},
	"POST /api/v1/exports":                                           {"admin", "legal"},
	"GET /api/v1/exports":                                            {"admin", "legal"},
	"GET /api/v1/exports/:id":                                        {"admin", "legal"},
	"GET /api/v1/exports/:id/bundle":                                 {"admin", "legal"},
	"GET /legal/holds":                                               {"admin", "legal"},
	"POST /legal/holds":                                              {"admin", "legal"},
	"POST /legal/holds/:id/release":                                  {"admin", "legal"},
	"GET /api/v1/holds":                                              {"admin", "legal"},
	"GET /api/v1/holds/:id":                                          {"admin", "legal"},
	"POST /api/v1/holds/:id/release":                                 {"admin", "legal"},
}

func TestEveryRouteChecksRoles(t *testing.T) {
	h := newHarness(t)
	seen := map[string]bool{}
	for _, rt := range h.srv.Routes() {
		key := rt.Method + " " + rt.Path
		seen[key] = true
		allowed, ok := routeAccess[key]
		if !ok {
			t.Errorf("route %s has no entry in routeAccess: decide who may call it", key)
			continue
		}
		public := allowed[0] == "public"
		if public != (rt.Access == Public) {
			t.Errorf("%s: table says public=%v, router says %v", key, public, rt.Access == Public)
		}
		for _, role := range append([]string{""}, storage.Roles...) {
			name := role
			if name == "" {
				name = "anonymous"
			}
			t.Run(strings.ReplaceAll(key, "/", "_")+"/"+name, func(t *testing.T) {
				var body io.Reader
				if rt.Method == "POST" {
					body = strings.NewReader("csrf_token=" + h.csrf[role])
				}
				w := h.do(rt.Method, rt.Path, role, body, rt.HTML)
				denied := w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden ||
					(w.Code == http.StatusSeeOther && strings.HasPrefix(w.Header().Get("Location"), "/login"))
				want := public || (role != "" && slices.Contains(allowed, role))
				// A public form rejecting a post without its CSRF token is not a role denial.
				if public && rt.Method == "POST" {
					return
				}
				if denied == want {
					t.Fatalf("%s as %s: status %d (Location %q); want allowed=%v", key, name, w.Code, w.Header().Get("Location"), want)
				}
				if !want && role == "" && !rt.HTML && w.Code != http.StatusUnauthorized {
					t.Fatalf("anonymous API call: %d; want 401", w.Code)
				}
				if !want && role != "" && w.Code != http.StatusForbidden {
					t.Fatalf("wrong role: %d; want 403", w.Code)
				}
			})
		}
	}
	for key := range routeAccess {
		if !seen[key] {
			t.Errorf("routeAccess lists %s, which the router does not have", key)
		}
	}
}

func TestBadTokens(t *testing.T) {
	h := newHarness(t)
	for _, hdr := range []string{"Bearer ", "Bearer nonsense", "Basic " + h.tokens["admin"], h.tokens["admin"], "Bearer " + h.tokens["admin"] + "x"} {
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.Header.Set("Authorization", hdr)
		w := httptest.NewRecorder()
		h.srv.ServeHTTP(w, req)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d; want 401", hdr, w.Code)
		}
		var body errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code != "unauthorized" {
			t.Errorf("401 body %q is not the contract's error shape", w.Body.String())
		}
	}
	// A session cookie does not authenticate the JSON API.
	req := httptest.NewRequest("GET", "/api/v1/me", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: h.cookies["admin"]})
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, req)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("cookie on the API: %d; want 401", w.Code)
	}
}

func TestMeSaysWhoAndRole(t *testing.T) {
	h := newHarness(t)
	w := h.do("GET", "/api/v1/me", "legal", nil, false)
	var got map[string]string
	json.Unmarshal(w.Body.Bytes(), &got)
	if w.Code != 200 || got["role"] != "legal" || got["name"] != "legal token" {
		t.Fatalf("me = %d %v", w.Code, got)
	}
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func TestLoginFlow(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewServer(h.srv)
	defer srv.Close()
	jar := newJar()
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	page := get(t, client, srv.URL+"/login?next=/api/openapi.json")
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("login form has no CSRF token")
	}
	post := func(form url.Values) *http.Response {
		resp, err := client.PostForm(srv.URL+"/login", form)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// No CSRF token: refused, nothing happens.
	if resp := post(url.Values{"username": {"clerk1"}, "password": {"a long enough passphrase"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without CSRF token: %d; want 403", resp.StatusCode)
	}
	// Wrong password: the form again, with an error and the username kept.
	resp := post(url.Values{"csrf_token": {m[1]}, "username": {"clerk1"}, "password": {"wrong"}})
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "Wrong username or password") || !strings.Contains(string(body), `value="clerk1"`) {
		t.Fatalf("wrong password: %d %s", resp.StatusCode, body)
	}
	// Right password: a session and a redirect to next.
	resp = post(url.Values{"csrf_token": {m[1]}, "username": {"clerk1"}, "password": {"a long enough passphrase"}, "next": {"/api/openapi.json"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/api/openapi.json" {
		t.Fatalf("login: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			sess = c
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie = %+v; want HttpOnly, SameSite=Lax", sess)
	}
	home := get(t, client, srv.URL+"/")
	if !strings.Contains(home, "Signed in as <strong>clerk1</strong>") {
		t.Fatal("home page does not show the signed-in user")
	}
	// Logout needs the session's CSRF token, then ends the session.
	m = csrfRE.FindStringSubmatch(home)
	if r, _ := client.PostForm(srv.URL+"/logout", url.Values{"csrf_token": {"forged"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("logout with a forged CSRF token: %d; want 403", r.StatusCode)
	}
	if r, _ := client.PostForm(srv.URL+"/logout", url.Values{"csrf_token": {m[1]}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if _, err := h.cat.SessionByPlain(context.Background(), sess.Value); !errors.Is(err, storage.ErrBadCredentials) {
		t.Fatalf("session still valid after logout: %v", err)
	}
}

func TestLoginRedirectStaysOnSite(t *testing.T) {
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""} {
		if got := safeNext(next); got != "/" {
			t.Errorf("safeNext(%q) = %q; want /", next, got)
		}
	}
	if got := safeNext("/api/v1/me?x=1"); got != "/api/v1/me?x=1" {
		t.Errorf("local next rewritten: %q", got)
	}
}

func TestErrorsAndLimits(t *testing.T) {
	h := newHarness(t)
	w := h.do("GET", "/api/v1/nothing-here", "admin", nil, false)
	var eb errorBody
	if w.Code != 404 || json.Unmarshal(w.Body.Bytes(), &eb) != nil || eb.Error.Code != "not_found" {
		t.Errorf("API 404: %d %s", w.Code, w.Body)
	}
	w = h.do("GET", "/no/such/page", "", nil, true)
	if w.Code != 404 || !strings.Contains(w.Header().Get("Content-Type"), "text/html") {
		t.Errorf("page 404: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	w = h.do("POST", "/login", "", strings.NewReader("username="+strings.Repeat("a", 5000)), true)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d; want 413", w.Code)
	}
	w = h.do("GET", "/", "", nil, true)
	for hdr, want := range map[string]string{"Content-Security-Policy": "frame-ancestors 'none'", "X-Content-Type-Options": "nosniff"} {
		if !strings.Contains(w.Header().Get(hdr), want) {
			t.Errorf("%s = %q; want it to contain %q", hdr, w.Header().Get(hdr), want)
		}
	}
	if strings.Contains(w.Body.String(), "<script") {
		t.Error("pages must not carry inline script")
	}
}

// failing is a blob store whose readiness check fails.
type failing struct{ blob.Store }

func (failing) Name() string { return "s3" }

func (failing) Check(context.Context) error {
	return errors.New("dial tcp 10.0.0.7:9000: secret internals")
}

func TestReadyzNamesFailedCheckOnly(t *testing.T) {
	h := newHarness(t, func(d *Deps) { d.Blobs = failing{} })
	w := h.do("GET", "/readyz", "", nil, false)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with a failing blob store: %d; want 503", w.Code)
	}
	var got struct {
		Status string
		Checks map[string]checkResult
	}
	json.Unmarshal(w.Body.Bytes(), &got)
	if got.Status != "unavailable" || got.Checks["blobs"].Status != "unavailable" || got.Checks["catalog"].Status != "ok" || got.Checks["index"].Status != "ok" {
		t.Fatalf("readyz = %s", w.Body)
	}
	if strings.Contains(w.Body.String(), "10.0.0.7") {
		t.Fatal("readyz leaks internal error text")
	}
}

func TestMetricsCountRequests(t *testing.T) {
	h := newHarness(t)
	h.do("GET", "/healthz", "", nil, false)
	h.do("GET", "/healthz", "", nil, false)
	w := h.do("GET", "/metrics", "", nil, false)
	if !strings.Contains(w.Body.String(), `civicarchive_http_requests_total{method="GET",route="/healthz",status="200"} 2`) {
		t.Fatalf("metrics do not count the two /healthz requests:\n%s", w.Body)
	}
}

func TestOpenAPIListsEveryAPIRoute(t *testing.T) {
	h := newHarness(t)
	w := h.do("GET", "/api/openapi.json", "", nil, false)
	var doc struct {
		OpenAPI string
		Paths   map[string]map[string]any
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.json: %v (openapi %q)", err, doc.OpenAPI)
	}
	for _, rt := range h.srv.Routes() {
		if rt.HTML {
			continue
		}
		p := regexp.MustCompile(`:([a-z_]+)`).ReplaceAllString(rt.Path, "{$1}")
		if _, ok := doc.Paths[p][strings.ToLower(rt.Method)]; !ok {
			t.Errorf("openapi.json does not document %s %s", rt.Method, p)
		}
	}
}

func TestCustodyVerifyAPI(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	base, err := h.cat.VerifyCustody(ctx) // the calendar installed at start is an event
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		h.cat.AppendCustody(ctx, storage.NewEvent{Kind: "export", Actor: "user:legal1"})
	}
	w := h.do("GET", "/api/v1/custody/verify", "legal", nil, false)
	// base, the three exports, and the audit event of this very read.
	if !strings.Contains(w.Body.String(), `"intact":true`) || !strings.Contains(w.Body.String(), fmt.Sprintf(`"events_checked":%d`, base+4)) {
		t.Fatalf("intact log: %s", w.Body)
	}
}

func TestLoginLockoutAndAddressLimit(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewServer(h.srv)
	defer srv.Close()
	client := &http.Client{Jar: newJar(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	m := csrfRE.FindStringSubmatch(get(t, client, srv.URL+"/login"))
	try := func(user, pass string) (int, string) {
		resp, err := client.PostForm(srv.URL+"/login", url.Values{"csrf_token": {m[1]}, "username": {user}, "password": {pass}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for i := 0; i < storage.MaxFailedLogins-1; i++ {
		if code, _ := try("clerk1", "guess"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, code)
		}
	}
	if code, body := try("clerk1", "guess"); code != http.StatusTooManyRequests || !strings.Contains(body, "15 minutes") {
		t.Fatalf("the failure reaching the limit: %d", code)
	}
	if code, _ := try("clerk1", "a long enough passphrase"); code != http.StatusTooManyRequests {
		t.Fatalf("the right password while locked out: %d; want 429", code)
	}
	// Another user is not locked; the address limit stops a sweep of users.
	if code, _ := try("legal1", "a long enough passphrase"); code != http.StatusSeeOther {
		t.Fatalf("another user: %d", code)
	}
	// Signed in now, the browser's form token is the session's: start over
	// as a new visitor from the same address.
	client = &http.Client{Jar: newJar(), CheckRedirect: client.CheckRedirect}
	m = csrfRE.FindStringSubmatch(get(t, client, srv.URL+"/login"))
	limited := false
	for i := 0; i < 40 && !limited; i++ {
		code, _ := try(fmt.Sprintf("nobody%d", i), "guess")
		limited = code == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("40 attempts from one address were never limited")
	}
}
