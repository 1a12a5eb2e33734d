// Package configs holds civicarchive's settings: the Config struct, its
// embedded defaults (default.yaml, which documents every setting), and the
// loader that layers defaults → YAML file → environment → flags.
package configs

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// DefaultYAML is default.yaml as shipped: every setting with its default
// value and a comment saying what it does.
//
//go:embed default.yaml
var DefaultYAML []byte

// Config is every setting of civicarchive. The zero value is not useful;
// start from Defaults.
type Config struct {
	DataDir     string   `yaml:"data_dir"`
	Listen      string   `yaml:"listen"`
	DatabaseURL string   `yaml:"database_url"`
	Scheduler   string   `yaml:"scheduler"`
	TimeZone    string   `yaml:"time_zone"`
	Log         Log      `yaml:"log"`
	HTTP        HTTP     `yaml:"http"`
	Database    Database `yaml:"database"`
	S3          S3       `yaml:"s3"`
	Auth        Auth     `yaml:"auth"`
	SecretKey   string   `yaml:"secret_key"`
	Capture     Capture  `yaml:"capture"`
	PublicURL   string   `yaml:"public_url"`
	ReplicaID   string   `yaml:"replica_id"`
	Records     Records  `yaml:"records"`
	SMTP        SMTP     `yaml:"smtp"`
	Policy      Policy   `yaml:"policy"`

	// SecretKeyPrevious is a key that only opens credentials: the one
	// `key rotate` replaced, until the server has started with the new one.
	SecretKeyPrevious string `yaml:"secret_key_previous"`
}

// Records configures the records office: who the city is in its letters,
// the law profile and holiday calendar, fees and the public form's limits.
// Policy configures the social media policy's checks (issue 7).
type Policy struct {
	CityDomain    string `yaml:"city_domain"`
	CityWebsite   string `yaml:"city_website"`
	Version       string `yaml:"version"`
	ScreeningFile string `yaml:"screening_file"`
}

type Records struct {
	EntityName           string `yaml:"entity_name"`
	EntityAddress        string `yaml:"entity_address"`
	OfficerName          string `yaml:"officer_name"`
	OfficerTitle         string `yaml:"officer_title"`
	OfficerAddress       string `yaml:"officer_address"`
	SignerTitle          string `yaml:"signer_title"`
	LawFile              string `yaml:"law_file"`
	CalendarFile         string `yaml:"calendar_file"`
	HourlyRateCents      int64  `yaml:"hourly_rate_cents"`
	CopyPageCents        int64  `yaml:"copy_page_cents"`
	PrepayThresholdCents int64  `yaml:"prepay_threshold_cents"`
	FormsPerHour         int    `yaml:"forms_per_hour"`
	MaxDescription       int    `yaml:"max_description"`
}

// SMTP configures outgoing e-mail to requesters. An empty Host writes each
// message to the log instead (development).
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	From     string `yaml:"from"`
	TLS      string `yaml:"tls"`
}

// Capture configures the archiver's schedules and limits.
type Capture struct {
	IncrementalSchedule string        `yaml:"incremental_schedule"`
	FullSchedule        string        `yaml:"full_schedule"`
	Concurrency         int           `yaml:"concurrency"`
	RunTimeout          time.Duration `yaml:"run_timeout"`
	RecentWindow        time.Duration `yaml:"recent_window"`
	PerHostRPS          int           `yaml:"per_host_rps"`
	MaxPageBytes        int64         `yaml:"max_page_bytes"`
}

