package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"slices"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes of Config.TLS.
const (
	TLSStartTLS = "starttls" // plaintext connection upgraded with STARTTLS, which must succeed
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, usually port 465)
	TLSNone     = "none"     // no encryption; for local relays and test servers only
)

// DefaultTimeout bounds each network step of a send when Config.Timeout is 0.
const DefaultTimeout = 30 * time.Second

// Config of the SMTP sender (filled from settings by cmd/).
type Config struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	Username string
	Password string
	From     string // "City Records <records@example.gov>"
	// TLS is "starttls" (default, required), "tls" (implicit) or "none"
	// (only for localhost/test servers).
	TLS     string
	Timeout time.Duration // per network step; 0 means DefaultTimeout
}

// LogValue keeps the password out of logs when a Config is logged.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password != ""),
		slog.String("from", c.From),
		slog.String("tls", c.TLS),
		slog.Duration("timeout", c.Timeout),
	)
}

// SMTP sends messages through an SMTP server, one connection per message.
// It is safe for concurrent use.
type SMTP struct {
	cfg    Config
	from   *mail.Address
	domain string // of From, for Message-ID
	opts   []gomail.Option
	log    *slog.Logger
}

var _ Sender = (*SMTP)(nil)

// NewSMTP checks cfg and returns a sender for it. Errors name the setting
// at fault, e.g. "mail: smtp.from: ...". It does not connect to the server.
func NewSMTP(cfg Config, log *slog.Logger) (*SMTP, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Host = strings.TrimSpace(cfg.Host)
	cfg.TLS = strings.ToLower(strings.TrimSpace(cfg.TLS))
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	from, err := cfg.validate()
	if err != nil {
		return nil, err
	}

	s := &SMTP{cfg: cfg, from: from, domain: from.Address[strings.LastIndexByte(from.Address, '@')+1:], log: log}
	s.opts = s.clientOptions()
	if cfg.TLS == TLSNone && !isLoopback(cfg.Host) {
		log.Warn("smtp.tls is none: mail leaves this host unencrypted", "host", cfg.Host)
	}
	return s, nil
}

// validate checks every setting and returns the parsed From address. All
// problems are reported, one per line.
func (c Config) validate() (*mail.Address, error) {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, fmt.Errorf("mail: %s: %s", setting, fmt.Sprintf(format, args...)))
	}

	from, err := mail.ParseAddress(c.From)
	switch {
	case strings.TrimSpace(c.From) == "":
		bad("smtp.from", "must be set, e.g. \"City Records <records@example.gov>\"")
	case hasLineBreak(c.From):
		bad("smtp.from", "contains a line break")
	case err != nil:
		bad("smtp.from", "%q is not a single e-mail address: %v", c.From, err)
	}

	switch {
	case c.Host == "":
		bad("smtp.host", "must be set")
	case strings.Contains(c.Host, ":"):
		bad("smtp.host", "%q: give the host name only (the port goes in smtp.port)", c.Host)
	case strings.ContainsAny(c.Host, " \t\r\n/@"):
		bad("smtp.host", "%q is not a host name", c.Host)
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("smtp.port", "must be 1-65535 (or 0 for the default of smtp.tls), got %d", c.Port)
	}
	switch c.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		bad("smtp.tls", "%q is not one of %s, %s, %s", c.TLS, TLSStartTLS, TLSImplicit, TLSNone)
	}
	if c.Password != "" && c.Username == "" {
		bad("smtp.username", "must be set when smtp.password is")
	}
	if c.Username != "" && c.TLS == TLSNone && c.Host != "" && !isLoopback(c.Host) {
		bad("smtp.tls", "\"none\" would send smtp.password unencrypted to %s; use starttls or tls", c.Host)
	}
	if c.Timeout < 0 {
		bad("smtp.timeout", "must not be negative, got %v", c.Timeout)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return from, nil
}

// clientOptions translates the checked config into go-mail options; the
// timeout is added per send.
func (s *SMTP) clientOptions() []gomail.Option {
	c := s.cfg
	var opts []gomail.Option
	port := c.Port
	switch c.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		if port == 0 {
			port = gomail.DefaultPortTLS
		}
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
		if port == 0 {
			port = gomail.DefaultPortSSL
		}
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		if port == 0 {
			port = gomail.DefaultPort
		}
	}
	opts = append(opts, gomail.WithPort(port))

	if c.Username != "" {
		// PLAIN is what nearly every submission server offers. go-mail only
		// sends it over TLS; over "none" validate has already limited the
		// host to loopback, where nobody can listen in.
		auth := gomail.SMTPAuthPlain
		if c.TLS == TLSNone {
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth),
			gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	return opts
}

// Send delivers m to the server. The context is checked before connecting
// and its deadline, when sooner than Config.Timeout, bounds each step.
// A message that fails validation returns an error wrapping
// ErrInvalidMessage and nothing is sent.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	timeout := s.cfg.Timeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: send: %w", err)
	}
	if timeout <= 0 {
		return fmt.Errorf("mail: send: %w", context.DeadlineExceeded)
	}

	client, err := gomail.NewClient(s.cfg.Host, append(slices.Clip(s.opts), gomail.WithTimeout(timeout))...)
	if err != nil {
		return fmt.Errorf("mail: smtp client: %w", err)
	}
	start := time.Now()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send via %s: %w", client.ServerAddr(), err)
	}
	s.log.Debug("mail sent", "message_id", msg.GetMessageID(), "duration", time.Since(start))
	return nil
}

// build validates m and turns it into a go-mail message.
func (s *SMTP) build(m Message) (*gomail.Msg, error) {
	to, err := m.validate()
	if err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(randomID() + "@" + s.domain)
	// RFC 3834: tells auto-responders (vacation replies) not to answer.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	for name, value := range m.Headers {
		msg.SetGenHeader(gomail.Header(name), value)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// randomID returns 128 random bits in hex: unique without coordination.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails, see crypto/rand.Read
	return hex.EncodeToString(b[:])
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
