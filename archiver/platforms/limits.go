package platforms

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// HostLimits paces requests per host across every capture run of the
// process: a token bucket per host, plus a pause until the time a host's
// rate headers (or a Retry-After) say its budget is back.
type HostLimits struct {
	mu     sync.Mutex
	rps    rate.Limit
	burst  int
	hosts  map[string]*hostLimit
	maxGap time.Duration
}

type hostLimit struct {
	lim    *rate.Limiter
	paused time.Time
}

// NewHostLimits allows rps requests per second per host, in bursts of burst.
func NewHostLimits(rps float64, burst int) *HostLimits {
	return &HostLimits{rps: rate.Limit(rps), burst: burst, hosts: map[string]*hostLimit{}, maxGap: 15 * time.Minute}
}

func (h *HostLimits) get(host string) *hostLimit {
	h.mu.Lock()
	defer h.mu.Unlock()
	hl, ok := h.hosts[host]
	if !ok {
		hl = &hostLimit{lim: rate.NewLimiter(h.rps, h.burst)}
		h.hosts[host] = hl
	}
	return hl
}

// Wait blocks until host may be called again, or ctx ends.
func (h *HostLimits) Wait(ctx context.Context, host string) error {
	hl := h.get(host)
	h.mu.Lock()
	until := hl.paused
	h.mu.Unlock()
	if d := time.Until(until); d > 0 {
		if err := sleepCtx(ctx, d); err != nil {
			return err
		}
	}
	return hl.lim.Wait(ctx)
}

// PausedUntil says until when host is paused (zero when it is not).
func (h *HostLimits) PausedUntil(host string) time.Time {
	hl := h.get(host)
	h.mu.Lock()
	defer h.mu.Unlock()
	return hl.paused
}

// Observe reads a response's rate headers and pauses the host when its
// budget is spent: X-RateLimit-Remaining/Reset (Mastodon: ISO time; X:
// epoch seconds), Retry-After on 429/503, and Graph's usage headers.
func (h *HostLimits) Observe(host string, hdr http.Header, now time.Time) {
	var until time.Time
	if rem, ok := headerInt(hdr, "X-RateLimit-Remaining", "X-Rate-Limit-Remaining"); ok && rem <= 0 {
		if d, ok := resetIn(hdr, now); ok {
			until = now.Add(d)
		}
	}
	if d, ok := graphUsagePause(hdr); ok {
		until = later(until, now.Add(d))
	}
	if until.IsZero() {
		return
	}
	if until.Sub(now) > h.maxGap {
		until = now.Add(h.maxGap)
	}
	hl := h.get(host)
	h.mu.Lock()
	hl.paused = later(hl.paused, until)
	h.mu.Unlock()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func headerInt(hdr http.Header, names ...string) (int64, bool) {
	for _, n := range names {
		if v := strings.TrimSpace(hdr.Get(n)); v != "" {
			if i, err := strconv.ParseInt(v, 10, 64); err == nil {
				return i, true
			}
		}
	}
	return 0, false
}

// resetIn reads X-RateLimit-Reset as epoch seconds (X) or an RFC 3339 time
// (Mastodon) and says how long until then.
func resetIn(hdr http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(hdr.Get("X-RateLimit-Reset"))
	if v == "" {
		v = strings.TrimSpace(hdr.Get("X-Rate-Limit-Reset"))
	}
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n > 1e9 { // epoch seconds
			return max(time.Unix(n, 0).Sub(now), 0), true
		}
		return time.Duration(n) * time.Second, true // seconds from now
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// graphUsagePause reads Meta's X-App-Usage / X-Business-Use-Case-Usage: past
// 95% of any budget, wait for estimated_time_to_regain_access minutes (at
// least one).
func graphUsagePause(hdr http.Header) (time.Duration, bool) {
	if v := hdr.Get("X-App-Usage"); v != "" {
		var u map[string]float64
		if json.Unmarshal([]byte(v), &u) == nil {
			for _, pct := range u {
				if pct >= 95 {
					return time.Minute, true
				}
			}
		}
	}
	if v := hdr.Get("X-Business-Use-Case-Usage"); v != "" {
		var u map[string][]struct {
			CallCount    float64 `json:"call_count"`
			TotalCPUTime float64 `json:"total_cputime"`
			TotalTime    float64 `json:"total_time"`
			Regain       float64 `json:"estimated_time_to_regain_access"`
		}
		if json.Unmarshal([]byte(v), &u) == nil {
			for _, list := range u {
				for _, b := range list {
					if b.CallCount >= 95 || b.TotalCPUTime >= 95 || b.TotalTime >= 95 || b.Regain > 0 {
						return max(time.Duration(b.Regain)*time.Minute, time.Minute), true
					}
				}
			}
		}
	}
	return 0, false
}
