package api

import (
	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/storage"
)

// Access says who may call a route.
type Access int

// The kinds of access a route can have.
const (
	// Public routes answer anyone; the caller is still identified when a
	// session or token is presented.
	Public Access = iota
	// Roles routes need a signed-in caller holding one of Route.Roles.
	Roles
)

// Route is one entry of the routing table. Every route is listed here, with
// who may call it, so one test can walk them all.
type Route struct {
	Method string
	Path   string
	Access Access
	Roles  []string // with Access == Roles
	// HTML routes authenticate by session cookie and answer with pages;
	// the others are the JSON API and authenticate by bearer token.
	HTML    bool
	handler gin.HandlerFunc
}

var (
	anyRole   = storage.Roles
	adminOnly = []string{storage.RoleAdmin}
	custody   = []string{storage.RoleAdmin, storage.RoleLegal}
	managers  = []string{storage.RoleAdmin, storage.RoleCoordinator}
	readers   = []string{storage.RoleAdmin, storage.RoleClerk, storage.RoleLegal}
	clerks    = []string{storage.RoleAdmin, storage.RoleClerk}
	// reviewers see removal records: the coordinator who made them, and
	// the clerk and legal, who hand them over as records.
	reviewers = []string{storage.RoleAdmin, storage.RoleCoordinator, storage.RoleClerk, storage.RoleLegal}
	// planners are the managers and department heads, who see and manage
	// only their own department's accounts (see deptScope).
	planners = []string{storage.RoleAdmin, storage.RoleCoordinator, storage.RoleDepartment}
)

// Routes lists every route the server answers.
func (s *Server) Routes() []Route { return s.routes() }

