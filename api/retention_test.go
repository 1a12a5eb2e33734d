package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/storage"
)

func TestRetentionAndDispositionAPI(t *testing.T) {
	t.Parallel()
	f := newReqFixture(t)
	if _, err := f.srv.Records.EnsureRetentionDefaults(t.Context()); err != nil {
		t.Fatal(err)
	}
	rules := decode[struct{ Rules []storage.RetentionRule }](t, f.send("GET", "/api/v1/retention/rules", "legal", "", ""))
	if len(rules.Rules) < 4 {
		t.Fatalf("default rules: %+v", rules.Rules)
	}
	if w := f.send("PUT", "/api/v1/retention/rules", "legal", `{"kind":"comment","keep_days":30,"citation":"x"}`, ""); w.Code != 403 {
		t.Fatalf("legal changing the schedule: %d", w.Code)
	}
	if w := f.send("PUT", "/api/v1/retention/rules", "admin", `{"kind":"comment","keep_days":-1,"citation":"x"}`, ""); w.Code != 422 || !strings.Contains(w.Body.String(), "keep_days") {
		t.Fatalf("negative days: %d %s", w.Code, w.Body)
	}
	if w := f.send("PUT", "/api/v1/retention/rules", "admin", `{"kind":"comment","keep_days":3650,"trigger":"captured","citation":"GRS-1759 (city's schedule)"}`, ""); w.Code != 200 {
		t.Fatalf("set rule: %d %s", w.Code, w.Body)
	}
	// A proposal removes nothing; its proposer cannot approve it.
	w := f.send("POST", "/api/v1/dispositions", "legal", `{}`, "")
	if w.Code != 201 {
		t.Fatalf("propose: %d %s", w.Code, w.Body)
	}
	d := decode[storage.Disposition](t, w)
	if d.Status != "proposed" || d.ListKey == "" {
		t.Fatalf("proposal: %+v", d)
	}
	path := fmt.Sprintf("/api/v1/dispositions/%d", d.ID)
	if w := f.send("POST", path+"/approve", "legal", `{}`, ""); w.Code != 403 {
		t.Fatalf("the proposer approving: %d %s", w.Code, w.Body)
	}
	w = f.send("POST", path+"/approve", "admin", `{}`, "")
	if w.Code != 200 {
		t.Fatalf("approve: %d %s", w.Code, w.Body)
	}
	done := decode[storage.Disposition](t, w)
	if done.Status != "completed" || done.CertificateSHA256 == "" {
		t.Fatalf("after approval: %+v", done)
	}
	cert := f.send("GET", path+"/files/certificate", "legal", "", "")
	if cert.Code != 200 || !strings.Contains(cert.Body.String(), "civicarchive-disposition-certificate") {
		t.Fatalf("certificate: %d %s", cert.Code, cert.Body)
	}
	if w := f.send("POST", path+"/approve", "admin", `{}`, ""); w.Code != 409 {
		t.Fatalf("approving twice: %d %s", w.Code, w.Body)
	}
	if w := f.send("POST", "/api/v1/dispositions", "legal", `{"as_of":"yesterday"}`, ""); w.Code != 422 {
		t.Fatalf("bad as_of: %d", w.Code)
	}
}
