package api

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/storage"
)

func TestPasswordChange(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	u, err := h.cat.Authenticate(ctx, "clerk1", "a long enough passphrase")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := h.cat.CreateSession(ctx, u.ID, 3600e9) // the same user signed in elsewhere
	if err != nil {
		t.Fatal(err)
	}
	post := func(cur, next, confirm string) int {
		body := url.Values{"csrf_token": {h.csrf["clerk"]}, "current_password": {cur}, "new_password": {next}, "confirm_password": {confirm}}
		return h.do("POST", "/account/password", "clerk", strings.NewReader(body.Encode()), true).Code
	}
	if code := post("wrong password!!", "a brand new passphrase", "a brand new passphrase"); code != 401 {
		t.Errorf("wrong current password: %d", code)
	}
	if code := post("a long enough passphrase", "a brand new passphrase", "a different one entirely"); code != 422 {
		t.Errorf("confirmation differs: %d", code)
	}
	if code := post("a long enough passphrase", "short", "short"); code != 422 {
		t.Errorf("too short: %d", code)
	}
	if _, err := h.cat.Authenticate(ctx, "clerk1", "a long enough passphrase"); err != nil {
		t.Fatalf("a refused change changed the password: %v", err)
	}
	if code := post("a long enough passphrase", "a brand new passphrase", "a brand new passphrase"); code != 303 {
		t.Fatalf("change: %d", code)
	}
	if _, err := h.cat.Authenticate(ctx, "clerk1", "a long enough passphrase"); !errors.Is(err, storage.ErrBadCredentials) {
		t.Errorf("the old password still works: %v", err)
	}
	if _, err := h.cat.Authenticate(ctx, "clerk1", "a brand new passphrase"); err != nil {
		t.Errorf("the new password does not work: %v", err)
	}
	if _, err := h.cat.SessionByPlain(ctx, other); err == nil {
		t.Error("the user's other session survived the change")
	}
	if w := h.do("GET", "/account/password?done=1", "clerk", nil, true); w.Code != 200 || !strings.Contains(w.Body.String(), "Your password was changed") {
		t.Errorf("the session that changed it: %d", w.Code)
	}
	all, _ := h.cat.CustodyEvents(ctx, "user", fmt.Sprint(u.ID))
	found := false
	for _, e := range all {
		if e.Kind == "password_changed" {
			found = true
			if strings.Contains(e.Details, "passphrase") {
				t.Error("the custody event holds the password")
			}
		}
	}
	if !found {
		t.Error("no password_changed custody event")
	}
}
