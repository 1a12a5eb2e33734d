package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/records/mail/mailtest"
)

// The real program, configured only through its settings, files a request
// and e-mails the receipt through a real SMTP server, with the city's
// letterhead and a calendar file of the operator's.
func TestServeRecordsRequestWithSMTPAndCalendarFile(t *testing.T) {
	smtp := mailtest.NewServer(t)
	host, port := smtp.Addr()
	dir := t.TempDir()
	cal := strings.Replace(string(configs.UtahCalendar), "version: utah-2026.1", "version: city-2026.7", 1)
	calFile := filepath.Join(dir, "holidays.yaml")
	if err := os.WriteFile(calFile, []byte(cal), 0o600); err != nil {
		t.Fatal(err)
	}
	envVars := map[string]string{
		"CIVICARCHIVE_DATA_DIR": filepath.Join(dir, "data"), "CIVICARCHIVE_SCHEDULER": "off",
		"CIVICARCHIVE_SMTP_HOST": host, "CIVICARCHIVE_SMTP_PORT": strconv.Itoa(port), "CIVICARCHIVE_SMTP_TLS": "none",
		"CIVICARCHIVE_SMTP_FROM":  "Clinton City Recorder <records@clinton.example>",
		"CIVICARCHIVE_PUBLIC_URL": "https://records.clinton.example", "CIVICARCHIVE_RECORDS_CALENDAR_FILE": calFile,
	}
	base, stop := startServer(t, envVars)
	resp, err := http.Post(base+"/api/v1/requests", "application/json", strings.NewReader(
		`{"name":"Ana","email":"ana@example.com","phone":"8015550100","mailing_address":"1 Main St","description":"parade comments"}`))
	if err != nil {
		t.Fatal(err)
	}
	var filed map[string]string
	json.NewDecoder(resp.Body).Decode(&filed)
	resp.Body.Close()
	if resp.StatusCode != 201 || filed["calendar_version"] != "city-2026.7" {
		t.Fatalf("file: %d %v", resp.StatusCode, filed)
	}
	m := smtp.WaitFor(t, 1, 10*time.Second)[0]
	if m.To[0] != "ana@example.com" || !strings.Contains(m.Subject, filed["tracking_number"]) ||
		!strings.Contains(m.Text, "Response due by: "+filed["due_date"]) ||
		!strings.Contains(m.Text, "https://records.clinton.example/requests/status?tracking_number="+filed["tracking_number"]) {
		t.Errorf("receipt e-mail: to %v subject %q\n%s", m.To, m.Subject, m.Text)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	// A restart with the same file installs nothing new.
	base, stop = startServer(t, envVars)
	if code, body := httpGet(t, base+"/api/v1/calendar", ""); code != 200 || !strings.Contains(body, `"version":"city-2026.7"`) || strings.Count(body, `"installed_by"`) != 1 {
		t.Errorf("calendar after restart: %d %s", code, body)
	}
	stop()
}

func TestServeRefusesBadRecordsSettings(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"calendar file missing": {"CIVICARCHIVE_RECORDS_CALENDAR_FILE": "/nonexistent/holidays.yaml"},
		"smtp tls":              {"CIVICARCHIVE_SMTP_HOST": "mail.example", "CIVICARCHIVE_SMTP_TLS": "ssl"},
		"law file broken":       {"CIVICARCHIVE_RECORDS_LAW_FILE": "/dev/null"},
	} {
		t.Run(name, func(t *testing.T) {
			env["CIVICARCHIVE_DATA_DIR"] = t.TempDir()
			code, _, errOut := cli(t, env, "", "serve", "--listen", "127.0.0.1:0")
			if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Fatalf("exit %d, stderr %q; want 2 and one line", code, errOut)
			}
		})
	}
}

func TestDefaultPublicURL(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		"0.0.0.0:8080":   "http://localhost:8080",
		"[::]:9000":      "http://localhost:9000",
		"[::1]:9000":     "http://[::1]:9000",
	} {
		if got := defaultPublicURL(addr, log); got != want {
			t.Errorf("defaultPublicURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
