package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// benchQuery is one search of the load: its API parameters (facets=false
// unless Facets) and a label for the report.
type benchQuery struct {
	Label  string
	Params string
	Facets bool
}

// queries are the load's searches, in the order the clients take them.
// Most turn facet counts off (as a script or the items list would); the
// last four ask for them, as the clerk's search page does.
var queries = []benchQuery{
	{Label: "council", Params: "q=council"},
	{Label: "pothole", Params: "q=pothole"},
	{Label: "información (accent-folded)", Params: "q=informacion"},
	{Label: "🚧 (emoji)", Params: "q=" + queryEscape("🚧")},
	{Label: `"road closure" (phrase)`, Params: "q=" + queryEscape(`"road closure"`)},
	{Label: `"city council meeting" (phrase)`, Params: "q=" + queryEscape(`"city council meeting"`)},
	{Label: "+budget +hearing -council", Params: "q=" + queryEscape("+budget +hearing -council")},
	{Label: "snow ice", Params: "q=" + queryEscape("snow ice")},
	{Label: "+versions:tentatively -text:tentatively", Params: "q=" + queryEscape("+versions:tentatively -text:tentatively")},
	{Label: "constru* (wildcard)", Params: "q=" + queryEscape("constru*")},
	{Label: "libary~1 (fuzzy)", Params: "q=" + queryEscape("libary~1")},
	{Label: "budget, platform=facebook, kind=comment", Params: "q=budget&platform=facebook&kind=comment"},
	{Label: "water, from 2024-03-01 to 2024-03-31", Params: "q=water&from=2024-03-01&to=2024-03-31"},
	{Label: "meeting, account=1, edited=true", Params: "q=meeting&account=1&edited=true"},
	{Label: "trash, hidden=true", Params: "q=trash&hidden=true"},
	{Label: "(all), flag=A", Params: "flag=A"},
	{Label: "council, newest first", Params: "q=council&sort=newest"},
	{Label: "council, facets", Params: "q=council", Facets: true},
	{Label: "library, facets", Params: "q=library", Facets: true},
	{Label: "budget, department=City Council, facets", Params: "q=budget&department=" + queryEscape("City Council"), Facets: true},
	{Label: "(all), department=Parks and Recreation, facets", Params: "department=" + queryEscape("Parks and Recreation"), Facets: true},
}

func (q benchQuery) path() string {
	if q.Facets {
		return "/api/v1/search?" + q.Params
	}
	return "/api/v1/search?" + q.Params + "&facets=false"
}

// loadResult is one timed load, or several merged.
type loadResult struct {
	Replicas, Clients, Round int
	Requests, Errors         int
	FirstError               string
	Seconds                  float64
	P50, P95, P99            time.Duration
	Mean                     time.Duration
	PerQuery                 []time.Duration // p50 of each query
	CPU                      string
	Cores                    coreUse
	Load                     string
	NewConns                 int64 // PostgreSQL sessions opened during the load
	samples                  []sample
}

// quietCores: a round during which everything else on the machine used
// less than this counts as quiet.
const quietCores = 0.25

type sample struct {
	q    int
	took time.Duration
}

func (l loadResult) rps() float64 { return float64(l.Requests) / l.Seconds }

// cpuPerRequest is the CPU time of the replicas and of PostgreSQL per
// request served.
func (l loadResult) cpuPerRequest() (replicas, pg time.Duration) {
	if l.Requests == 0 {
		return 0, 0
	}
	per := func(c float64) time.Duration {
		return time.Duration(c * l.Seconds / float64(l.Requests) * float64(time.Second))
	}
	return per(l.Cores.Replicas), per(l.Cores.PG)
}

// runLoad runs clients closed-loop clients for d: each takes the next
// query of the list and the next replica of bases (round robin over one
// shared counter), sends it, reads the whole answer and goes again.
func runLoad(bases []string, token string, clients int, d time.Duration) loadResult {
	tr := &http.Transport{MaxIdleConns: 4 * clients, MaxIdleConnsPerHost: 2 * clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	var (
		next     atomic.Int64
		mu       sync.Mutex
		all      []sample
		errs     int
		firstErr string
		wg       sync.WaitGroup
	)
	began := time.Now()
	deadline := began.Add(d)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []sample
			nerr := 0
			for time.Now().Before(deadline) {
				i := int(next.Add(1) - 1)
				qi := i % len(queries)
				req, _ := http.NewRequest("GET", bases[i%len(bases)]+queries[qi].path(), nil)
				req.Header.Set("Authorization", "Bearer "+token)
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("%s: HTTP %d", queries[qi].Label, resp.StatusCode)
					}
				}
				took := time.Since(t0)
				if err != nil {
					nerr++
					mu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
					continue
				}
				mine = append(mine, sample{qi, took})
			}
			mu.Lock()
			all = append(all, mine...)
			errs += nerr
			mu.Unlock()
		}()
	}
	wg.Wait()
	res := loadResult{Replicas: len(bases), Clients: clients, Errors: errs, FirstError: firstErr,
		Seconds: time.Since(began).Seconds(), samples: all}
	res.summarize()
	return res
}

// summarize computes the percentiles of the samples.
func (res *loadResult) summarize() {
	res.Requests = len(res.samples)
	if len(res.samples) == 0 {
		return
	}
	took := make([]time.Duration, len(res.samples))
	per := make([][]time.Duration, len(queries))
	var sum time.Duration
	for i, s := range res.samples {
		took[i] = s.took
		per[s.q] = append(per[s.q], s.took)
		sum += s.took
	}
	slices.Sort(took)
	res.P50, res.P95, res.P99 = pct(took, 0.50), pct(took, 0.95), pct(took, 0.99)
	res.Mean = sum / time.Duration(len(took))
	res.PerQuery = nil
	for _, p := range per {
		slices.Sort(p)
		if len(p) == 0 {
			res.PerQuery = append(res.PerQuery, 0)
			continue
		}
		res.PerQuery = append(res.PerQuery, pct(p, 0.50))
	}
}

// merge is the loads of one configuration over all rounds (quiet: only
// rounds where everything else on the machine used under quietCores), as
// one.
func merge(ls []loadResult, replicas, clients int, quiet bool) loadResult {
	m := loadResult{Replicas: replicas, Clients: clients}
	for _, l := range ls {
		if l.Replicas != replicas || l.Clients != clients || l.Round == 0 || (quiet && l.Cores.Other >= quietCores) {
			continue
		}
		m.samples = append(m.samples, l.samples...)
		m.Seconds += l.Seconds
		m.Errors += l.Errors
		m.NewConns += l.NewConns
		// CPU: weighted by each load's length, as cores over the whole.
		m.Cores.Replicas += l.Cores.Replicas * l.Seconds
		m.Cores.PG += l.Cores.PG * l.Seconds
		m.Cores.Other += l.Cores.Other * l.Seconds
		if m.FirstError == "" {
			m.FirstError = l.FirstError
		}
	}
	if m.Seconds > 0 {
		m.Cores.Replicas /= m.Seconds
		m.Cores.PG /= m.Seconds
		m.Cores.Other /= m.Seconds
	}
	m.summarize()
	return m
}

// pct is the nearest-rank percentile of sorted durations.
func pct(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// queryTotals asks one replica each query once and returns the totals.
func queryTotals(base, token string) []int {
	var out []int
	for _, q := range queries {
		var res struct{ Total int }
		if code := api("GET", base+q.path()+"&size=1", token, nil, &res); code != 200 {
			out = append(out, -1)
			continue
		}
		out = append(out, res.Total)
	}
	return out
}
