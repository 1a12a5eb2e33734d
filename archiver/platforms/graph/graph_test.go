package graph_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/archiver/platforms/graph"
	"github.com/civicarchive/civicarchive/archiver/platforms/graph/graphtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
)

func TestParseError(t *testing.T) {
	long := `{"error":{"message":"Error validating access token: Session has expired on Tuesday, 14-Jan-25 12:00:00 PST. The current time is Tuesday, 14-Jan-25 13:04:11 PST. Padding padding padding padding padding padding padding.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"Ab"}}`
	tests := []struct {
		name    string
		status  int
		body    string
		ok      bool
		code    int
		subcode int
		kind    error
	}{
		{"190 on 400", 400, `{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190,"fbtrace_id":"A1"}}`, true, 190, 0, platforms.ErrAuth},
		{"190 message cut short", 400, long[:250], true, 190, 0, platforms.ErrAuth},
		{"190 cut after the codes", 400, long[:len(long)-8], true, 190, 463, platforms.ErrAuth},
		{"rate limit cut short", 403, `{"error":{"message":"(#4) Application request limit reached, please slow do`, true, 4, 0, platforms.ErrRateLimited},
		{"104 no token", 400, `{"error":{"message":"An access token is required","type":"OAuthException","code":104}}`, true, 104, 0, platforms.ErrAuth},
		{"permission 200", 403, `{"error":{"message":"(#200) Permissions error","type":"OAuthException","code":200}}`, true, 200, 0, platforms.ErrAuth},
		{"app limit on 403", 403, `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4}}`, true, 4, 0, platforms.ErrRateLimited},
		{"user limit", 400, `{"error":{"code":17,"message":"(#17) User request limit reached"}}`, true, 17, 0, platforms.ErrRateLimited},
		{"page limit", 400, `{"error":{"code":32}}`, true, 32, 0, platforms.ErrRateLimited},
		{"custom limit", 400, `{"error":{"code":613}}`, true, 613, 0, platforms.ErrRateLimited},
		{"gone object", 400, `{"error":{"message":"Unsupported get request.","type":"GraphMethodException","code":100,"error_subcode":33}}`, true, 100, 33, platforms.ErrNotFound},
		{"deprecated field", 400, `{"error":{"message":"(#12) type field is deprecated for versions v3.3 and higher","type":"OAuthException","code":12}}`, true, 12, 0, nil},
		{"not graph", 500, `{"error":"internal"}`, false, 0, 0, nil},
		{"html", 502, `<html>bad gateway</html>`, false, 0, 0, nil},
		{"no error key", 400, `{"data":[]}`, false, 0, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := graph.ParseError(tc.status, []byte(tc.body))
			if ok != tc.ok {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			if e.Code != tc.code || e.Subcode != tc.subcode {
				t.Errorf("code %d/%d", e.Code, e.Subcode)
			}
			for _, k := range []error{platforms.ErrAuth, platforms.ErrRateLimited, platforms.ErrNotFound} {
				if errors.Is(e, k) != (k == tc.kind) {
					t.Errorf("errors.Is(%v) = %v", k, !(k == tc.kind))
				}
			}
		})
	}
}

func TestFields(t *testing.T) {
	got := graphtest.Fields("id,message,attachments{media_type,media,url,target,subattachments},parent{id}, is_hidden,comments.limit(2){id}")
	want := []string{"id", "message", "attachments", "parent", "is_hidden", "comments"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%v", got)
	}
}

func newFetcher(t *testing.T, base, token string) (*graph.Fetcher, *platformtest.MemBlobs) {
	blobs := &platformtest.MemBlobs{}
	f, err := graph.NewFetcher(platformtest.Client(t, blobs, nil, token), base, token)
	if err != nil {
		t.Fatal(err)
	}
	return f, blobs
}

func TestNext(t *testing.T) {
	f, _ := newFetcher(t, "https://graph.facebook.com/v21.0/", "tok-SECRET")
	cur := f.URL("/1/posts", url.Values{"fields": {"id"}})
	if !strings.HasPrefix(cur, "https://graph.facebook.com/v21.0/1/posts?") || !strings.Contains(cur, "access_token=tok-SECRET") {
		t.Fatalf("URL: %s", cur)
	}
	tests := []struct {
		name    string
		pg      graph.Paging
		want    string // a substring of the next URL; "" = no next
		wantErr error
	}{
		{"last page", graph.Paging{Cursors: &graph.Cursors{After: "X"}}, "", nil},
		{"same host, token put back", graph.Paging{Next: "https://graph.facebook.com/v21.0/1/posts?access_token=%5BREDACTED%5D&after=QQ&fields=id"}, "access_token=tok-SECRET", nil},
		{"foreign host uses the cursor", graph.Paging{Next: "https://evil.example/v21.0/1/posts?after=QQ", Cursors: &graph.Cursors{After: "QQ"}}, "https://graph.facebook.com/v21.0/1/posts?access_token=tok-SECRET&after=QQ&fields=id", nil},
		{"plain http downgrade is foreign", graph.Paging{Next: "http://graph.facebook.com/v21.0/1/posts?after=QQ", Cursors: &graph.Cursors{After: "QQ"}}, "https://graph.facebook.com/", nil},
		{"foreign host without cursor", graph.Paging{Next: "https://evil.example/x"}, "", platforms.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.Next(tc.pg, cur)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v", err)
			}
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("next = %q, want it to hold %q", got, tc.want)
			}
			if strings.Contains(got, "evil") || strings.Contains(got, "REDACTED") {
				t.Errorf("next = %q", got)
			}
		})
	}
}

func TestPagerRefusesLoops(t *testing.T) {
	f, _ := newFetcher(t, "https://graph.facebook.com/v21.0", "tok-SECRET")
	first := f.URL("/1/posts", nil)
	p := f.Pager(first)
	next := graph.Paging{Next: "https://graph.facebook.com/v21.0/1/posts?after=A"}
	if err := p.Advance(next); err != nil {
		t.Fatal(err)
	}
	if err := p.Advance(next); !errors.Is(err, platforms.ErrMalformed) {
		t.Errorf("loop: %v", err)
	}
	if err := f.Pager(first).Advance(graph.Paging{}); err != nil {
		t.Error(err)
	}
}

// TestGetErrorIn200: Graph can answer 200 with an error body.
func TestGetErrorIn200(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Write([]byte(`{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`))
	}))
	defer srv.Close()
	f, _ := newFetcher(t, srv.URL+"/v21.0", "tok-SECRET")
	_, err := f.Get(context.Background(), f.URL("/1", nil))
	var ge *graph.Error
	if !errors.Is(err, platforms.ErrAuth) || !errors.As(err, &ge) || strings.Contains(err.Error(), "tok-SECRET") {
		t.Errorf("err = %v", err)
	}
}

func TestBadAPIBase(t *testing.T) {
	for _, base := range []string{"graph.facebook.com", "ftp://x/v21.0", "https://"} {
		if _, err := graph.NewFetcher(nil, base, ""); err == nil {
			t.Errorf("%q accepted", base)
		}
	}
}

func FuzzParseError(f *testing.F) {
	f.Add(400, []byte(`{"error":{"message":"m","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"A"}}`))
	f.Add(403, []byte(`{"error":{"code":4`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if e, ok := graph.ParseError(status, body); ok {
			_ = e.Error()
			_ = graph.Fatal(e)
		}
	})
}
