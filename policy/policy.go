// Package policy serves the city's social media use policy in the product:
// the public directory of official accounts (3.5.6), departments' work
// plans and their approval (1.3, 3.1), designated users and their
// acknowledgments (3.2), custodians (3.5.3), authenticity checks (3.3),
// screening of captured content and the coordinator's review (3.4.3),
// removal records (3.5.4) and repeat violators (3.5.5).
package policy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/civicarchive/civicarchive/screening"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// Config configures an Office.
type Config struct {
	Catalog *storage.Catalog
	Blobs   blob.Store
	// Rules screen captured text; nil uses screening.Default().
	Rules *screening.Engine
	Log   *slog.Logger
	// Entity is the city's name, on removal records' letterhead.
	Entity string
	// CityDomain is the city's e-mail domain (clintoncity.gov); an account's
	// profile must show an address there (3.3.2).
	CityDomain string
	// CityWebsite is the city's website (https://www.clintoncity.gov); the
	// profile must link to it or to a page under it.
	CityWebsite string
	// PolicyVersion is the version of the policy designated users must
	// acknowledge (3.2.2).
	PolicyVersion string
	// Location is the city's time zone, for dates on records.
	Location *time.Location
	Now      func() time.Time
}

// Office does the policy's work.
type Office struct {
	cfg   Config
	cat   *storage.Catalog
	rules *screening.Engine
	log   *slog.Logger
}

// New makes an Office.
func New(cfg Config) *Office {
	if cfg.Rules == nil {
		cfg.Rules = screening.Default()
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.PolicyVersion == "" {
		cfg.PolicyVersion = "1"
	}
	return &Office{cfg: cfg, cat: cfg.Catalog, rules: cfg.Rules, log: cfg.Log}
}

// PolicyVersion is the policy version users must acknowledge.
func (o *Office) PolicyVersion() string { return o.cfg.PolicyVersion }

// Rules returns the screening rules in use.
func (o *Office) Rules() *screening.Engine { return o.rules }

// Screen screens captured text, for the archiver: each hit becomes a flag
// stored with the item's new version.
func (o *Office) Screen(text string) []storage.FlagCapture {
	hits := o.rules.Screen(text)
	if len(hits) == 0 {
		return nil
	}
	out := make([]storage.FlagCapture, len(hits))
	for i, h := range hits {
		out[i] = storage.FlagCapture{Category: h.Category, Rule: h.Rule, Match: clip(h.Match, 255), RulesVersion: o.rules.Version()}
	}
	return out
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// FieldErrors names each bad field of an input and what is wrong with it.
type FieldErrors map[string]string

func (f FieldErrors) Error() string {
	keys := f.Fields()
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + f[k]
	}
	return strings.Join(parts, "; ")
}

// Fields lists the bad fields, sorted.
func (f FieldErrors) Fields() []string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ErrNotFound and ErrConflict are the catalog's, for callers of this package.
var (
	ErrNotFound = storage.ErrNotFound
	ErrConflict = storage.ErrConflict
)

// text checks a free-text field: trimmed, at most max characters, valid
// UTF-8, no control characters but newlines and tabs.
func text(errs FieldErrors, field, v string, required bool, max int) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		errs[field] = "is required"
	case !utf8.ValidString(v):
		errs[field] = "is not valid text"
	case utf8.RuneCountInString(v) > max:
		errs[field] = fmt.Sprintf("is longer than %d characters", max)
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0x7f }):
		errs[field] = "contains control characters"
	}
	return v
}

// email checks an optional e-mail address.
func email(errs FieldErrors, field, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > 320 {
		errs[field] = "is not an e-mail address"
	}
	return v
}

// orNil returns errs, or nil when it is empty.
func orNil(errs FieldErrors) error {
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// IsFieldErrors reports whether err is a FieldErrors.
func IsFieldErrors(err error) (FieldErrors, bool) {
	var fe FieldErrors
	ok := errors.As(err, &fe)
	return fe, ok
}
