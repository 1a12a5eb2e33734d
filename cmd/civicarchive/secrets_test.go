package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/facebook/facebooktest"
	"github.com/civicarchive/civicarchive/archiver/platforms/instagram/instagramtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon/mastodontest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/x/xtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/youtube/youtubetest"
	"github.com/civicarchive/civicarchive/storage"
)

// secretSet is every secret the test handed the program, by what it is.
type secretSet map[string]string

// forms are the ways a secret may be written down: as is, URL-encoded
// (query strings, form bodies, paging links), JSON-escaped.
func (s secretSet) forms() map[string][]byte {
	out := map[string][]byte{}
	for name, v := range s {
		if len(v) < 8 {
			panic("secret " + name + " too short to search for")
		}
		j, _ := json.Marshal(v)
		for i, f := range []string{v, url.QueryEscape(v), url.PathEscape(v), string(j[1 : len(j)-1])} {
			out[fmt.Sprintf("%s (form %d)", name, i)] = []byte(f)
		}
	}
	return out
}

// leaks names each secret found in b.
func (s secretSet) leaks(b []byte) []string {
	var found []string
	for name, f := range s.forms() {
		if bytes.Contains(b, f) {
			found = append(found, name)
		}
	}
	return found
}

// recorder keeps every API and page response body the test read.
type recorder struct {
	t      *testing.T
	bodies map[string][]byte
}

func (r *recorder) keep(what string, body []byte) []byte {
	r.bodies[what] = append(r.bodies[what], body...)
	return body
}

func (r *recorder) api(method, u, token string, body any) (int, []byte) {
	r.t.Helper()
	code, b := apiDo(r.t, method, u, token, body)
	r.keep(method+" "+u, b)
	return code, b
}

