package records

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/civicarchive/civicarchive/records/calendar"
	"github.com/civicarchive/civicarchive/storage"
)

// Platforms a requester may name.
var Platforms = []string{"mastodon", "bluesky", "facebook", "instagram", "youtube", "x", "feed"}

// Delivery formats a requester may ask for.
var DeliveryFormats = []string{"electronic", "paper", "inspection"}

// Filing is what a requester submits (63G-2-204(1) and the form's extras).
type Filing struct {
	Name            string
	Email           string
	EmailConsent    bool // the form's "contact me by e-mail"; the API implies it with an e-mail
	Phone           string
	MailingAddress  string
	Description     string
	DateFrom        string
	DateTo          string
	Platforms       []string
	Accounts        string
	DeliveryFormat  string
	Expedited       bool
	ExpeditedReason string
	NewsMedia       bool
	FeeWaiver       bool
	FeeWaiverBasis  string
}

// FieldErrors maps each bad field to what is wrong with it.
type FieldErrors map[string]string

func (e FieldErrors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + e[k]
	}
	return "records: invalid request: " + strings.Join(parts, "; ")
}

// Validate checks a filing and tidies it (trimmed, defaults set). All
// problems are reported at once.
func (o *Office) Validate(f *Filing) error {
	fe := FieldErrors{}
	text := func(field string, v *string, required bool, max int) {
		*v = strings.TrimSpace(*v)
		switch {
		case !utf8.ValidString(*v):
			fe[field] = "is not valid text"
		case required && *v == "":
			fe[field] = "is required"
		case utf8.RuneCountInString(*v) > max:
			fe[field] = fmt.Sprintf("is too long (at most %d characters)", max)
		case hasControl(*v):
			fe[field] = "contains control characters"
		}
	}
	// One-line fields: a line break in a name would split the letter's
	// address block and salutation.
	line := func(field string, v *string, required bool, max int) {
		text(field, v, required, max)
		if _, bad := fe[field]; !bad && strings.ContainsAny(*v, "\r\n\t") {
			fe[field] = "must be one line (no line breaks or tabs)"
		}
	}
	line("name", &f.Name, true, 255)
	text("mailing_address", &f.MailingAddress, true, 1000)
	line("phone", &f.Phone, true, 64)
	line("email", &f.Email, false, 320)
	text("description", &f.Description, true, o.cfg.MaxDescription)
	text("accounts", &f.Accounts, false, 1000)
	text("expedited_reason", &f.ExpeditedReason, false, 2000)
	text("fee_waiver_basis", &f.FeeWaiverBasis, false, 2000)
	if _, bad := fe["phone"]; !bad && f.Phone != "" && !validPhone(f.Phone) {
		fe["phone"] = "must be a telephone number (7 to 15 digits)"
	}
	if _, bad := fe["email"]; !bad && f.Email != "" {
		if a, err := mail.ParseAddress(f.Email); err != nil || a.Address != f.Email {
			fe["email"] = "must be one e-mail address, like name@example.com"
		} else if !f.EmailConsent {
			fe["email_consent"] = "must be checked to be contacted by e-mail (or leave e-mail empty)"
		}
	}
	checkDates(fe, f)
	// A platform named twice counts once (the stored list has a bounded
	// column).
	var platforms []string
	for _, p := range f.Platforms {
		if !slices.Contains(Platforms, p) {
			fe["platforms"] = fmt.Sprintf("%q is not one of %s", p, strings.Join(Platforms, ", "))
		} else if !slices.Contains(platforms, p) {
			platforms = append(platforms, p)
		}
	}
	if _, bad := fe["platforms"]; !bad {
		f.Platforms = platforms
	}
	if f.DeliveryFormat == "" {
		f.DeliveryFormat = "electronic"
	}
	if !slices.Contains(DeliveryFormats, f.DeliveryFormat) {
		fe["delivery_format"] = "must be one of " + strings.Join(DeliveryFormats, ", ")
	}
	if f.Expedited && f.ExpeditedReason == "" && !f.NewsMedia {
		fe["expedited_reason"] = "is required to ask for a faster response: say how releasing the records benefits the public"
	}
	if f.FeeWaiver && f.FeeWaiverBasis == "" {
		fe["fee_waiver_basis"] = "is required to ask for a fee waiver"
	}
	if len(fe) > 0 {
		return fe
	}
	return nil
}

func checkDates(fe FieldErrors, f *Filing) {
	var from, to time.Time
	for _, d := range []struct {
		field string
		v     *string
		t     *time.Time
	}{{"date_from", &f.DateFrom, &from}, {"date_to", &f.DateTo, &to}} {
		*d.v = strings.TrimSpace(*d.v)
		if *d.v == "" {
			continue
		}
		t, err := calendar.ParseDate(*d.v)
		if err != nil {
			fe[d.field] = "must be a date like 2026-03-31"
			continue
		}
		*d.t = t
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		fe["date_to"] = "must not be before date_from"
	}
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return true
		}
	}
	return false
}

