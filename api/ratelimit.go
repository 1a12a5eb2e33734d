package api

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// addressLimiter allows each network address n events per period, with a
// burst of n. Idle addresses are forgotten so the map stays small. Each
// replica counts on its own; behind a load balancer the effective limit is
// n times the replicas.
type addressLimiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	seen    map[string]*limiterEntry
	lastGC  time.Time
	idleFor time.Duration
}

type limiterEntry struct {
	l    *rate.Limiter
	last time.Time
}

func newAddressLimiter(n int, per time.Duration) *addressLimiter {
	n = max(n, 1)
	return &addressLimiter{every: rate.Every(per / time.Duration(n)), burst: n, seen: map[string]*limiterEntry{}, idleFor: per}
}

// allow takes one event for addr, reporting whether it is within the limit.
func (a *addressLimiter) allow(addr string) bool {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.lastGC) > a.idleFor {
		for k, e := range a.seen {
			if now.Sub(e.last) > a.idleFor {
				delete(a.seen, k)
			}
		}
		a.lastGC = now
	}
	e, ok := a.seen[addr]
	if !ok {
		e = &limiterEntry{l: rate.NewLimiter(a.every, a.burst)}
		a.seen[addr] = e
	}
	e.last = now
	return e.l.AllowN(now, 1)
}
