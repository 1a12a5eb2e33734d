package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/archiver"
	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/records/calendar"
	"github.com/civicarchive/civicarchive/records/mail"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// recordsSetup is what the records office needs from files and settings,
// read and checked before anything is opened, so a bad file stops the
// program with one line naming its setting.
type recordsSetup struct {
	law       *records.Law
	calendar  []byte
	calSource string
	sender    mail.Sender
}

func loadRecordsSetup(cfg configs.Config, log *slog.Logger) (*recordsSetup, error) {
	const lawSetting = "CIVICARCHIVE_RECORDS_LAW_FILE (records.law_file)"
	const calSetting = "CIVICARCHIVE_RECORDS_CALENDAR_FILE (records.calendar_file)"
	lawBody, err := readOr(cfg.Records.LawFile, configs.UtahGRAMA)
	if err != nil {
		return nil, &configs.SettingError{Setting: lawSetting, Msg: err.Error()}
	}
	law, err := records.ParseLaw(lawBody)
	if err != nil {
		return nil, &configs.SettingError{Setting: lawSetting, Msg: oneLine(err)}
	}
	calBody, err := readOr(cfg.Records.CalendarFile, configs.UtahCalendar)
	if err != nil {
		return nil, &configs.SettingError{Setting: calSetting, Msg: err.Error()}
	}
	if _, err := calendar.Parse(calBody); err != nil {
		return nil, &configs.SettingError{Setting: calSetting, Msg: oneLine(err)}
	}
	rs := &recordsSetup{law: law, calendar: calBody, calSource: "embedded", sender: mail.NewLog(log.With("component", "mail"))}
	if cfg.Records.CalendarFile != "" {
		rs.calSource = cfg.Records.CalendarFile
	}
	if cfg.SMTP.Host != "" {
		s, err := mail.NewSMTP(mail.Config{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username,
			Password: cfg.SMTP.Password, From: cfg.SMTP.From, TLS: cfg.SMTP.TLS}, log.With("component", "mail"))
		if err != nil {
			return nil, &configs.SettingError{Setting: "smtp", Msg: oneLine(err)}
		}
		rs.sender = s
	}
	return rs, nil
}

// oneLine keeps a multi-problem error on the one line a bad setting gets.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// newOffice builds the records office and installs the calendar when its
// version is new.
func newOffice(ctx context.Context, cfg configs.Config, rs *recordsSetup, cat *storage.Catalog, blobs blob.Store, find records.Finder, log *slog.Logger) (*records.Office, error) {
	r := cfg.Records
	office, err := records.New(records.Config{Catalog: cat, Blobs: blobs, Law: rs.law, Mail: rs.sender, Finder: find, Version: version,
		ReplicaID: replicaID(cfg),
		Log:       log.With("component", "records"), Location: cfg.Location(), PublicURL: cfg.PublicURL, MaxDescription: r.MaxDescription,
		Entity: records.Entity{Name: r.EntityName, Address: r.EntityAddress, OfficerName: r.OfficerName,
			OfficerTitle: r.OfficerTitle, OfficerAddress: r.OfficerAddress, SignerTitle: r.SignerTitle},
		Fees: records.Fees{HourlyRateCents: r.HourlyRateCents, CopyPageCents: r.CopyPageCents, PrepayThresholdCents: r.PrepayThresholdCents},
	})
	if err != nil {
		return nil, err
	}
	if err := office.EnsureCalendar(ctx, rs.calendar, rs.calSource); err != nil {
		return nil, err
	}
	if n, err := office.EnsureRetentionDefaults(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		log.Info("retention schedule: defaults installed", "rules", n)
	}
	if n, err := office.FailInterruptedExports(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		log.Warn("exports left running by a stop were marked failed", "count", n)
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

// addRecordsJobs schedules the records office's recurring work: ending the
// holds of denied records once the appeal time has run out, and, with S3
// Object Lock, keeping object legal holds and retention dates in step with
// the holds and the schedule.
func addRecordsJobs(s *archiver.Scheduler, office *records.Office, objectLock bool, log *slog.Logger) error {
	// An export whose replica died while building it is failed, so its
	// requester sees it and starts it again.
	err := s.Add("records.fail_stale_exports", "@every 1m", time.Minute, func(ctx context.Context) error {
		n, err := office.FailStaleExports(ctx)
		if err == nil && n > 0 {
			log.Warn("exports of a replica that stopped answering marked failed", "exports", n)
		}
		return err
	})
	if err != nil {
		return err
	}
	err = s.Add("records.release_expired_holds", "@every 1h", 5*time.Minute, func(ctx context.Context) error {
		n, err := office.ReleaseExpiredHolds(ctx)
		if err == nil && n > 0 {
			log.Info("request holds released: appeal time over", "count", n)
		}
		return err
	})
	if err != nil || !objectLock {
		return err
	}
	return s.Add("records.object_locks", "30 4 * * *", time.Hour, func(ctx context.Context) error {
		holds, err := office.MirrorHolds(ctx)
		if err != nil {
			return err
		}
		locks, err := office.ApplyRetentionLocks(ctx, records.DefaultLockHorizon)
		log.Info("object locks synced", "holds_on", holds.HoldsOn, "holds_off", holds.HoldsOff, "retained", locks.Retained,
			"failed", holds.Failed+locks.Failed)
		return err
	})
}

// objectLock reports whether new blobs go to an S3 bucket with Object Lock.
func objectLock(cfg configs.Config) bool { return cfg.S3.Bucket != "" && cfg.S3.RetentionDays > 0 }
