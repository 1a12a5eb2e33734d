// Package mail sends e-mail to records requesters: over SMTP in production
// (SMTP) or, in development without an SMTP server, to the log (Log).
package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"
)

// Message is one e-mail to a requester.
type Message struct {
	To      string // a single address, e.g. "Ana Pérez <ana@example.com>"
	Subject string
	Text    string // plain-text body, required
	HTML    string // optional HTML alternative of Text

	// Headers are extra header fields, e.g. X-Civicarchive-Request. They
	// may not replace the fields the sender sets itself (From, To, Subject,
	// Date, Message-ID, MIME structure, ...).
	Headers map[string]string
}

// Sender sends messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrInvalidMessage is wrapped by the error Send returns when the message
// itself is unacceptable (bad address, line break in a header, no body).
// Sending it again will not help; nothing was sent.
var ErrInvalidMessage = errors.New("mail: invalid message")

// reserved are header fields set by the sender or that would change who
// receives the message or how it is parsed.
var reserved = map[string]bool{
	"From": true, "Sender": true, "To": true, "Cc": true, "Bcc": true,
	"Reply-To": true, "Return-Path": true, "Subject": true, "Date": true,
	"Message-Id": true, "Auto-Submitted": true, "Mime-Version": true,
	"Content-Type": true, "Content-Transfer-Encoding": true,
	"Content-Disposition": true,
}

// validate checks m and returns the parsed recipient.
func (m Message) validate() (*mail.Address, error) {
	if hasLineBreak(m.To) {
		return nil, invalid("to contains a line break (header injection)")
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, invalid("to %q is not a single e-mail address: %v", m.To, err)
	}
	if strings.TrimSpace(m.Subject) == "" {
		return nil, invalid("subject is empty")
	}
	if hasLineBreak(m.Subject) {
		return nil, invalid("subject contains a line break (header injection)")
	}
	if strings.TrimSpace(m.Text) == "" {
		return nil, invalid("text body is empty")
	}
	for name, value := range m.Headers {
		if !validFieldName(name) {
			return nil, invalid("header name %q is not a valid field name", name)
		}
		if reserved[textproto.CanonicalMIMEHeaderKey(name)] {
			return nil, invalid("header %s is set by the sender and cannot be overridden", name)
		}
		if hasLineBreak(value) {
			return nil, invalid("header %s contains a line break (header injection)", name)
		}
	}
	return to, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidMessage, fmt.Sprintf(format, args...))
}

// hasLineBreak reports whether s could end a header line early and so start
// a header field of its own (header injection). NUL is refused as well:
// servers treat it inconsistently.
func hasLineBreak(s string) bool {
	return strings.ContainsAny(s, "\r\n\x00")
}

// validFieldName reports whether name is an RFC 5322 field name: printable
// US-ASCII except colon.
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}
