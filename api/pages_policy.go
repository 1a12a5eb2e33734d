package api

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/api/chart"
	"github.com/civicarchive/civicarchive/policy"
	"github.com/civicarchive/civicarchive/screening"
	"github.com/civicarchive/civicarchive/storage"
)

// The coordinator's pages (policy, issue 7): the dashboard, each account's
// compliance, work plans, the review queue, removal records and repeat
// violators. Each POST is CSRF-checked and redirects (POST → GET).

// dashboardView is what coordinator.html gets.
type dashboardView struct {
	pageData
	Accounts  []complianceOut
	Pending   int64
	Kept      int64
	Removed   int64
	Volume    template.HTML
	FlagChart template.HTML
	Days      int
}

// coordinatorPage is GET /coordinator: account health and compliance,
// flags awaiting review, and capture volume and flags over time.
func (s *Server) coordinatorPage(c *gin.Context) {
	days, ok := dashboardDays(c)
	if !ok {
		days = 30
	}
	d, ok := s.scopedDashboard(c, days)
	if !ok {
		return
	}
	v := dashboardView{pageData: s.base(c, "Social media coordinator"), Pending: d.Flags[storage.FlagPending],
		Kept: d.Flags[storage.FlagKept], Removed: d.Flags[storage.FlagRemoved], Days: days}
	for _, cp := range d.Accounts {
		v.Accounts = append(v.Accounts, toComplianceOut(cp))
	}
	captured, flagged := chart.Series{Name: "Items captured"}, chart.Series{Name: "Flags raised"}
	for i, day := range d.Days {
		label := day[5:] // MM-DD
		captured.Points = append(captured.Points, chart.Point{Label: label, Value: float64(d.Captured[i])})
		flagged.Points = append(flagged.Points, chart.Point{Label: label, Value: float64(d.Flagged[i])})
	}
	total := func(xs []int64) (n int64) {
		for _, x := range xs {
			n += x
		}
		return n
	}
	v.Volume = chart.Bars(chart.Chart{Title: fmt.Sprintf("Items captured per day, last %d days", days),
		Desc:   fmt.Sprintf("%d posts, comments and replies first captured in the last %d days.", total(d.Captured), days),
		YLabel: "items", Series: []chart.Series{captured}})
	v.FlagChart = chart.Lines(chart.Chart{Title: fmt.Sprintf("Screening flags per day, last %d days", days),
		Desc:   fmt.Sprintf("%d screening flags raised in the last %d days.", total(d.Flagged), days),
		YLabel: "flags", Series: []chart.Series{flagged}})
	s.renderView(c, http.StatusOK, "coordinator.html", v)
}

// accountPolicyView is what coordinator_account.html gets.
type accountPolicyView struct {
	pageData
	C             complianceOut
	Link          string
	Plans         []planOut
	Designated    []designatedOut
	Custodians    []custodianOut
	Capabilities  []string
	PolicyVersion string
	Problems      []string
	Notice        string
	Min           int
}

// accountPolicyPage is GET /coordinator/accounts/:id.
func (s *Server) accountPolicyPage(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	s.renderAccountPolicy(c, http.StatusOK, id, nil, c.Query("done"))
}

func (s *Server) renderAccountPolicy(c *gin.Context, status int, id uint64, problems []string, notice string) {
	ctx := c.Request.Context()
	comp, err := s.Policy.Compliance(ctx, []uint64{id})
	if err != nil {
		s.internal(c, "account policy page", err)
		return
	}
	if len(comp) == 0 || !ownsAccount(c, comp[0].Account) {
		s.fail(c, http.StatusNotFound, "not_found", "no such account")
		return
	}
	v := accountPolicyView{pageData: s.base(c, "Account @"+comp[0].Account.Handle), C: toComplianceOut(comp[0]),
		Link: policy.ProfileLink(comp[0].Account), Capabilities: policy.Capabilities, PolicyVersion: s.Policy.PolicyVersion(),
		Problems: problems, Notice: notice, Min: policy.MinCustodians}
	ps, err := s.Catalog.ListPlans(ctx, "", id)
	if err != nil {
		s.internal(c, "account policy page", err)
		return
	}
	for _, p := range ps {
		v.Plans = append(v.Plans, toPlanOut(p))
	}
	ds, err := s.Catalog.DesignatedUsers(ctx, []uint64{id})
	if err != nil {
		s.internal(c, "account policy page", err)
		return
	}
	for _, d := range ds {
		v.Designated = append(v.Designated, s.toDesignatedOut(d))
	}
	cs, err := s.Catalog.Custodians(ctx, []uint64{id})
	if err != nil {
		s.internal(c, "account policy page", err)
		return
	}
	for _, cu := range cs {
		v.Custodians = append(v.Custodians, custodianOut{ID: cu.ID, AccountID: cu.AccountID, Name: cu.Name, Title: cu.Title, Email: cu.Email, NamedAt: cu.CreatedAt})
	}
	s.renderView(c, status, "coordinator_account.html", v)
}

