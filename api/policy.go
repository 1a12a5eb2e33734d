package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/policy"
	"github.com/civicarchive/civicarchive/screening"
	"github.com/civicarchive/civicarchive/storage"
)

// categoryName names a policy 3.4.3 category letter.
func categoryName(letter string) string { return screening.CategoryName(letter) }

// The social media policy's API (issue 7): the public directory, work
// plans, designated users, custodians, authenticity, the review queue of
// screening flags, removal records, repeat violators and the dashboard.

// policyOK answers an error from the policy office: 422 naming the fields,
// 404, 409, or 500. True when err is nil.
func (s *Server) policyOK(c *gin.Context, what string, err error) bool {
	switch fe, isFE := policy.IsFieldErrors(err); {
	case err == nil:
		return true
	case isFE:
		s.invalid(c, fe)
	case errors.Is(err, storage.ErrNotFound):
		s.fail(c, http.StatusNotFound, "not_found", "no such "+what)
	case errors.Is(err, storage.ErrConflict):
		s.fail(c, http.StatusConflict, "conflict", conflictText(err))
	default:
		s.internal(c, what, err)
	}
	return false
}

// conflictText is the message of a storage conflict, without the package
// prefixes.
func conflictText(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "storage: already exists: "); i >= 0 {
		return msg[i+len("storage: already exists: "):]
	}
	return "not allowed in its current state"
}

// directory is GET /api/v1/directory (public): every official account.
func (s *Server) directory(c *gin.Context) {
	es, err := s.Policy.Directory(c.Request.Context())
	if err != nil {
		s.internal(c, "directory", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"accounts": es})
}

// planOut is a work plan as the API shows it.
type planOut struct {
	ID          uint64     `json:"id"`
	AccountID   uint64     `json:"account_id"`
	Department  string     `json:"department"`
	Mission     string     `json:"mission"`
	Audience    string     `json:"audience"`
	LegalRisks  string     `json:"legal_risks"`
	Technical   string     `json:"technical"`
	Security    string     `json:"security"`
	Emergency   string     `json:"emergency"`
	SubmittedBy string     `json:"submitted_by"`
	SubmittedAt time.Time  `json:"submitted_at"`
	Status      string     `json:"status"`
	Reason      string     `json:"reason"`
	DecidedBy   string     `json:"decided_by"`
	DecidedAt   *time.Time `json:"decided_at"`
}

func toPlanOut(p storage.WorkPlan) planOut {
	return planOut{ID: p.ID, AccountID: p.AccountID, Department: p.Department, Mission: p.Mission, Audience: p.Audience,
		LegalRisks: p.LegalRisks, Technical: p.Technical, Security: p.Security, Emergency: p.Emergency,
		SubmittedBy: p.SubmittedBy, SubmittedAt: p.CreatedAt, Status: p.Status, Reason: p.Reason, DecidedBy: p.DecidedBy, DecidedAt: p.DecidedAt}
}

// planIn is the body of POST /api/v1/plans: a plan for a new account
// (account) or for a registered one (account_id).
type planIn struct {
	AccountID uint64     `json:"account_id"`
	Account   *accountIn `json:"account"`
	policy.PlanInput
}

// submitPlan is POST /api/v1/plans.
func (s *Server) submitPlan(c *gin.Context) {
	var in planIn
	if !s.decodeStrict(c, &in) {
		return
	}
	p, a, problems, err := s.submitPlanInput(c, in)
	if problems != nil {
		s.invalid(c, problems)
		return
	}
	if !s.policyOK(c, "account", err) {
		return
	}
	c.JSON(http.StatusCreated, gin.H{"plan": toPlanOut(*p), "account": toAccountOut(*a)})
}

