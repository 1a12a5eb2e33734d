package main

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/policy"
	"github.com/civicarchive/civicarchive/screening"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// loadScreening reads and checks the screening rules before anything is
// opened: a bad rules file stops the program with one line naming its
// setting.
func loadScreening(cfg configs.Config) (*screening.Engine, error) {
	const setting = "CIVICARCHIVE_POLICY_SCREENING_FILE (policy.screening_file)"
	body, err := readOr(cfg.Policy.ScreeningFile, configs.DefaultScreening)
	if err != nil {
		return nil, &configs.SettingError{Setting: setting, Msg: err.Error()}
	}
	rules, err := screening.Load(body)
	if err != nil {
		return nil, &configs.SettingError{Setting: setting, Msg: oneLine(err)}
	}
	return rules, nil
}

// newPolicy builds the policy office.
func newPolicy(cfg configs.Config, rules *screening.Engine, cat *storage.Catalog, blobs blob.Store, log *slog.Logger) *policy.Office {
	return policy.New(policy.Config{Catalog: cat, Blobs: blobs, Rules: rules, Log: log.With("component", "policy"),
		Entity: cfg.Records.EntityName, CityDomain: cfg.Policy.CityDomain, CityWebsite: cfg.Policy.CityWebsite,
		PolicyVersion: cfg.Policy.Version, Location: cfg.Location()})
}

// followPolicy runs the policy office's follower (removal records,
// authenticity checks) until stop is called.
func followPolicy(pol *policy.Office, nudge <-chan struct{}) (stop func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		pol.Follow(ctx, nudge, time.Minute)
	}()
	return func(context.Context) error { cancel(); <-done; return nil }
}

// frameAncestors are the origins allowed to embed the public directory:
// the city's website.
func frameAncestors(cfg configs.Config) []string {
	u, err := url.Parse(cfg.Policy.CityWebsite)
	if err != nil || u.Host == "" {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}
