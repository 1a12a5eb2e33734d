package blob

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// s3EndpointEnv names a real S3 server to test against (see
// scripts/start-s3.sh); credentials come from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY.
const s3EndpointEnv = "CIVICARCHIVE_TEST_S3_ENDPOINT"

// openGofakes3Harness serves an in-memory gofakes3 through httptest. It
// counts the requests that can write, so "writes nothing" is checked at the
// server. gofakes3 does not enforce Object Lock.
func openGofakes3Harness(t *testing.T) *harness {
	faker := gofakes3.New(s3mem.New())
	var (
		writes    atomic.Int64
		multipart sync.Map // path-style object paths that had a CreateMultipartUpload
	)
	handler := faker.Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writes.Add(1)
		}
		if r.Method == http.MethodPost && r.URL.Query().Has("uploads") {
			multipart.Store(r.URL.Path, true)
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	s := mustOpenS3(t, S3Config{
		Endpoint:           srv.URL,
		Bucket:             "civicarchive-test",
		PathStyle:          true,
		Prefix:             "blobs", // exercises the prefix; stored as "blobs/sha256/…"
		MultipartThreshold: testThreshold,
		TempDir:            t.TempDir(),
		AccessKeyID:        "test",
		SecretAccessKey:    "test",
	}, false)
	h := s3Harness(s)
	h.fingerprint = func(t *testing.T, key string) string {
		return fmt.Sprintf("server writes=%d", writes.Load())
	}
	// gofakes3 gives a multipart object a plain MD5 ETag, so ask the server
	// log instead.
	h.multipart = func(t *testing.T, key string) bool {
		_, ok := multipart.Load("/" + s.bucket + "/" + s.objectKey(key))
		return ok
	}
	return h
}

// realS3Backend runs the suite against the server named by s3EndpointEnv,
// in a new bucket with Object Lock enabled, with every blob locked for a day.
func realS3Backend() backend {
	endpoint := os.Getenv(s3EndpointEnv)
	if endpoint == "" {
		return backend{name: "s3", skip: s3EndpointEnv + " is not set (see scripts/start-s3.sh)"}
	}
	return backend{name: "s3", open: func(t *testing.T) *harness {
		s := openRealS3(t, endpoint, 1)
		h := s3Harness(s)
		stored := h.checkStored
		h.checkStored = func(t *testing.T, ref Ref) {
			stored(t, ref)
			head := rawHead(t, s, ref.Key)
			if head.ObjectLockMode != types.ObjectLockModeCompliance || head.ObjectLockRetainUntilDate == nil {
				t.Errorf("object lock mode %q until %v, want COMPLIANCE retention",
					head.ObjectLockMode, head.ObjectLockRetainUntilDate)
			}
		}
		h.fingerprint = func(t *testing.T, key string) string {
			return strings.Join(objectVersions(t, s, key), ",")
		}
		return h
	}}
}

func openRealS3(t *testing.T, endpoint string, retentionDays int) *S3 {
	return mustOpenS3(t, S3Config{
		Endpoint:           endpoint,
		Bucket:             uniqueBucket(t),
		PathStyle:          true,
		RetentionDays:      retentionDays,
		MultipartThreshold: testThreshold,
		TempDir:            t.TempDir(),
	}, true)
}

func mustOpenS3(t *testing.T, cfg S3Config, objectLock bool) *S3 {
	t.Helper()
	s, err := NewS3(testContext(t), cfg)
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	if err := s.EnsureBucket(testContext(t), objectLock); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	// A second call finds the bucket and (with objectLock) checks the lock.
	if err := s.EnsureBucket(testContext(t), objectLock); err != nil {
		t.Fatalf("EnsureBucket on an existing bucket: %v", err)
	}
	return s
}

// s3Harness holds the back doors shared by the S3 backends: they use the
// store's own SDK client directly, bypassing the Store.
func s3Harness(s *S3) *harness {
	return &harness{
		store: s,
		corrupt: func(t *testing.T, key string) {
			// Same length, different bytes; on a versioned bucket this adds
			// a newer version that Get then reads.
			ref, err := s.Stat(testContext(t), key)
			if err != nil {
				t.Fatal(err)
			}
			rawPut(t, s, key, bytes.Repeat([]byte{'x'}, int(ref.Size)))
		},
		multipart: func(t *testing.T, key string) bool {
			// A multipart upload's ETag is "md5-of-part-md5s-N".
			return strings.Contains(aws.ToString(rawHead(t, s, key).ETag), "-")
		},
		checkStored: func(t *testing.T, ref Ref) {
			if got := rawHead(t, s, ref.Key).Metadata[metaSHA256]; got != ref.SHA256 {
				t.Errorf("metadata sha256 = %q, want %q", got, ref.SHA256)
			}
		},
	}
}

