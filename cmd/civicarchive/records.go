package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/civicarchive/civicarchive/archiver"
	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/records/mail"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// newOffice builds the records office: the law profile, the holiday
// calendar (installed when its version is new), e-mail, and who the city
// is on its letters.
func newOffice(ctx context.Context, cfg configs.Config, cat *storage.Catalog, blobs blob.Store, log *slog.Logger) (*records.Office, error) {
	lawBody, err := readOr(cfg.Records.LawFile, configs.UtahGRAMA)
	if err != nil {
		return nil, &configs.SettingError{Setting: "CIVICARCHIVE_RECORDS_LAW_FILE (records.law_file)", Msg: err.Error()}
	}
	law, err := records.ParseLaw(lawBody)
	if err != nil {
		return nil, &configs.SettingError{Setting: "CIVICARCHIVE_RECORDS_LAW_FILE (records.law_file)", Msg: err.Error()}
	}
	var sender mail.Sender = mail.NewLog(log.With("component", "mail"))
	if cfg.SMTP.Host != "" {
		s, err := mail.NewSMTP(mail.Config{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username,
			Password: cfg.SMTP.Password, From: cfg.SMTP.From, TLS: cfg.SMTP.TLS}, log.With("component", "mail"))
		if err != nil {
			return nil, &configs.SettingError{Setting: "smtp", Msg: err.Error()}
		}
		sender = s
	}
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = "http://" + cfg.Listen
	}
	r := cfg.Records
	office, err := records.New(records.Config{Catalog: cat, Blobs: blobs, Law: law, Mail: sender,
		Log: log.With("component", "records"), Location: cfg.Location(), PublicURL: publicURL, MaxDescription: r.MaxDescription,
		Entity: records.Entity{Name: r.EntityName, Address: r.EntityAddress, OfficerName: r.OfficerName,
			OfficerTitle: r.OfficerTitle, OfficerAddress: r.OfficerAddress, SignerTitle: r.SignerTitle},
		Fees: records.Fees{HourlyRateCents: r.HourlyRateCents, CopyPageCents: r.CopyPageCents, PrepayThresholdCents: r.PrepayThresholdCents},
	})
	if err != nil {
		return nil, err
	}
	calBody, err := readOr(r.CalendarFile, configs.UtahCalendar)
	if err != nil {
		return nil, &configs.SettingError{Setting: "CIVICARCHIVE_RECORDS_CALENDAR_FILE (records.calendar_file)", Msg: err.Error()}
	}
	source := "embedded"
	if r.CalendarFile != "" {
		source = r.CalendarFile
	}
	if err := office.EnsureCalendar(ctx, calBody, source); err != nil {
		return nil, &configs.SettingError{Setting: "CIVICARCHIVE_RECORDS_CALENDAR_FILE (records.calendar_file)", Msg: err.Error()}
	}
	return office, nil
}

// readOr reads path, or returns the embedded default when path is empty.
func readOr(path string, embedded []byte) ([]byte, error) {
	if path == "" {
		return embedded, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	return b, nil
}

// addRecordsJobs schedules the records office's daily work: ending the
// holds of denied records once the appeal time has run out.
func addRecordsJobs(s *archiver.Scheduler, office *records.Office, log *slog.Logger) error {
	return s.Add("records.release_expired_holds", "@every 1h", 5*time.Minute, func(ctx context.Context) error {
		n, err := office.ReleaseExpiredHolds(ctx)
		if err == nil && n > 0 {
			log.Info("request holds released: appeal time over", "count", n)
		}
		return err
	})
}
