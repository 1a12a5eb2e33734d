package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon/mastodontest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

// Legal, with the real program: capture an account, export a search and a
// legal hold through the API, download each ZIP, and check it with
// `civicarchive verify` and with sha256sum -c on the unzipped bag; a changed
// byte is caught.
func TestExportEndToEnd(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("KEEP_EXPORT_DIR"); d != "" {
		dir = d
	}
	envVars := map[string]string{"CIVICARCHIVE_DATA_DIR": filepath.Join(dir, "data"), "CIVICARCHIVE_SCHEDULER": "off"}
	base, stop := startServer(t, envVars)
	defer stop()
	token := func(role string) string {
		_, out, _ := cli(t, envVars, "", "token", "create", "--name", role, "--role", role)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[len(lines)-1]
	}
	admin, legal := token("admin"), token("legal")

	w := platformtest.NewWorld(time.Now().Add(-48*time.Hour), platformtest.Profile{ID: "42", Handle: "clintoncity", DisplayName: "Clinton City"})
	platformtest.Seed(w)
	fp := mastodontest.NewServer(w)
	defer fp.Close()
	a := fp.Account()
	code, body := apiDo(t, "POST", base+"/api/v1/accounts", admin, map[string]string{"platform": a.Platform, "handle": a.Handle, "api_base": a.APIBase})
	if code != http.StatusCreated {
		t.Fatalf("register: %d %s", code, body)
	}
	var acct struct{ ID uint64 }
	json.Unmarshal(body, &acct)
	if run := captureAndWait(t, base, admin, acct.ID, "full"); run["status"] != "succeeded" {
		t.Fatalf("capture: %v", run)
	}
	items := allItems(t, base, admin, acct.ID)
	waitIndexed(t, base, legal, len(items))

	// A search export and a hold export.
	searchExport := startExport(t, base, legal, map[string]any{"query": "", "filters": map[string]any{"platform": []string{"mastodon"}}, "matter": "Doe v. Clinton City"})
	var ids []uint64
	for _, it := range items {
		if it.Kind == "post" {
			ids = append(ids, it.ID)
		}
	}
	code, body = apiDo(t, "POST", base+"/api/v1/holds", legal, map[string]any{"matter": "Doe v. Clinton City", "item_ids": ids})
	if code != http.StatusCreated {
		t.Fatalf("hold: %d %s", code, body)
	}
	var hold struct{ ID uint64 }
	json.Unmarshal(body, &hold)
	holdExport := startExport(t, base, legal, map[string]any{"hold_id": hold.ID})

	for name, tc := range map[string]struct {
		id    uint64
		items int
	}{"search": {searchExport, len(items)}, "hold": {holdExport, len(ids)}} {
		t.Run(name, func(t *testing.T) {
			exp := waitExport(t, base, legal, tc.id)
			if exp.Status != "ready" || exp.ItemCount != tc.items {
				t.Fatalf("export: %+v; want ready with %d items", exp, tc.items)
			}
			path := filepath.Join(dir, name+".zip")
			download(t, fmt.Sprintf("%s/api/v1/exports/%d/bundle", base, tc.id), legal, path)
			if sum := fileSHA256(t, path); sum != exp.SHA256 {
				t.Fatalf("downloaded bundle hashes %s; the export says %s", sum, exp.SHA256)
			}
			if code, out, errOut := cli(t, nil, "", "verify", path); code != 0 {
				t.Fatalf("verify: %d %s %s", code, out, errOut)
			}
			bag := unzip(t, path, filepath.Join(dir, name))
			for _, m := range []string{"manifest-sha256.txt", "tagmanifest-sha256.txt"} {
				cmd := exec.Command("sha256sum", "--check", "--strict", "--quiet", m)
				cmd.Dir = bag
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("sha256sum -c %s: %v\n%s", m, err, out)
				}
			}
			independentTools(t, path, filepath.Join(dir, name+"-tools"))
			// One changed byte anywhere is caught.
			raw, _ := os.ReadFile(path)
			raw[len(raw)/2] ^= 0x20
			bad := filepath.Join(dir, name+"-tampered.zip")
			os.WriteFile(bad, raw, 0o600)
			if code, _, errOut := cli(t, nil, "", "verify", bad); code != 1 {
				t.Fatalf("a flipped byte: verify exit %d (%s)", code, errOut)
			}
		})
	}
	// Legal may export; a clerk may not.
	clerk := token("clerk")
	if code, _ := apiDo(t, "POST", base+"/api/v1/exports", clerk, map[string]any{"item_ids": ids}); code != http.StatusForbidden {
		t.Fatalf("clerk export: %d; want 403", code)
	}
}

func waitIndexed(t *testing.T, base, token string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		_, body := apiDo(t, "GET", base+"/api/v1/search?facets=false&size=1", token, nil)
		var res struct{ Total int }
		json.Unmarshal(body, &res)
		if res.Total >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the index did not reach %d items", n)
}

