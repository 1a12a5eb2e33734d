package configs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Setting is one configurable value: its YAML key, environment variable,
// command-line flag and documentation. Settings returns the table that drives
// the environment layer, the flags, validation and the README's config table.
type Setting struct {
	Key    string // dotted YAML path, e.g. "s3.bucket"
	Env    string // environment variable
	Flag   string // command-line flag of serve
	Usage  string
	Secret bool // may also come from Env+"_FILE"; never printed

	ptr   any
	check func() error
}

// Value returns the setting's current value as text (secrets masked).
func (s Setting) Value() string {
	if s.Secret {
		if s.String() == "" {
			return ""
		}
		return "[set]"
	}
	return s.String()
}

// String returns the setting's current value as text.
func (s Setting) String() string {
	switch p := s.ptr.(type) {
	case *string:
		return *p
	case *int:
		return strconv.Itoa(*p)
	case *int64:
		return strconv.FormatInt(*p, 10)
	case *bool:
		return strconv.FormatBool(*p)
	case *time.Duration:
		return p.String()
	}
	return ""
}

// Set parses text into the setting.
func (s Setting) Set(v string) error { return s.set(v) }

func (s Setting) set(v string) error {
	switch p := s.ptr.(type) {
	case *string:
		*p = v
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*p = n
	case *int64:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*p = b
	case *time.Duration:
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30s or 5m", v)
		}
		*p = d
	default:
		return errors.New("unsupported setting type")
	}
	return nil
}