func (r *recorder) page(c *http.Client, method, u string, form url.Values) (*http.Response, []byte) {
	r.t.Helper()
	var resp *http.Response
	var err error
	if method == "POST" {
		resp, err = c.PostForm(u, form)
	} else {
		resp, err = c.Get(u)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	// Headers too, but for Set-Cookie: handing out the session cookie is
	// what signing in is for.
	var hdr bytes.Buffer
	h := resp.Header.Clone()
	h.Del("Set-Cookie")
	h.Write(&hdr)
	r.keep(method+" "+u, append(hdr.Bytes(), b...))
	return resp, b
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// No secret reaches the logs, an API response, a page, the blob store or
// the catalog: platform credentials (right and wrong ones, one echoed back
// in an error body by the platform, Graph's paging links carrying the
// token), passwords (right and wrong), API tokens, the session cookie and
// the key that seals the credentials. Each place is also shown to hold
// what it should (the positive controls), so a search that looked nowhere
// cannot pass.
func TestSecretsNeverInLogsResponsesOrStorage(t *testing.T) {
	data := t.TempDir()
	envVars := map[string]string{"CIVICARCHIVE_DATA_DIR": data, "CIVICARCHIVE_SCHEDULER": "off",
		"CIVICARCHIVE_LOG_LEVEL": "debug", "CIVICARCHIVE_LOG_FORMAT": "json"}
	base, stop, logs := startServerLogs(t, envVars)
	secrets := secretSet{}
	var cliErr bytes.Buffer
	rec := &recorder{t: t, bodies: map[string][]byte{}}

	// API tokens, made with the real CLI.
	tok := func(name, role string) string {
		code, out, errOut := cli(t, envVars, "", "token", "create", "--name", name, "--role", role)
		cliErr.WriteString(errOut)
		if code != 0 {
			t.Fatalf("token create: %d %s", code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[len(lines)-1]
	}
	admin, clerk := tok("secrets admin", "admin"), tok("secrets clerk", "clerk")
	secrets["admin API token"], secrets["clerk API token"] = admin, clerk
	if code, body := rec.api("GET", base+"/api/v1/me", clerk, nil); code != 200 || !strings.Contains(string(body), `"role":"clerk"`) {
		t.Fatalf("the clerk token does not work: %d %s", code, body)
	}

	// One account per platform that takes a credential, against fakes that
	// check it; then a wrong X bearer token (401) and a wrong Facebook token
	// that the platform quotes back in its error body.
	world := func(id, handle string) *platformtest.World {
		w := platformtest.NewWorld(time.Now().Add(-48*time.Hour), platformtest.Profile{ID: id, Handle: handle, DisplayName: "Clinton City"})
		platformtest.Seed(w)
		return w
	}
	type acct struct {
		registered
		handle string
		want   string
	}
	var accts []acct
	add := func(fp fakePlatform, cred, want string) {
		t.Cleanup(fp.Close)
		r := registerAccount(t, base, admin, fp, cred)
		accts = append(accts, acct{r, fp.Account().Handle, want})
		secrets[fmt.Sprintf("%s credential of account %d", r.platform, r.id)] = r.credential
	}
	add(facebooktest.NewServer(world("42", "clintoncity")), "", "succeeded")
	add(instagramtest.NewServer(world("17841400000000042", "clintoncity")), "", "succeeded")
	add(youtubetest.NewServer(world("42", "clintoncity")), "", "succeeded")
	add(xtest.NewServer(world("42", "clintoncity")), "", "succeeded")
	add(mastodontest.NewServer(world("42", "clintoncity"), mastodontest.WithAuthRequired()), "", "succeeded")
	add(xtest.NewServer(world("43", "clintonpolice")), "AAAAAAAAAAAAAAAAAAAAAwrongBearer0f9e8d7c6b5a", "failed")
	const echoed = "EAAJwrongPageTokenEchoedBack4Zq9Lm"
	add(facebooktest.NewServer(world("44", "clintonparks"), facebooktest.WithMiddleware(echoToken)), echoed, "failed")

	var runIDs []uint64
	for _, a := range accts {
		run := captureAndWait(t, base, admin, a.id, "full")
		if run["status"] != a.want {
			t.Fatalf("capture of %s account %d: %v; want %s", a.platform, a.id, run, a.want)
		}
		runIDs = append(runIDs, uint64(run["id"].(float64)))
	}
	for i, id := range runIDs {
		code, body := rec.api("GET", fmt.Sprintf("%s/api/v1/captures/%d", base, id), admin, nil)
		if code != 200 {
			t.Fatalf("capture run %d: %d", id, code)
		}
		// The platform quoted the wrong token: the run's error shows where
		// it was cut out.
		if accts[i].credential == echoed && !strings.Contains(string(body), "[REDACTED]") {
			t.Errorf("the echoed token's run does not show the redaction: %s", body)
		}
	}

	// Every account, item and version the API shows.
	code, body := rec.api("GET", base+"/api/v1/accounts", admin, nil)
	if code != 200 || strings.Count(string(body), `"has_credential":true`) != len(accts) {
		t.Fatalf("accounts: %d %s", code, body)
	}
	for _, a := range accts {
		if !strings.Contains(string(body), `"handle":"`+a.handle+`"`) {
			t.Fatalf("accounts list lacks %s", a.handle)
		}
		rec.api("GET", fmt.Sprintf("%s/api/v1/accounts/%d", base, a.id), admin, nil)
	}
	var itemIDs []uint64
	for _, a := range accts[:5] {
		next := ""
		for {
			_, body := rec.api("GET", fmt.Sprintf("%s/api/v1/items?account=%d&size=50&page_token=%s", base, a.id, next), admin, nil)
			var page struct {
				Items []struct{ ID uint64 }
				Next  *string `json:"next_page_token"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				itemIDs = append(itemIDs, it.ID)
			}
			if page.Next == nil {
				break
			}
			next = *page.Next
		}
	}
	if len(itemIDs) < 5*7 {
		t.Fatalf("only %d items captured", len(itemIDs))
	}
	for _, id := range itemIDs {
		if code, _ := rec.api("GET", fmt.Sprintf("%s/api/v1/items/%d", base, id), admin, nil); code != 200 {
			t.Fatalf("item %d: %d", id, code)
		}
	}
	rec.api("GET", base+"/api/v1/search?q=budget", admin, nil)

	// A person signs in on the login page: a wrong password, then the right one.
	const password, wrongPassword = "correct horse battery staple 7Qx", "incorrect horse battery staple 9Zz"
	secrets["password"], secrets["wrong password"] = password, wrongPassword
	code, out, errOut := cli(t, envVars, password+"\n", "user", "create", "--username", "records.clerk", "--role", "clerk")
	cliErr.WriteString(errOut)
	if code != 0 {
		t.Fatalf("user create: %d %s %s", code, out, errOut)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(pw string) int {
		_, page := rec.page(browser, "GET", base+"/login", nil)
		m := csrfRE.FindSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token on the login page: %s", page)
		}
		resp, _ := rec.page(browser, "POST", base+"/login", url.Values{"csrf_token": {string(m[1])}, "username": {"records.clerk"}, "password": {pw}, "next": {"/search"}})
		return resp.StatusCode
	}
	if code := signIn(wrongPassword); code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d; want 401", code)
	}
	if code := signIn(password); code != http.StatusSeeOther {
		t.Fatalf("right password: %d; want 303", code)
	}
	u, _ := url.Parse(base)
	for _, c := range jar.Cookies(u) {
		if c.Name == "civicarchive_session" {
			secrets["session cookie"] = c.Value
		}
	}
	if secrets["session cookie"] == "" {
		t.Fatal("signing in set no session cookie")
	}
	if resp, page := rec.page(browser, "GET", base+"/search?q=budget", nil); resp.StatusCode != 200 || !strings.Contains(string(page), "budget") {
		t.Fatalf("the session does not open the search page: %d", resp.StatusCode)
	}
	if resp, _ := rec.page(browser, "GET", fmt.Sprintf("%s/items/%d", base, itemIDs[0]), nil); resp.StatusCode != 200 {
		t.Fatalf("item page: %d", resp.StatusCode)
	}

	if code := stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}

	// The key that seals the credentials, in every spelling.
	keyHex := strings.TrimSpace(readFile(t, filepath.Join(data, storage.SecretKeyFile)))
	key, _ := hex.DecodeString(keyHex)
	keySecrets := secretSet{"secret key (hex)": keyHex, "secret key (HEX)": strings.ToUpper(keyHex),
		"secret key (base64)": base64.StdEncoding.EncodeToString(key), "secret key (raw)": string(key)}

	all := secretSet{}
	for k, v := range secrets {
		all[k] = v
	}
	for k, v := range keySecrets {
		all[k] = v
	}

	// 1. The logs.
	logText := logs.String() + cliErr.String()
	if leaks := all.leaks([]byte(logText)); len(leaks) > 0 {
		t.Errorf("the logs hold %v", leaks)
	}
	for _, want := range []string{`"msg":"capture finished"`, `"msg":"login failed"`, `"msg":"login"`, `"path":"/api/v1/accounts"`} {
		if !strings.Contains(logText, want) {
			t.Fatalf("positive control: the log lacks %s: the search proves nothing", want)
		}
	}
	if n := strings.Count(logText, `"msg":"capture finished"`); n != len(accts) {
		t.Fatalf("positive control: %d captures logged, %d run", n, len(accts))
	}
	for _, a := range accts {
		if !strings.Contains(logText, fmt.Sprintf(`"account_id":%d`, a.id)) {
			t.Fatalf("positive control: the log never names account %d", a.id)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("a log line is not JSON: %s", line)
		}
	}

	// 2. Every response body (and page header) read above.
	for what, b := range rec.bodies {
		if leaks := all.leaks(b); len(leaks) > 0 {
			t.Errorf("%s answered with %v", what, leaks)
		}
	}

	// 3. Every file in the data dir: the catalog (and its WAL), the blob
	// store with the raw platform responses, the search index.
	var files, blobs, redactedBlobs, contentBlobs int
	var catalog []byte
	err := filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(data, path)
		check := all
		if rel == storage.SecretKeyFile {
			check = secrets // the key file holds the key, and nothing else
		}
		if leaks := check.leaks(b); len(leaks) > 0 {
			t.Errorf("%s holds %v", rel, leaks)
		}
		if strings.HasPrefix(rel, "catalog.db") {
			catalog = append(catalog, b...)
		}
		if strings.HasPrefix(rel, filepath.Join("blobs", "sha256")) {
			blobs++
			if bytes.Contains(b, []byte("access_token="+"[REDACTED]")) || bytes.Contains(b, []byte("access_token=%5BREDACTED%5D")) {
				redactedBlobs++
			}
			if bytes.Contains(b, []byte("Please post the budget draft")) {
				contentBlobs++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if blobs < 30 || redactedBlobs == 0 || contentBlobs == 0 {
		t.Fatalf("positive control: %d blobs, %d with a redacted paging link, %d with a captured comment (of %d files)", blobs, redactedBlobs, contentBlobs, files)
	}
	for _, want := range []string{"clintonparks", "records.clerk", "secrets admin"} {
		if !bytes.Contains(catalog, []byte(want)) {
			t.Fatalf("positive control: the catalog files lack %q: the search proves nothing", want)
		}
	}
}

// echoToken makes a fake Graph server quote a wrong access token back in
// its error body, as some platforms do.
func echoToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("access_token")
		if tok == "" || tok == facebooktest.DefaultCredential || strings.HasPrefix(r.URL.Path, "/media/") {
			next.ServeHTTP(rw, r)
			return
		}
		rw.Header().Set("Content-Type", "application/json; charset=UTF-8")
		rw.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(rw, `{"error":{"message":"Invalid OAuth access token - Cannot parse access token: %s","type":"OAuthException","code":190,"fbtrace_id":"AbC123"}}`, tok)
	})
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