func validPhone(p string) bool {
	digits := 0
	for _, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +-().xext.", r):
		default:
			return false
		}
	}
	return digits >= 7 && digits <= 15
}

// requesterKey identifies a requester across requests without another copy
// of their contact details: a hash of the e-mail, else of the phone digits.
func requesterKey(email, phone string) string {
	k := "phone:" + digits(phone)
	if email != "" {
		k = "email:" + strings.ToLower(email)
	}
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// File validates and stores a new request, received now, and sends the
// receipt. It returns FieldErrors for bad input (nothing is stored then).
func (o *Office) File(ctx context.Context, f Filing, actor string) (*storage.Request, error) {
	if err := o.Validate(&f); err != nil {
		return nil, err
	}
	now := o.cfg.Now().UTC().Truncate(time.Microsecond)
	received := calendar.Day(now, o.cfg.Location)
	cal, err := o.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	r := &storage.Request{
		Name: f.Name, Email: f.Email, Phone: f.Phone, MailingAddress: f.MailingAddress,
		Description: f.Description, DateFrom: f.DateFrom, DateTo: f.DateTo,
		Platforms: strings.Join(f.Platforms, ","), Accounts: f.Accounts,
		Expedited: f.Expedited, ExpeditedReason: f.ExpeditedReason, NewsMedia: f.NewsMedia,
		FeeWaiver: f.FeeWaiver, FeeWaiverBasis: f.FeeWaiverBasis, DeliveryFormat: f.DeliveryFormat,
		RequesterKey: requesterKey(f.Email, f.Phone), Summary: summarize(f),
		ReceivedAt: now, ReceivedDate: date(received), Status: StatusReceived,
	}
	o.applyDeadlines(r, cal)
	first := storage.RequestEvent{Actor: actor, Kind: "filed", ToStatus: StatusReceived, Citation: o.law.RequestCitation,
		Detail: fmt.Sprintf("due %s (%d business days, calendar %s)", r.DueDate, o.responseDays(r), cal.Version)}
	if err := o.cat.CreateRequest(ctx, r, o.law.TrackingPrefix, received.Year(), first); err != nil {
		return nil, err
	}
	o.log.Info("records request filed", "tracking_number", r.TrackingNumber, "due_date", r.DueDate, "expedited", r.Expedited)
	o.sendReceipt(ctx, r)
	return r, nil
}

// responseDays is the response time a request is owed: expedited unless
// expediting was refused.
func (o *Office) responseDays(r *storage.Request) int {
	if r.Expedited && r.ExpediteDecision != "refused" {
		return o.law.Response.ExpeditedBusinessDays
	}
	return o.law.Response.StandardBusinessDays
}

// applyDeadlines sets the due dates of a pending request from its day of
// receipt (day 0) with the given calendar, and names the calendar.
func (o *Office) applyDeadlines(r *storage.Request, cal *calendar.Calendar) {
	received, err := calendar.ParseDate(r.ReceivedDate)
	if err != nil { // a row from before ReceivedDate was kept
		received = calendar.Day(r.ReceivedAt, o.cfg.Location)
		r.ReceivedDate = date(received)
	}
	r.DueDate = date(cal.AddBusinessDays(received, o.responseDays(r)))
	if r.Expedited {
		r.ExpediteNoticeDue = date(cal.AddBusinessDays(received, o.law.Response.ExpediteNoticeBusinessDays))
	}
	r.CalendarVersion = cal.Version
}

// summarize writes the public log's line for a request: what and when, not
// the requester's own words, which may be personal.
func summarize(f Filing) string {
	s := "Official social media records"
	if len(f.Platforms) > 0 {
		s += " (" + strings.Join(f.Platforms, ", ") + ")"
	}
	switch {
	case f.DateFrom != "" && f.DateTo != "":
		s += " from " + f.DateFrom + " to " + f.DateTo
	case f.DateFrom != "":
		s += " from " + f.DateFrom
	case f.DateTo != "":
		s += " until " + f.DateTo
	}
	return s
}

// Lookup returns a request for its requester: the tracking number and the
// e-mail (or, with no e-mail on file, the phone) must both match. Any
// mismatch is ErrNotFound, so the answer tells nothing about which part
// was wrong.
func (o *Office) Lookup(ctx context.Context, tracking, email, phone string) (*storage.Request, error) {
	tracking = strings.ToUpper(strings.TrimSpace(tracking))
	r, err := o.cat.RequestByTracking(ctx, tracking)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	email, phone = strings.ToLower(strings.TrimSpace(email)), digits(phone)
	// The e-mail when one is on file; the phone only for a requester who
	// gave no e-mail (CONTRACT.md).
	var ok bool
	if r.Email != "" {
		ok = email != "" && subtle.ConstantTimeCompare([]byte(strings.ToLower(r.Email)), []byte(email)) == 1
	} else {
		ok = phone != "" && subtle.ConstantTimeCompare([]byte(digits(r.Phone)), []byte(phone)) == 1
	}
	if !ok {
		return nil, ErrNotFound
	}
	return r, nil
}
