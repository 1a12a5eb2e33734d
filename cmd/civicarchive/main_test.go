package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/civicarchive/civicarchive/storage"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite"
)

// TestMain lets the test binary act as the real civicarchive binary when
// re-executed with CIVICARCHIVE_TEST_AS_MAIN=1, so tests can run the program
// as a separate process and signal it.
func TestMain(m *testing.M) {
	if os.Getenv("CIVICARCHIVE_TEST_AS_MAIN") == "1" {
		os.Args = append([]string{"civicarchive"}, strings.Fields(os.Getenv("CIVICARCHIVE_TEST_ARGS"))...)
		main()
		return
	}
	os.Exit(m.Run())
}

// cli runs one command in-process and returns its exit status and output.
func cli(t *testing.T, envVars map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return envVars[k] }, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// startServer runs `civicarchive serve` in-process on port 0 and returns its
// base URL and a stop function that waits for a clean exit.
func startServer(t *testing.T, envVars map[string]string) (string, func() int) {
	t.Helper()
	base, stop, _ := startServerLogs(t, envVars)
	return base, stop
}

// startServerLogs is startServer that also hands back the server's log.
func startServerLogs(t *testing.T, envVars map[string]string) (string, func() int, *syncWriter) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan int, 1)
	logs := &syncWriter{w: &bytes.Buffer{}}
	e := &env{getenv: func(k string) string { return envVars[k] }, stdin: strings.NewReader(""), stdout: io.Discard, stderr: logs,
		ready: func(a string) { addrc <- a }}
	go func() { done <- runEnv(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, e) }()
	select {
	case a := <-addrc:
		stopped := false
		stop := func() int {
			if stopped {
				return 0
			}
			stopped = true
			cancel()
			return <-done
		}
		t.Cleanup(func() { stop() })
		return "http://" + a, stop, logs
	case code := <-done:
		cancel()
		t.Fatalf("serve exited with %d before listening: %s", code, logs.String())
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("serve did not start listening within 60s")
	}
	return "", nil, nil
}

