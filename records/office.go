// Package records is the city's records office: records requests and the
// GRAMA clock, the clerk's work on them, letters, release bundles and the
// automatic holds of withheld records. It never imports gin or bleve: the
// api package runs searches and hands records the item ids.
package records

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/civicarchive/civicarchive/records/calendar"
	"github.com/civicarchive/civicarchive/records/mail"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// ErrNotFound is returned for a request that does not exist, or whose
// contact details do not match (the two are not told apart).
var ErrNotFound = errors.New("records: no such request")

// ErrNotAllowed is returned for an action the request's status forbids.
var ErrNotAllowed = errors.New("records: not allowed in this status")

// Entity is who the city is on its letters.
type Entity struct {
	Name, Address                             string
	OfficerName, OfficerTitle, OfficerAddress string
	SignerTitle                               string
}

// Fees are the city's fee schedule (63G-2-203: actual cost only).
type Fees struct {
	HourlyRateCents, CopyPageCents, PrepayThresholdCents int64
}

// Config builds an Office.
type Config struct {
	Catalog  *storage.Catalog
	Blobs    blob.Store
	Law      *Law
	Mail     mail.Sender
	Log      *slog.Logger
	Location *time.Location
	Entity   Entity
	Fees     Fees
	// PublicURL is the site's address, for links in e-mails.
	PublicURL string
	// MaxDescription caps a request's description, in characters.
	MaxDescription int
	// Now is the clock (tests set it); default time.Now.
	Now func() time.Time
	// Finder runs an export's search (GET /api/v1/search parameters) to
	// item ids; the api package supplies it. Without it, search exports
	// are refused.
	Finder Finder
	// Version is the software's version, named in export bundles.
	Version string
	// ReplicaID names this process as the builder of its exports, when
	// several replicas share the catalog (see FailInterruptedExports).
	ReplicaID string
	// ExportWorkers bounds the export bundles built at once (default 2).
	ExportWorkers int
}

// Office answers records requests.
type Office struct {
	cfg Config
	cat *storage.Catalog
	law *Law
	log *slog.Logger

	mu     sync.Mutex
	parsed map[string]*calendar.Calendar // by version

	publicURL atomic.Pointer[string]

	exports exportRunner // background builds of export bundles
}

// New builds the office. Call InstallCalendar (or EnsureCalendar) before
// the first request so due dates have a calendar.
func New(cfg Config) (*Office, error) {
	if cfg.Catalog == nil || cfg.Blobs == nil || cfg.Law == nil {
		return nil, errors.New("records: catalog, blobs and law profile are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Mail == nil {
		cfg.Mail = mail.NewLog(cfg.Log)
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxDescription <= 0 {
		cfg.MaxDescription = 10000
	}
	o := &Office{cfg: cfg, cat: cfg.Catalog, law: cfg.Law, log: cfg.Log, parsed: map[string]*calendar.Calendar{}}
	o.SetPublicURL(cfg.PublicURL)
	o.exports.init(cfg.ExportWorkers)
	return o, nil
}

// PublicURL is the site's address as residents reach it, for links in
// letters and e-mail.
func (o *Office) PublicURL() string { return *o.publicURL.Load() }

// SetPublicURL changes it (serve sets it once it knows the address it
// listens on, when none is configured).
func (o *Office) SetPublicURL(u string) {
	u = strings.TrimRight(u, "/")
	o.publicURL.Store(&u)
}

// Law returns the law profile in force.
func (o *Office) Law() *Law { return o.law }

// Entity returns who the city is on letters.
func (o *Office) Entity() Entity { return o.cfg.Entity }

// Location is the city's time zone.
func (o *Office) Location() *time.Location { return o.cfg.Location }

// Today is the city's current civil date.
func (o *Office) Today() time.Time { return calendar.Day(o.cfg.Now(), o.cfg.Location) }

// Calendar returns the holiday calendar in force (the newest installed
// version). Every replica reads the version from the catalog, so a change
// on one is used by all at once.
func (o *Office) Calendar(ctx context.Context) (*calendar.Calendar, error) {
	row, err := o.cat.CurrentCalendar(ctx)
	if err != nil {
		return nil, fmt.Errorf("records: calendar: %w", err)
	}
	return o.parse(row)
}

// CalendarVersion returns a named installed version.
func (o *Office) CalendarVersion(ctx context.Context, version string) (*calendar.Calendar, error) {
	row, err := o.cat.CalendarVersionByName(ctx, version)
	if err != nil {
		return nil, err
	}
	return o.parse(row)
}

func (o *Office) parse(row *storage.CalendarVersion) (*calendar.Calendar, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if c, ok := o.parsed[row.Version]; ok {
		return c, nil
	}
	c, err := calendar.Parse([]byte(row.Body))
	if err != nil {
		return nil, fmt.Errorf("records: installed calendar %s: %w", row.Version, err)
	}
	o.parsed[row.Version] = c
	return c, nil
}

// EnsureCalendar installs the calendar file at start when its version has
// never been installed (re-dating pending requests); a version installed
// before is left as it is, so an operator's later change through the API is
// not undone by a restart.
func (o *Office) EnsureCalendar(ctx context.Context, body []byte, source string) error {
	c, err := calendar.Parse(body)
	if err != nil {
		return fmt.Errorf("records: calendar from %s: %w", source, err)
	}
	if _, err := o.cat.CalendarVersionByName(ctx, c.Version); err == nil {
		return nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	_, err = o.InstallCalendar(ctx, body, source, "system", "calendar "+c.Version+" from "+source)
	if errors.Is(err, storage.ErrConflict) { // another replica installed it first
		return nil
	}
	return err
}

// DueDate answers "received on this day, due when?" with the calendar in
// force.
func (o *Office) DueDate(ctx context.Context, received time.Time, expedited bool) (due time.Time, days int, version string, err error) {
	cal, err := o.Calendar(ctx)
	if err != nil {
		return time.Time{}, 0, "", err
	}
	days = o.law.Response.StandardBusinessDays
	if expedited {
		days = o.law.Response.ExpeditedBusinessDays
	}
	return cal.AddBusinessDays(received, days), days, cal.Version, nil
}

// date formats a civil date.
func date(t time.Time) string { return t.Format("2006-01-02") }
