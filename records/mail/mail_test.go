package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/records/mail"
	"github.com/civicarchive/civicarchive/records/mail/mailtest"
)

const wait = 5 * time.Second

// MustSMTP returns a sender for srv over plaintext; edit adjusts the config.
func MustSMTP(tb testing.TB, srv *mailtest.Server, edit func(*mail.Config)) *mail.SMTP {
	tb.Helper()
	host, port := srv.Addr()
	cfg := mail.Config{
		Host: host, Port: port, TLS: mail.TLSNone, Timeout: wait,
		From: "City Records <records@example.gov>",
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := mail.NewSMTP(cfg, nil)
	if err != nil {
		tb.Fatalf("NewSMTP: %v", err)
	}
	return s
}

func TestSMTPSend(t *testing.T) {
	t.Run("text and html arrive decoded", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		s := MustSMTP(t, srv, nil)
		text := "Dear requester,\n\nyour request is ready: https://records.example.gov/requests/42?token=abc=def\n" +
			"A line that is rather long so that quoted-printable has to wrap it somewhere past seventy-six characters.\n"
		m := mail.Message{
			To:      "Ana Example <ana@example.com>",
			Subject: "Your records request REQ-42",
			Text:    text,
			HTML:    `<p>Dear requester,</p><p><a href="https://records.example.gov/requests/42">your request</a> is ready.</p>`,
			Headers: map[string]string{"X-Civicarchive-Request": "REQ-42"},
		}
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}

		got := srv.WaitFor(t, 1, wait)[0]
		if got.Err != nil {
			t.Fatalf("parse: %v\n%s", got.Err, got.Data)
		}
		if got.From != "records@example.gov" {
			t.Errorf("MAIL FROM = %q, want records@example.gov", got.From)
		}
		if len(got.To) != 1 || got.To[0] != "ana@example.com" {
			t.Errorf("RCPT TO = %q, want [ana@example.com]", got.To)
		}
		if got.Subject != m.Subject {
			t.Errorf("Subject = %q, want %q", got.Subject, m.Subject)
		}
		if got.Text != m.Text {
			t.Errorf("Text = %q, want %q", got.Text, m.Text)
		}
		if got.HTML != m.HTML {
			t.Errorf("HTML = %q, want %q", got.HTML, m.HTML)
		}
		h := got.Header
		if v := h.Get("X-Civicarchive-Request"); v != "REQ-42" {
			t.Errorf("X-Civicarchive-Request = %q", v)
		}
		if v := h.Get("Auto-Submitted"); v != "auto-generated" {
			t.Errorf("Auto-Submitted = %q", v)
		}
		if d, err := h.Date(); err != nil || time.Since(d) > time.Minute {
			t.Errorf("Date = %q (%v), want now", h.Get("Date"), err)
		}
		if id := h.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.gov>") {
			t.Errorf("Message-ID = %q, want <...@example.gov>", id)
		}
		if v := h.Get("To"); !strings.Contains(v, "ana@example.com") {
			t.Errorf("To header = %q", v)
		}
		if v := h.Get("User-Agent") + h.Get("X-Mailer"); v != "" {
			t.Errorf("library version advertised: %q", v)
		}
	})

	t.Run("unicode subject and body arrive decoded", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		s := MustSMTP(t, srv, nil)
		m := mail.Message{
			To:      "José Pérez <jose@example.es>",
			Subject: "Solicitud — información pública nº 7",
			Text:    "Estimado José:\n\nSu solicitud de información está lista. ¡Gracias! — 市役所 €\n",
			HTML:    "<p>Su solicitud de información está lista. ¡Gracias!</p>",
		}
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
		got := srv.WaitFor(t, 1, wait)[0]
		if got.Err != nil {
			t.Fatalf("parse: %v", got.Err)
		}
		if got.Subject != m.Subject || got.Text != m.Text || got.HTML != m.HTML {
			t.Errorf("got subject %q text %q html %q, want %q %q %q",
				got.Subject, got.Text, got.HTML, m.Subject, m.Text, m.HTML)
		}
		for _, b := range got.Data {
			if b >= 0x80 {
				t.Fatalf("raw message has 8-bit byte %#x; want it encoded for 7-bit transport", b)
			}
		}
	})

	t.Run("concurrent sends all arrive", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		s := MustSMTP(t, srv, nil)
		var wg sync.WaitGroup
		errs := make(chan error, 5)
		for i := range 5 {
			wg.Go(func() {
				errs <- s.Send(context.Background(), mail.Message{
					To: fmt.Sprintf("r%d@example.com", i), Subject: "s", Text: "t",
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		srv.WaitFor(t, 5, wait)
	})
}

func TestSMTPAuth(t *testing.T) {
	t.Run("right password is accepted", func(t *testing.T) {
		srv := mailtest.NewServer(t, mailtest.WithAuth("clerk", "s3cret pass"))
		s := MustSMTP(t, srv, func(c *mail.Config) { c.Username, c.Password = "clerk", "s3cret pass" })
		if err := s.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "s", Text: "t"}); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got := srv.WaitFor(t, 1, wait)[0]; got.Username != "clerk" {
			t.Errorf("authenticated as %q, want clerk", got.Username)
		}
	})

	for name, edit := range map[string]func(*mail.Config){
		"wrong password is refused": func(c *mail.Config) { c.Username, c.Password = "clerk", "wrong" },
		"no credentials is refused": nil,
	} {
		t.Run(name, func(t *testing.T) {
			srv := mailtest.NewServer(t, mailtest.WithAuth("clerk", "s3cret pass"))
			s := MustSMTP(t, srv, edit)
			err := s.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "s", Text: "t"})
			if err == nil || !strings.HasPrefix(err.Error(), "mail: ") {
				t.Fatalf("Send = %v, want a mail: error", err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error shows the password: %v", err)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server received %d messages, want 0", n)
			}
		})
	}
}

