package api

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/records/bagit"
)

func TestExportPagesAndAPI(t *testing.T) {
	t.Parallel()
	var srv *Server // exports find through the server's search, built after the office
	f := newReqFixture(t, func(d *Deps) {
		d.Records = newTestOffice(t, d.Catalog, d.Blobs, nil, func(c *records.Config) {
			c.Finder = func(ctx context.Context, q string) ([]uint64, error) { return srv.findItems(ctx, q) }
		})
	})
	srv = f.srv
	ctx := t.Context()
	if _, err := f.srv.Search.CatchUp(ctx, f.cat); err != nil {
		t.Fatal(err)
	}
	// The page starts a search export and shows its progress, then the
	// download.
	w := f.do("POST", "/legal/exports", "legal", strings.NewReader("csrf_token="+f.csrf["legal"]+"&matter=Doe&query=parade"), true)
	if w.Code != 303 || !strings.HasPrefix(w.Header().Get("Location"), "/legal/exports/") {
		t.Fatalf("start from the page: %d %s", w.Code, w.Body)
	}
	f.srv.Records.WaitExports()
	page := f.do("GET", w.Header().Get("Location"), "legal", nil, true)
	mustContain(t, page.Body.String(), `id="status">ready`, `id="download"`, "Doe")
	zip := f.do("GET", w.Header().Get("Location")+"/bundle", "legal", nil, true)
	if zip.Code != 200 || zip.Header().Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s", zip.Code, zip.Header().Get("Content-Type"))
	}
	if _, err := bagit.Verify(bytes.NewReader(zip.Body.Bytes()), int64(zip.Body.Len())); err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	// The API: one scope only; unknown filters refused; items export.
	for _, bad := range []string{`{}`, `{"query":"x","item_ids":[1]}`, `{"filters":{"colour":"red"}}`, `{"request":"GRAMA-1999-000001"}`,
		`{"filters":{"from":"last week"}}`, `{"query":"title:("}`} {
		if w := f.send("POST", "/api/v1/exports", "legal", bad, ""); w.Code != 422 {
			t.Errorf("%s: %d %s", bad, w.Code, w.Body)
		}
	}
	w = f.send("POST", "/api/v1/exports", "admin", fmt.Sprintf(`{"item_ids":[%d],"matter":"audit"}`, f.items["p2"]), "")
	if w.Code != 202 {
		t.Fatalf("items export: %d %s", w.Code, w.Body)
	}
	id := decode[struct{ ID uint64 }](t, w).ID
	f.srv.Records.WaitExports()
	got := decode[exportOut](t, f.send("GET", fmt.Sprintf("/api/v1/exports/%d", id), "legal", "", ""))
	if got.Status != "ready" || got.ItemCount != 1 || got.SHA256 == "" || got.Kind != "items" {
		t.Fatalf("items export: %+v", got)
	}
	list := decode[struct{ Exports []exportOut }](t, f.send("GET", "/api/v1/exports", "legal", "", ""))
	if len(list.Exports) != 2 {
		t.Fatalf("exports list: %+v", list.Exports)
	}
}
