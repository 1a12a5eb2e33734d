package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/mastodon/mastodontest"
)

// captureResult is one capture phase: every account captured in full, each
// through the replica it was given to.
type captureResult struct {
	Round, Replicas           int
	Accounts, Items, Requests int
	Seconds                   float64 // first run started → last run finished (the runs' own times)
	Failed                    []string
	CPU, Load                 string
	Cores                     coreUse
	NewConns                  int64 // PostgreSQL sessions opened during the phase
}

func (c captureResult) itemsPerSec() float64 { return float64(c.Items) / c.Seconds }

type captureOut struct {
	ID         uint64     `json:"id"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Counts     struct {
		Posts    int `json:"posts"`
		Comments int `json:"comments"`
	} `json:"counts"`
	Errors []string `json:"errors"`
}

// capturePhase serves accounts fake Mastodon accounts (each its own server
// on loopback), registers account k on reps[k%len(reps)] and starts its
// full capture there, all at once, then waits for every run to finish.
// all are every running replica (for CPU use: one that captures nothing
// still indexes what the others capture).
func capturePhase(ctx context.Context, dbURL string, tg *textGen, seedv uint64, phase string, reps, all []*replica, token string,
	accounts, posts, comments int, s3pid int, names []string) captureResult {
	var servers []*mastodontest.Server
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	type acct struct {
		id  uint64
		rep *replica
	}
	var accts []acct
	for k := range accounts {
		handle := fmt.Sprintf("clinton%s%d", phase, k)
		srv := mastodontest.NewServer(tg.world(seedv, handle, k, posts, comments), mastodontest.WithPageSize(40))
		servers = append(servers, srv)
		rep := reps[k%len(reps)]
		var out struct{ ID uint64 }
		code := api("POST", rep.base+"/api/v1/accounts", token, map[string]string{"platform": "mastodon", "handle": handle,
			"api_base": srv.URL, "credential": mastodontest.DefaultCredential, "department": departments[k%len(departments)],
			"display_name": "Clinton City " + departments[k%len(departments)]}, &out)
		if code != 201 {
			fatal("register %s on %s: HTTP %d", handle, rep.name, code)
		}
		accts = append(accts, acct{out.ID, rep})
	}
	sessions := pgSessions(ctx, dbURL)
	before := sampleCPU(all, s3pid)
	runIDs := make([]uint64, len(accts))
	for i, a := range accts {
		var out captureOut
		if code := api("POST", fmt.Sprintf("%s/api/v1/accounts/%d/captures", a.rep.base, a.id), token,
			map[string]string{"kind": "full"}, &out); code != 202 {
			fatal("start capture of account %d on %s: HTTP %d", a.id, a.rep.name, code)
		}
		runIDs[i] = out.ID
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		runs = make([]captureOut, len(accts))
	)
	for i, a := range accts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var out captureOut
				if code := api("GET", fmt.Sprintf("%s/api/v1/captures/%d", a.rep.base, runIDs[i]), token, nil, &out); code == 200 && out.Status != "running" {
					mu.Lock()
					runs[i] = out
					mu.Unlock()
					return
				}
				time.Sleep(250 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	after := sampleCPU(all, s3pid)
	res := captureResult{Accounts: len(accts), Load: loadavg(), NewConns: pgSessions(ctx, dbURL) - sessions}
	res.CPU, res.Cores = cpuUse(before, after, names)
	var first, last time.Time
	for _, r := range runs {
		if r.Status != "succeeded" {
			res.Failed = append(res.Failed, fmt.Sprintf("run %d: %s %v", r.ID, r.Status, r.Errors))
		}
		res.Items += r.Counts.Posts + r.Counts.Comments
		if first.IsZero() || r.StartedAt.Before(first) {
			first = r.StartedAt
		}
		if r.FinishedAt != nil && r.FinishedAt.After(last) {
			last = *r.FinishedAt
		}
	}
	for _, s := range servers {
		res.Requests += s.Requests()
	}
	res.Seconds = last.Sub(first).Seconds()
	fmt.Fprintf(os.Stderr, "  %d accounts, %d items in %.1f s on %d replica(s): %.0f items/s\n", res.Accounts, res.Items,
		res.Seconds, len(reps), res.itemsPerSec())
	return res
}
