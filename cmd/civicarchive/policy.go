package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"time"

	"github.com/spf13/cobra"

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

// newRescreenCmd screens the whole archive again with the current rules
// (after policy.screening_file changed). It may run beside the server: the
// index picks the new flags up by change sequence.
func newRescreenCmd(e *env, sf *settingsFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "rescreen",
		Short: "Screen every archived item again with the current screening rules, adding flags for rules that now fire",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := sf.load(e)
			if err != nil {
				return err
			}
			rules, err := loadScreening(cfg)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			log := newLogger(cfg, io.Discard)
			cat, err := openCatalog(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer cat.Close()
			blobs, err := openBlobs(ctx, cfg)
			if err != nil {
				return err
			}
			start := time.Now()
			items, added, err := newPolicy(cfg, rules, cat, blobs, log).Rescreen(ctx, "cli:rescreen", nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "screened %d items with rules %s (%s): %d new flags in %s\n", items, rules.Label(), rules.Version(),
				added, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}