func startExport(t *testing.T, base, token string, scope map[string]any) uint64 {
	t.Helper()
	code, body := apiDo(t, "POST", base+"/api/v1/exports", token, scope)
	if code != http.StatusAccepted {
		t.Fatalf("start export %v: %d %s", scope, code, body)
	}
	var e struct {
		ID     uint64
		Status string
	}
	json.Unmarshal(body, &e)
	if e.ID == 0 || (e.Status != "running" && e.Status != "ready") {
		t.Fatalf("start export: %s", body)
	}
	return e.ID
}

type exportOut struct {
	Status    string
	ItemCount int `json:"item_count"`
	SHA256    string
	Size      int64
}

func waitExport(t *testing.T, base, token string, id uint64) exportOut {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		_, body := apiDo(t, "GET", fmt.Sprintf("%s/api/v1/exports/%d", base, id), token, nil)
		var e exportOut
		json.Unmarshal(body, &e)
		if e.Status != "running" {
			return e
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("export did not finish in a minute")
	return exportOut{}
}

func download(t *testing.T, url, token, path string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	f, _ := os.Create(path)
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil))
}

// independentTools checks a bundle with ZIP tools that share no code with
// civicarchive: Info-ZIP's `unzip -t` and 7-Zip's `7z t` test every entry's
// CRC-32, libarchive's bsdtar extracts the bag and `sha256sum -c` checks it.
// Then one byte inside a media file's stored data is changed, and unzip and
// 7z must both refuse the bundle. A tool that is not installed is a failure
// when CIVICARCHIVE_REQUIRE_ZIP_TOOLS=1 (CI installs them:
// scripts/install-zip-tools.sh) and is left out otherwise.
func independentTools(t *testing.T, path, work string) {
	t.Helper()
	have := func(tool string) bool {
		if _, err := exec.LookPath(tool); err == nil {
			return true
		}
		if os.Getenv("CIVICARCHIVE_REQUIRE_ZIP_TOOLS") == "1" {
			t.Fatalf("%s is not installed (scripts/install-zip-tools.sh installs it)", tool)
		}
		t.Logf("%s is not installed: not checked with it", tool)
		return false
	}
	run := func(name string, args ...string) (string, error) {
		out, err := exec.Command(name, args...).CombinedOutput()
		return string(out), err
	}
	if have("unzip") {
		if out, err := run("unzip", "-t", "-qq", path); err != nil {
			t.Fatalf("unzip -t: %v\n%s", err, out)
		}
	}
	if have("7z") {
		if out, err := run("7z", "t", path); err != nil || !strings.Contains(out, "Everything is Ok") {
			t.Fatalf("7z t: %v\n%s", err, out)
		}
	}
	if have("bsdtar") && have("sha256sum") {
		os.MkdirAll(work, 0o755)
		if out, err := run("bsdtar", "-xf", path, "-C", work); err != nil {
			t.Fatalf("bsdtar -x: %v\n%s", err, out)
		}
		tops, _ := os.ReadDir(work)
		if len(tops) != 1 {
			t.Fatalf("bsdtar extracted %d top-level entries; want the bag's one folder", len(tops))
		}
		for _, m := range []string{"manifest-sha256.txt", "tagmanifest-sha256.txt"} {
			cmd := exec.Command("sha256sum", "--check", "--strict", "--quiet", m)
			cmd.Dir = filepath.Join(work, tops[0].Name())
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("bsdtar's extraction, sha256sum -c %s: %v\n%s", m, err, out)
			}
		}
	}
	// A byte changed inside a stored media file: the CRC-32 no longer holds.
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	var at int64 = -1
	for _, f := range zr.File {
		if strings.Contains(f.Name, "/data/media/") && f.Method == zip.Store && f.UncompressedSize64 > 0 {
			at, _ = f.DataOffset()
			break
		}
	}
	zr.Close()
	if at < 0 {
		t.Fatal("the bundle has no stored media file to change")
	}
	raw, _ := os.ReadFile(path)
	raw[at] ^= 0x01
	bad := path + ".media-changed.zip"
	os.WriteFile(bad, raw, 0o600)
	if have("unzip") {
		if out, err := run("unzip", "-t", "-qq", bad); err == nil {
			t.Fatalf("unzip -t accepted a changed media byte:\n%s", out)
		}
	}
	if have("7z") {
		if out, err := run("7z", "t", bad); err == nil {
			t.Fatalf("7z t accepted a changed media byte:\n%s", out)
		}
	}
	if code, _, errOut := cli(t, nil, "", "verify", bad); code != 1 || !strings.Contains(errOut, "media") {
		t.Fatalf("a changed media byte: verify exit %d (%s); want 1 naming the media file", code, errOut)
	}
}

// unzip extracts a bundle and returns its one top folder.
func unzip(t *testing.T, path, dst string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	top := ""
	for _, f := range zr.File {
		name := filepath.Join(dst, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(name, dst+string(os.PathSeparator)) {
			t.Fatalf("entry %s escapes", f.Name)
		}
		top, _, _ = strings.Cut(f.Name, "/")
		if strings.HasSuffix(f.Name, "/") {
			os.MkdirAll(name, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(name), 0o755)
		rc, _ := f.Open()
		out, _ := os.Create(name)
		io.Copy(out, rc)
		out.Close()
		rc.Close()
	}
	return filepath.Join(dst, top)
}
