package configs

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// validate is cfg.Validate with a panic turned into a test failure, so a
// panicking seed fails its own test rather than the whole package's run.
func validate(t *testing.T, cfg *Config) (err error) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			t.Fatalf("Validate panics: %v", v)
		}
	}()
	return cfg.Validate()
}

// FuzzLoad loads a random settings file the way serve does (Load with an
// empty environment, then Validate).
//
// Properties: neither panics; a bad file is a *SettingError naming the
// file, on one line; a bad setting is a *SettingError naming that
// setting's variable and key, on one line, and never showing a secret's
// value; and a file that loads says exactly what it loaded: writing every
// setting back out as YAML and parsing that gives the same Config.
func FuzzLoad(f *testing.F) {
	f.Add(string(DefaultYAML))
	for _, s := range []string{
		"", "---", "~", "[]", "42", "listen: 127.0.0.1:9000\nlog:\n  level: debug\ns3:\n  bucket: from-file\n", "lisen: 1.2.3.4:80\n",
		"http:\n  read_timeout: [1]\n", "http:\n  read_timeout: soon\n", "http: 5\n", "log.level: debug\n", "data_dir: \"  \"\n",
		"listen: 8080\n", "listen: 127.0.0.1:99999\n", "scheduler: maybe\n", "time_zone: Mars/Olympus\n", "time_zone: ../../etc/passwd\n",
		"database_url: mysql://root:hunter2@db\n", "database_url: postgres://u:hunter2@127.0.0.1/db\n", "secret_key: hunter2hunter2\n",
		"smtp:\n  password: hunter2hunter2\n  port: -1\n", "capture:\n  full_schedule: \"0 3 * * *\"\n", "capture:\n  full_schedule: nonsense\n",
		"capture:\n  full_schedule: \"TZ=UTC\"\n", "capture:\n  incremental_schedule: \"CRON_TZ=America/Denver\"\n",
		"capture:\n  incremental_schedule: \"@every 15m\"\n", "capture:\n  incremental_schedule: \"@0\\r\"\n", "s3:\n  multipart_threshold: 1024\n", "s3:\n  endpoint: ftp://x\n",
		"a: &a [*a]\n", "listen: !!binary aGVsbG8=\n", "listen: \"\\x00\"\n", "? [a]\n: b\n", "listen: 1\nlisten: 2\n",
		"log: {level: debug, format: json}\n", "\t", "key: \"\xff\"\n", strings.Repeat("a:\n ", 50) + "b\n",
	} {
		f.Add(s)
	}
	path := filepath.Join(f.TempDir(), "civicarchive.yaml")
	noEnv := func(string) string { return "" }

	f.Fuzz(func(t *testing.T, doc string) {
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, noEnv)
		if err != nil {
			var se *SettingError
			if !errors.As(err, &se) || !strings.HasPrefix(se.Setting, "--config") || strings.TrimSpace(se.Msg) == "" {
				t.Fatalf("Load(%q): %#v is not a SettingError naming the file", doc, err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("Load(%q): error is not one line: %q", doc, err)
			}
			return
		}

		settings := cfg.Settings()
		if err := validate(t, &cfg); err != nil {
			var se *SettingError
			if !errors.As(err, &se) || strings.TrimSpace(se.Msg) == "" {
				t.Fatalf("Validate after Load(%q): %#v is not a SettingError", doc, err)
			}
			named := false
			for _, s := range settings {
				named = named || se.Setting == s.Env+" ("+s.Key+")"
			}
			if !named || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("Validate after Load(%q): %q does not name one setting on one line", doc, err)
			}
			for _, s := range settings {
				secret := s.String()
				// A short secret, or one with spaces, may be a word of the
				// message itself ("postgres"); look for the others.
				if !s.Secret || len(secret) < 16 || strings.ContainsAny(secret, " \t") || strings.Contains(se.Setting, secret) ||
					!strings.Contains(err.Error(), secret) {
					continue
				}
				shared := false // the same text is also a setting that may be shown
				for _, o := range settings {
					shared = shared || (!o.Secret && strings.Contains(o.String(), secret))
				}
				if !shared {
					t.Fatalf("Validate after Load(%q): the error shows the secret %s: %q", doc, s.Key, err)
				}
			}
		}

		// Every setting written back out parses to the same Config. The
		// values are double-quoted: yaml.v3's own choice of style loses a
		// value of only line breaks.
		doc2 := &yaml.Node{Kind: yaml.MappingNode}
		for _, s := range settings {
			doc2.Content = append(doc2.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: s.Key},
				&yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Value: s.String()})
		}
		out, err := yaml.Marshal(doc2)
		if err != nil {
			t.Fatalf("Load(%q): marshal: %v", doc, err)
		}
		again, err := ParseYAML(out)
		if err != nil {
			t.Fatalf("Load(%q) loaded, but its settings written out do not parse: %v\n%s", doc, err, out)
		}
		if !reflect.DeepEqual(again, cfg) {
			t.Fatalf("Load(%q) = %+v\nwritten out and parsed again: %+v\n%s", doc, cfg, again, out)
		}
	})
}

// TestScheduleWithTimeZoneIsASettingError pins what FuzzLoad found: the
// cron library panics on "TZ=…" or "CRON_TZ=…" with no space after the
// zone (it slices up to the first space without checking there is one),
// so Validate panics instead of naming the setting. serve validates at
// start, so a typo in a schedule is a crash with a stack trace.
func TestScheduleWithTimeZoneIsASettingError(t *testing.T) {
	for _, spec := range []string{"TZ=UTC", "CRON_TZ=America/Denver", "TZ=", "CRON_TZ="} {
		for _, s := range []struct {
			env string
			set func(*Config)
		}{
			{"CIVICARCHIVE_CAPTURE_FULL_SCHEDULE", func(c *Config) { c.Capture.FullSchedule = spec }},
			{"CIVICARCHIVE_CAPTURE_INCREMENTAL_SCHEDULE", func(c *Config) { c.Capture.IncrementalSchedule = spec }},
		} {
			t.Run(s.env+"="+spec, func(t *testing.T) {
				cfg := Defaults()
				s.set(&cfg)
				err := validate(t, &cfg)
				var se *SettingError
				if !errors.As(err, &se) || !strings.Contains(se.Setting, s.env) {
					t.Fatalf("Validate = %v; want a SettingError naming %s", err, s.env)
				}
			})
		}
	}
}

// TestBadScheduleErrorIsOneLine pins the other thing FuzzLoad found: the
// cron library's message repeats an unknown descriptor as typed, so a
// schedule holding a line break ("@daily\n", easy with a YAML block
// scalar) makes a SettingError of several lines, which the type promises
// never to be.
func TestBadScheduleErrorIsOneLine(t *testing.T) {
	for _, spec := range []string{"@0\r", "@daily\n", "@x\nlevel=ERROR msg=forged"} {
		cfg := Defaults()
		cfg.Capture.FullSchedule = spec
		err := validate(t, &cfg)
		var se *SettingError
		if !errors.As(err, &se) || !strings.Contains(se.Setting, "CIVICARCHIVE_CAPTURE_FULL_SCHEDULE") {
			t.Fatalf("%q: Validate = %v; want a SettingError naming the schedule", spec, err)
		}
		if strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("%q: the error is not one line: %q", spec, err)
		}
	}
}