// accountPolicyAction is POST /coordinator/accounts/:id/:action.
func (s *Server) accountPolicyAction(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	if a, err := s.Catalog.AccountByID(c.Request.Context(), id); err != nil || !ownsAccount(c, *a) {
		s.fail(c, http.StatusNotFound, "not_found", "no such account")
		return
	}
	if !s.checkCSRF(c) {
		s.renderAccountPolicy(c, http.StatusForbidden, id, []string{"Your form expired. Please try again."}, "")
		return
	}
	if isDepartmentHead(c) && (c.Param("action") == "contact" || c.Param("action") == "authenticity") {
		s.fail(c, http.StatusForbidden, "forbidden", "the coordinator keeps the directory and checks authenticity")
		return
	}
	ctx, actor := c.Request.Context(), identity(c).Actor()
	sub := func(name string) uint64 { n, _ := strconv.ParseUint(c.PostForm(name), 10, 63); return n }
	var err error
	done := ""
	switch c.Param("action") {
	case "designate":
		_, err = s.Policy.AddDesignated(ctx, id, policy.DesignatedInput{Name: c.PostForm("name"), Email: c.PostForm("email"),
			Capability: c.PostForm("capability")}, actor)
		done = "designated user added"
	case "undesignate":
		err, done = s.Catalog.RemoveDesignatedUser(ctx, id, sub("user"), actor), "designated user removed"
	case "acknowledge":
		err, done = s.Policy.Acknowledge(ctx, id, sub("user"), actor), "acknowledgment recorded"
	case "custodian":
		_, err = s.Policy.AddCustodian(ctx, id, policy.CustodianInput{Name: c.PostForm("name"), Title: c.PostForm("title"), Email: c.PostForm("email")}, actor)
		done = "custodian added"
	case "uncustodian":
		err, done = s.Catalog.RemoveCustodian(ctx, id, sub("custodian"), actor), "custodian removed"
	case "contact":
		err, done = s.Policy.SetContact(ctx, id, c.PostForm("contact_name"), c.PostForm("contact_email"), actor), "directory contact saved"
	case "authenticity":
		var a *storage.Account
		if a, err = s.Catalog.AccountByID(ctx, id); err == nil {
			_, err = s.Policy.CheckAuthenticity(ctx, *a)
		}
		if errors.Is(err, storage.ErrNotFound) && a != nil {
			s.renderAccountPolicy(c, http.StatusConflict, id, []string{"The account has no captured profile yet; capture it first."}, "")
			return
		}
		done = "authenticity checked"
	default:
		s.fail(c, http.StatusNotFound, "not_found", "no such action")
		return
	}
	s.afterPolicyForm(c, err, fmt.Sprintf("/coordinator/accounts/%d", id), done, func(status int, problems []string) {
		s.renderAccountPolicy(c, status, id, problems, "")
	})
}

// afterPolicyForm redirects after a successful form, or shows the form
// again with what was wrong.
func (s *Server) afterPolicyForm(c *gin.Context, err error, back, done string, again func(status int, problems []string)) {
	fe, isFE := policy.IsFieldErrors(err)
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, back+"?done="+url.QueryEscape(done))
	case isFE:
		var ps []string
		for _, f := range fe.Fields() {
			ps = append(ps, strings.ReplaceAll(f, "_", " ")+" "+fe[f])
		}
		again(http.StatusUnprocessableEntity, ps)
	case errors.Is(err, storage.ErrNotFound):
		s.fail(c, http.StatusNotFound, "not_found", "no such record")
	case errors.Is(err, storage.ErrConflict):
		again(http.StatusConflict, []string{conflictText(err)})
	default:
		s.internal(c, "coordinator form", err)
	}
}

// plansView is what coordinator_plans.html gets.
type plansView struct {
	pageData
	Pending   []planOut
	Decided   []planOut
	Accounts  map[uint64]accountOut
	Platforms []string
	Form      map[string]string
	Problems  []string
	Notice    string
	// Department is a department head's own: its plans are for it.
	Department string
}

// plansPage is GET /coordinator/plans.
func (s *Server) plansPage(c *gin.Context) {
	s.renderPlans(c, http.StatusOK, nil, nil, c.Query("done"))
}

