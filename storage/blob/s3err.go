package blob

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// httpStatus returns the HTTP status of a failed S3 call, or 0. The SDK's
// response errors carry it; matching on this method keeps net/http out of
// this package.
func httpStatus(err error) int {
	var se interface{ HTTPStatusCode() int }
	if errors.As(err, &se) {
		return se.HTTPStatusCode()
	}
	return 0
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isNotFound reports whether err says the object (or, for HeadBucket, the
// bucket) does not exist. HEAD responses have no body, so a bare 404 counts.
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	switch apiCode(err) {
	case "NoSuchKey", "NotFound", "NoSuchVersion":
		return true
	case "NoSuchBucket":
		// A missing bucket is a misconfiguration, not a missing blob.
		return false
	}
	return httpStatus(err) == 404
}

// mapNotFound wraps ErrNotFound around err when it says "no such object".
func mapNotFound(err error) error {
	if isNotFound(err) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// isPreconditionFailed reports whether a conditional write (If-None-Match: *)
// found the object already there.
func isPreconditionFailed(err error) bool {
	if err == nil {
		return false
	}
	return apiCode(err) == "PreconditionFailed" || httpStatus(err) == 412
}
