package storage

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// SchemaMigration records one applied migration.
type SchemaMigration struct {
	Version   int    `gorm:"primaryKey;autoIncrement:false"`
	Name      string `gorm:"size:255;not null"`
	AppliedAt time.Time
}

// migration is one numbered schema step. Steps are append-only: a released
// step is never edited; a change to the schema is a new step. Step 1 creates
// the tables from the current models, so later steps must check before they
// add (Migrator().HasColumn / HasIndex): on a new database step 1 already
// made what they add.
type migration struct {
	version int
	name    string
	up      func(tx *gorm.DB) error
}

var migrations = []migration{
	{1, "initial schema", func(tx *gorm.DB) error {
		// Order matters: referenced tables first.
		err := tx.Migrator().CreateTable(
			&User{}, &APIToken{}, &Session{},
			&Account{}, &Custodian{}, &DesignatedUser{},
			&CaptureRun{}, &ProfileSnapshot{},
			&Item{}, &Version{}, &Media{},
			&Request{}, &Hold{}, &Export{},
			&CustodyEvent{}, &CustodyHead{},
		)
		if err != nil {
			return err
		}
		// The head row exists from the start, so appends only ever lock it.
		return tx.Create(&CustodyHead{ID: 1, Seq: 0, Hash: GenesisHash}).Error
	}},
	{2, "records requests: history, messages, attachments, letters, calendar", func(tx *gorm.DB) error {
		newRequestCols := []string{"Platforms", "Accounts", "NewsMedia", "RequesterKey", "Summary", "ReceivedDate",
			"ExpediteDecision", "ExpediteNoticeDue", "Determination", "RespondedAt", "ClosedAt", "AvailableDate",
			"AppealDeadline", "AppealDecisionDue", "FeeEstimate", "FeeWaiverDecision", "FeeWaiverReason",
			"PrepaymentRequired", "PaidCents", "ReleaseKey", "ReleaseSHA256", "ReleaseSize"}
		if err := addMissingColumns(tx, &Request{}, newRequestCols...); err != nil {
			return err
		}
		if err := addMissingColumns(tx, &Hold{}, "RequestID", "ReleaseReason"); err != nil {
			return err
		}
		for _, ix := range []struct {
			model any
			field string
		}{{&Request{}, "DueDate"}, {&Request{}, "RequesterKey"}, {&Hold{}, "RequestID"}} {
			if !tx.Migrator().HasIndex(ix.model, ix.field) {
				if err := tx.Migrator().CreateIndex(ix.model, ix.field); err != nil {
					return fmt.Errorf("index %s: %w", ix.field, err)
				}
			}
		}
		return createMissingTables(tx, &RequestEvent{}, &RequestMessage{}, &RequestItem{}, &Letter{}, &CalendarVersion{}, &Counter{})
	}},
	{3, "exports' scope and progress, retention rules, dispositions", func(tx *gorm.DB) error {
		if err := addMissingColumns(tx, &Export{}, "Kind", "Query", "HoldID", "RequestID", "ItemsTotal", "ItemsDone"); err != nil {
			return err
		}
		if err := addMissingColumns(tx, &Item{}, "DisposedAt", "DispositionID"); err != nil {
			return err
		}
		for _, ix := range []struct {
			model any
			field string
		}{{&Export{}, "HoldID"}, {&Export{}, "RequestID"}, {&Item{}, "DispositionID"}} {
			if !tx.Migrator().HasIndex(ix.model, ix.field) {
				if err := tx.Migrator().CreateIndex(ix.model, ix.field); err != nil {
					return fmt.Errorf("index %s: %w", ix.field, err)
				}
			}
		}
		// Disposition asks, per blob, whether any kept row still names it.
		for _, ix := range []struct{ table, column string }{
			{"versions", "raw_key"}, {"versions", "normalized_key"}, {"media", "blob_key"},
		} {
			name := "idx_" + ix.table + "_" + ix.column
			if !tx.Migrator().HasIndex(ix.table, name) {
				if err := tx.Exec("CREATE INDEX " + name + " ON " + ix.table + " (" + ix.column + ")").Error; err != nil {
					return fmt.Errorf("index %s: %w", name, err)
				}
			}
		}
		return createMissingTables(tx, &RetentionRule{}, &Disposition{})
	}},
	{4, "social media policy: flags, removal records, work plans, directory contact, authenticity", func(tx *gorm.DB) error {
		if err := addMissingColumns(tx, &Account{}, "ContactName", "ContactEmail", "AuthCheckedAt",
			"AuthOfficial", "AuthEmail", "AuthWebsite", "AuthNote"); err != nil {
			return err
		}
		if err := addMissingColumns(tx, &Custodian{}, "RemovedAt"); err != nil {
			return err
		}
		if err := addMissingColumns(tx, &DesignatedUser{}, "RemovedAt"); err != nil {
			return err
		}
		return createMissingTables(tx, &Flag{}, &Removal{}, &WorkPlan{})
	}},
	{5, "department heads: users' and tokens' department", func(tx *gorm.DB) error {
		if err := addMissingColumns(tx, &User{}, "Department"); err != nil {
			return err
		}
		return addMissingColumns(tx, &APIToken{}, "Department")
	}},
	{6, "capture leases: replicas on one catalog capture each account once", func(tx *gorm.DB) error {
		return createMissingTables(tx, &CaptureLease{})
	}},
	{7, "capture slots: each scheduled capture turn runs once across replicas", func(tx *gorm.DB) error {
		return createMissingTables(tx, &CaptureSlot{})
	}},
	{8, "exports' builder and heartbeat: replicas share exports", func(tx *gorm.DB) error {
		return addMissingColumns(tx, &Export{}, "Holder", "HeartbeatAt")
	}},
}