func httpGet(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The path a new operator takes: start with nothing but a data dir, check the
// probes, make a token and a user, use the token, verify the custody log.
func TestServeOnEmbeddedDefaults(t *testing.T) {
	data := t.TempDir()
	envVars := map[string]string{"CIVICARCHIVE_DATA_DIR": data}
	base, stop := startServer(t, envVars)

	if code, body := httpGet(t, base+"/healthz", ""); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("/healthz = %d %s", code, body)
	}
	code, body := httpGet(t, base+"/readyz", "")
	var ready struct {
		Status string
		Checks map[string]struct{ Status, Backend string }
	}
	json.Unmarshal([]byte(body), &ready)
	if code != 200 || ready.Status != "ready" || ready.Checks["catalog"].Backend != "sqlite" || ready.Checks["blobs"].Backend != "local" || ready.Checks["index"].Status != "ok" {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	if code, body := httpGet(t, base+"/metrics", ""); code != 200 || !strings.Contains(body, "civicarchive_build_info") {
		t.Fatalf("/metrics = %d", code)
	}
	for _, p := range []string{"catalog.db", "blobs", "index"} {
		if _, err := os.Stat(filepath.Join(data, p)); err != nil {
			t.Errorf("data dir lacks %s: %v", p, err)
		}
	}

	// token create prints the token as the last line; the token works on the API.
	code, out, errOut := cli(t, envVars, "", "token", "create", "--name", "clerk laptop", "--role", "clerk")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	if code, body := httpGet(t, base+"/api/v1/me", token); code != 200 || !strings.Contains(body, `"role":"clerk"`) {
		t.Fatalf("/api/v1/me with the new token = %d %s", code, body)
	}
	if code, _ := httpGet(t, base+"/api/v1/users", token); code != 403 {
		t.Fatalf("clerk listing users = %d; want 403", code)
	}

	// user create reads the password from standard input.
	if code, out, errOut := cli(t, envVars, "correct horse battery staple\n", "user", "create", "--username", "rclerk", "--role", "clerk"); code != 0 || !strings.Contains(out, "Created user rclerk") {
		t.Fatalf("user create: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := cli(t, envVars, "short\n", "user", "create", "--username", "x", "--role", "clerk"); code != 1 || !strings.Contains(errOut, "at least") {
		t.Fatalf("short password: %d %s", code, errOut)
	}

	// The holiday calendar and the default retention rules installed at
	// first start and both creations are custody events; the chain verifies.
	want := fmt.Sprintf("intact: %d events", 1+len(storage.DefaultRetentionRules())+2)
	if code, out, _ := cli(t, envVars, "", "custody", "verify"); code != 0 || !strings.Contains(out, want) {
		t.Fatalf("custody verify = %d %q", code, out)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exited %d after shutdown; want 0", code)
	}
}

func TestCustodyVerifyFindsEditedRow(t *testing.T) {
	data := t.TempDir()
	envVars := map[string]string{"CIVICARCHIVE_DATA_DIR": data}
	for i := 0; i < 3; i++ {
		if code, _, e := cli(t, envVars, "", "token", "create", "--name", fmt.Sprint("t", i), "--role", "legal"); code != 0 {
			t.Fatal(e)
		}
	}
	// Someone with file access edits one event behind the program's back.
	db, err := sql.Open("sqlite", filepath.Join(data, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE custody_events SET actor = 'cli:mallory' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, _, errOut := cli(t, envVars, "", "custody", "verify")
	if code != 1 || !strings.Contains(errOut, "event 2") {
		t.Fatalf("custody verify after an edit = %d %q; want 1 naming event 2", code, errOut)
	}
}

func TestBadSettingExits2WithOneLine(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		mention string
	}{
		{"listen", map[string]string{"CIVICARCHIVE_LISTEN": "not-an-address"}, []string{"serve"}, "CIVICARCHIVE_LISTEN"},
		{"scheduler", map[string]string{"CIVICARCHIVE_SCHEDULER": "sometimes"}, []string{"serve"}, "CIVICARCHIVE_SCHEDULER"},
		{"database url", map[string]string{"CIVICARCHIVE_DATABASE_URL": "mysql://root:pw@db/x"}, []string{"serve"}, "CIVICARCHIVE_DATABASE_URL"},
		{"flag", nil, []string{"serve", "--http-read-timeout", "forever"}, "--http-read-timeout"},
		{"missing config file", nil, []string{"serve", "--config", "/nonexistent/civicarchive.yaml"}, "--config"},
		{"unknown flag", nil, []string{"serve", "--lisen", "x"}, "lisen"},
		{"token role", nil, []string{"token", "create", "--name", "x", "--role", "janitor"}, "--role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env == nil {
				tt.env = map[string]string{}
			}
			tt.env["CIVICARCHIVE_DATA_DIR"] = t.TempDir()
			code, _, errOut := cli(t, tt.env, "", tt.args...)
			if code != 2 {
				t.Fatalf("exit %d; want 2 (stderr %q)", code, errOut)
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, tt.mention) {
				t.Fatalf("stderr %q: want one line naming %s", errOut, tt.mention)
			}
			if strings.Contains(errOut, ":pw@") {
				t.Fatal("the error echoes a database password")
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	code, out, _ := cli(t, nil, "", "--version")
	if code != 0 || !strings.HasPrefix(out, "civicarchive ") {
		t.Fatalf("--version = %d %q", code, out)
	}
}

// The real process: started as a child on port 0, stopped with SIGTERM, it
// shuts down in reverse order of start and exits 0.
func TestProcessGracefulShutdown(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CIVICARCHIVE_TEST_AS_MAIN=1", "CIVICARCHIVE_TEST_ARGS=serve",
		"CIVICARCHIVE_DATA_DIR="+t.TempDir(), "CIVICARCHIVE_LISTEN=127.0.0.1:0", "CIVICARCHIVE_LOG_FORMAT=json")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	var url string
	urlRE := regexp.MustCompile(`"url":"(http://[^"]+)"`)
	for sc.Scan() {
		if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
			break
		}
	}
	if url == "" {
		t.Fatal("the process never said where it listens")
	}
	if code, _ := httpGet(t, url+"/healthz", ""); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	var stopped []string
	compRE := regexp.MustCompile(`"msg":"stopped".*"component":"([a-z]+)"`)
	for sc.Scan() {
		if m := compRE.FindStringSubmatch(sc.Text()); m != nil {
			stopped = append(stopped, m[1])
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; want status 0", err)
	}
	if got := strings.Join(stopped, ","); got != "http,scheduler,records,archiver,policy,indexer,index,catalog" {
		t.Fatalf("stop order = %s; want http,scheduler,records,archiver,policy,indexer,index,catalog", got)
	}
}

// syncWriter lets the server goroutine log while the test reads.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// String returns everything written so far.
func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.w)
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
