package policy

import (
	"context"
	"strconv"
	"time"

	"github.com/civicarchive/civicarchive/storage"
)

// Compliance is one account's standing under the policy.
type Compliance struct {
	Account storage.Account
	// Plan is the account's latest work plan's status ("" for none).
	Plan        string
	PlanID      uint64
	Designated  int
	AckMissing  []string // designated users who have not acknowledged the current policy
	Custodians  int
	PendingFlag int
	Gaps        []string // what falls short, in words
}

// Compliance returns every account's standing (accounts nil: all; else
// those), with its gaps: no approved work plan, no designated users,
// acknowledgments missing, fewer than three custodians, and each failed
// authenticity check.
func (o *Office) Compliance(ctx context.Context, accounts []uint64) ([]Compliance, error) {
	as, err := o.cat.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	plans, err := o.cat.ListPlans(ctx, "", 0)
	if err != nil {
		return nil, err
	}
	ds, err := o.cat.DesignatedUsers(ctx, accounts)
	if err != nil {
		return nil, err
	}
	cs, err := o.cat.Custodians(ctx, accounts)
	if err != nil {
		return nil, err
	}
	pending, err := o.cat.PendingFlagsByAccount(ctx)
	if err != nil {
		return nil, err
	}
	want := map[uint64]bool{}
	for _, id := range accounts {
		want[id] = true
	}
	var out []Compliance
	index := map[uint64]int{}
	for _, a := range as {
		if accounts != nil && !want[a.ID] {
			continue
		}
		index[a.ID] = len(out)
		out = append(out, Compliance{Account: a})
	}
	for _, p := range plans { // newest first: the first seen is the latest
		if i, ok := index[p.AccountID]; ok && out[i].Plan == "" {
			out[i].Plan, out[i].PlanID = p.Status, p.ID
		}
	}
	for _, d := range ds {
		if i, ok := index[d.AccountID]; ok {
			out[i].Designated++
			if o.AckStatus(d) != "current" {
				out[i].AckMissing = append(out[i].AckMissing, d.Name)
			}
		}
	}
	for _, c := range cs {
		if i, ok := index[c.AccountID]; ok {
			out[i].Custodians++
		}
	}
	for i := range out {
		out[i].PendingFlag = pending[out[i].Account.ID]
	}
	for i := range out {
		out[i].Gaps = o.gaps(out[i])
	}
	return out, nil
}

func (o *Office) gaps(c Compliance) []string {
	var g []string
	a := c.Account
	switch {
	case a.Approval == storage.ApprovalPending:
		g = append(g, "awaiting approval of its work plan")
	case a.Approval == storage.ApprovalRejected:
		g = append(g, "work plan rejected")
	case c.Plan != storage.PlanApproved && c.Plan != storage.PlanPending:
		g = append(g, "no approved work plan on file")
	}
	if c.Designated == 0 {
		g = append(g, "no designated users")
	}
	if n := len(c.AckMissing); n > 0 {
		g = append(g, plural(n, "designated user has", "designated users have")+" not acknowledged policy version "+o.cfg.PolicyVersion)
	}
	if c.Custodians < MinCustodians {
		g = append(g, plural(c.Custodians, "custodian", "custodians")+" (at least 3 required)")
	}
	switch {
	case a.AuthCheckedAt == nil:
		g = append(g, "authenticity not checked yet (no profile captured)")
	default:
		if !a.AuthOfficial {
			g = append(g, `profile does not say "official"`)
		}
		if !a.AuthEmail {
			g = append(g, "profile shows no city e-mail address")
		}
		if !a.AuthWebsite {
			g = append(g, "profile does not link to the city website")
		}
	}
	if a.Health == storage.HealthUnhealthy {
		g = append(g, "captures failing")
	}
	return g
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Dashboard is the coordinator's overview.
type Dashboard struct {
	Accounts    []Compliance
	Flags       map[string]int64 // by status
	Days        []string         // the chart's days, oldest first
	Captured    []int64          // items first captured per day
	Flagged     []int64          // flags raised per day
	Removals    int
	GeneratedAt time.Time
}

// Dashboard gathers the overview for the last days days.
func (o *Office) Dashboard(ctx context.Context, days int, accounts []uint64) (*Dashboard, error) {
	comp, err := o.Compliance(ctx, accounts)
	if err != nil {
		return nil, err
	}
	counts, err := o.cat.CountFlags(ctx, accounts)
	if err != nil {
		return nil, err
	}
	now := o.cfg.Now().UTC()
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(days - 1))
	items, flags, err := o.cat.CapturedPerDay(ctx, start, accounts)
	if err != nil {
		return nil, err
	}
	d := &Dashboard{Accounts: comp, Flags: counts, GeneratedAt: now}
	perDay := func(rows []storage.DayCount) map[string]int64 {
		m := map[string]int64{}
		for _, r := range rows {
			m[r.Day] = r.N
		}
		return m
	}
	im, fm := perDay(items), perDay(flags)
	for t := start; !t.After(now); t = t.AddDate(0, 0, 1) {
		day := t.Format(time.DateOnly)
		d.Days = append(d.Days, day)
		d.Captured = append(d.Captured, im[day])
		d.Flagged = append(d.Flagged, fm[day])
	}
	return d, nil
}

// Violators lists authors with at least min comments removed by decision,
// across all accounts (3.5.5).
func (o *Office) Violators(ctx context.Context, min int) ([]storage.Violator, error) {
	if min < 1 {
		min = 1
	}
	return o.cat.RepeatViolators(ctx, min)
}
