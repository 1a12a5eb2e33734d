package api

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"testing"
)

func newJar() http.CookieJar {
	j, _ := cookiejar.New(nil)
	return j
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return string(b)
}
