package api

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/policy"
	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/records/mail"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// newTestPolicy builds the policy office the way serve does, with the
// embedded screening rules.
func newTestPolicy(cat *storage.Catalog, blobs blob.Store) *policy.Office {
	loc, _ := time.LoadLocation("America/Denver")
	return policy.New(policy.Config{Catalog: cat, Blobs: blobs, Log: slog.New(slog.DiscardHandler), Entity: "Clinton City", CityDomain: "clintoncity.gov",
		CityWebsite: "https://www.clintoncity.gov", PolicyVersion: "2026.1", Location: loc})
}

// newTestOffice builds the records office the way serve does, with Utah's
// law and calendar; sender nil logs e-mail nowhere.
func newTestOffice(tb testing.TB, cat *storage.Catalog, blobs blob.Store, sender mail.Sender, mod ...func(*records.Config)) *records.Office {
	tb.Helper()
	law, err := records.ParseLaw(configs.UtahGRAMA)
	if err != nil {
		tb.Fatal(err)
	}
	if sender == nil {
		sender = mail.NewLog(nil)
	}
	loc, _ := time.LoadLocation("America/Denver")
	cfg := records.Config{Catalog: cat, Blobs: blobs, Law: law, Mail: sender, Location: loc, PublicURL: "http://records.test",
		Entity: records.Entity{Name: "Clinton City", Address: "2267 North 1500 West\nClinton, UT 84015", OfficerName: "Pat Officer",
			OfficerTitle: "City Manager", OfficerAddress: "2267 North 1500 West, Clinton, UT 84015", SignerTitle: "City Recorder"},
		Fees: records.Fees{HourlyRateCents: 2000, CopyPageCents: 25, PrepayThresholdCents: 5000}}
	for _, m := range mod {
		m(&cfg)
	}
	o, err := records.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := o.EnsureCalendar(context.Background(), configs.UtahCalendar, "embedded"); err != nil {
		tb.Fatal(err)
	}
	return o
}