func TestSMTPServerDown(t *testing.T) {
	msg := mail.Message{To: "a@example.com", Subject: "s", Text: "t"}

	t.Run("closed port fails fast", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		s := MustSMTP(t, srv, func(c *mail.Config) { c.Timeout = 2 * time.Second })
		srv.Close()
		start := time.Now()
		if err := s.Send(context.Background(), msg); err == nil {
			t.Fatal("Send to a closed server succeeded")
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Send took %v, want within the 2s timeout", d)
		}
	})

	t.Run("silent server times out", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() { // accept and never greet
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
			}
		}()
		port := ln.Addr().(*net.TCPAddr).Port
		s, err := mail.NewSMTP(mail.Config{
			Host: "127.0.0.1", Port: port, TLS: mail.TLSNone, From: "r@example.gov",
			Timeout: 300 * time.Millisecond,
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := s.Send(context.Background(), msg); err == nil {
			t.Fatal("Send to a silent server succeeded")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Send took %v, want about the 300ms timeout", d)
		}
	})

	t.Run("context deadline bounds the send", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		s := MustSMTP(t, srv, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Send(ctx, msg); !errors.Is(err, context.Canceled) {
			t.Errorf("Send with cancelled context = %v, want context.Canceled", err)
		}
	})

	t.Run("starttls is required, not skipped", func(t *testing.T) {
		srv := mailtest.NewServer(t) // offers no STARTTLS
		s := MustSMTP(t, srv, func(c *mail.Config) { c.TLS = mail.TLSStartTLS })
		err := s.Send(context.Background(), msg)
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("Send = %v, want an error about STARTTLS", err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("server received %d messages over plaintext, want 0", n)
		}
	})
}

func TestSendRefusesInvalidMessage(t *testing.T) {
	good := mail.Message{To: "ana@example.com", Subject: "Request ready", Text: "Hello"}
	tests := []struct {
		name string
		edit func(*mail.Message)
		want string
	}{
		{"CRLF in subject", func(m *mail.Message) { m.Subject = "Hi\r\nBcc: victim@example.org" }, "subject contains a line break"},
		{"LF in subject", func(m *mail.Message) { m.Subject = "Hi\nBcc: victim@example.org" }, "subject contains a line break"},
		{"CRLF in to", func(m *mail.Message) { m.To = "ana@example.com\r\nBcc: victim@example.org" }, "to contains a line break"},
		{"LF in header value", func(m *mail.Message) {
			m.Headers = map[string]string{"X-Civicarchive-Request": "1\nBcc: victim@example.org"}
		}, "header X-Civicarchive-Request contains a line break"},
		{"colon in header name", func(m *mail.Message) { m.Headers = map[string]string{"Bcc: v@example.org\r\nX": "1"} }, "not a valid field name"},
		{"reserved header", func(m *mail.Message) { m.Headers = map[string]string{"bcc": "victim@example.org"} }, "cannot be overridden"},
		{"two recipients", func(m *mail.Message) { m.To = "ana@example.com, victim@example.org" }, "not a single e-mail address"},
		{"not an address", func(m *mail.Message) { m.To = "ana" }, "not a single e-mail address"},
		{"empty subject", func(m *mail.Message) { m.Subject = " " }, "subject is empty"},
		{"no text body", func(m *mail.Message) { m.Text = ""; m.HTML = "<p>hi</p>" }, "text body is empty"},
	}

	srv := mailtest.NewServer(t)
	senders := map[string]mail.Sender{"smtp": MustSMTP(t, srv, nil), "log": mail.NewLog(nil)}
	for sname, s := range senders {
		for _, tt := range tests {
			t.Run(sname+"/"+tt.name, func(t *testing.T) {
				m := good
				tt.edit(&m)
				err := s.Send(context.Background(), m)
				if !errors.Is(err, mail.ErrInvalidMessage) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Send = %v, want ErrInvalidMessage with %q", err, tt.want)
				}
			})
		}
	}

	// Refused messages are refused before connecting, so once a good one
	// has arrived none of them can still be on the way.
	if err := senders["smtp"].Send(context.Background(), good); err != nil {
		t.Fatalf("Send(good): %v", err)
	}
	got := srv.WaitFor(t, 1, wait)
	if len(got) != 1 || got[0].Subject != good.Subject {
		t.Errorf("server received %d messages, want only the valid one", len(got))
	}
	if bytes.Contains(got[0].Data, []byte("victim")) {
		t.Errorf("injected text reached the server:\n%s", got[0].Data)
	}
}

