package main

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// catalogSize is the catalog's size: the database, and each table of the
// bench's schema with its indexes and TOAST.
type catalogSize struct {
	Database int64
	Tables   map[string]int64 // pg_total_relation_size
	Rows     map[string]int64
	Schema   int64 // sum of Tables
}

var countedTables = []string{"items", "versions", "custody_events", "flags", "capture_runs", "accounts"}

func measureCatalog(ctx context.Context, dbURL string) catalogSize {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		fatal("open pg: %v", err)
	}
	defer db.Close()
	cs := catalogSize{Tables: map[string]int64{}, Rows: map[string]int64{}}
	if err := db.QueryRowContext(ctx, "SELECT pg_database_size(current_database())").Scan(&cs.Database); err != nil {
		fatal("pg_database_size: %v", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = current_schema()`)
	if err != nil {
		fatal("table sizes: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var size int64
		if err := rows.Scan(&name, &size); err != nil {
			fatal("%v", err)
		}
		cs.Tables[name] = size
		cs.Schema += size
	}
	for _, t := range countedTables {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			fatal("count %s: %v", t, err)
		}
		cs.Rows[t] = n
	}
	return cs
}

// bucketSize lists the bucket: objects and their bytes.
func bucketSize(ctx context.Context, cli *s3.Client, bucket string) (objects, bytes int64) {
	p := s3.NewListObjectsV2Paginator(cli, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			fatal("list bucket: %v", err)
		}
		for _, o := range page.Contents {
			objects++
			bytes += aws.ToInt64(o.Size)
		}
	}
	return objects, bytes
}

// du is the disk usage of a tree (allocated blocks, as du reports) and its
// apparent size.
func du(dir string) (disk, apparent int64) {
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			disk += st.Blocks * 512
		}
		if !d.IsDir() {
			apparent += info.Size()
		}
		return nil
	})
	return disk, apparent
}

// pgSessions is how many sessions (connections) the database has had
// (pg_stat_database.sessions, PostgreSQL 14 and later; -1 if unknown).
func pgSessions(ctx context.Context, dbURL string) int64 {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return -1
	}
	defer db.Close()
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT sessions FROM pg_stat_database WHERE datname = current_database()").Scan(&n); err != nil {
		return -1
	}
	return n - 1 // this one
}
