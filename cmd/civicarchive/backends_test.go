package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/civicarchive/civicarchive/storage/storagetest"
)

func randomName(prefix string) string {
	b := make([]byte, 5)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// TestServeOnBackends starts the real program with blobs in S3 (an
// in-process gofakes3 always; the real S3 server with Object Lock when
// CIVICARCHIVE_TEST_S3_ENDPOINT is set) and the catalog on PostgreSQL when
// CIVICARCHIVE_TEST_DATABASE_URL is set, and checks /readyz sees them.
func TestServeOnBackends(t *testing.T) {
	type setup struct {
		name    string
		env     map[string]string
		catalog string
	}
	fake := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer fake.Close()
	setups := []setup{{"sqlite_gofakes3", map[string]string{
		"CIVICARCHIVE_S3_ENDPOINT": fake.URL, "CIVICARCHIVE_S3_BUCKET": randomName("serve-"), "CIVICARCHIVE_S3_PATH_STYLE": "true",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
	}, "sqlite"}}
	pg, s3 := os.Getenv("CIVICARCHIVE_TEST_DATABASE_URL"), os.Getenv("CIVICARCHIVE_TEST_S3_ENDPOINT")
	if pg != "" && s3 != "" {
		setups = append(setups, setup{"postgres_s3", map[string]string{
			"CIVICARCHIVE_DATABASE_URL": storagetest.PostgresSchemaURL(t, pg),
			"CIVICARCHIVE_S3_ENDPOINT":  s3, "CIVICARCHIVE_S3_BUCKET": randomName("serve-"), "CIVICARCHIVE_S3_PATH_STYLE": "true",
			"CIVICARCHIVE_S3_RETENTION_DAYS": "1",
		}, "postgres"})
	}
	for _, su := range setups {
		t.Run(su.name, func(t *testing.T) {
			su.env["CIVICARCHIVE_DATA_DIR"] = t.TempDir()
			// The AWS SDK reads its credentials from the process environment.
			for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
				if v, ok := su.env[k]; ok {
					t.Setenv(k, v)
				}
			}
			base, stop := startServer(t, su.env)
			code, body := httpGet(t, base+"/readyz", "")
			var ready struct {
				Status string
				Checks map[string]struct{ Status, Backend string }
			}
			json.Unmarshal([]byte(body), &ready)
			if code != 200 || ready.Checks["blobs"].Backend != "s3" || ready.Checks["catalog"].Backend != su.catalog {
				t.Fatalf("/readyz = %d %s", code, body)
			}
			if code, _, errOut := cli(t, su.env, "", "token", "create", "--name", "ops", "--role", "admin"); code != 0 {
				t.Fatalf("token create on %s: %s", su.name, errOut)
			}
			if code, out, _ := cli(t, su.env, "", "custody", "verify"); code != 0 {
				t.Fatalf("custody verify on %s: %d %s", su.name, code, out)
			}
			if code := stop(); code != 0 {
				t.Fatalf("serve exited %d", code)
			}
		})
	}
}
