package configs

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// The shipped default.yaml must say exactly what the code's defaults are, and
// must document every setting, so operators can trust it.
func TestDefaultYAMLMatchesDefaults(t *testing.T) {
	var zero Config
	cfg := zero
	if err := decodeYAML(strings.NewReader(string(DefaultYAML)), &cfg); err != nil {
		t.Fatalf("default.yaml does not parse: %v", err)
	}
	if want := Defaults(); !reflect.DeepEqual(cfg, want) {
		t.Fatalf("default.yaml = %+v\nDefaults() = %+v", cfg, want)
	}
	for _, s := range cfg.Settings() {
		if !strings.Contains(string(DefaultYAML), s.Env) {
			t.Errorf("default.yaml does not document %s (%s)", s.Key, s.Env)
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestLayers(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("listen: 127.0.0.1:9000\nlog:\n  level: debug\ns3:\n  bucket: from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "dburl")
	if err := os.WriteFile(secret, []byte("postgres://u:p@127.0.0.1/db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file, envMap(map[string]string{
		"CIVICARCHIVE_S3_BUCKET":         "from-env",
		"CIVICARCHIVE_HTTP_READ_TIMEOUT": "45s",
		"CIVICARCHIVE_DATABASE_URL_FILE": secret,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9000" {
		t.Errorf("file layer: listen = %q", cfg.Listen)
	}
	if cfg.Log.Level != "debug" {
		t.Errorf("file layer: log.level = %q", cfg.Log.Level)
	}
	if cfg.S3.Bucket != "from-env" {
		t.Errorf("env must win over file: s3.bucket = %q", cfg.S3.Bucket)
	}
	if cfg.HTTP.ReadTimeout != 45*time.Second {
		t.Errorf("env layer: read timeout = %v", cfg.HTTP.ReadTimeout)
	}
	if cfg.DatabaseURL != "postgres://u:p@127.0.0.1/db" || !cfg.Postgres() {
		t.Errorf("_FILE secret: database_url = %q", cfg.DatabaseURL)
	}
	if cfg.DataDir != "./data" {
		t.Errorf("untouched setting lost its default: %q", cfg.DataDir)
	}
}

func TestBadSettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		yaml    string
		mention string
	}{
		{"listen not host:port", map[string]string{"CIVICARCHIVE_LISTEN": "8080"}, "", "CIVICARCHIVE_LISTEN"},
		{"listen port too big", map[string]string{"CIVICARCHIVE_LISTEN": "127.0.0.1:99999"}, "", "CIVICARCHIVE_LISTEN"},
		{"scheduler word", map[string]string{"CIVICARCHIVE_SCHEDULER": "maybe"}, "", "CIVICARCHIVE_SCHEDULER"},
		{"mysql url", map[string]string{"CIVICARCHIVE_DATABASE_URL": "mysql://x"}, "", "CIVICARCHIVE_DATABASE_URL"},
		{"duration", map[string]string{"CIVICARCHIVE_HTTP_READ_TIMEOUT": "soon"}, "", "CIVICARCHIVE_HTTP_READ_TIMEOUT"},
		{"negative duration", map[string]string{"CIVICARCHIVE_HTTP_IDLE_TIMEOUT": "-1s"}, "", "CIVICARCHIVE_HTTP_IDLE_TIMEOUT"},
		{"bool", map[string]string{"CIVICARCHIVE_S3_PATH_STYLE": "yes please"}, "", "CIVICARCHIVE_S3_PATH_STYLE"},
		{"endpoint", map[string]string{"CIVICARCHIVE_S3_ENDPOINT": "ftp://x"}, "", "CIVICARCHIVE_S3_ENDPOINT"},
		{"time zone", map[string]string{"CIVICARCHIVE_TIME_ZONE": "Mars/Olympus"}, "", "CIVICARCHIVE_TIME_ZONE"},
		{"unknown yaml key", nil, "lisen: 1.2.3.4:80\n", "lisen"},
		{"yaml wrong type", nil, "http:\n  read_timeout: [1]\n", "read_timeout"},
		{"empty data dir", map[string]string{}, "data_dir: \"  \"\n", "data_dir"},
		{"multipart below 5MiB", map[string]string{"CIVICARCHIVE_S3_MULTIPART_THRESHOLD": "1024"}, "", "CIVICARCHIVE_S3_MULTIPART_THRESHOLD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = filepath.Join(t.TempDir(), "c.yaml")
				if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := Load(path, envMap(tt.env))
			if err == nil {
				err = cfg.Validate()
			}
			var se *SettingError
			if !errors.As(err, &se) {
				t.Fatalf("want a SettingError, got %v", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.mention) || strings.Contains(msg, "\n") {
				t.Fatalf("error must be one line naming %s: %q", tt.mention, msg)
			}
		})
	}
}

func TestSecretNeverEchoed(t *testing.T) {
	cfg, err := Load("", envMap(map[string]string{"CIVICARCHIVE_DATABASE_URL": "mysql://root:hunter2@db"}))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("validation error must not echo the secret: %v", err)
	}
	for _, s := range cfg.Settings() {
		if s.Key == "database_url" && s.Value() != "[set]" {
			t.Fatalf("secret Value() = %q", s.Value())
		}
	}
}

// The README's config table must list every setting with its real default.
func TestREADMEConfigTable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	for _, s := range cfg.Settings() {
		def := s.String()
		if def == "" {
			def = "(empty)"
		}
		row := "| `" + s.Key + "` | `" + s.Env + "` | `--" + s.Flag + "` | `" + def + "` |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README config table lacks or misstates: %s", row)
		}
	}
}
