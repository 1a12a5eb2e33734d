package blob

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// DefaultMultipartThreshold is the size from which S3.Put uploads in parts.
const DefaultMultipartThreshold int64 = 64 << 20

// metaSHA256 is the user-metadata key (x-amz-meta-sha256) that records the
// content hash on each object, so the object describes itself even when
// copied out of this key layout.
const metaSHA256 = "sha256"

// S3Config configures an S3 store.
type S3Config struct {
	// Endpoint is the server's base URL; empty means AWS's default endpoint.
	Endpoint string
	// Bucket holds the blobs. Required.
	Bucket string
	// Region defaults to the SDK's (AWS_REGION, shared config), else
	// "us-east-1".
	Region string
	// PathStyle addresses the bucket in the path, not the host name, as most
	// self-hosted servers (MinIO, versitygw, Ceph) need.
	PathStyle bool
	// Prefix is an optional key prefix inside the bucket; a "/" is added if
	// it has none.
	Prefix string
	// RetentionDays, when > 0, gives every new object Object Lock COMPLIANCE
	// retention of that many days. The bucket must have Object Lock enabled.
	RetentionDays int
	// MultipartThreshold is the size from which uploads go multipart through
	// the transfer manager; 0 means DefaultMultipartThreshold.
	MultipartThreshold int64
	// TempDir is where Put spools the stream to learn its hash before
	// uploading; empty means os.TempDir().
	TempDir string
	// AccessKeyID and SecretAccessKey are optional static credentials; empty
	// means the SDK's default chain (AWS_ACCESS_KEY_ID, shared files, roles).
	AccessKeyID, SecretAccessKey string
}

// S3 is a Store in an S3 bucket. Objects are named Prefix + key and carry
// their SHA-256 in metadata; with RetentionDays set they are also locked.
type S3 struct {
	client        *s3.Client
	uploader      *transfermanager.Client
	bucket        string
	prefix        string
	region        string
	retentionDays int
	threshold     int64
	tempDir       string
}

var _ Store = (*S3)(nil)

