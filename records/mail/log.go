package mail

import (
	"context"
	"log/slog"
	"maps"
	"slices"
)

// Log is the development sender used when smtp.host is not set: it checks
// each message like SMTP does, then logs it instead of sending it, so
// links in e-mails can be followed from the log.
type Log struct {
	log *slog.Logger
}

var _ Sender = (*Log)(nil)

// NewLog returns a sender that logs messages to log.
func NewLog(log *slog.Logger) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Log{log: log}
}

// Send logs m at info level. It returns an error wrapping
// ErrInvalidMessage for a message SMTP would refuse.
func (l *Log) Send(ctx context.Context, m Message) error {
	if _, err := m.validate(); err != nil {
		return err
	}
	attrs := []slog.Attr{
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("text", m.Text),
		slog.Bool("html", m.HTML != ""),
	}
	if len(m.Headers) > 0 {
		var headers []slog.Attr
		for _, name := range slices.Sorted(maps.Keys(m.Headers)) {
			headers = append(headers, slog.String(name, m.Headers[name]))
		}
		attrs = append(attrs, slog.Attr{Key: "headers", Value: slog.GroupValue(headers...)})
	}
	l.log.LogAttrs(ctx, slog.LevelInfo, "mail not sent (no smtp.host): would send", attrs...)
	return nil
}