func (s *Server) routes() []Route {
	return []Route{
		// probes
		{Method: "GET", Path: "/healthz", Access: Public, handler: s.healthz},
		{Method: "GET", Path: "/readyz", Access: Public, handler: s.readyz},
		{Method: "GET", Path: "/metrics", Access: Public, handler: s.metrics},
		{Method: "GET", Path: "/api/openapi.json", Access: Public, handler: s.openapi},

		// pages
		{Method: "GET", Path: "/", Access: Public, HTML: true, handler: s.home},
		{Method: "GET", Path: "/login", Access: Public, HTML: true, handler: s.loginPage},
		{Method: "POST", Path: "/login", Access: Public, HTML: true, handler: s.login},
		{Method: "GET", Path: "/search", Access: Roles, Roles: readers, HTML: true, handler: s.searchPage},
		{Method: "GET", Path: "/items/:id", Access: Roles, Roles: readers, HTML: true, handler: s.itemPage},
		{Method: "GET", Path: "/items/:id/media/:sha256", Access: Roles, Roles: readers, HTML: true, handler: s.itemMedia},
		// records requests: the resident's pages
		{Method: "GET", Path: "/requests/new", Access: Public, HTML: true, handler: s.newRequestPage},
		{Method: "POST", Path: "/requests", Access: Public, HTML: true, handler: s.fileRequestForm},
		{Method: "GET", Path: "/requests/filed/:tracking", Access: Public, HTML: true, handler: s.filedPage},
		{Method: "GET", Path: "/requests/status", Access: Public, HTML: true, handler: s.statusPage},
		{Method: "POST", Path: "/requests/status", Access: Public, HTML: true, handler: s.statusLookup},
		{Method: "POST", Path: "/requests/status/download", Access: Public, HTML: true, handler: s.statusDownload},
		{Method: "GET", Path: "/requests/log", Access: Public, HTML: true, handler: s.requestLogPage},
		{Method: "GET", Path: "/calendar", Access: Public, HTML: true, handler: s.calendarPage},
		{Method: "GET", Path: "/directory", Access: Public, HTML: true, handler: s.directoryPage},
		{Method: "GET", Path: "/assets/letter.css", Access: Public, HTML: true, handler: s.letterCSS},
		// records requests: the clerk's pages
		{Method: "GET", Path: "/clerk/requests", Access: Roles, Roles: clerks, HTML: true, handler: s.queuePage},
		{Method: "GET", Path: "/clerk/requests/:id", Access: Roles, Roles: clerks, HTML: true, handler: s.requestPage},
		{Method: "POST", Path: "/clerk/requests/:id/:action", Access: Roles, Roles: clerks, HTML: true, handler: s.requestActionPage},
		{Method: "GET", Path: "/clerk/requests/:id/files/:what", Access: Roles, Roles: clerks, HTML: true, handler: s.requestFilePage},
		{Method: "GET", Path: "/legal/holds", Access: Roles, Roles: custody, HTML: true, handler: s.holdsPage},
		{Method: "POST", Path: "/legal/holds", Access: Roles, Roles: custody, HTML: true, handler: s.placeHoldPage},
		{Method: "POST", Path: "/legal/holds/:id/release", Access: Roles, Roles: custody, HTML: true, handler: s.releaseHoldPage},
		{Method: "GET", Path: "/legal/exports", Access: Roles, Roles: custody, HTML: true, handler: s.exportsPage},
		{Method: "POST", Path: "/legal/exports", Access: Roles, Roles: custody, HTML: true, handler: s.startExportPage},
		{Method: "GET", Path: "/legal/exports/:id", Access: Roles, Roles: custody, HTML: true, handler: s.exportPage},
		{Method: "GET", Path: "/legal/exports/:id/bundle", Access: Roles, Roles: custody, HTML: true, handler: s.exportBundle},
		{Method: "GET", Path: "/coordinator", Access: Roles, Roles: planners, HTML: true, handler: s.coordinatorPage},
		{Method: "GET", Path: "/coordinator/accounts/:id", Access: Roles, Roles: planners, HTML: true, handler: s.accountPolicyPage},
		{Method: "POST", Path: "/coordinator/accounts/:id/:action", Access: Roles, Roles: planners, HTML: true, handler: s.accountPolicyAction},
		{Method: "GET", Path: "/coordinator/plans", Access: Roles, Roles: planners, HTML: true, handler: s.plansPage},
		{Method: "POST", Path: "/coordinator/plans", Access: Roles, Roles: planners, HTML: true, handler: s.submitPlanPage},
		{Method: "POST", Path: "/coordinator/plans/:id/decision", Access: Roles, Roles: managers, HTML: true, handler: s.decidePlanPage},
		{Method: "GET", Path: "/coordinator/review", Access: Roles, Roles: managers, HTML: true, handler: s.reviewPage},
		{Method: "POST", Path: "/coordinator/review/:id", Access: Roles, Roles: managers, HTML: true, handler: s.reviewDecisionPage},
		{Method: "GET", Path: "/coordinator/removals", Access: Roles, Roles: managers, HTML: true, handler: s.removalsPage},
		{Method: "GET", Path: "/coordinator/removals/:id/:file", Access: Roles, Roles: managers, HTML: true, handler: s.removalFile},
		{Method: "GET", Path: "/coordinator/violators", Access: Roles, Roles: managers, HTML: true, handler: s.violatorsPage},
		{Method: "GET", Path: "/coordinator/designated-users.csv", Access: Roles, Roles: planners, HTML: true, handler: s.designatedCSV},
		{Method: "GET", Path: "/admin/calendar", Access: Roles, Roles: adminOnly, HTML: true, handler: s.adminCalendarPage},
		{Method: "POST", Path: "/admin/calendar", Access: Roles, Roles: adminOnly, HTML: true, handler: s.adminCalendarInstall},
		{Method: "GET", Path: "/account/password", Access: Roles, Roles: anyRole, HTML: true, handler: s.passwordPage},
		{Method: "POST", Path: "/account/password", Access: Roles, Roles: anyRole, HTML: true, handler: s.changePassword},
		// Last of the pages: TestEveryRouteChecksRoles walks the table in
		// order, and signing out ends the sessions the pages after it need.
		{Method: "POST", Path: "/logout", Access: Roles, Roles: anyRole, HTML: true, handler: s.logout},

		// JSON API
		{Method: "GET", Path: "/api/v1/me", Access: Roles, Roles: anyRole, handler: s.me},
		{Method: "GET", Path: "/api/v1/custody/verify", Access: Roles, Roles: custody, handler: s.custodyVerify},
		{Method: "GET", Path: "/api/v1/users", Access: Roles, Roles: adminOnly, handler: s.listUsers},
		{Method: "POST", Path: "/api/v1/accounts", Access: Roles, Roles: managers, handler: s.createAccount},
		{Method: "GET", Path: "/api/v1/accounts", Access: Roles, Roles: planners, handler: s.listAccounts},
		{Method: "GET", Path: "/api/v1/accounts/:id", Access: Roles, Roles: planners, handler: s.getAccount},
		{Method: "POST", Path: "/api/v1/accounts/:id/captures", Access: Roles, Roles: managers, handler: s.startCapture},
		{Method: "GET", Path: "/api/v1/captures/:id", Access: Roles, Roles: managers, handler: s.getCapture},
		{Method: "GET", Path: "/api/v1/items", Access: Roles, Roles: readers, handler: s.listItems},
		{Method: "GET", Path: "/api/v1/items/:id", Access: Roles, Roles: readers, handler: s.getItem},
		{Method: "GET", Path: "/api/v1/search", Access: Roles, Roles: readers, handler: s.apiSearch},
		{Method: "POST", Path: "/api/v1/requests", Access: Public, handler: s.fileRequestAPI},
		{Method: "GET", Path: "/api/v1/requests/:id/status", Access: Public, handler: s.requestStatusAPI},
		{Method: "GET", Path: "/api/v1/request-log", Access: Public, handler: s.requestLogAPI},
		{Method: "GET", Path: "/api/v1/calendar/due-date", Access: Public, handler: s.dueDateAPI},
		{Method: "GET", Path: "/api/v1/calendar", Access: Public, handler: s.calendarAPI},
		{Method: "PUT", Path: "/api/v1/calendar", Access: Roles, Roles: adminOnly, handler: s.installCalendarAPI},
		{Method: "GET", Path: "/api/v1/requests", Access: Roles, Roles: clerks, handler: s.listRequestsAPI},
		{Method: "GET", Path: "/api/v1/requests/:id", Access: Roles, Roles: clerks, handler: s.getRequestAPI},
		{Method: "POST", Path: "/api/v1/requests/:id/:action", Access: Roles, Roles: clerks, handler: s.requestActionAPI},
		{Method: "GET", Path: "/api/v1/requests/:id/files/:what", Access: Roles, Roles: clerks, handler: s.requestFileAPI},
		{Method: "POST", Path: "/api/v1/exports", Access: Roles, Roles: custody, handler: s.createExportAPI},
		{Method: "GET", Path: "/api/v1/exports", Access: Roles, Roles: custody, handler: s.listExportsAPI},
		{Method: "GET", Path: "/api/v1/exports/:id", Access: Roles, Roles: custody, handler: s.getExportAPI},
		{Method: "GET", Path: "/api/v1/exports/:id/bundle", Access: Roles, Roles: custody, handler: s.exportBundle},
		{Method: "POST", Path: "/api/v1/holds", Access: Roles, Roles: custody, handler: s.createHoldAPI},
		{Method: "GET", Path: "/api/v1/retention/rules", Access: Roles, Roles: custody, handler: s.retentionRulesAPI},
		{Method: "PUT", Path: "/api/v1/retention/rules", Access: Roles, Roles: adminOnly, handler: s.setRetentionRuleAPI},
		{Method: "POST", Path: "/api/v1/dispositions", Access: Roles, Roles: custody, handler: s.proposeDispositionAPI},
		{Method: "GET", Path: "/api/v1/dispositions", Access: Roles, Roles: custody, handler: s.dispositionsAPI},
		{Method: "GET", Path: "/api/v1/dispositions/:id", Access: Roles, Roles: custody, handler: s.dispositionAPI},
		{Method: "POST", Path: "/api/v1/dispositions/:id/:action", Access: Roles, Roles: custody, handler: s.dispositionActionAPI},
		{Method: "GET", Path: "/api/v1/dispositions/:id/files/:what", Access: Roles, Roles: custody, handler: s.dispositionFileAPI},
		{Method: "GET", Path: "/api/v1/holds", Access: Roles, Roles: custody, handler: s.listHoldsAPI},
		{Method: "GET", Path: "/api/v1/holds/:id", Access: Roles, Roles: custody, handler: s.getHoldAPI},
		{Method: "POST", Path: "/api/v1/holds/:id/release", Access: Roles, Roles: custody, handler: s.releaseHoldAPI},
		// the social media policy
		{Method: "GET", Path: "/api/v1/directory", Access: Public, handler: s.directory},
		{Method: "POST", Path: "/api/v1/plans", Access: Roles, Roles: planners, handler: s.submitPlan},
		{Method: "GET", Path: "/api/v1/plans", Access: Roles, Roles: planners, handler: s.listPlans},
		{Method: "GET", Path: "/api/v1/plans/:id", Access: Roles, Roles: planners, handler: s.getPlan},
		{Method: "POST", Path: "/api/v1/plans/:id/decision", Access: Roles, Roles: managers, handler: s.decidePlan},
		{Method: "GET", Path: "/api/v1/accounts/:id/designated-users", Access: Roles, Roles: planners, handler: s.listDesignated},
		{Method: "POST", Path: "/api/v1/accounts/:id/designated-users", Access: Roles, Roles: planners, handler: s.addDesignated},
		{Method: "DELETE", Path: "/api/v1/accounts/:id/designated-users/:uid", Access: Roles, Roles: planners, handler: s.removeDesignated},
		{Method: "POST", Path: "/api/v1/accounts/:id/designated-users/:uid/acknowledgment", Access: Roles, Roles: planners, handler: s.acknowledge},
		{Method: "GET", Path: "/api/v1/designated-users.csv", Access: Roles, Roles: managers, handler: s.designatedCSV},
		{Method: "GET", Path: "/api/v1/accounts/:id/custodians", Access: Roles, Roles: planners, handler: s.listCustodians},
		{Method: "POST", Path: "/api/v1/accounts/:id/custodians", Access: Roles, Roles: planners, handler: s.addCustodian},
		{Method: "DELETE", Path: "/api/v1/accounts/:id/custodians/:cid", Access: Roles, Roles: planners, handler: s.removeCustodian},
		{Method: "PUT", Path: "/api/v1/accounts/:id/contact", Access: Roles, Roles: managers, handler: s.setContact},
		{Method: "POST", Path: "/api/v1/accounts/:id/authenticity", Access: Roles, Roles: managers, handler: s.checkAuthenticity},
		{Method: "GET", Path: "/api/v1/compliance", Access: Roles, Roles: planners, handler: s.compliance},
		{Method: "GET", Path: "/api/v1/dashboard", Access: Roles, Roles: planners, handler: s.dashboardJSON},
		{Method: "GET", Path: "/api/v1/flags", Access: Roles, Roles: managers, handler: s.listFlags},
		{Method: "POST", Path: "/api/v1/items/:id/review", Access: Roles, Roles: managers, handler: s.review},
		{Method: "GET", Path: "/api/v1/removals", Access: Roles, Roles: reviewers, handler: s.listRemovals},
		{Method: "GET", Path: "/api/v1/removals/:id", Access: Roles, Roles: reviewers, handler: s.getRemoval},
		{Method: "GET", Path: "/api/v1/removals/:id/:file", Access: Roles, Roles: reviewers, handler: s.removalFile},
		{Method: "GET", Path: "/api/v1/reports/violators", Access: Roles, Roles: managers, handler: s.violators},
	}
}