// rawHead returns the object's HeadObject output, bypassing the Store.
func rawHead(t *testing.T, s *S3, key string) *s3.HeadObjectOutput {
	t.Helper()
	out, err := s.client.HeadObject(testContext(t), &s3.HeadObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key)),
	})
	if err != nil {
		t.Fatalf("raw HeadObject: %v", err)
	}
	return out
}

// TestObjectLock checks, on a real server, that a blob put with
// RetentionDays can be neither deleted nor replaced while locked.
func TestObjectLock(t *testing.T) {
	endpoint := os.Getenv(s3EndpointEnv)
	if endpoint == "" {
		t.Skip(s3EndpointEnv + " is not set (see scripts/start-s3.sh)")
	}
	ctx := testContext(t)
	s := openRealS3(t, endpoint, 1)
	data := content(t, 5000)
	ref, created, err := s.Put(ctx, bytes.NewReader(data))
	if err != nil || !created {
		t.Fatalf("Put: created=%v, %v", created, err)
	}
	obj := aws.String(s.objectKey(ref.Key))
	head := rawHead(t, s, ref.Key)
	version := head.VersionId
	if aws.ToString(version) == "" || head.ObjectLockMode != types.ObjectLockModeCompliance {
		t.Fatalf("object version %q, lock mode %q; want a version in COMPLIANCE mode",
			aws.ToString(version), head.ObjectLockMode)
	}
	if until := aws.ToTime(head.ObjectLockRetainUntilDate); until.Before(time.Now().Add(12 * time.Hour)) {
		t.Fatalf("retained until %v, want about a day from now", until)
	}
	if got := head.Metadata[metaSHA256]; got != ref.SHA256 {
		t.Fatalf("metadata sha256 = %q, want %q", got, ref.SHA256)
	}

	assertLocked(t, s, ref.Key, version)
	// Writing other bytes under the key at most adds a newer version.
	rawPut(t, s, ref.Key, []byte("tampered"))

	got, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: obj, VersionId: version})
	if err != nil {
		t.Fatalf("GetObject of the locked version: %v", err)
	}
	defer got.Body.Close()
	if b, err := io.ReadAll(got.Body); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("locked version now holds %d other bytes (%v)", len(b), err)
	}
	// Through the Store, the newer version is caught as corruption.
	rc, err := s.Get(ctx, ref.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Get after tampering: %v, want ErrCorrupt", err)
	}
}

// assertLocked checks that the locked version can be neither deleted nor
// have its retention shortened, even with the governance bypass.
func assertLocked(t *testing.T, s *S3, key string, version *string) {
	t.Helper()
	ctx := testContext(t)
	obj := aws.String(s.objectKey(key))
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket), Key: obj, VersionId: version, BypassGovernanceRetention: aws.Bool(true),
	})
	if code := apiCode(err); code != "AccessDenied" {
		t.Fatalf("DeleteObject of the locked version: %v; want AccessDenied", err)
	}
	t.Logf("DeleteObject of the locked version refused: %v", err)
	_, err = s.client.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{
		Bucket: aws.String(s.bucket), Key: obj, VersionId: version,
		BypassGovernanceRetention: aws.Bool(true),
		ChecksumAlgorithm:         types.ChecksumAlgorithmSha256,
		Retention: &types.ObjectLockRetention{
			Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(time.Now().Add(time.Minute)),
		},
	})
	if err == nil {
		t.Fatal("shortening COMPLIANCE retention succeeded")
	}
	t.Logf("shortening retention refused: %v", err)
}

// rawPut writes data under key with the SDK client, bypassing the Store.
func rawPut(t *testing.T, s *S3, key string, data []byte) {
	t.Helper()
	_, err := s.client.PutObject(testContext(t), &s3.PutObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.objectKey(key)),
		Body:   bytes.NewReader(data),
		// Servers with Object Lock want a checksum on every PUT.
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	if err != nil {
		t.Fatalf("raw PutObject: %v", err)
	}
}

// objectVersions lists the version ids stored under key.
func objectVersions(t *testing.T, s *S3, key string) []string {
	t.Helper()
	out, err := s.client.ListObjectVersions(testContext(t), &s3.ListObjectVersionsInput{
		Bucket: aws.String(s.bucket), Prefix: aws.String(s.objectKey(key)),
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range out.Versions {
		ids = append(ids, aws.ToString(v.VersionId))
	}
	return ids
}

func uniqueBucket(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("civicarchive-test-%d-%s", time.Now().Unix(), hex.EncodeToString(b))
}
