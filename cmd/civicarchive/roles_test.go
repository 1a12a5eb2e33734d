package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// A role change is a custody event; a department head needs a department;
// `audit verify` is `custody verify` and finds a deleted row.
func TestRoleChangeAndAuditVerify(t *testing.T) {
	data := t.TempDir()
	envVars := map[string]string{"CIVICARCHIVE_DATA_DIR": data}
	if code, _, errOut := cli(t, envVars, "correct horse battery staple\n", "user", "create", "--username", "pat", "--role", "clerk"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := cli(t, envVars, "", "user", "role", "pat", "--role", "department"); code != 2 || !strings.Contains(errOut, "department") {
		t.Fatalf("department head without a department: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, envVars, "", "user", "role", "nobody", "--role", "legal"); code != 1 || !strings.Contains(errOut, "no user") {
		t.Fatalf("unknown user: %d %q", code, errOut)
	}
	if code, out, errOut := cli(t, envVars, "", "user", "role", "pat", "--role", "department", "--department", "Parks"); code != 0 || !strings.Contains(out, "now has role department") {
		t.Fatalf("role change: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cli(t, envVars, "", "token", "create", "--name", "parks", "--role", "department"); code != 2 || !strings.Contains(errOut, "department") {
		t.Fatalf("department token without a department: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, envVars, "", "token", "create", "--name", "parks", "--role", "department", "--department", "Parks"); code != 0 {
		t.Fatalf("department token: %d %q", code, errOut)
	}
	db, err := sql.Open("sqlite", filepath.Join(data, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var details string
	if err := db.QueryRow("SELECT details FROM custody_events WHERE kind = 'role_changed'").Scan(&details); err != nil {
		t.Fatalf("no role_changed event: %v", err)
	}
	if !strings.Contains(details, `"from":"clerk"`) || !strings.Contains(details, `"to":"department"`) || !strings.Contains(details, `"to_department":"Parks"`) {
		t.Errorf("role_changed details: %s", details)
	}
	code, out, _ := cli(t, envVars, "", "audit", "verify")
	if code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify: %d %q", code, out)
	}
	// Someone deletes the role change behind the program's back.
	var seq int
	db.QueryRow("SELECT seq FROM custody_events WHERE kind = 'role_changed'").Scan(&seq)
	if _, err := db.Exec("DELETE FROM custody_events WHERE kind = 'role_changed'"); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(t, envVars, "", "audit", "verify")
	if code != 1 || !strings.Contains(errOut, fmt.Sprint("event ", seq+1)) && !strings.Contains(errOut, fmt.Sprint("event ", seq)) {
		t.Fatalf("audit verify after a deletion = %d %q; want 1 naming the gap", code, errOut)
	}
}
