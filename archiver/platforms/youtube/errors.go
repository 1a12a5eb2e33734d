package youtube

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// errCommentsDisabled marks a video whose owner turned comments off: its
// thread is complete and empty, not failed.
var errCommentsDisabled = errors.New("youtube: comments disabled")

// apiError is a YouTube error answer, classified by its reason.
type apiError struct {
	Reason string
	HTTP   *platforms.HTTPError
	kind   error // what errors.Is should match; nil for none
}

func (e *apiError) Error() string {
	return "youtube: " + e.Reason + ": " + e.HTTP.Error()
}

// Unwrap matches the class of the error only (for a quota error not the
// ErrAuth that the shared client gives every 403).
func (e *apiError) Unwrap() error { return e.kind }

// errorBody is the Google JSON error shape:
// {"error": {"code", "message", "errors": [{"message", "domain", "reason"}],
// "status", "details": [{"@type", "reason"}]}}.
type errorBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Errors  []struct {
			Message string `json:"message"`
			Domain  string `json:"domain"`
			Reason  string `json:"reason"`
		} `json:"errors"`
		Status  string `json:"status"`
		Details []struct {
			Reason string `json:"reason"`
		} `json:"details"`
	} `json:"error"`
}

var reasonRE = regexp.MustCompile(`"reason"\s*:\s*"([A-Za-z_]+)"`)

// errorReason reads the reason of a YouTube error body. The shared client
// keeps only the body's first 300 bytes, and YouTube's pretty-printed
// bodies with long HTML messages put errors[0].reason past that, so when
// the JSON is cut short the message text decides.
func errorReason(body string) string {
	var b errorBody
	if json.Unmarshal([]byte(body), &b) == nil {
		for _, d := range b.Error.Details {
			switch d.Reason {
			case "API_KEY_INVALID":
				return "keyInvalid"
			case "API_KEY_EXPIRED":
				return "keyExpired"
			}
		}
		for _, e := range b.Error.Errors {
			if e.Reason != "" {
				return e.Reason
			}
		}
	}
	if m := reasonRE.FindStringSubmatch(body); m != nil && m[1] != "badRequest" {
		return m[1]
	}
	switch {
	case strings.Contains(body, "disabled comments"):
		return "commentsDisabled"
	case strings.Contains(body, "exceeded your") && strings.Contains(body, "quota"):
		return "quotaExceeded"
	case strings.Contains(body, "API key not valid"), strings.Contains(body, "API_KEY_INVALID"):
		return "keyInvalid"
	case strings.Contains(body, "API key expired"):
		return "keyExpired"
	}
	return ""
}

// classify turns a Client error into what the connector acts on:
// commentsDisabled → errCommentsDisabled; quota → ErrRateLimited; a bad
// key → ErrAuth. Other errors pass unchanged.
func classify(err error) error {
	var he *platforms.HTTPError
	if !errors.As(err, &he) {
		return err
	}
	if he.Status != http.StatusBadRequest && he.Status != http.StatusForbidden {
		return err
	}
	reason := errorReason(he.Body)
	e := &apiError{Reason: reason, HTTP: he}
	switch reason {
	case "commentsDisabled":
		e.kind = errCommentsDisabled
	case "quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded", "userRateLimitExceeded":
		e.kind = platforms.ErrRateLimited
	case "keyInvalid", "keyExpired", "forbidden", "accessNotConfigured", "ipRefererBlocked":
		e.kind = platforms.ErrAuth
	default:
		if he.Status == http.StatusForbidden {
			e.kind = platforms.ErrAuth
		}
	}
	if e.Reason == "" {
		e.Reason = "error"
	}
	return e
}

// fatal says whether the run must stop at once rather than go on with the
// other posts.
func fatal(err error) bool {
	return errors.Is(err, platforms.ErrAuth) || errors.Is(err, platforms.ErrRateLimited) ||
		errors.Is(err, errSink) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
