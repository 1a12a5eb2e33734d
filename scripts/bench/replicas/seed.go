package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// s3Client is a plain S3 client for the bench's own uploads and listing,
// configured as blob.NewS3 configures the store's.
func s3Client(ctx context.Context, endpoint, key, secret, region string) *s3.Client {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(key, secret, "")),
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	if err != nil {
		fatal("aws config: %v", err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	})
}

// seedStats is what seeding took.
type seedStats struct {
	Items, Versions, Blobs int
	BlobBytes              int64
	Wall                   time.Duration
	Upload, Record         time.Duration // busy time of each stage (they overlap)
}

// seed writes n items into the catalog (RecordItem, 1,000 to a
// transaction) and their blobs into the bucket (PutObject in the store's
// key layout, with its sha256 metadata and checksum, workers at a time).
// Uploading batch k+1 overlaps recording batch k; a batch is recorded only
// once its blobs are all uploaded, as the archiver does.
func seed(ctx context.Context, cat *storage.Catalog, cli *s3.Client, bucket string, n, workers, writers, txItems int, seedv uint64) seedStats {
	var accts []seedAccount
	for _, d := range departments {
		for _, p := range seedPlats {
			h := "clinton" + strings.ToLower(strings.NewReplacer(" ", "", "'", "").Replace(d))
			a := &storage.Account{Platform: p, Handle: h, NativeID: fmt.Sprint(1000 + len(accts)), Department: d,
				DisplayName: "Clinton City " + d, APIBase: "https://" + p + ".example", Status: storage.AccountActive,
				Approval: storage.ApprovalApproved}
			if err := cat.CreateAccount(ctx, a, "bench"); err != nil {
				fatal("create account: %v", err)
			}
			accts = append(accts, seedAccount{id: a.ID, platform: p, handle: h, name: a.DisplayName})
		}
	}
	runs := map[uint64]uint64{}
	for _, a := range accts {
		r, err := cat.StartRun(ctx, a.id, storage.RunFull, "bench")
		if err != nil {
			fatal("start run: %v", err)
		}
		runs[a.id] = r.ID
	}
	tg := newTextGen(seedv)
	nThreads := (n + perThread - 1) / perThread
	type batch struct {
		items []storage.ItemCapture
		blobs []blobData
	}
	var st seedStats
	began := time.Now()
	gen := make(chan batch, 2)
	go func() {
		defer close(gen)
		const threadsPerBatch = 1000 / perThread
		for t0 := 0; t0 < nThreads; t0 += threadsPerBatch {
			var b batch
			for t := t0; t < min(t0+threadsPerBatch, nThreads); t++ {
				items, blobs := tg.seedThread(seedv, t, nThreads, accts)
				for i := range items {
					if t*perThread+i < n {
						items[i].RunID = runs[items[i].AccountID]
						b.items = append(b.items, items[i])
					}
				}
				b.blobs = append(b.blobs, blobs...)
			}
			gen <- b
		}
	}()
	uploaded := make(chan batch, 1)
	go func() {
		defer close(uploaded)
		for b := range gen {
			t0 := time.Now()
			putAll(ctx, cli, bucket, b.blobs, workers)
			st.Upload += time.Since(t0)
			for _, bl := range b.blobs {
				st.BlobBytes += int64(len(bl.b))
			}
			st.Blobs += len(b.blobs)
			uploaded <- b
		}
	}()
	for b := range uploaded {
		t0 := time.Now()
		// Writer w records the threads t with t%writers == w, in order
		// (a comment's parent is recorded before it).
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []storage.ItemCapture
				for i := 0; i < len(b.items); i += perThread {
					if (i/perThread)%writers == w {
						mine = append(mine, b.items[i:min(i+perThread, len(b.items))]...)
					}
				}
				record(ctx, cat, mine, txItems)
			}()
		}
		wg.Wait()
		st.Record += time.Since(t0)
		st.Items += len(b.items)
		for _, in := range b.items {
			st.Versions += len(in.Versions)
		}
		if st.Items%20000 == 0 || st.Items == n {
			fmt.Fprintf(os.Stderr, "  seeded %d items (%.0f items/s)\n", st.Items, float64(st.Items)/time.Since(began).Seconds())
		}
	}
	for _, a := range accts {
		if err := cat.FinishRun(ctx, runs[a.id], storage.RunSucceeded, storage.RunCounts{}, nil, ""); err != nil {
			fatal("finish run: %v", err)
		}
	}
	st.Wall = time.Since(began)
	return st
}

// putAll uploads the blobs, workers at a time, each as blob.S3 stores it
// (key sha256/ab/cd/SUM, metadata sha256, a SHA-256 checksum) but without
// its spool file and HEAD: the bench knows each blob is new.
func putAll(ctx context.Context, cli *s3.Client, bucket string, blobs []blobData, workers int) {
	ch := make(chan blobData)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range ch {
				raw, _ := hex.DecodeString(b.sum)
				_, err := cli.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(b.key),
					Body: bytes.NewReader(b.b), ContentLength: aws.Int64(int64(len(b.b))),
					ContentType:    aws.String("application/octet-stream"),
					ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(raw)),
					Metadata:       map[string]string{"sha256": b.sum}})
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("put %s: %w", b.key, err) })
				}
			}
		}()
	}
	seen := map[string]bool{}
	for _, b := range blobs {
		if !seen[b.key] {
			seen[b.key] = true
			ch <- b
		}
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		fatal("%v", firstErr)
	}
}

// ensureBucket creates the bucket as a replica would (no Object Lock).
func ensureBucket(ctx context.Context, endpoint, bucket, key, secret, region string) {
	s, err := blob.NewS3(ctx, blob.S3Config{Endpoint: endpoint, Bucket: bucket, Region: region, PathStyle: true,
		AccessKeyID: key, SecretAccessKey: secret})
	if err != nil {
		fatal("s3: %v", err)
	}
	if err := s.EnsureBucket(ctx, false); err != nil {
		fatal("create bucket: %v", err)
	}
}

// record records items, txItems to a transaction (1: each RecordItem is
// its own, as in a capture).
func record(ctx context.Context, cat *storage.Catalog, items []storage.ItemCapture, txItems int) {
	for start := 0; start < len(items); start += txItems {
		part := items[start:min(start+txItems, len(items))]
		if len(part) == 1 {
			if _, err := cat.RecordItem(ctx, part[0]); err != nil {
				fatal("record: %v", err)
			}
			continue
		}
		err := cat.Tx(ctx, func(tx *storage.Catalog) error {
			for _, in := range part {
				if _, err := tx.RecordItem(ctx, in); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			fatal("record: %v", err)
		}
	}
}
