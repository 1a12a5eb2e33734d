// Package storage is civicarchive's catalog (gorm over SQLite or PostgreSQL:
// accounts, items, versions, runs, requests, holds, exports, users, the
// custody log) and, in storage/blob, its content-addressed blob stores.
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("storage: not found")

// ErrConflict is returned when a row would break a uniqueness rule.
var ErrConflict = errors.New("storage: already exists")

// Options say which database the catalog opens.
type Options struct {
	// URL empty: SQLite file catalog.db in DataDir. postgres://…: PostgreSQL.
	URL          string
	DataDir      string
	BusyTimeout  time.Duration
	MaxOpenConns int
	Logger       *slog.Logger
}

// Catalog is the database of record for everything but blob bytes.
type Catalog struct {
	db      *gorm.DB
	dialect string // "sqlite" or "postgres"
	log     *slog.Logger
}

// Open connects to the catalog and brings its schema up to date. A schema
// newer than this binary knows is refused.
func Open(ctx context.Context, o Options) (*Catalog, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 10 * time.Second
	}
	gcfg := &gorm.Config{
		Logger:         logger.Discard, // our own slog logging; gorm's logger would print SQL with values
		TranslateError: true,
		NowFunc:        func() time.Time { return time.Now().UTC() },
	}
	var (
		dialector gorm.Dialector
		dialect   string
	)
	if strings.HasPrefix(o.URL, "postgres://") || strings.HasPrefix(o.URL, "postgresql://") {
		dialector, dialect = postgres.Open(o.URL), "postgres"
	} else if o.URL == "" {
		if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("storage: create data dir: %w", err)
		}
		dialector, dialect = sqlite.Open(sqliteDSN(filepath.Join(o.DataDir, "catalog.db"), o.BusyTimeout)), "sqlite"
	} else {
		return nil, errors.New("storage: database URL must be empty or postgres://")
	}
	db, err := gorm.Open(dialector, gcfg)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dialect, redactErr(err, o.URL))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dialect, err)
	}
	if dialect == "postgres" && o.MaxOpenConns > 0 {
		sqlDB.SetMaxOpenConns(o.MaxOpenConns)
	}
	c := &Catalog{db: db, dialect: dialect, log: o.Logger}
	if err := c.Ping(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("storage: connect %s: %w", dialect, redactErr(err, o.URL))
	}
	if err := c.Migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return c, nil
}

// sqliteDSN builds the SQLite connection string.
func sqliteDSN(path string, busy time.Duration) string {
	q := url.Values{}
	// WAL lets the web pages read while a capture writes.
	q.Add("_pragma", "journal_mode(WAL)")
	// SQLite ignores foreign keys unless told, per connection.
	q.Add("_pragma", "foreign_keys(1)")
	// Wait for a competing writer instead of failing at once with SQLITE_BUSY.
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	// FULL syncs the WAL at every commit: a committed capture, request or
	// custody event survives a power cut, not only a process crash.
	q.Add("_pragma", "synchronous(FULL)")
	// Take the write lock at BEGIN, so two transactions that read then write
	// queue on the busy timeout instead of one failing on lock upgrade.
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// redactErr keeps a database password out of error text.
func redactErr(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(err.Error(), pw) {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "[REDACTED]"))
	}
	return err
}

// Dialect is "sqlite" or "postgres".
func (c *Catalog) Dialect() string { return c.dialect }

// Ping checks the database answers (readiness).
func (c *Catalog) Ping(ctx context.Context) error {
	sqlDB, err := c.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the connection pool.
func (c *Catalog) Close() error {
	sqlDB, err := c.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Tx runs fn in one transaction; fn's Catalog is bound to it.
func (c *Catalog) Tx(ctx context.Context, fn func(tx *Catalog) error) error {
	return c.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Catalog{db: tx, dialect: c.dialect, log: c.log})
	})
}

// gdb is the context-bound gorm handle every query starts from.
func (c *Catalog) gdb(ctx context.Context) *gorm.DB { return c.db.WithContext(ctx) }

// mapErr turns gorm's error kinds into this package's sentinels.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%w: %v", ErrConflict, err)
	}
	return err
}

var gormNotFound = gorm.ErrRecordNotFound
