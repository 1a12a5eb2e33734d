package blob

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// objectVersion is one stored version (or delete marker) of an object. An
// unversioned bucket's object has the version id "null" or none.
type objectVersion struct {
	id     string
	marker bool // a delete marker: no content, no lock
}

// versioned reports whether the version id names a version (not the "null"
// version of an unversioned object).
func (v objectVersion) versioned() bool { return v.id != "" && v.id != "null" }

// versionsOf lists every version and delete marker stored under key. A
// server without ListObjectVersions gives one unversioned entry when the
// object exists.
func (s *S3) versionsOf(ctx context.Context, key string) ([]objectVersion, error) {
	obj := s.objectKey(key)
	var out []objectVersion
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(obj)}
	for {
		page, err := s.client.ListObjectVersions(ctx, in)
		if err != nil {
			if apiCode(err) == "NotImplemented" || httpStatus(err) == 501 {
				return s.unversioned(ctx, key)
			}
			return nil, err
		}
		for _, v := range page.Versions {
			if aws.ToString(v.Key) == obj {
				out = append(out, objectVersion{id: aws.ToString(v.VersionId)})
			}
		}
		for _, m := range page.DeleteMarkers {
			if aws.ToString(m.Key) == obj {
				out = append(out, objectVersion{id: aws.ToString(m.VersionId), marker: true})
			}
		}
		if !aws.ToBool(page.IsTruncated) {
			return out, nil
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
}

func (s *S3) unversioned(ctx context.Context, key string) ([]objectVersion, error) {
	if _, err := s.head(ctx, key); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return []objectVersion{{}}, nil
}

// versionID is the VersionId parameter for v: nil for an unversioned
// object.
func versionID(v objectVersion) *string {
	if v.versioned() {
		return aws.String(v.id)
	}
	return nil
}

// Delete destroys the blob: on a versioned bucket every version and delete
// marker under the key (a plain DELETE would only add a marker and keep the
// bytes). A version Object Lock protects is left, and the error wraps
// ErrLocked; the other versions are deleted all the same.
func (s *S3) Delete(ctx context.Context, key string) error {
	if _, err := ParseKey(key); err != nil {
		return fmt.Errorf("blob: delete: %w", err)
	}
	vs, err := s.versionsOf(ctx, key)
	if err != nil {
		return fmt.Errorf("blob: delete %s: list versions: %w", key, err)
	}
	contents := 0
	for _, v := range vs {
		if !v.marker {
			contents++
		}
	}
	if contents == 0 {
		return fmt.Errorf("blob: delete %s: %w", key, ErrNotFound)
	}
	var locked error
	for _, v := range vs {
		_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
			Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key)), VersionId: versionID(v),
		})
		switch {
		case err == nil, isNotFound(err):
		case !v.marker && s.isLocked(ctx, key, v):
			locked = fmt.Errorf("blob: delete %s (version %s): %w: %w", key, v.id, ErrLocked, err)
		default:
			return fmt.Errorf("blob: delete %s (version %s): %w", key, v.id, err)
		}
	}
	return locked
}

// isLocked reports whether Object Lock protects the version: a legal hold
// on, or a retention date in the future. It is asked after a refused
// DELETE, to tell a lock from a permission problem.
func (s *S3) isLocked(ctx context.Context, key string, v objectVersion) bool {
	obj, vid := aws.String(s.objectKey(key)), versionID(v)
	hold, err := s.client.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String(s.bucket), Key: obj, VersionId: vid})
	if err == nil && hold.LegalHold != nil && hold.LegalHold.Status == types.ObjectLockLegalHoldStatusOn {
		return true
	}
	ret, err := s.client.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(s.bucket), Key: obj, VersionId: vid})
	return err == nil && ret.Retention != nil && aws.ToTime(ret.Retention.RetainUntilDate).After(time.Now())
}

// SetLegalHold turns the legal hold of every stored version of the blob on
// or off (the bucket must have Object Lock enabled).
func (s *S3) SetLegalHold(ctx context.Context, key string, on bool) error {
	if _, err := ParseKey(key); err != nil {
		return fmt.Errorf("blob: legal hold: %w", err)
	}
	status := types.ObjectLockLegalHoldStatusOff
	if on {
		status = types.ObjectLockLegalHoldStatusOn
	}
	vs, err := s.contentVersions(ctx, key)
	if err != nil {
		return fmt.Errorf("blob: legal hold %s: %w", key, err)
	}
	for _, v := range vs {
		_, err := s.client.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{
			Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key)), VersionId: versionID(v),
			LegalHold: &types.ObjectLockLegalHold{Status: status},
			// Object Lock requests must carry a checksum.
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		})
		if err != nil {
			return fmt.Errorf("blob: legal hold %s: %w", key, mapNotFound(err))
		}
	}
	return nil
}

// SetRetention extends the COMPLIANCE retention of every stored version of
// the blob to until; a version already retained as long or longer is left
// alone (COMPLIANCE retention can never be shortened).
func (s *S3) SetRetention(ctx context.Context, key string, until time.Time) error {
	if _, err := ParseKey(key); err != nil {
		return fmt.Errorf("blob: retention: %w", err)
	}
	vs, err := s.contentVersions(ctx, key)
	if err != nil {
		return fmt.Errorf("blob: retention %s: %w", key, err)
	}
	obj := aws.String(s.objectKey(key))
	for _, v := range vs {
		cur, err := s.client.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(s.bucket), Key: obj, VersionId: versionID(v)})
		if err == nil && cur.Retention != nil && !aws.ToTime(cur.Retention.RetainUntilDate).Before(until) {
			continue
		}
		_, err = s.client.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{
			Bucket: aws.String(s.bucket), Key: obj, VersionId: versionID(v),
			Retention: &types.ObjectLockRetention{
				Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(until.UTC()),
			},
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		})
		if err != nil {
			return fmt.Errorf("blob: retention %s: %w", key, mapNotFound(err))
		}
	}
	return nil
}

// contentVersions lists the versions of key that hold content; none is
// ErrNotFound.
func (s *S3) contentVersions(ctx context.Context, key string) ([]objectVersion, error) {
	vs, err := s.versionsOf(ctx, key)
	if err != nil {
		return nil, err
	}
	out := vs[:0]
	for _, v := range vs {
		if !v.marker {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, nil
}