func (s *Server) renderPlans(c *gin.Context, status int, form map[string]string, problems []string, notice string) {
	ctx := c.Request.Context()
	ps, err := s.Catalog.ListPlans(ctx, "", 0)
	if err != nil {
		s.internal(c, "plans page", err)
		return
	}
	as, err := s.Catalog.ListAccounts(ctx)
	if err != nil {
		s.internal(c, "plans page", err)
		return
	}
	v := plansView{pageData: s.base(c, "Work plans"), Accounts: map[uint64]accountOut{}, Form: form, Problems: problems, Notice: notice}
	for _, a := range as {
		v.Accounts[a.ID] = toAccountOut(a)
	}
	if id := identity(c); isDepartmentHead(c) {
		v.Department = id.Department
	}
	for _, p := range ps {
		if a, ok := v.Accounts[p.AccountID]; isDepartmentHead(c) && (!ok || !sameDepartment(a.Department, v.Department)) {
			continue
		}
		if p.Status == storage.PlanPending {
			v.Pending = append(v.Pending, toPlanOut(p))
		} else {
			v.Decided = append(v.Decided, toPlanOut(p))
		}
	}
	for name := range platformNames {
		v.Platforms = append(v.Platforms, name)
	}
	slices.Sort(v.Platforms)
	if v.Form == nil {
		v.Form = map[string]string{}
	}
	s.renderView(c, status, "coordinator_plans.html", v)
}

// planFields are the form fields of a new account's plan.
var planFields = []string{"platform", "handle", "native_id", "department", "display_name", "api_base", "credential",
	"mission", "audience", "legal_risks", "technical", "security", "emergency"}

// submitPlanPage is POST /coordinator/plans: a work plan with its new
// account, pending approval.
func (s *Server) submitPlanPage(c *gin.Context) {
	form := map[string]string{}
	for _, f := range planFields {
		form[f] = c.PostForm(f)
	}
	if !s.checkCSRF(c) {
		s.renderPlans(c, http.StatusForbidden, form, []string{"Your form expired. Please try again."}, "")
		return
	}
	in := planIn{Account: &accountIn{Platform: form["platform"], Handle: form["handle"], NativeID: form["native_id"],
		Department: form["department"], DisplayName: form["display_name"], APIBase: form["api_base"], Credential: form["credential"]},
		PlanInput: policy.PlanInput{Department: form["department"], Mission: form["mission"], Audience: form["audience"],
			LegalRisks: form["legal_risks"], Technical: form["technical"], Security: form["security"], Emergency: form["emergency"]}}
	form["credential"] = "" // never sent back into the page
	p, _, problems, err := s.submitPlanInput(c, in)
	if len(problems) > 0 {
		err = policy.FieldErrors(problems)
	}
	done := ""
	if p != nil {
		done = fmt.Sprintf("plan %d submitted; the account waits for approval", p.ID)
	}
	s.afterPolicyForm(c, err, "/coordinator/plans", done, func(status int, ps []string) { s.renderPlans(c, status, form, ps, "") })
}

// decidePlanPage is POST /coordinator/plans/:id/decision.
func (s *Server) decidePlanPage(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	if !s.checkCSRF(c) {
		s.renderPlans(c, http.StatusForbidden, nil, []string{"Your form expired. Please try again."}, "")
		return
	}
	approve := c.PostForm("decision") == "approve"
	if !approve && c.PostForm("decision") != "reject" {
		s.renderPlans(c, http.StatusUnprocessableEntity, nil, []string{"Choose approve or reject."}, "")
		return
	}
	p, err := s.Policy.DecidePlan(c.Request.Context(), id, approve, c.PostForm("reason"), identity(c).Actor())
	done := ""
	if err == nil {
		done = fmt.Sprintf("plan %d %s", p.ID, p.Status)
		if approve {
			s.accountChanged(c, p.AccountID)
		}
	}
	s.afterPolicyForm(c, err, "/coordinator/plans", done, func(status int, ps []string) { s.renderPlans(c, status, nil, ps, "") })
}

// reviewItem is one flagged item in the review queue.
type reviewItem struct {
	ItemID  uint64
	Account accountOut
	Item    *itemBrief
	Flags   []flagItemOut
}

// reviewView is what coordinator_review.html gets.
type reviewView struct {
	pageData
	Items      []reviewItem
	Category   string
	Categories []screening.Category
	Problems   []string
	Notice     string
	Removal    uint64
}

// reviewPage is GET /coordinator/review?category=A: flags awaiting
// review, one entry per item, oldest first.
func (s *Server) reviewPage(c *gin.Context) {
	removal, _ := strconv.ParseUint(c.Query("removal"), 10, 63)
	s.renderReview(c, http.StatusOK, nil, c.Query("done"), removal)
}