// submitPlanInput validates and stores a plan (shared by the API and the
// page). problems are field errors.
func (s *Server) submitPlanInput(c *gin.Context, in planIn) (*storage.WorkPlan, *storage.Account, map[string]string, error) {
	problems := map[string]string{}
	if id := identity(c); isDepartmentHead(c) {
		// A department head plans for its own department only.
		in.Department = id.Department
		if in.Account != nil {
			in.Account.Department = id.Department
		}
		if in.AccountID != 0 {
			a, err := s.Catalog.AccountByID(c.Request.Context(), in.AccountID)
			if err == nil && !ownsAccount(c, *a) {
				err = storage.ErrNotFound
			}
			if err != nil {
				return nil, nil, nil, err
			}
		}
	}
	if (in.Account == nil) == (in.AccountID == 0) {
		problems["account"] = "give either a new account or the account_id of a registered one"
	}
	if _, err := policy.CheckPlan(in.PlanInput); err != nil {
		fe, _ := policy.IsFieldErrors(err)
		for k, v := range fe {
			problems[k] = v
		}
	}
	var acct *storage.Account
	if in.Account != nil {
		for k, v := range s.validateAccount(in.Account) {
			problems["account."+k] = v
		}
		if len(problems) == 0 {
			sealed, err := s.Sealer.Seal(in.Account.Credential)
			if err != nil {
				return nil, nil, nil, err
			}
			a := in.Account
			acct = &storage.Account{Platform: a.Platform, Handle: a.Handle, NativeID: a.NativeID, Department: a.Department,
				DisplayName: a.DisplayName, APIBase: a.APIBase, CredentialEnc: sealed, Schedule: a.Schedule,
				FullSweepSchedule: a.FullSweepSchedule, Status: storage.AccountActive, Health: storage.HealthUnknown}
			if in.Department == "" {
				in.Department = a.Department
			}
		}
	}
	if len(problems) > 0 {
		return nil, nil, problems, nil
	}
	p, err := s.Policy.SubmitPlan(c.Request.Context(), acct, in.AccountID, in.PlanInput, identity(c).Actor())
	if err != nil {
		return nil, nil, nil, err
	}
	a, err := s.Catalog.AccountByID(c.Request.Context(), p.AccountID)
	return p, a, nil, err
}

// listPlans is GET /api/v1/plans?status=…&account=….
func (s *Server) listPlans(c *gin.Context) {
	status := c.Query("status")
	if status != "" && status != storage.PlanPending && status != storage.PlanApproved && status != storage.PlanRejected {
		s.invalid(c, map[string]string{"status": "must be pending, approved or rejected"})
		return
	}
	acct, ok := s.queryID(c, "account")
	if !ok {
		return
	}
	ps, err := s.Catalog.ListPlans(c.Request.Context(), status, acct)
	if err != nil {
		s.internal(c, "list plans", err)
		return
	}
	scope, limited, err := s.deptScope(c)
	if err != nil {
		s.internal(c, "list plans", err)
		return
	}
	out := make([]planOut, 0, len(ps))
	for _, p := range ps {
		if !limited || slices.Contains(scope, p.AccountID) {
			out = append(out, toPlanOut(p))
		}
	}
	c.JSON(http.StatusOK, gin.H{"plans": out})
}

// queryID reads an optional numeric query parameter (0 when absent).
func (s *Server) queryID(c *gin.Context, name string) (uint64, bool) {
	v := c.Query(name)
	if v == "" {
		return 0, true
	}
	id, err := strconv.ParseUint(v, 10, 63)
	if err != nil {
		s.invalid(c, map[string]string{name: "must be a number"})
		return 0, false
	}
	return id, true
}

// getPlan is GET /api/v1/plans/:id.
func (s *Server) getPlan(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	p, err := s.Catalog.PlanByID(c.Request.Context(), id)
	if err == nil {
		if scope, limited, serr := s.deptScope(c); serr != nil {
			err = serr
		} else if limited && !slices.Contains(scope, p.AccountID) {
			err = storage.ErrNotFound
		}
	}
	if s.found(c, "plan", err) {
		c.JSON(http.StatusOK, toPlanOut(*p))
	}
}

// decisionIn is the body of a plan decision.
type decisionIn struct {
	Approve *bool  `json:"approve"`
	Reason  string `json:"reason"`
}