// NewS3 returns an S3 store for cfg. It does not contact the server; call
// Check or EnsureBucket for that.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("blob: open s3: bucket is required")
	}
	if cfg.MultipartThreshold < 0 || cfg.RetentionDays < 0 {
		return nil, errors.New("blob: open s3: negative MultipartThreshold or RetentionDays")
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return nil, errors.New("blob: open s3: give both AccessKeyID and SecretAccessKey, or neither")
	}
	opts := []func(*config.LoadOptions) error{
		config.WithDefaultRegion("us-east-1"),
		// Since early 2025 the SDK by default sends CRC checksums (often as
		// aws-chunked trailers) on every upload and validates them on every
		// download; many S3-compatible servers reject or mangle those. We ask
		// for checksums explicitly where we want them (SHA-256 on uploads)
		// and verify downloads ourselves against the key.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("blob: open s3: load aws config: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	s := &S3{
		client:        client,
		bucket:        cfg.Bucket,
		prefix:        normalizePrefix(cfg.Prefix),
		region:        awsCfg.Region,
		retentionDays: cfg.RetentionDays,
		threshold:     cmp0(cfg.MultipartThreshold, DefaultMultipartThreshold),
		tempDir:       cfg.TempDir,
	}
	s.uploader = transfermanager.New(client, func(o *transfermanager.Options) {
		// The transfer manager decides single vs multipart by its own
		// threshold; keep it equal to ours.
		o.MultipartUploadThreshold = s.threshold
		// Every part carries a SHA-256 checksum: the server verifies each
		// part, and Object Lock uploads require a checksum.
		o.ChecksumAlgorithm = tmtypes.ChecksumAlgorithmSha256
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
	return s, nil
}

// Name returns "s3".
func (s *S3) Name() string { return "s3" }

// Put stores the content of r; see Store.Put. The stream is spooled to a
// temp file first, because the key (its hash) must be known before upload.
func (s *S3) Put(ctx context.Context, r io.Reader) (Ref, bool, error) {
	f, err := os.CreateTemp(s.tempDir, "civicarchive-blob-*")
	if err != nil {
		return Ref{}, false, fmt.Errorf("blob: put: %w", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	sum, size, err := spool(ctx, f, r)
	if err != nil {
		return Ref{}, false, fmt.Errorf("blob: put: spool: %w", err)
	}
	ref := Ref{Key: KeyFor(sum), SHA256: sum, Size: size}

	// Content addressing makes an existing object under this key the same
	// bytes: skip the upload. A race with another Put of the same bytes is
	// settled by If-None-Match below, and is harmless even where a server
	// ignores that header (it writes identical bytes).
	switch _, err := s.head(ctx, ref.Key); {
	case err == nil:
		return ref, false, nil
	case !errors.Is(err, ErrNotFound):
		return Ref{}, false, fmt.Errorf("blob: put %s: %w", ref.Key, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Ref{}, false, fmt.Errorf("blob: put %s: %w", ref.Key, err)
	}
	created, err := s.upload(ctx, f, ref)
	if err != nil {
		return Ref{}, false, fmt.Errorf("blob: put %s: %w", ref.Key, err)
	}
	return ref, created, nil
}

// upload sends body (ref's content) with PutObject below the multipart
// threshold and through the transfer manager above it.
func (s *S3) upload(ctx context.Context, body *os.File, ref Ref) (created bool, err error) {
	var until *time.Time
	if s.retentionDays > 0 {
		until = aws.Time(time.Now().UTC().AddDate(0, 0, s.retentionDays))
	}
	key := aws.String(s.objectKey(ref.Key))
	meta := map[string]string{metaSHA256: ref.SHA256}
	if ref.Size < s.threshold {
		raw, _ := hex.DecodeString(ref.SHA256)
		in := &s3.PutObjectInput{
			Bucket:        aws.String(s.bucket),
			Key:           key,
			Body:          body,
			ContentLength: aws.Int64(ref.Size),
			ContentType:   aws.String("application/octet-stream"),
			// We already know the SHA-256: the server checks the bytes it
			// got against it, and Object Lock PUTs require a checksum.
			ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(raw)),
			IfNoneMatch:    aws.String("*"),
			Metadata:       meta,
		}
		if until != nil {
			in.ObjectLockMode = types.ObjectLockModeCompliance
			in.ObjectLockRetainUntilDate = until
		}
		_, err = s.client.PutObject(ctx, in)
	} else {
		in := &transfermanager.UploadObjectInput{
			Bucket:        aws.String(s.bucket),
			Key:           key,
			Body:          body,
			ContentLength: aws.Int64(ref.Size),
			ContentType:   aws.String("application/octet-stream"),
			IfNoneMatch:   aws.String("*"),
			Metadata:      meta,
		}
		if until != nil {
			in.ObjectLockMode = tmtypes.ObjectLockModeCompliance
			in.ObjectLockRetainUntilDate = until
		}
		_, err = s.uploader.UploadObject(ctx, in)
	}
	if isPreconditionFailed(err) {
		return false, nil // a concurrent Put of the same bytes won
	}
	return err == nil, err
}

// Get streams the blob under key; see Store.Get.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	sum, err := ParseKey(key)
	if err != nil {
		return nil, fmt.Errorf("blob: get: %w", err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.objectKey(key)),
	})
	if err != nil {
		return nil, fmt.Errorf("blob: get %s: %w", key, mapNotFound(err))
	}
	size := int64(-1)
	if out.ContentLength != nil {
		size = *out.ContentLength
	}
	return newVerifyingReader(out.Body, key, sum, size), nil
}

// Stat returns the Ref of the blob under key; see Store.Stat.
func (s *S3) Stat(ctx context.Context, key string) (Ref, error) {
	sum, err := ParseKey(key)
	if err != nil {
		return Ref{}, fmt.Errorf("blob: stat: %w", err)
	}
	out, err := s.head(ctx, key)
	if err != nil {
		return Ref{}, fmt.Errorf("blob: stat %s: %w", key, err)
	}
	if got, ok := out.Metadata[metaSHA256]; ok && got != sum {
		return Ref{}, fmt.Errorf("blob: stat %s: %w (metadata says sha256 %s)", key, ErrCorrupt, got)
	}
	return Ref{Key: key, SHA256: sum, Size: aws.ToInt64(out.ContentLength)}, nil
}

// head returns the object's metadata, or an error wrapping ErrNotFound.
func (s *S3) head(ctx context.Context, key string) (*s3.HeadObjectOutput, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.objectKey(key)),
	})
	if err != nil {
		return nil, mapNotFound(err)
	}
	return out, nil
}

// Check is the readiness probe: the bucket exists and our credentials reach
// it (HeadBucket).
func (s *S3) Check(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		return fmt.Errorf("blob: check bucket %s: %w", s.bucket, err)
	}
	return nil
}

// EnsureBucket creates the bucket if it is missing, with Object Lock enabled
// when objectLock is set. An existing bucket is checked to have Object Lock
// enabled when objectLock is set, since retention cannot be added later.
func (s *S3) EnsureBucket(ctx context.Context, objectLock bool) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err == nil {
		if objectLock {
			return s.checkObjectLock(ctx)
		}
		return nil
	}
	if !isNotFound(err) {
		return fmt.Errorf("blob: ensure bucket %s: %w", s.bucket, err)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(s.bucket)}
	if objectLock {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	if s.region != "" && s.region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(s.region),
		}
	}
	if _, err := s.client.CreateBucket(ctx, in); err != nil {
		var owned *types.BucketAlreadyOwnedByYou
		if errors.As(err, &owned) {
			return nil // created concurrently
		}
		return fmt.Errorf("blob: create bucket %s: %w", s.bucket, err)
	}
	return nil
}

func (s *S3) checkObjectLock(ctx context.Context) error {
	out, err := s.client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{
		Bucket: aws.String(s.bucket),
	})
	if err != nil {
		return fmt.Errorf("blob: ensure bucket %s: object lock: %w", s.bucket, err)
	}
	if out.ObjectLockConfiguration == nil ||
		out.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
		return fmt.Errorf("blob: ensure bucket %s: exists without object lock", s.bucket)
	}
	return nil
}

func (s *S3) objectKey(key string) string { return s.prefix + key }

func normalizePrefix(p string) string {
	p = strings.TrimLeft(p, "/")
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func cmp0(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}