func TestNewSMTPConfigErrors(t *testing.T) {
	ok := mail.Config{Host: "smtp.example.gov", From: "City Records <records@example.gov>"}
	tests := []struct {
		name string
		edit func(*mail.Config)
		want string
	}{
		{"from missing", func(c *mail.Config) { c.From = "" }, "mail: smtp.from: must be set"},
		{"from invalid", func(c *mail.Config) { c.From = "City Records" }, "mail: smtp.from: "},
		{"from two addresses", func(c *mail.Config) { c.From = "a@example.gov, b@example.gov" }, "mail: smtp.from: "},
		{"from line break", func(c *mail.Config) { c.From = "a@example.gov\r\nBcc: x@example.org" }, "mail: smtp.from: contains a line break"},
		{"host missing", func(c *mail.Config) { c.Host = "" }, "mail: smtp.host: must be set"},
		{"host with port", func(c *mail.Config) { c.Host = "smtp.example.gov:587" }, "mail: smtp.host: "},
		{"port out of range", func(c *mail.Config) { c.Port = 70000 }, "mail: smtp.port: "},
		{"tls unknown", func(c *mail.Config) { c.TLS = "ssl" }, `mail: smtp.tls: "ssl" is not one of starttls, tls, none`},
		{"password without username", func(c *mail.Config) { c.Password = "hunter2-secret" }, "mail: smtp.username: "},
		{"password in the clear", func(c *mail.Config) {
			c.TLS, c.Username, c.Password = mail.TLSNone, "clerk", "hunter2-secret"
		}, "mail: smtp.tls: "},
		{"negative timeout", func(c *mail.Config) { c.Timeout = -time.Second }, "mail: smtp.timeout: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			s, err := mail.NewSMTP(cfg, nil)
			if err == nil || s != nil {
				t.Fatalf("NewSMTP = %v, %v; want an error", s, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %q", err)
			}
		})
	}

	t.Run("all problems are reported", func(t *testing.T) {
		_, err := mail.NewSMTP(mail.Config{TLS: "ssl"}, nil)
		for _, want := range []string{"smtp.from", "smtp.host", "smtp.tls"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error = %v, want it to name %s", err, want)
			}
		}
	})

	t.Run("defaults and loopback without tls are accepted", func(t *testing.T) {
		for _, cfg := range []mail.Config{
			ok,
			{Host: "smtp.example.gov", From: "records@example.gov", TLS: "TLS", Username: "u", Password: "p"},
			{Host: "localhost", From: "records@example.gov", TLS: "none", Username: "u", Password: "p"},
			{Host: "127.0.0.1", From: "records@example.gov", TLS: "none", Port: 1025},
			{Host: "mailpit", From: "records@example.gov", TLS: "none"},
		} {
			if _, err := mail.NewSMTP(cfg, nil); err != nil {
				t.Errorf("NewSMTP(%v): %v", cfg, err)
			}
		}
	})
}

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := mail.Message{
		To:      "ana@example.com",
		Subject: "Solicitud — información",
		Text:    "Open https://records.example.gov/r/42",
		Headers: map[string]string{"X-Civicarchive-Request": "REQ-42"},
	}
	if err := mail.NewLog(log).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	out := buf.String()
	for _, want := range []string{"would send", `"to":"ana@example.com"`, `"subject":"Solicitud — información"`,
		"https://records.example.gov/r/42", "REQ-42"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestPasswordNeverLogged(t *testing.T) {
	const password = "hunter2-secret"
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := mailtest.NewServer(t, mailtest.WithAuth("clerk", password))
	host, port := srv.Addr()
	cfg := mail.Config{
		Host: host, Port: port, TLS: mail.TLSNone, Username: "clerk", Password: password,
		From: "records@example.gov", Timeout: wait,
	}
	s, err := mail.NewSMTP(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	log.Info("config", "smtp", cfg) // as cmd/ might log it
	mail.NewLog(log).Send(context.Background(), mail.Message{To: "a@example.com", Subject: "s", Text: "t"})

	out := buf.String()
	if !strings.Contains(out, "mail sent") || !strings.Contains(out, "password_set=true") {
		t.Errorf("expected log lines missing:\n%s", out)
	}
	if strings.Contains(out, password) {
		t.Errorf("log shows the password:\n%s", out)
	}
}