// createMissingTables creates the models' tables that do not exist yet.
func createMissingTables(tx *gorm.DB, models ...any) error {
	for _, m := range models {
		if tx.Migrator().HasTable(m) {
			continue
		}
		if err := tx.Migrator().CreateTable(m); err != nil {
			return err
		}
	}
	return nil
}

// addMissingColumns adds the model's named fields that the table lacks (on a
// new database step 1 made them from the current model already).
func addMissingColumns(tx *gorm.DB, model any, fields ...string) error {
	for _, f := range fields {
		if tx.Migrator().HasColumn(model, f) {
			continue
		}
		if err := tx.Migrator().AddColumn(model, f); err != nil {
			return fmt.Errorf("add column %s: %w", f, err)
		}
	}
	return nil
}

// SchemaVersion is the newest migration this binary knows.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// Migrate applies pending migrations, each in its own transaction, and
// refuses a database whose schema is newer than this binary.
func (c *Catalog) Migrate(ctx context.Context) error {
	db := c.gdb(ctx)
	if err := db.AutoMigrate(&SchemaMigration{}); err != nil {
		return fmt.Errorf("storage: migrate: create schema_migrations: %w", err)
	}
	if c.dialect == "postgres" {
		// Two replicas starting together must not both run a step.
		return db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(7418267301)").Error; err != nil {
				return fmt.Errorf("storage: migrate: lock: %w", err)
			}
			return c.migrate(tx)
		})
	}
	return c.migrate(db)
}

func (c *Catalog) migrate(db *gorm.DB) error {
	var applied []SchemaMigration
	if err := db.Order("version").Find(&applied).Error; err != nil {
		return fmt.Errorf("storage: migrate: read versions: %w", err)
	}
	done := map[int]bool{}
	for _, a := range applied {
		done[a.Version] = true
		if a.Version > SchemaVersion() {
			return fmt.Errorf("storage: migrate: database schema version %d is newer than this program's %d; run a newer civicarchive", a.Version, SchemaVersion())
		}
	}
	for _, m := range migrations {
		if done[m.version] {
			continue
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := m.up(tx); err != nil {
				return err
			}
			return tx.Create(&SchemaMigration{Version: m.version, Name: m.name, AppliedAt: time.Now().UTC()}).Error
		})
		if err != nil {
			return fmt.Errorf("storage: migrate: step %d (%s): %w", m.version, m.name, err)
		}
		c.log.Info("schema migrated", "version", m.version, "name", m.name)
	}
	return nil
}

// AppliedVersion returns the newest migration recorded in the database.
func (c *Catalog) AppliedVersion(ctx context.Context) (int, error) {
	var v int
	err := c.gdb(ctx).Model(&SchemaMigration{}).Select("COALESCE(MAX(version), 0)").Scan(&v).Error
	return v, err
}