func (s *Server) renderReview(c *gin.Context, status int, problems []string, notice string, removal uint64) {
	ctx := c.Request.Context()
	cat := strings.ToUpper(c.Query("category"))
	if len(cat) != 1 || cat[0] < 'A' || cat[0] > 'L' {
		cat = ""
	}
	fs, err := s.Catalog.ListFlags(ctx, storage.FlagFilter{Status: storage.FlagPending, Category: cat, Limit: 300})
	if err != nil {
		s.internal(c, "review page", err)
		return
	}
	withItems, err := s.flagsWithItems(c, fs)
	if err != nil {
		s.internal(c, "review page", err)
		return
	}
	as, err := s.Catalog.ListAccounts(ctx)
	if err != nil {
		s.internal(c, "review page", err)
		return
	}
	accts := map[uint64]accountOut{}
	for _, a := range as {
		accts[a.ID] = toAccountOut(a)
	}
	v := reviewView{pageData: s.base(c, "Review flagged content"), Category: cat, Categories: screening.Categories(),
		Problems: problems, Notice: notice, Removal: removal}
	index := map[uint64]int{}
	for _, f := range withItems {
		i, ok := index[f.ItemID]
		if !ok {
			i = len(v.Items)
			index[f.ItemID] = i
			v.Items = append(v.Items, reviewItem{ItemID: f.ItemID, Account: accts[f.AccountID], Item: f.Item})
		}
		v.Items[i].Flags = append(v.Items[i].Flags, f)
	}
	s.renderView(c, status, "coordinator_review.html", v)
}

// reviewDecisionPage is POST /coordinator/review/:id: keep or remove.
func (s *Server) reviewDecisionPage(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	if !s.checkCSRF(c) {
		s.renderReview(c, http.StatusForbidden, []string{"Your form expired. Please try again."}, "", 0)
		return
	}
	_, r, err := s.Policy.Decide(c.Request.Context(), id, c.PostForm("decision"), c.PostForm("reason"), identity(c).Actor())
	if errors.Is(err, storage.ErrConflict) {
		s.renderReview(c, http.StatusConflict, []string{fmt.Sprintf("Item %d has no flag awaiting review; someone decided it already.", id)}, "", 0)
		return
	}
	fe, isFE := policy.IsFieldErrors(err)
	switch {
	case err == nil && r != nil:
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/coordinator/review?done=%s&removal=%d", url.QueryEscape(fmt.Sprintf("item %d removed; its removal record is ready", id)), r.ID))
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/coordinator/review?done="+url.QueryEscape(fmt.Sprintf("item %d kept", id)))
	case isFE:
		var ps []string
		for _, f := range fe.Fields() {
			ps = append(ps, fmt.Sprintf("Item %d: %s %s", id, f, fe[f]))
		}
		s.renderReview(c, http.StatusUnprocessableEntity, ps, "", 0)
	case errors.Is(err, storage.ErrNotFound):
		s.fail(c, http.StatusNotFound, "not_found", "no such item")
	default:
		s.internal(c, "review decision", err)
	}
}

// removalsView is what coordinator_removals.html gets.
type removalsView struct {
	pageData
	Removals []removalOut
	Accounts map[uint64]accountOut
}

// removalsPage is GET /coordinator/removals.
func (s *Server) removalsPage(c *gin.Context) {
	ctx := c.Request.Context()
	rs, err := s.Catalog.ListRemovals(ctx, nil, 0, 500)
	if err != nil {
		s.internal(c, "removals page", err)
		return
	}
	as, err := s.Catalog.ListAccounts(ctx)
	if err != nil {
		s.internal(c, "removals page", err)
		return
	}
	v := removalsView{pageData: s.base(c, "Removal records"), Accounts: map[uint64]accountOut{}}
	for _, a := range as {
		v.Accounts[a.ID] = toAccountOut(a)
	}
	for _, r := range rs {
		v.Removals = append(v.Removals, toRemovalOut(r))
	}
	s.renderView(c, http.StatusOK, "coordinator_removals.html", v)
}

// violatorsView is what coordinator_violators.html gets.
type violatorsView struct {
	pageData
	Violators []violatorOut
	Min       int
}

// violatorsPage is GET /coordinator/violators?min=2.
func (s *Server) violatorsPage(c *gin.Context) {
	min, err := strconv.Atoi(c.DefaultQuery("min", "2"))
	if err != nil || min < 1 || min > 1000 {
		min = 2
	}
	vs, err := s.Policy.Violators(c.Request.Context(), min)
	if err != nil {
		s.internal(c, "violators page", err)
		return
	}
	v := violatorsView{pageData: s.base(c, "Repeat violators"), Min: min}
	for _, x := range vs {
		v.Violators = append(v.Violators, violatorOut{Platform: x.Platform, AuthorID: x.AuthorID, AuthorName: x.AuthorName, Removed: x.Removed, Accounts: x.Accounts, LastAt: x.Last})
	}
	s.renderView(c, http.StatusOK, "coordinator_violators.html", v)
}