// decidePlan is POST /api/v1/plans/:id/decision.
func (s *Server) decidePlan(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	var in decisionIn
	if !s.decodeStrict(c, &in) {
		return
	}
	if in.Approve == nil {
		s.invalid(c, map[string]string{"approve": "is required (true or false)"})
		return
	}
	p, err := s.Policy.DecidePlan(c.Request.Context(), id, *in.Approve, in.Reason, identity(c).Actor())
	if !s.policyOK(c, "plan", err) {
		return
	}
	if *in.Approve {
		s.accountChanged(c, p.AccountID)
	}
	c.JSON(http.StatusOK, toPlanOut(*p))
}

// accountChanged tells serve an account was approved (it is scheduled).
func (s *Server) accountChanged(c *gin.Context, id uint64) {
	if s.OnAccountChange == nil {
		return
	}
	a, err := s.Catalog.AccountByID(c.Request.Context(), id)
	if err == nil {
		err = s.OnAccountChange(*a)
	}
	if err != nil {
		s.Log.Error("schedule approved account", "account_id", id, "err", err)
	}
}

// designatedOut is a designated user as the API shows it.
type designatedOut struct {
	ID             uint64     `json:"id"`
	AccountID      uint64     `json:"account_id"`
	Name           string     `json:"name"`
	Email          string     `json:"email"`
	Capability     string     `json:"capability"`
	Acknowledgment string     `json:"acknowledgment"` // current, outdated, missing
	PolicyVersion  string     `json:"policy_version"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	DesignatedAt   time.Time  `json:"designated_at"`
}

func (s *Server) toDesignatedOut(d storage.DesignatedUser) designatedOut {
	return designatedOut{ID: d.ID, AccountID: d.AccountID, Name: d.Name, Email: d.Email, Capability: d.Capability,
		Acknowledgment: s.Policy.AckStatus(d), PolicyVersion: d.PolicyVersion, AcknowledgedAt: d.AcknowledgedAt, DesignatedAt: d.CreatedAt}
}

// accountForPolicy loads the :id account, answering 404 when it is missing.
func (s *Server) accountForPolicy(c *gin.Context) (*storage.Account, bool) {
	id, ok := s.pathID(c)
	if !ok {
		return nil, false
	}
	a, err := s.Catalog.AccountByID(c.Request.Context(), id)
	if err == nil && !ownsAccount(c, *a) {
		err = storage.ErrNotFound // another department's: as if it did not exist
	}
	if !s.found(c, "account", err) {
		return nil, false
	}
	return a, true
}

// listDesignated is GET /api/v1/accounts/:id/designated-users.
func (s *Server) listDesignated(c *gin.Context) {
	a, ok := s.accountForPolicy(c)
	if !ok {
		return
	}
	ds, err := s.Catalog.DesignatedUsers(c.Request.Context(), []uint64{a.ID})
	if err != nil {
		s.internal(c, "designated users", err)
		return
	}
	out := make([]designatedOut, 0, len(ds))
	for _, d := range ds {
		out = append(out, s.toDesignatedOut(d))
	}
	c.JSON(http.StatusOK, gin.H{"designated_users": out, "policy_version": s.Policy.PolicyVersion()})
}

// addDesignated is POST /api/v1/accounts/:id/designated-users.
func (s *Server) addDesignated(c *gin.Context) {
	a, ok := s.accountForPolicy(c)
	if !ok {
		return
	}
	var in policy.DesignatedInput
	if !s.decodeStrict(c, &in) {
		return
	}
	d, err := s.Policy.AddDesignated(c.Request.Context(), a.ID, in, identity(c).Actor())
	if s.policyOK(c, "account", err) {
		c.JSON(http.StatusCreated, s.toDesignatedOut(*d))
	}
}

// subID reads a second numeric path parameter.
func (s *Server) subID(c *gin.Context, name, what string) (uint64, bool) {
	id, err := strconv.ParseUint(c.Param(name), 10, 63)
	if err != nil || id == 0 {
		s.fail(c, http.StatusNotFound, "not_found", "no such "+what)
		return 0, false
	}
	return id, true
}

// removeDesignated is DELETE /api/v1/accounts/:id/designated-users/:uid.
func (s *Server) removeDesignated(c *gin.Context) {
	a, ok := s.accountForPolicy(c)
	if !ok {
		return
	}
	uid, ok := s.subID(c, "uid", "designated user")
	if !ok {
		return
	}
	err := s.Catalog.RemoveDesignatedUser(c.Request.Context(), a.ID, uid, identity(c).Actor())
	if s.policyOK(c, "designated user", err) {
		c.Status(http.StatusNoContent)
	}
}

// acknowledge is POST /api/v1/accounts/:id/designated-users/:uid/acknowledgment:
// the user acknowledged the current policy version now.
func (s *Server) acknowledge(c *gin.Context) {
	a, ok := s.accountForPolicy(c)
	if !ok {
		return
	}
	uid, ok := s.subID(c, "uid", "designated user")
	if !ok {
		return
	}
	err := s.Policy.Acknowledge(c.Request.Context(), a.ID, uid, identity(c).Actor())
	if !s.policyOK(c, "designated user", err) {
		return
	}
	ds, err := s.Catalog.DesignatedUsers(c.Request.Context(), []uint64{a.ID})
	if err != nil {
		s.internal(c, "designated users", err)
		return
	}
	for _, d := range ds {
		if d.ID == uid {
			c.JSON(http.StatusOK, s.toDesignatedOut(d))
			return
		}
	}
	s.fail(c, http.StatusNotFound, "not_found", "no such designated user")
}

// designatedCSV is GET /api/v1/designated-users.csv: every account's
// designated users with their acknowledgments.
func (s *Server) designatedCSV(c *gin.Context) {
	scope, _, err := s.deptScope(c)
	if err != nil {
		s.internal(c, "designated users csv", err)
		return
	}
	var buf strings.Builder
	if err := s.Policy.DesignatedCSV(c.Request.Context(), scope, &buf); err != nil {
		s.internal(c, "designated users csv", err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="designated-users.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", []byte(buf.String()))
}

// custodianOut is a custodian as the API shows it.
type custodianOut struct {
	ID        uint64    `json:"id"`
	AccountID uint64    `json:"account_id"`
	Name      string    `json:"name"`
	Title     string    `json:"title"`
	Email     string    `json:"email"`
	NamedAt   time.Time `json:"named_at"`
}

// listCustodians is GET /api/v1/accounts/:id/custodians.
func (s *Server) listCustodians(c *gin.Context) {
	a, ok := s.accountForPolicy(c)
	if !ok {
		return
	}
	cs, err := s.Catalog.Custodians(c.Request.Context(), []uint64{a.ID})
	if err != nil {
		s.internal(c, "custodians", err)
		return
	}
	out := make([]custodianOut, 0, len(cs))
	for _, cu := range cs {
		out = append(out, custodianOut{ID: cu.ID, AccountID: cu.AccountID, Name: cu.Name, Title: cu.Title, Email: cu.Email, NamedAt: cu.CreatedAt})
	}
	c.JSON(http.StatusOK, gin.H{"custodians": out, "minimum": policy.MinCustodians, "enough": len(out) >= policy.MinCustodians})
}

// addCustodian is POST /api/v1/accounts/:id/custodians.
func (s *Server) addCustodian(c *gin.Context) {
	a, ok := s.accountForPolicy(c)
	if !ok {
		return
	}
	var in policy.CustodianInput
	if !s.decodeStrict(c, &in) {
		return
	}
	cu, err := s.Policy.AddCustodian(c.Request.Context(), a.ID, in, identity(c).Actor())
	if s.policyOK(c, "account", err) {
		c.JSON(http.StatusCreated, custodianOut{ID: cu.ID, AccountID: cu.AccountID, Name: cu.Name, Title: cu.Title, Email: cu.Email, NamedAt: cu.CreatedAt})
	}
}

// removeCustodian is DELETE /api/v1/accounts/:id/custodians/:cid.
func (s *Server) removeCustodian(c *gin.Context) {
	a, ok := s.accountForPolicy(c)
	if !ok {
		return
	}
	cid, ok := s.subID(c, "cid", "custodian")
	if !ok {
		return
	}
	err := s.Catalog.RemoveCustodian(c.Request.Context(), a.ID, cid, identity(c).Actor())
	if s.policyOK(c, "custodian", err) {
		c.Status(http.StatusNoContent)
	}
}

// contactIn is the body of PUT /api/v1/accounts/:id/contact.
type contactIn struct {
	ContactName  string `json:"contact_name"`
	ContactEmail string `json:"contact_email"`
}

// setContact is PUT /api/v1/accounts/:id/contact: the directory's official
// contact.
func (s *Server) setContact(c *gin.Context) {
	a, ok := s.accountForPolicy(c)
	if !ok {
		return
	}
	var in contactIn
	if !s.decodeStrict(c, &in) {
		return
	}
	err := s.Policy.SetContact(c.Request.Context(), a.ID, in.ContactName, in.ContactEmail, identity(c).Actor())
	if s.policyOK(c, "account", err) {
		c.JSON(http.StatusOK, gin.H{"contact_name": strings.TrimSpace(in.ContactName), "contact_email": strings.TrimSpace(in.ContactEmail)})
	}
}

// authenticityOut is an account's authenticity check.
type authenticityOut struct {
	AccountID uint64     `json:"account_id"`
	CheckedAt *time.Time `json:"checked_at"`
	Official  bool       `json:"official"`
	CityEmail bool       `json:"city_email"`
	Website   bool       `json:"city_website"`
	Authentic bool       `json:"authentic"`
	Note      string     `json:"note"`
}

// checkAuthenticity is POST /api/v1/accounts/:id/authenticity: check the
// latest profile snapshot now.
func (s *Server) checkAuthenticity(c *gin.Context) {
	a, ok := s.accountForPolicy(c)
	if !ok {
		return
	}
	res, err := s.Policy.CheckAuthenticity(c.Request.Context(), *a)
	if errors.Is(err, storage.ErrNotFound) {
		s.fail(c, http.StatusConflict, "not_captured", "the account has no captured profile yet; capture it first")
		return
	}
	if !s.policyOK(c, "account", err) {
		return
	}
	at := res.CheckedAt
	c.JSON(http.StatusOK, authenticityOut{AccountID: a.ID, CheckedAt: &at, Official: res.Official, CityEmail: res.Email,
		Website: res.Website, Authentic: res.Official && res.Email && res.Website, Note: res.Note})
}

// complianceOut is one account's standing under the policy.
type complianceOut struct {
	Account          accountOut      `json:"account"`
	Plan             string          `json:"plan"`
	PlanID           uint64          `json:"plan_id,omitempty"`
	DesignatedUsers  int             `json:"designated_users"`
	AckMissing       []string        `json:"acknowledgments_missing"`
	Custodians       int             `json:"custodians"`
	CustodiansEnough bool            `json:"custodians_enough"`
	Authenticity     authenticityOut `json:"authenticity"`
	PendingFlags     int             `json:"pending_flags"`
	Gaps             []string        `json:"gaps"`
}

func toComplianceOut(cp policy.Compliance) complianceOut {
	a := cp.Account
	out := complianceOut{Account: toAccountOut(a), Plan: cp.Plan, PlanID: cp.PlanID, DesignatedUsers: cp.Designated,
		AckMissing: cp.AckMissing, Custodians: cp.Custodians, CustodiansEnough: cp.Custodians >= policy.MinCustodians,
		Authenticity: authenticityOut{AccountID: a.ID, CheckedAt: a.AuthCheckedAt, Official: a.AuthOfficial, CityEmail: a.AuthEmail,
			Website: a.AuthWebsite, Authentic: a.AuthOfficial && a.AuthEmail && a.AuthWebsite, Note: a.AuthNote},
		PendingFlags: cp.PendingFlag, Gaps: cp.Gaps}
	if out.AckMissing == nil {
		out.AckMissing = []string{}
	}
	if out.Gaps == nil {
		out.Gaps = []string{}
	}
	return out
}

// compliance is GET /api/v1/compliance: every account's standing and gaps.
func (s *Server) compliance(c *gin.Context) {
	scope, _, err := s.deptScope(c)
	if err != nil {
		s.internal(c, "compliance", err)
		return
	}
	cs, err := s.Policy.Compliance(c.Request.Context(), scope)
	if err != nil {
		s.internal(c, "compliance", err)
		return
	}
	out := make([]complianceOut, 0, len(cs))
	for _, cp := range cs {
		out = append(out, toComplianceOut(cp))
	}
	c.JSON(http.StatusOK, gin.H{"accounts": out, "policy_version": s.Policy.PolicyVersion()})
}

// flagItemOut is a flag with what the reviewer needs of its item.
type flagItemOut struct {
	flagOut
	ID           uint64     `json:"id"`
	ItemID       uint64     `json:"item_id"`
	AccountID    uint64     `json:"account_id"`
	CategoryName string     `json:"category_name"`
	Match        string     `json:"match"`
	Status       string     `json:"status"`
	Reason       string     `json:"reason"`
	DecidedBy    string     `json:"decided_by"`
	DecidedAt    *time.Time `json:"decided_at"`
	CreatedAt    time.Time  `json:"created_at"`
	Item         *itemBrief `json:"item,omitempty"`
}

// itemBrief is the item a flag is on.
type itemBrief struct {
	Platform   string     `json:"platform"`
	Kind       string     `json:"kind"`
	AuthorName string     `json:"author_name"`
	AuthorID   string     `json:"author_id"`
	Text       string     `json:"text"`
	URL        string     `json:"url"`
	DeletedAt  *time.Time `json:"deleted_at"`
}

// listFlags is GET /api/v1/flags?status=pending&category=A&account=…&after=…:
// the review queue.
func (s *Server) listFlags(c *gin.Context) {
	f := storage.FlagFilter{Status: c.DefaultQuery("status", storage.FlagPending), Category: strings.ToUpper(c.Query("category")), Limit: 100}
	problems := map[string]string{}
	switch f.Status {
	case storage.FlagPending, storage.FlagKept, storage.FlagRemoved:
	case "all":
		f.Status = ""
	default:
		problems["status"] = "must be pending, kept, removed or all"
	}
	if f.Category != "" && (len(f.Category) != 1 || f.Category[0] < 'A' || f.Category[0] > 'L') {
		problems["category"] = "must be a letter A to L"
	}
	if len(problems) > 0 {
		s.invalid(c, problems)
		return
	}
	acct, ok := s.queryID(c, "account")
	if !ok {
		return
	}
	if acct != 0 {
		f.Accounts = []uint64{acct}
	}
	if f.AfterID, ok = s.queryID(c, "after"); !ok {
		return
	}
	fs, err := s.Catalog.ListFlags(c.Request.Context(), f)
	if err != nil {
		s.internal(c, "list flags", err)
		return
	}
	out, err := s.flagsWithItems(c, fs)
	if err != nil {
		s.internal(c, "list flags", err)
		return
	}
	next := ""
	if len(fs) == f.Limit {
		next = fmt.Sprint(fs[len(fs)-1].ID)
	}
	c.JSON(http.StatusOK, gin.H{"flags": out, "next_after": next})
}

// flagsWithItems adds each flag's item.
func (s *Server) flagsWithItems(c *gin.Context, fs []storage.Flag) ([]flagItemOut, error) {
	ids := make([]uint64, 0, len(fs))
	for _, f := range fs {
		ids = append(ids, f.ItemID)
	}
	byID, err := s.Catalog.ItemsByIDs(c.Request.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make([]flagItemOut, 0, len(fs))
	for _, f := range fs {
		o := toFlagItemOut(f)
		if it, ok := byID[f.ItemID]; ok {
			o.Item = &itemBrief{Platform: it.Platform, Kind: it.Kind, AuthorName: it.AuthorName, AuthorID: it.AuthorID,
				Text: it.Text, URL: it.URL, DeletedAt: it.DeletedAt}
		}
		out = append(out, o)
	}
	return out, nil
}

func toFlagItemOut(f storage.Flag) flagItemOut {
	return flagItemOut{flagOut: flagOut{Category: f.Category, Rule: f.Rule}, ID: f.ID, ItemID: f.ItemID, AccountID: f.AccountID,
		CategoryName: categoryName(f.Category), Match: f.Match, Status: f.Status, Reason: f.Reason, DecidedBy: f.DecidedBy,
		DecidedAt: f.DecidedAt, CreatedAt: f.CreatedAt}
}

// reviewIn is the body of POST /api/v1/items/:id/review.
type reviewIn struct {
	Decision string `json:"decision"` // keep or remove
	Reason   string `json:"reason"`
}

// review is POST /api/v1/items/:id/review: keep or remove an item whose
// flags await review. Remove writes its removal record.
func (s *Server) review(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	var in reviewIn
	if !s.decodeStrict(c, &in) {
		return
	}
	fs, r, err := s.Policy.Decide(c.Request.Context(), id, in.Decision, in.Reason, identity(c).Actor())
	if errors.Is(err, storage.ErrConflict) {
		s.fail(c, http.StatusConflict, "not_pending", "this item has no flag awaiting review")
		return
	}
	if !s.policyOK(c, "item", err) {
		return
	}
	out := gin.H{"flags": flagsOut(fs)}
	if r != nil {
		out["removal"] = toRemovalOut(*r)
	}
	c.JSON(http.StatusOK, out)
}

func flagsOut(fs []storage.Flag) []flagItemOut {
	out := make([]flagItemOut, 0, len(fs))
	for _, f := range fs {
		out = append(out, toFlagItemOut(f))
	}
	return out
}

// removalOut is a removal record as the API shows it.
type removalOut struct {
	ID         uint64    `json:"id"`
	ItemID     uint64    `json:"item_id"`
	AccountID  uint64    `json:"account_id"`
	Platform   string    `json:"platform"`
	Kind       string    `json:"kind"`
	AuthorID   string    `json:"author_id"`
	AuthorName string    `json:"author_name"`
	Cause      string    `json:"cause"`
	Categories []string  `json:"categories"`
	Decision   string    `json:"decision"`
	Reason     string    `json:"reason"`
	DecidedBy  string    `json:"decided_by"`
	RemovedAt  time.Time `json:"removed_at"`
	HTMLSHA256 string    `json:"html_sha256"`
	PDFSHA256  string    `json:"pdf_sha256"`
	PDF        string    `json:"pdf"`
	HTML       string    `json:"html"`
	CreatedAt  time.Time `json:"created_at"`
}

func toRemovalOut(r storage.Removal) removalOut {
	cats := []string{}
	if r.Categories != "" {
		cats = strings.Split(r.Categories, ",")
	}
	return removalOut{ID: r.ID, ItemID: r.ItemID, AccountID: r.AccountID, Platform: r.Platform, Kind: r.Kind,
		AuthorID: r.AuthorID, AuthorName: r.AuthorName, Cause: r.Cause, Categories: cats, Decision: r.Decision,
		Reason: r.Reason, DecidedBy: r.DecidedBy, RemovedAt: r.RemovedAt, HTMLSHA256: r.HTMLSHA256, PDFSHA256: r.PDFSHA256,
		PDF: fmt.Sprintf("/api/v1/removals/%d/record.pdf", r.ID), HTML: fmt.Sprintf("/api/v1/removals/%d/record.html", r.ID),
		CreatedAt: r.CreatedAt}
}

// listRemovals is GET /api/v1/removals?account=…&before=….
func (s *Server) listRemovals(c *gin.Context) {
	acct, ok := s.queryID(c, "account")
	if !ok {
		return
	}
	before, ok := s.queryID(c, "before")
	if !ok {
		return
	}
	var accounts []uint64
	if acct != 0 {
		accounts = []uint64{acct}
	}
	rs, err := s.Catalog.ListRemovals(c.Request.Context(), accounts, before, 100)
	if err != nil {
		s.internal(c, "list removals", err)
		return
	}
	out := make([]removalOut, 0, len(rs))
	for _, r := range rs {
		out = append(out, toRemovalOut(r))
	}
	c.JSON(http.StatusOK, gin.H{"removals": out})
}

// getRemoval is GET /api/v1/removals/:id.
func (s *Server) getRemoval(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	r, err := s.Catalog.RemovalByID(c.Request.Context(), id)
	if s.found(c, "removal record", err) {
		c.JSON(http.StatusOK, toRemovalOut(*r))
	}
}

// removalFile is GET /api/v1/removals/:id/:file and the coordinator's
// GET /coordinator/removals/:id/:file (record.pdf or record.html): the
// stored record, byte for byte.
func (s *Server) removalFile(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	r, err := s.Catalog.RemovalByID(c.Request.Context(), id)
	if !s.found(c, "removal record", err) {
		return
	}
	s.sendRemovalFile(c, r, c.Param("file"))
}

// sendRemovalFile streams a removal record's HTML or PDF from the blob
// store.
func (s *Server) sendRemovalFile(c *gin.Context, r *storage.Removal, file string) {
	key, ctype, name := r.PDFKey, "application/pdf", fmt.Sprintf("removal-%d.pdf", r.ID)
	switch file {
	case "record.pdf":
	case "record.html":
		key, ctype, name = r.HTMLKey, "text/html; charset=utf-8", fmt.Sprintf("removal-%d.html", r.ID)
	default:
		s.fail(c, http.StatusNotFound, "not_found", "no such file: record.pdf or record.html")
		return
	}
	rc, err := s.Blobs.Get(c.Request.Context(), key)
	if err != nil {
		s.internal(c, "removal record file", err)
		return
	}
	defer rc.Close()
	disposition := "attachment"
	if ctype != "application/pdf" {
		disposition = "inline"
	}
	c.Header("Content-Disposition", fmt.Sprintf("%s; filename=%q", disposition, name))
	c.Status(http.StatusOK)
	c.Header("Content-Type", ctype)
	if _, err := io.Copy(c.Writer, rc); err != nil {
		s.Log.Error("send removal record", "removal", r.ID, "err", err)
	}
}

// violatorOut is one author's count of removed content.
type violatorOut struct {
	Platform   string    `json:"platform"`
	AuthorID   string    `json:"author_id"`
	AuthorName string    `json:"author_name"`
	Removed    int64     `json:"removed"`
	Accounts   int64     `json:"accounts"`
	LastAt     time.Time `json:"last_removed_at"`
}

// violators is GET /api/v1/reports/violators?min=2: authors of removed
// comments across all accounts (3.5.5).
func (s *Server) violators(c *gin.Context) {
	min := 2
	if v := c.Query("min"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.invalid(c, map[string]string{"min": "must be a number from 1 to 1000"})
			return
		}
		min = n
	}
	vs, err := s.Policy.Violators(c.Request.Context(), min)
	if err != nil {
		s.internal(c, "violators", err)
		return
	}
	out := make([]violatorOut, 0, len(vs))
	for _, v := range vs {
		out = append(out, violatorOut{Platform: v.Platform, AuthorID: v.AuthorID, AuthorName: v.AuthorName, Removed: v.Removed, Accounts: v.Accounts, LastAt: v.Last})
	}
	c.JSON(http.StatusOK, gin.H{"violators": out, "min": min})
}

// dashboardJSON is GET /api/v1/dashboard?days=30.
func (s *Server) dashboardJSON(c *gin.Context) {
	days, ok := dashboardDays(c)
	if !ok {
		s.invalid(c, map[string]string{"days": "must be a number from 1 to 366"})
		return
	}
	d, ok := s.scopedDashboard(c, days)
	if !ok {
		return
	}
	accts := make([]complianceOut, 0, len(d.Accounts))
	for _, cp := range d.Accounts {
		accts = append(accts, toComplianceOut(cp))
	}
	c.JSON(http.StatusOK, gin.H{"accounts": accts, "flags": d.Flags, "days": d.Days, "captured_per_day": d.Captured,
		"flags_per_day": d.Flagged, "generated_at": d.GeneratedAt})
}

func dashboardDays(c *gin.Context) (int, bool) {
	v := c.DefaultQuery("days", "30")
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 1 && n <= 366
}

// scopedDashboard gathers the dashboard of the accounts the caller may see
// (a department head's own), answering 500 itself when it cannot.
func (s *Server) scopedDashboard(c *gin.Context, days int) (*policy.Dashboard, bool) {
	scope, _, err := s.deptScope(c)
	if err == nil {
		var d *policy.Dashboard
		if d, err = s.Policy.Dashboard(c.Request.Context(), days, scope); err == nil {
			return d, true
		}
	}
	s.internal(c, "dashboard", err)
	return nil, false
}