// Log configures log/slog output.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// HTTP configures the web server's limits and timeouts.
type HTTP struct {
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`
	MaxHeaderBytes    int           `yaml:"max_header_bytes"`
	MaxBodyBytes      int64         `yaml:"max_body_bytes"`
	// TrustedProxies: comma-separated addresses or CIDR ranges of the
	// reverse proxies whose X-Forwarded-For is believed; empty: none.
	TrustedProxies string `yaml:"trusted_proxies"`
}

// TrustedProxyList splits TrustedProxies.
func (h HTTP) TrustedProxyList() []string {
	var out []string
	for _, p := range strings.Split(h.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkProxies accepts addresses and CIDR ranges.
func checkProxies(v string) error {
	for _, p := range (HTTP{TrustedProxies: v}).TrustedProxyList() {
		if _, _, err := net.ParseCIDR(p); err == nil {
			continue
		}
		if net.ParseIP(p) == nil {
			return fmt.Errorf("%q is not an IP address or CIDR range", p)
		}
	}
	return nil
}

// Database configures the catalog connection pool.
type Database struct {
	MaxOpenConns int           `yaml:"max_open_conns"`
	BusyTimeout  time.Duration `yaml:"busy_timeout"`
}

// S3 selects and configures the S3 blob store. An empty Bucket keeps blobs
// in the data directory.
type S3 struct {
	Endpoint           string `yaml:"endpoint"`
	Bucket             string `yaml:"bucket"`
	Region             string `yaml:"region"`
	PathStyle          bool   `yaml:"path_style"`
	Prefix             string `yaml:"prefix"`
	RetentionDays      int    `yaml:"retention_days"`
	MultipartThreshold int64  `yaml:"multipart_threshold"`
}

// Auth configures login sessions.
type Auth struct {
	SessionTTL   time.Duration `yaml:"session_ttl"`
	CookieSecure bool          `yaml:"cookie_secure"`
}

// Defaults returns the embedded defaults: one machine, everything under
// ./data, listening on loopback.
func Defaults() Config {
	return Config{
		DataDir:   "./data",
		Listen:    "127.0.0.1:8080",
		Scheduler: "on",
		TimeZone:  "America/Denver",
		Log:       Log{Level: "info", Format: "text"},
		HTTP: HTTP{
			ReadTimeout:       30 * time.Second,
			ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout:      5 * time.Minute,
			IdleTimeout:       2 * time.Minute,
			ShutdownTimeout:   30 * time.Second,
			MaxHeaderBytes:    64 << 10,
			MaxBodyBytes:      1 << 20,
		},
		Database: Database{MaxOpenConns: 10, BusyTimeout: 10 * time.Second},
		S3:       S3{Region: "us-east-1", MultipartThreshold: 64 << 20},
		Auth:     Auth{SessionTTL: 12 * time.Hour},
		Capture: Capture{
			IncrementalSchedule: "@every 15m",
			FullSchedule:        "0 3 * * *",
			Concurrency:         2,
			RunTimeout:          time.Hour,
			RecentWindow:        72 * time.Hour,
			PerHostRPS:          5,
			MaxPageBytes:        32 << 20,
		},
		Policy: Policy{CityDomain: "clintoncity.gov", CityWebsite: "https://www.clintoncity.gov", Version: "2026.1"},
		Records: Records{
			EntityName:           "Clinton City",
			EntityAddress:        "2267 North 1500 West, Clinton, UT 84015",
			OfficerName:          "City Manager",
			OfficerTitle:         "Chief Administrative Officer",
			OfficerAddress:       "2267 North 1500 West, Clinton, UT 84015",
			SignerTitle:          "Records Officer",
			HourlyRateCents:      2000,
			CopyPageCents:        25,
			PrepayThresholdCents: 5000,
			FormsPerHour:         5,
			MaxDescription:       10000,
		},
		SMTP: SMTP{Port: 587, From: "records@localhost", TLS: "starttls"},
	}
}

// SettingError names one bad setting. Its Error is a single line.
type SettingError struct {
	Setting string // e.g. "CIVICARCHIVE_LISTEN (listen)"
	Msg     string
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("config: bad setting %s: %s", e.Setting, e.Msg)
}

// Load builds the Config in layers: defaults, then the YAML file at path (if
// path is not empty), then the environment read through getenv. Flags are
// applied afterwards by the caller with Set. It does not validate.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Defaults()
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return cfg, &SettingError{Setting: "--config", Msg: err.Error()}
		}
		defer f.Close()
		if err := decodeYAML(f, &cfg); err != nil {
			return cfg, &SettingError{Setting: "--config " + path, Msg: err.Error()}
		}
	}
	for _, s := range cfg.Settings() {
		v, ok, err := lookupEnv(s, getenv)
		if err != nil {
			return cfg, err
		}
		if !ok {
			continue
		}
		if err := s.set(v); err != nil {
			return cfg, &SettingError{Setting: s.Env + " (" + s.Key + ")", Msg: err.Error()}
		}
	}
	return cfg, nil
}

// lookupEnv reads a setting from its variable or, for secrets, from the
// file named by its _FILE variable (so secrets need not sit in the
// environment of every child process).
func lookupEnv(s Setting, getenv func(string) string) (string, bool, error) {
	if v := getenv(s.Env); v != "" {
		return v, true, nil
	}
	if !s.Secret {
		return "", false, nil
	}
	file := getenv(s.Env + "_FILE")
	if file == "" {
		return "", false, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", false, &SettingError{Setting: s.Env + "_FILE", Msg: err.Error()}
	}
	return strings.TrimRight(string(b), "\r\n"), true, nil
}

// decodeYAML applies a YAML document to cfg through the same setting table
// as the environment, so an error names the setting and its line, and a
// misspelt key is an error rather than a silently ignored setting.
func decodeYAML(r io.Reader, cfg *Config) error {
	var doc yaml.Node
	if err := yaml.NewDecoder(r).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return errors.New(strings.ReplaceAll(err.Error(), "\n", " "))
	}
	if len(doc.Content) == 0 {
		return nil
	}
	byKey := map[string]Setting{}
	for _, s := range cfg.Settings() {
		byKey[s.Key] = s
	}
	return applyNode(doc.Content[0], "", byKey)
}

func applyNode(n *yaml.Node, prefix string, byKey map[string]Setting) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s must be a mapping of settings", n.Line, nameOr(prefix, "the document"))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if prefix != "" {
			key = prefix + "." + key
		}
		if v.Kind == yaml.MappingNode {
			if err := applyNode(v, key, byKey); err != nil {
				return err
			}
			continue
		}
		s, ok := byKey[key]
		if !ok {
			return fmt.Errorf("line %d: unknown setting %q", k.Line, key)
		}
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s must be a single value", v.Line, key)
		}
		if err := s.set(v.Value); err != nil {
			return fmt.Errorf("line %d: %s: %v", v.Line, key, err)
		}
	}
	return nil
}

func nameOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// ParseYAML decodes a YAML document over the defaults (used for tests of
// default.yaml and by operators' tooling).
func ParseYAML(b []byte) (Config, error) {
	cfg := Defaults()
	err := decodeYAML(bytes.NewReader(b), &cfg)
	return cfg, err
}

// Validate checks every setting and returns a *SettingError naming the first
// bad one.
func (c *Config) Validate() error {
	for _, s := range c.Settings() {
		if s.check == nil {
			continue
		}
		if err := s.check(); err != nil {
			return &SettingError{Setting: s.Env + " (" + s.Key + ")", Msg: err.Error()}
		}
	}
	return nil
}

// Location is the city's time zone. Call after Validate.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Postgres reports whether the catalog is PostgreSQL rather than SQLite.
func (c *Config) Postgres() bool { return IsPostgresURL(c.DatabaseURL) }

// IsPostgresURL reports whether u selects PostgreSQL.
func IsPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		return fmt.Errorf("%q: host must be an IP address or localhost", addr)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%q: port must be 0-65535", addr)
	}
	return nil
}

func checkDatabaseURL(u string) error {
	if u == "" {
		return nil
	}
	if !IsPostgresURL(u) {
		return errors.New("must be empty (SQLite in the data dir) or a postgres:// URL")
	}
	if _, err := url.Parse(u); err != nil {
		return errors.New("not a valid URL") // never echo the URL: it may hold a password
	}
	return nil
}

func checkEndpoint(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", u)
	}
	return nil
}

func checkSecretKey(k string) error {
	if k == "" {
		return nil
	}
	if b, err := hex.DecodeString(k); err == nil && len(b) == 32 {
		return nil
	}
	if b, err := base64.StdEncoding.DecodeString(k); err == nil && len(b) == 32 {
		return nil
	}
	return errors.New("must be 64 hex characters (or base64 of 32 bytes); generate one with: openssl rand -hex 32")
}

// checkCron accepts a cron schedule the scheduler can run: no time zone
// prefix (schedules run in time_zone), nothing the parser would panic on.
func checkCron(spec string) (err error) {
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return fmt.Errorf("%q: no time zone prefix; schedules run in time_zone", spec)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%q is not a cron schedule", spec)
		}
	}()
	if _, perr := cron.ParseStandard(spec); perr != nil {
		return fmt.Errorf("%q is not a cron schedule: %s", spec, strings.Join(strings.Fields(perr.Error()), " "))
	}
	return nil
}

func oneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
}

func positive[T int | int64 | time.Duration](v T) error {
	if v <= 0 {
		return fmt.Errorf("must be greater than zero, got %v", v)
	}
	return nil
}

func nonNegative[T int | int64](v T) error {
	if v < 0 {
		return fmt.Errorf("must be 0 or more, got %v", v)
	}
	return nil
}

func nonEmpty(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("must not be empty")
	}
	return nil
}

// checkURL accepts empty or an absolute http(s) URL without a query.
func checkURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("%q must be an absolute http:// or https:// address", v)
	}
	return nil
}

// hostName accepts empty or a DNS name such as clintoncity.gov.
func hostName(v string) error {
	if v == "" {
		return nil
	}
	if len(v) > 253 || strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".") || !strings.Contains(v, ".") {
		return fmt.Errorf("%q is not a domain name like clintoncity.gov", v)
	}
	for _, label := range strings.Split(v, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fmt.Errorf("%q is not a domain name like clintoncity.gov", v)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("%q is not a domain name like clintoncity.gov", v)
			}
		}
	}
	return nil
}
