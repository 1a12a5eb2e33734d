package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon/mastodontest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/configs"
)

// The coordinator, with the real program: a department's plan is approved,
// the account appears in the public directory, its compliance gaps show,
// a real capture's comments are screened, one is removed and its removal
// record printed; a comment deleted on the platform gets a record too.
func TestPolicyEndToEnd(t *testing.T) {
	dir := t.TempDir()
	envVars := map[string]string{"CIVICARCHIVE_DATA_DIR": filepath.Join(dir, "data"), "CIVICARCHIVE_SCHEDULER": "off"}
	base, stop := startServer(t, envVars)
	defer stop()
	_, out, _ := cli(t, envVars, "", "token", "create", "--name", "coord", "--role", "coordinator")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	coord := lines[len(lines)-1]

	w := platformtest.NewWorld(time.Now().Add(-48*time.Hour), platformtest.Profile{ID: "7", Handle: "clintonparks",
		DisplayName: "Clinton Parks", Description: "Parks and recreation news."})
	post := w.AddPost("Splash pad", "The splash pad opens Saturday at 10 am.")
	w.AddComment(post, "", "Ana", "Can't wait, the kids will love it!")
	rude := w.AddComment(post, "", "Troll", "What a load of sh!t, the council are d@mn crooks")
	w.AddComment(post, "", "Vendor", "Buy now!!! Use promo code SPLASH20 at my store")
	w.AddComment(post, "", "Angry", "Someone should burn down city hall tonight")
	leak := w.AddComment(post, "", "Bo", "Call me at (801) 555-0142 about the lost dog")
	fp := mastodontest.NewServer(w)
	defer fp.Close()
	a := fp.Account()

	// A department's plan; the account waits, not captured, not listed.
	code, body := apiDo(t, "POST", base+"/api/v1/plans", coord, map[string]any{
		"account": map[string]string{"platform": a.Platform, "handle": a.Handle, "api_base": a.APIBase, "department": "Parks"},
		"mission": "Share park news", "audience": "Families", "legal_risks": "Comments are public records",
		"technical": "Two staff phones", "security": "Two-factor sign-in", "emergency": "Closures posted within an hour"})
	if code != http.StatusCreated {
		t.Fatalf("submit plan: %d %s", code, body)
	}
	var sub struct {
		Plan    struct{ ID uint64 }
		Account struct{ ID uint64 }
	}
	json.Unmarshal(body, &sub)
	directory := func() string { _, b := apiDo(t, "GET", base+"/api/v1/directory", "", nil); return string(b) }
	if strings.Contains(directory(), "clintonparks") {
		t.Fatal("a pending account is in the public directory")
	}
	if code, _ := apiDo(t, "POST", fmt.Sprintf("%s/api/v1/plans/%d/decision", base, sub.Plan.ID), coord, map[string]any{"approve": true}); code != 200 {
		t.Fatalf("approve: %d", code)
	}
	if !strings.Contains(directory(), "clintonparks") {
		t.Fatalf("approved account not in the directory: %s", directory())
	}
	if run := captureAndWait(t, base, coord, sub.Account.ID, "full"); run["status"] != "succeeded" {
		t.Fatalf("capture: %v", run)
	}

	// Compliance gaps, authenticity checked from the captured profile.
	var comp struct {
		Accounts []struct {
			Gaps         []string
			Authenticity struct {
				CheckedAt *time.Time `json:"checked_at"`
			}
		}
	}
	waitFor(t, "the authenticity check", func() bool {
		_, b := apiDo(t, "GET", base+"/api/v1/compliance", coord, nil)
		json.Unmarshal(b, &comp)
		return len(comp.Accounts) == 1 && comp.Accounts[0].Authenticity.CheckedAt != nil
	})
	gaps := strings.Join(comp.Accounts[0].Gaps, "; ")
	for _, want := range []string{"no designated users", "0 custodians", `does not say "official"`, "no city e-mail", "does not link to the city website"} {
		if !strings.Contains(gaps, want) {
			t.Errorf("gaps %q lack %q", gaps, want)
		}
	}

	// The screening rules flagged the comments that break the policy.
	_, body = apiDo(t, "GET", base+"/api/v1/flags", coord, nil)
	var flags struct {
		Flags []struct {
			ItemID   uint64 `json:"item_id"`
			Category string
			Item     struct{ Text string }
		}
	}
	json.Unmarshal(body, &flags)
	cats := map[string]string{}
	var rudeItem uint64
	for _, f := range flags.Flags {
		cats[f.Item.Text] += f.Category
		if strings.HasPrefix(f.Item.Text, "What a load") {
			rudeItem = f.ItemID
		}
	}
	for text, cat := range map[string]string{"What a load": "A", "Buy now": "D", "Someone should burn": "K", "Call me at": "L"} {
		found := false
		for got, c := range cats {
			if strings.HasPrefix(got, text) && strings.Contains(c, cat) {
				found = true
			}
		}
		if !found {
			t.Errorf("%q not flagged %s: %v", text, cat, cats)
		}
	}
	for got := range cats {
		if strings.HasPrefix(got, "Can't wait") || strings.HasPrefix(got, "The splash pad") {
			t.Errorf("clean text flagged: %q", got)
		}
	}
	if rudeItem == 0 {
		t.Fatal("the profane comment is not in the review queue")
	}
	// Flags are a search facet and filter for the clerk.
	_, out, _ = cli(t, envVars, "", "token", "create", "--name", "clerk", "--role", "clerk")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	clerk := lines[len(lines)-1]
	var found struct {
		Total  int
		Hits   []struct{ Text string }
		Facets map[string][]struct {
			Term  string
			Count int
		}
	}
	waitFor(t, "flags in the search index", func() bool {
		_, b := apiDo(t, "GET", base+"/api/v1/search?flag=K", clerk, nil)
		json.Unmarshal(b, &found)
		return found.Total == 1
	})
	if !strings.HasPrefix(found.Hits[0].Text, "Someone should burn") {
		t.Errorf("flag=K finds %+v", found.Hits)
	}
	_, b := apiDo(t, "GET", base+"/api/v1/search", clerk, nil)
	json.Unmarshal(b, &found)
	letters := map[string]int{}
	for _, f := range found.Facets["flag"] {
		letters[f.Term] = f.Count
	}
	if letters["A"] < 1 || letters["D"] < 1 || letters["K"] != 1 || letters["L"] < 1 {
		t.Errorf("flag facet: %v", found.Facets["flag"])
	}
	code, body = apiDo(t, "POST", fmt.Sprintf("%s/api/v1/items/%d/review", base, rudeItem), coord, map[string]string{"decision": "remove", "reason": "profanity, 3.4.3 A"})
	if code != 200 {
		t.Fatalf("remove: %d %s", code, body)
	}
	var removed struct{ Removal struct{ PDF, HTML string } }
	json.Unmarshal(body, &removed)
	req, _ := http.NewRequest("GET", base+removed.Removal.PDF, nil)
	req.Header.Set("Authorization", "Bearer "+coord)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 5)
	resp.Body.Read(head)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(head) != "%PDF-" {
		t.Fatalf("removal record PDF: %d %q", resp.StatusCode, head)
	}
	_ = rude

	// New rules: the archive is screened again, beside the running server,
	// and only what the new rule catches is added. A broken rules file
	// stops the command, naming its setting.
	rulesFile := filepath.Join(dir, "rules.yaml")
	os.WriteFile(rulesFile, append(append([]byte{}, configs.DefaultScreening...), []byte(`
  - id: D.splash-sales
    category: D
    phrases: ["the kids will love"]
`)...), 0o600)
	withRules := map[string]string{"CIVICARCHIVE_POLICY_SCREENING_FILE": rulesFile}
	for k, v := range envVars {
		withRules[k] = v
	}
	code, out, errOut := cli(t, withRules, "", "rescreen")
	if code != 0 || !strings.Contains(out, ": 1 new flags") {
		t.Fatalf("rescreen: %d %q %q", code, out, errOut)
	}
	if code, out, _ := cli(t, withRules, "", "rescreen"); code != 0 || !strings.Contains(out, ": 0 new flags") {
		t.Fatalf("rescreen again: %d %q", code, out)
	}
	os.WriteFile(rulesFile, []byte("version: x\nrules:\n  - id: M.bad\n    category: M\n    words: [x]\n"), 0o600)
	if code, _, errOut := cli(t, withRules, "", "rescreen"); code != 2 || !strings.Contains(errOut, "CIVICARCHIVE_POLICY_SCREENING_FILE") {
		t.Fatalf("rescreen with a bad rules file: %d %q", code, errOut)
	}

	// A comment deleted on the platform: the next full sweep finds it gone
	// and its removal record follows.
	w.Delete(leak)
	if run := captureAndWait(t, base, coord, sub.Account.ID, "full"); run["status"] != "succeeded" {
		t.Fatalf("second capture: %v", run)
	}
	var rems struct {
		Removals []struct{ Cause, Decision string }
	}
	waitFor(t, "the deleted comment's removal record", func() bool {
		_, b := apiDo(t, "GET", base+"/api/v1/removals", coord, nil)
		json.Unmarshal(b, &rems)
		return len(rems.Removals) == 2
	})
	if rems.Removals[0].Cause != "deleted" || rems.Removals[1].Cause != "decision" {
		t.Errorf("removals: %+v", rems.Removals)
	}
}

// waitFor polls cond for up to 20 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
