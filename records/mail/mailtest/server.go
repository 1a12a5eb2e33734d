// Package mailtest runs a real SMTP server on 127.0.0.1 for tests, so code
// that sends e-mail can be tested end to end: what the server received is
// available raw and decoded (subject, plain text, HTML).
package mailtest

import (
	"errors"
	"io"
	"log"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Server is an SMTP server listening on 127.0.0.1 that records every message
// it accepts. It is safe for concurrent use and closes on tb.Cleanup.
type Server struct {
	host string
	port int
	ln   net.Listener
	smtp *smtp.Server
	done chan struct{} // closed when Serve has returned

	// username and password, when set, make AUTH PLAIN mandatory.
	username, password string

	mu       sync.Mutex
	received []Received
	arrived  chan struct{} // closed and replaced on every new message
}

// Option configures a Server.
type Option func(*Server)

// WithAuth makes the server advertise AUTH PLAIN (over plaintext, as it only
// listens on loopback) and refuse MAIL FROM until the client authenticated
// with exactly this username and password.
func WithAuth(username, password string) Option {
	return func(s *Server) { s.username, s.password = username, password }
}

// NewServer starts a server on 127.0.0.1 on a free port. It is closed when
// the test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{arrived: make(chan struct{}), done: make(chan struct{})}
	for _, opt := range opts {
		opt(s)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("mailtest: listen: %v", err)
	}
	host, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		tb.Fatalf("mailtest: listener address: %v", err)
	}
	s.host = host
	s.port, _ = strconv.Atoi(port)

	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{server: s}, nil
	}))
	srv.Domain = "mailtest.localhost"
	srv.AllowInsecureAuth = true // loopback only; lets clients use PLAIN without TLS
	srv.EnableSMTPUTF8 = true
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 50
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	// The server may log from its own goroutines after the test ended,
	// where tb.Logf would panic.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.ln, s.smtp = ln, srv

	go func() {
		defer close(s.done)
		_ = srv.Serve(ln)
	}()
	tb.Cleanup(s.Close)
	return s
}

// Addr returns the host (always "127.0.0.1") and port the server listens on.
func (s *Server) Addr() (host string, port int) { return s.host, s.port }

// Close stops the server and drops open connections; later connections are
// refused. Tests may call it to simulate a mail server that is down. It is
// safe to call more than once.
func (s *Server) Close() {
	if err := s.smtp.Close(); errors.Is(err, smtp.ErrServerClosed) {
		return
	}
	// Serve registers the listener with the server only once it runs; if
	// it has not yet, closing the listener here is what stops it.
	_ = s.ln.Close()
	<-s.done
}

// Messages returns a copy of the messages received so far, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, len(s.received))
	for i, r := range s.received {
		out[i] = r.clone()
	}
	return out
}

// WaitFor waits until the server has received at least n messages and
// returns all of them. It fails the test if that takes longer than timeout.
// Like tb.Fatal, it must be called from the test's goroutine.
func (s *Server) WaitFor(tb testing.TB, n int, timeout time.Duration) []Received {
	tb.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		got, arrived := len(s.received), s.arrived
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-arrived:
		case <-timer.C:
			tb.Fatalf("mailtest: received %d message(s) within %v, want %d", got, timeout, n)
			return nil
		}
	}
}

func (s *Server) add(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, r)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// session is one SMTP connection. go-smtp calls it from a single goroutine.
type session struct {
	server   *Server
	username string // authenticated user, "" if none
	from     string
	to       []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.server.username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.server.username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return smtp.ErrAuthFailed
		}
		if username != ss.server.username || password != ss.server.password {
			return smtp.ErrAuthFailed
		}
		ss.username = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.server.username != "" && ss.username == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	rec := Received{From: ss.from, To: slices.Clone(ss.to), Username: ss.username, Data: data}
	rec.parse()
	ss.server.add(rec)
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
}

func (ss *session) Logout() error { return nil }