// Settings lists every setting of c, bound to c's fields.
func (c *Config) Settings() []Setting {
	return []Setting{
		{Key: "data_dir", Env: "CIVICARCHIVE_DATA_DIR", Flag: "data-dir", ptr: &c.DataDir,
			Usage: "directory for the SQLite catalog, local blobs and the search index",
			check: func() error {
				if strings.TrimSpace(c.DataDir) == "" {
					return errors.New("must not be empty")
				}
				return nil
			}},
		{Key: "listen", Env: "CIVICARCHIVE_LISTEN", Flag: "listen", ptr: &c.Listen,
			Usage: "address the web server listens on (host:port; port 0 picks a free one)",
			check: func() error { return checkListen(c.Listen) }},
		{Key: "database_url", Env: "CIVICARCHIVE_DATABASE_URL", Flag: "database-url", ptr: &c.DatabaseURL, Secret: true,
			Usage: "empty: SQLite in the data dir; postgres://user:pass@host/db: PostgreSQL",
			check: func() error { return checkDatabaseURL(c.DatabaseURL) }},
		{Key: "scheduler", Env: "CIVICARCHIVE_SCHEDULER", Flag: "scheduler", ptr: &c.Scheduler,
			Usage: "on: run scheduled captures; off: only captures started through the API",
			check: func() error { return oneOf(c.Scheduler, "on", "off") }},
		{Key: "time_zone", Env: "CIVICARCHIVE_TIME_ZONE", Flag: "time-zone", ptr: &c.TimeZone,
			Usage: "the city's IANA time zone; decides the day a request was received",
			check: func() error {
				if c.TimeZone == "" {
					return errors.New("must not be empty")
				}
				_, err := time.LoadLocation(c.TimeZone)
				if err != nil {
					return fmt.Errorf("%q is not an IANA time zone", c.TimeZone)
				}
				return nil
			}},
		{Key: "log.level", Env: "CIVICARCHIVE_LOG_LEVEL", Flag: "log-level", ptr: &c.Log.Level,
			Usage: "debug, info, warn or error",
			check: func() error { return oneOf(c.Log.Level, "debug", "info", "warn", "error") }},
		{Key: "log.format", Env: "CIVICARCHIVE_LOG_FORMAT", Flag: "log-format", ptr: &c.Log.Format,
			Usage: "text or json",
			check: func() error { return oneOf(c.Log.Format, "text", "json") }},
		{Key: "http.read_timeout", Env: "CIVICARCHIVE_HTTP_READ_TIMEOUT", Flag: "http-read-timeout", ptr: &c.HTTP.ReadTimeout,
			Usage: "longest time to read a whole request", check: func() error { return positive(c.HTTP.ReadTimeout) }},
		{Key: "http.read_header_timeout", Env: "CIVICARCHIVE_HTTP_READ_HEADER_TIMEOUT", Flag: "http-read-header-timeout", ptr: &c.HTTP.ReadHeaderTimeout,
			Usage: "longest time to read request headers", check: func() error { return positive(c.HTTP.ReadHeaderTimeout) }},
		{Key: "http.write_timeout", Env: "CIVICARCHIVE_HTTP_WRITE_TIMEOUT", Flag: "http-write-timeout", ptr: &c.HTTP.WriteTimeout,
			Usage: "longest time to write a response (bundle downloads included)", check: func() error { return positive(c.HTTP.WriteTimeout) }},
		{Key: "http.idle_timeout", Env: "CIVICARCHIVE_HTTP_IDLE_TIMEOUT", Flag: "http-idle-timeout", ptr: &c.HTTP.IdleTimeout,
			Usage: "how long an idle keep-alive connection stays open", check: func() error { return positive(c.HTTP.IdleTimeout) }},
		{Key: "http.shutdown_timeout", Env: "CIVICARCHIVE_HTTP_SHUTDOWN_TIMEOUT", Flag: "http-shutdown-timeout", ptr: &c.HTTP.ShutdownTimeout,
			Usage: "how long shutdown waits for requests in flight", check: func() error { return positive(c.HTTP.ShutdownTimeout) }},
		{Key: "http.max_header_bytes", Env: "CIVICARCHIVE_HTTP_MAX_HEADER_BYTES", Flag: "http-max-header-bytes", ptr: &c.HTTP.MaxHeaderBytes,
			Usage: "largest request header block accepted", check: func() error { return positive(c.HTTP.MaxHeaderBytes) }},
		{Key: "http.max_body_bytes", Env: "CIVICARCHIVE_HTTP_MAX_BODY_BYTES", Flag: "http-max-body-bytes", ptr: &c.HTTP.MaxBodyBytes,
			Usage: "largest request body accepted (413 above)", check: func() error { return positive(c.HTTP.MaxBodyBytes) }},
		{Key: "http.trusted_proxies", Env: "CIVICARCHIVE_HTTP_TRUSTED_PROXIES", Flag: "http-trusted-proxies", ptr: &c.HTTP.TrustedProxies,
			Usage: "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed (per-address limits); empty: none", check: func() error { return checkProxies(c.HTTP.TrustedProxies) }},
		{Key: "database.max_open_conns", Env: "CIVICARCHIVE_DATABASE_MAX_OPEN_CONNS", Flag: "database-max-open-conns", ptr: &c.Database.MaxOpenConns,
			Usage: "connection pool size (PostgreSQL; SQLite uses its own limits)", check: func() error { return positive(c.Database.MaxOpenConns) }},
		{Key: "database.busy_timeout", Env: "CIVICARCHIVE_DATABASE_BUSY_TIMEOUT", Flag: "database-busy-timeout", ptr: &c.Database.BusyTimeout,
			Usage: "how long SQLite waits for a lock before failing", check: func() error { return positive(c.Database.BusyTimeout) }},
		{Key: "s3.endpoint", Env: "CIVICARCHIVE_S3_ENDPOINT", Flag: "s3-endpoint", ptr: &c.S3.Endpoint,
			Usage: "S3 endpoint URL (empty: AWS); for MinIO, versitygw, Ceph", check: func() error { return checkEndpoint(c.S3.Endpoint) }},
		{Key: "s3.bucket", Env: "CIVICARCHIVE_S3_BUCKET", Flag: "s3-bucket", ptr: &c.S3.Bucket,
			Usage: "bucket for blobs; empty keeps blobs in the data dir"},
		{Key: "s3.region", Env: "CIVICARCHIVE_S3_REGION", Flag: "s3-region", ptr: &c.S3.Region,
			Usage: "S3 region", check: func() error {
				if c.S3.Bucket != "" && c.S3.Region == "" {
					return errors.New("must be set when s3.bucket is set")
				}
				return nil
			}},
		{Key: "s3.path_style", Env: "CIVICARCHIVE_S3_PATH_STYLE", Flag: "s3-path-style", ptr: &c.S3.PathStyle,
			Usage: "path-style addressing (needed by most S3-compatible servers)"},
		{Key: "s3.prefix", Env: "CIVICARCHIVE_S3_PREFIX", Flag: "s3-prefix", ptr: &c.S3.Prefix,
			Usage: "key prefix inside the bucket", check: func() error {
				if strings.HasPrefix(c.S3.Prefix, "/") || strings.Contains(c.S3.Prefix, "..") {
					return fmt.Errorf("%q must be relative, without ..", c.S3.Prefix)
				}
				return nil
			}},
		{Key: "s3.retention_days", Env: "CIVICARCHIVE_S3_RETENTION_DAYS", Flag: "s3-retention-days", ptr: &c.S3.RetentionDays,
			Usage: "0: off; N: every new object gets Object Lock COMPLIANCE retention of N days (bucket must have Object Lock)",
			check: func() error {
				if c.S3.RetentionDays < 0 {
					return fmt.Errorf("must be 0 or more, got %d", c.S3.RetentionDays)
				}
				return nil
			}},
		{Key: "s3.multipart_threshold", Env: "CIVICARCHIVE_S3_MULTIPART_THRESHOLD", Flag: "s3-multipart-threshold", ptr: &c.S3.MultipartThreshold,
			Usage: "objects larger than this many bytes upload in parts",
			check: func() error {
				if c.S3.MultipartThreshold < 5<<20 {
					return fmt.Errorf("must be at least 5242880 (S3's smallest part), got %d", c.S3.MultipartThreshold)
				}
				return nil
			}},
		{Key: "auth.session_ttl", Env: "CIVICARCHIVE_AUTH_SESSION_TTL", Flag: "auth-session-ttl", ptr: &c.Auth.SessionTTL,
			Usage: "how long a login session lasts", check: func() error { return positive(c.Auth.SessionTTL) }},
		{Key: "secret_key", Env: "CIVICARCHIVE_SECRET_KEY", Flag: "secret-key", ptr: &c.SecretKey, Secret: true,
			Usage: "key that encrypts platform credentials (64 hex characters); empty: a generated key in DATA_DIR/secret.key",
			check: func() error { return checkSecretKey(c.SecretKey) }},
		{Key: "secret_key_previous", Env: "CIVICARCHIVE_SECRET_KEY_PREVIOUS", Flag: "secret-key-previous", ptr: &c.SecretKeyPrevious, Secret: true,
			Usage: "the key that \"key rotate\" replaced; it only opens credentials, never seals (set it until the server has started once with the new key)",
			check: func() error { return checkSecretKey(c.SecretKeyPrevious) }},
		{Key: "capture.incremental_schedule", Env: "CIVICARCHIVE_CAPTURE_INCREMENTAL_SCHEDULE", Flag: "capture-incremental-schedule", ptr: &c.Capture.IncrementalSchedule,
			Usage: "default cron schedule of incremental captures (new posts, recent comments), in the city's time zone",
			check: func() error { return checkCron(c.Capture.IncrementalSchedule) }},
		{Key: "capture.full_schedule", Env: "CIVICARCHIVE_CAPTURE_FULL_SCHEDULE", Flag: "capture-full-schedule", ptr: &c.Capture.FullSchedule,
			Usage: "default cron schedule of full sweeps (everything still visible; finds edits and deletions), in the city's time zone",
			check: func() error { return checkCron(c.Capture.FullSchedule) }},
		{Key: "capture.concurrency", Env: "CIVICARCHIVE_CAPTURE_CONCURRENCY", Flag: "capture-concurrency", ptr: &c.Capture.Concurrency,
			Usage: "captures that may run at once, across all accounts", check: func() error { return positive(c.Capture.Concurrency) }},
		{Key: "capture.run_timeout", Env: "CIVICARCHIVE_CAPTURE_RUN_TIMEOUT", Flag: "capture-run-timeout", ptr: &c.Capture.RunTimeout,
			Usage: "longest a capture run may take; a run cut off is partial and marks nothing deleted", check: func() error { return positive(c.Capture.RunTimeout) }},
		{Key: "capture.recent_window", Env: "CIVICARCHIVE_CAPTURE_RECENT_WINDOW", Flag: "capture-recent-window", ptr: &c.Capture.RecentWindow,
			Usage: "incremental runs re-read posts (and their comments) this recent", check: func() error { return positive(c.Capture.RecentWindow) }},
		{Key: "capture.per_host_rps", Env: "CIVICARCHIVE_CAPTURE_PER_HOST_RPS", Flag: "capture-per-host-rps", ptr: &c.Capture.PerHostRPS,
			Usage: "requests per second to any one platform host (rate headers and Retry-After slow it further)", check: func() error { return positive(c.Capture.PerHostRPS) }},
		{Key: "capture.max_page_bytes", Env: "CIVICARCHIVE_CAPTURE_MAX_PAGE_BYTES", Flag: "capture-max-page-bytes", ptr: &c.Capture.MaxPageBytes,
			Usage: "largest platform API response accepted; a larger one fails the page", check: func() error { return positive(c.Capture.MaxPageBytes) }},
		{Key: "auth.cookie_secure", Env: "CIVICARCHIVE_AUTH_COOKIE_SECURE", Flag: "auth-cookie-secure", ptr: &c.Auth.CookieSecure,
			Usage: "send session cookies only over HTTPS (set true behind TLS)"},
		{Key: "replica_id", Env: "CIVICARCHIVE_REPLICA_ID", Flag: "replica-id", ptr: &c.ReplicaID,
			Usage: "this process's name in capture leases when several replicas share one catalog; must stay the same across restarts and differ between replicas; empty: the host name and a hash of data_dir",
			check: func() error {
				if len(c.ReplicaID) > 100 || strings.ContainsAny(c.ReplicaID, " \t\r\n") {
					return errors.New("must be at most 100 characters without spaces")
				}
				return nil
			}},
		{Key: "public_url", Env: "CIVICARCHIVE_PUBLIC_URL", Flag: "public-url", ptr: &c.PublicURL,
			Usage: "the site's address as residents reach it, for links in e-mails; empty: http:// and the listen address",
			check: func() error { return checkURL(c.PublicURL) }},
		{Key: "records.entity_name", Env: "CIVICARCHIVE_RECORDS_ENTITY_NAME", Flag: "records-entity-name", ptr: &c.Records.EntityName,
			Usage: "the governmental entity, on letters and pages", check: func() error { return nonEmpty(c.Records.EntityName) }},
		{Key: "records.entity_address", Env: "CIVICARCHIVE_RECORDS_ENTITY_ADDRESS", Flag: "records-entity-address", ptr: &c.Records.EntityAddress,
			Usage: "the entity's business address (letterhead)", check: func() error { return nonEmpty(c.Records.EntityAddress) }},
		{Key: "records.officer_name", Env: "CIVICARCHIVE_RECORDS_OFFICER_NAME", Flag: "records-officer-name", ptr: &c.Records.OfficerName,
			Usage: "name of the chief administrative officer who hears appeals (63G-2-205(2) denial notices)", check: func() error { return nonEmpty(c.Records.OfficerName) }},
		{Key: "records.officer_title", Env: "CIVICARCHIVE_RECORDS_OFFICER_TITLE", Flag: "records-officer-title", ptr: &c.Records.OfficerTitle,
			Usage: "that officer's title", check: func() error { return nonEmpty(c.Records.OfficerTitle) }},
		{Key: "records.officer_address", Env: "CIVICARCHIVE_RECORDS_OFFICER_ADDRESS", Flag: "records-officer-address", ptr: &c.Records.OfficerAddress,
			Usage: "that officer's business address, where appeals go", check: func() error { return nonEmpty(c.Records.OfficerAddress) }},
		{Key: "records.signer_title", Env: "CIVICARCHIVE_RECORDS_SIGNER_TITLE", Flag: "records-signer-title", ptr: &c.Records.SignerTitle,
			Usage: "title under the clerk's name on letters", check: func() error { return nonEmpty(c.Records.SignerTitle) }},
		{Key: "records.law_file", Env: "CIVICARCHIVE_RECORDS_LAW_FILE", Flag: "records-law-file", ptr: &c.Records.LawFile,
			Usage: "law profile YAML (deadlines, citations, notice texts); empty: the embedded Utah GRAMA profile"},
		{Key: "records.calendar_file", Env: "CIVICARCHIVE_RECORDS_CALENDAR_FILE", Flag: "records-calendar-file", ptr: &c.Records.CalendarFile,
			Usage: "holiday calendar YAML installed at start when its version is new; empty: the embedded Utah calendar"},
		{Key: "records.hourly_rate_cents", Env: "CIVICARCHIVE_RECORDS_HOURLY_RATE_CENTS", Flag: "records-hourly-rate-cents", ptr: &c.Records.HourlyRateCents,
			Usage: "staff time fee per hour, in cents (at most the lowest-paid qualified employee's rate, 63G-2-203)", check: func() error { return nonNegative(c.Records.HourlyRateCents) }},
		{Key: "records.copy_page_cents", Env: "CIVICARCHIVE_RECORDS_COPY_PAGE_CENTS", Flag: "records-copy-page-cents", ptr: &c.Records.CopyPageCents,
			Usage: "fee per printed page, in cents", check: func() error { return nonNegative(c.Records.CopyPageCents) }},
		{Key: "records.prepay_threshold_cents", Env: "CIVICARCHIVE_RECORDS_PREPAY_THRESHOLD_CENTS", Flag: "records-prepay-threshold-cents", ptr: &c.Records.PrepayThresholdCents,
			Usage: "estimates above this many cents must be paid before work starts", check: func() error { return nonNegative(c.Records.PrepayThresholdCents) }},
		{Key: "records.forms_per_hour", Env: "CIVICARCHIVE_RECORDS_FORMS_PER_HOUR", Flag: "records-forms-per-hour", ptr: &c.Records.FormsPerHour,
			Usage: "records requests one network address may file per hour", check: func() error { return positive(c.Records.FormsPerHour) }},
		{Key: "records.max_description", Env: "CIVICARCHIVE_RECORDS_MAX_DESCRIPTION", Flag: "records-max-description", ptr: &c.Records.MaxDescription,
			Usage: "longest request description accepted, in characters", check: func() error { return positive(c.Records.MaxDescription) }},
		{Key: "policy.city_domain", Env: "CIVICARCHIVE_POLICY_CITY_DOMAIN", Flag: "policy-city-domain", ptr: &c.Policy.CityDomain,
			Usage: "the city's e-mail domain; an official profile must show an address there (policy 3.3.2)", check: func() error { return hostName(c.Policy.CityDomain) }},
		{Key: "policy.city_website", Env: "CIVICARCHIVE_POLICY_CITY_WEBSITE", Flag: "policy-city-website", ptr: &c.Policy.CityWebsite,
			Usage: "the city's website; an official profile must link to it (policy 3.3.2)", check: func() error { return checkURL(c.Policy.CityWebsite) }},
		{Key: "policy.version", Env: "CIVICARCHIVE_POLICY_VERSION", Flag: "policy-version", ptr: &c.Policy.Version,
			Usage: "version of the social media policy designated users must acknowledge (policy 3.2.2)", check: func() error { return nonEmpty(c.Policy.Version) }},
		{Key: "policy.screening_file", Env: "CIVICARCHIVE_POLICY_SCREENING_FILE", Flag: "policy-screening-file", ptr: &c.Policy.ScreeningFile,
			Usage: "screening rules YAML (word lists and patterns per category A-L of policy 3.4.3); empty: the embedded rules"},
		{Key: "smtp.host", Env: "CIVICARCHIVE_SMTP_HOST", Flag: "smtp-host", ptr: &c.SMTP.Host,
			Usage: "mail server for e-mail to requesters; empty: messages go to the log (development)"},
		{Key: "smtp.port", Env: "CIVICARCHIVE_SMTP_PORT", Flag: "smtp-port", ptr: &c.SMTP.Port,
			Usage: "mail server port", check: func() error { return positive(c.SMTP.Port) }},
		{Key: "smtp.username", Env: "CIVICARCHIVE_SMTP_USERNAME", Flag: "smtp-username", ptr: &c.SMTP.Username,
			Usage: "SMTP AUTH user; empty: no AUTH"},
		{Key: "smtp.password", Env: "CIVICARCHIVE_SMTP_PASSWORD", Flag: "smtp-password", ptr: &c.SMTP.Password, Secret: true,
			Usage: "SMTP AUTH password"},
		{Key: "smtp.from", Env: "CIVICARCHIVE_SMTP_FROM", Flag: "smtp-from", ptr: &c.SMTP.From,
			Usage: "From address of e-mail to requesters", check: func() error { return nonEmpty(c.SMTP.From) }},
		{Key: "smtp.tls", Env: "CIVICARCHIVE_SMTP_TLS", Flag: "smtp-tls", ptr: &c.SMTP.TLS,
			Usage: "starttls (required), tls (implicit) or none (a local relay only)", check: func() error {
				return oneOf(c.SMTP.TLS, "starttls", "tls", "none")
			}},
	}
}
