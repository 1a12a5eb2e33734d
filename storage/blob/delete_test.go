package blob

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestDelete destroys blobs on every backend. The real S3 backend of the
// suite locks every blob for a day, so there Delete must refuse with
// ErrLocked and leave the blob readable.
func TestDelete(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			if b.open == nil {
				t.Skip(b.skip)
			}
			h := b.open(t)
			d, ok := h.store.(Deleter)
			if !ok {
				t.Fatalf("%T is not a Deleter", h.store)
			}
			ctx := testContext(t)
			keep, _, err := h.store.Put(ctx, bytes.NewReader(content(t, 300)))
			if err != nil {
				t.Fatal(err)
			}
			gone, _, err := h.store.Put(ctx, bytes.NewReader(content(t, 400)))
			if err != nil {
				t.Fatal(err)
			}
			err = d.Delete(ctx, gone.Key)
			if b.name == "s3" {
				if !errors.Is(err, ErrLocked) {
					t.Fatalf("Delete of a locked blob: %v; want ErrLocked", err)
				}
				readAll(t, h.store, gone.Key)
				return
			}
			if err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := h.store.Stat(ctx, gone.Key); !errors.Is(err, ErrNotFound) {
				t.Errorf("Stat after Delete: %v; want ErrNotFound", err)
			}
			if _, err := h.store.Get(ctx, gone.Key); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after Delete: %v; want ErrNotFound", err)
			}
			if err := d.Delete(ctx, gone.Key); !errors.Is(err, ErrNotFound) {
				t.Errorf("second Delete: %v; want ErrNotFound", err)
			}
			if err := d.Delete(ctx, "sha256/../../etc/passwd"); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Delete of an invalid key: %v; want ErrInvalidKey", err)
			}
			readAll(t, h.store, keep.Key) // the other blob is untouched
			// The same bytes can be stored again afterwards.
			if _, created, err := h.store.Put(ctx, bytes.NewReader(content(t, 400))); err != nil || !created {
				t.Errorf("Put after Delete: created=%v, %v", created, err)
			}
		})
	}
}

func readAll(t *testing.T, s Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(testContext(t), key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

// TestObjectLockDelete checks, on a real server with Object Lock, that a
// legal hold and a retention date each make Delete refuse with ErrLocked,
// that retention is only ever extended, and that an unlocked blob is
// destroyed with every version (no delete marker left holding the bytes).
func TestObjectLockDelete(t *testing.T) {
	endpoint := os.Getenv(s3EndpointEnv)
	if endpoint == "" {
		t.Skip(s3EndpointEnv + " is not set (see scripts/start-s3.sh)")
	}
	ctx := testContext(t)
	s := openRealS3(t, endpoint, 0) // lock enabled on the bucket, no default retention
	ref, _, err := s.Put(ctx, bytes.NewReader(content(t, 2000)))
	if err != nil {
		t.Fatal(err)
	}

	if err := s.SetLegalHold(ctx, ref.Key, true); err != nil {
		t.Fatalf("SetLegalHold on: %v", err)
	}
	if got := rawHead(t, s, ref.Key).ObjectLockLegalHoldStatus; got != types.ObjectLockLegalHoldStatusOn {
		t.Fatalf("legal hold status %q, want ON", got)
	}
	if err := s.Delete(ctx, ref.Key); !errors.Is(err, ErrLocked) {
		t.Fatalf("Delete under legal hold: %v; want ErrLocked", err)
	}
	readAll(t, s, ref.Key)
	if err := s.SetLegalHold(ctx, ref.Key, false); err != nil {
		t.Fatalf("SetLegalHold off: %v", err)
	}

	until := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := s.SetRetention(ctx, ref.Key, until); err != nil {
		t.Fatalf("SetRetention: %v", err)
	}
	// An earlier date is no change (COMPLIANCE cannot be shortened).
	if err := s.SetRetention(ctx, ref.Key, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("SetRetention to an earlier date: %v", err)
	}
	head := rawHead(t, s, ref.Key)
	if head.ObjectLockMode != types.ObjectLockModeCompliance || aws.ToTime(head.ObjectLockRetainUntilDate).Before(until) {
		t.Fatalf("retention %q until %v; want COMPLIANCE until %v", head.ObjectLockMode, head.ObjectLockRetainUntilDate, until)
	}
	if err := s.Delete(ctx, ref.Key); !errors.Is(err, ErrLocked) {
		t.Fatalf("Delete under retention: %v; want ErrLocked", err)
	}
	readAll(t, s, ref.Key)

	free, _, err := s.Put(ctx, bytes.NewReader(content(t, 3000)))
	if err != nil {
		t.Fatal(err)
	}
	// A tampered newer version and a delete marker: Delete removes them all.
	rawPut(t, s, free.Key, []byte("tampered"))
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(free.Key))}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, free.Key); err != nil {
		t.Fatalf("Delete of an unlocked blob: %v", err)
	}
	if vs := objectVersions(t, s, free.Key); len(vs) != 0 {
		t.Fatalf("versions left after Delete: %v", vs)
	}
	if _, err := s.Stat(ctx, free.Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Stat after Delete: %v; want ErrNotFound", err)
	}
	if err := s.SetLegalHold(ctx, free.Key, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetLegalHold of a missing blob: %v; want ErrNotFound", err)
	}
}
