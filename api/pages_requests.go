package api

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/search"
	"github.com/civicarchive/civicarchive/storage"
)

// CanWorkRequests reports whether the caller may use the clerk's request
// pages.
func (id *Identity) CanWorkRequests() bool { return id != nil && slices.Contains(clerks, id.Role) }

// IsAdmin reports whether the caller is an administrator.
func (id *Identity) IsAdmin() bool { return id != nil && id.Role == storage.RoleAdmin }

// queueView is what queue.html gets.
type queueView struct {
	pageData
	Rows     []queueRow
	Total    int64
	Filter   string // open, mine, all
	Statuses []string
}

type queueRow struct {
	ID                                       uint64
	Tracking, Received, Due, DueState, Label string
	Summary, Assignee, Name                  string
	Expedited                                bool
}

// queuePage is GET /clerk/requests: open requests, soonest due first.
func (s *Server) queuePage(c *gin.Context) {
	f := s.queueFilter(c)
	v := queueView{pageData: s.base(c, "Records requests"), Filter: "open"}
	switch {
	case c.Query("assignee") == "me":
		v.Filter = "mine"
	case c.Query("status") == "all":
		v.Filter = "all"
	}
	rs, total, err := s.Records.Queue(c.Request.Context(), f)
	if err != nil {
		s.internal(c, "queue", err)
		return
	}
	cal, err := s.Records.Calendar(c.Request.Context())
	if err != nil {
		s.internal(c, "queue", err)
		return
	}
	today := s.Records.Today()
	v.Total = total
	for i := range rs {
		r := &rs[i]
		row := queueRow{ID: r.ID, Tracking: r.TrackingNumber, Received: r.ReceivedDate, Due: r.DueDate,
			DueState: records.DueState(r, today, cal), Label: records.Label(r.Status), Summary: r.Summary, Name: r.Name, Expedited: r.Expedited}
		if r.Status == records.StatusAppealFiled {
			row.Due = r.AppealDecisionDue
		}
		if r.Assignee != nil {
			row.Assignee = r.Assignee.Username
		}
		v.Rows = append(v.Rows, row)
	}
	s.renderView(c, http.StatusOK, "queue.html", v)
}

// requestView is what request.html gets.
type requestView struct {
	pageData
	R          requestOut
	DueState   string
	Attached   []attachedView
	Users      []storage.User
	Moves      []statusOption
	CanRespond bool
	CanAttach  bool
	Kinds      []string
	Reasons    []records.Reason
	Grounds    []records.Ground
	Problems   []string
	Notice     string
	Search     searchBox
	LawName    string
	AppealDays int
	Fees       *records.FeeEstimate
	HourlyRate string
	Expediting bool
}

type statusOption struct{ Value, Label string }

type attachedView struct {
	ID, ItemID, VersionID uint64
	URL, Title, Text      string
	Query                 string
	Withheld              bool
	Citation              string
}

// searchBox is the search run from a request's page to find records.
type searchBox struct {
	Q, From, To, Platform string
	Ran                   bool
	Total                 uint64
	Hits                  []searchHit
	Query                 string // the parameters, as attached
	Error                 string
}

// requestPage is GET /clerk/requests/:id: the request, its history, its
// attachments and every action.
func (s *Server) requestPage(c *gin.Context) {
	r, ok := s.loadRequest(c)
	if !ok {
		return
	}
	s.renderRequest(c, http.StatusOK, r, nil, c.Query("done"))
}

func (s *Server) renderRequest(c *gin.Context, status int, r *storage.Request, problems []string, notice string) {
	ctx := c.Request.Context()
	file, err := s.Catalog.RequestFile(ctx, r.ID)
	if err != nil {
		s.internal(c, "request page", err)
		return
	}
	users, err := s.Catalog.ListUsers(ctx)
	if err != nil {
		s.internal(c, "request page", err)
		return
	}
	cal, err := s.Records.Calendar(ctx)
	if err != nil {
		s.internal(c, "request page", err)
		return
	}
	law := s.Records.Law()
	v := requestView{pageData: s.base(c, "Request "+r.TrackingNumber), R: s.toRequestOut(r, file),
		DueState: records.DueState(r, s.Records.Today(), cal), Users: users, CanRespond: records.CanRespond(r.Status),
		CanAttach: records.IsPending(r.Status), Kinds: records.ResponseKinds, Reasons: law.Extraordinary.Reasons,
		Grounds: law.Denial.Grounds, Problems: problems, Notice: notice, LawName: law.Name, AppealDays: law.Appeal.Days,
		Fees: records.ParseEstimate(r), Expediting: r.Expedited && r.ExpediteDecision == "" && records.IsPending(r.Status)}
	for _, to := range records.Moves(r.Status) {
		v.Moves = append(v.Moves, statusOption{to, records.Label(to)})
	}
	if err := s.attachedViews(c, &v, file.Items); err != nil {
		s.internal(c, "request page", err)
		return
	}
	if v.CanAttach {
		v.Search = s.requestSearch(c)
	}
	s.renderView(c, status, "request.html", v)
}

func (s *Server) attachedViews(c *gin.Context, v *requestView, items []storage.RequestItem) error {
	vids := make([]uint64, 0, len(items))
	for _, it := range items {
		vids = append(vids, it.VersionID)
	}
	versions, err := s.Catalog.VersionsByIDs(c.Request.Context(), vids)
	if err != nil {
		return err
	}
	for _, it := range items {
		ver := versions[it.VersionID]
		v.Attached = append(v.Attached, attachedView{ID: it.ID, ItemID: it.ItemID, VersionID: it.VersionID,
			URL:   "/items/" + strconv.FormatUint(it.ItemID, 10) + "#v" + strconv.Itoa(ver.Seq),
			Title: ver.Item.Platform + " " + ver.Item.Kind + " " + ver.Item.NativeID + " (version " + strconv.Itoa(ver.Seq) + ")",
			Text:  excerpt(ver.Text, 240), Query: it.Query, Withheld: it.Withheld, Citation: it.WithholdCitation})
	}
	return nil
}

// requestSearch runs the search typed on a request's page (?q=&from=&to=&
// platform=), showing hits to attach.
func (s *Server) requestSearch(c *gin.Context) searchBox {
	b := searchBox{Q: c.Query("q"), From: c.Query("from"), To: c.Query("to"), Platform: c.Query("platform")}
	if c.Query("searched") == "" || s.Search == nil {
		return b
	}
	q := url.Values{}
	for k, v := range map[string]string{"q": b.Q, "from": b.From, "to": b.To, "platform": b.Platform} {
		if v != "" {
			q.Set(k, v)
		}
	}
	b.Query = q.Encode()
	sr, problems := s.searchRequestFrom(q)
	if len(problems) > 0 {
		b.Error = records.FieldErrors(problems).Error()
		return b
	}
	sr.Size, sr.Facets = search.MaxPageSize, false
	res, hits, err := s.runSearch(c, sr)
	if err != nil {
		b.Error = err.Error()
		if !errors.Is(err, search.ErrBadQuery) {
			s.Log.Error("request page search", "err", err)
			b.Error = "search failed"
		}
		return b
	}
	b.Ran, b.Total, b.Hits = true, res.Total, hits
	for i := range b.Hits {
		b.Hits[i].Text = excerpt(b.Hits[i].Text, 240)
	}
	return b
}

// requestActionPage is POST /clerk/requests/:id/:action (a form): the
// action runs and the page comes back (POST → redirect → GET), or the page
// re-renders with the problems.
func (s *Server) requestActionPage(c *gin.Context) {
	r, ok := s.loadRequest(c)
	if !ok {
		return
	}
	if !s.checkCSRF(c) {
		s.renderRequest(c, http.StatusForbidden, r, []string{"Your form expired. Please try again."}, "")
		return
	}
	name := c.Param("action")
	act, ok := s.actions()[name]
	if !ok {
		s.fail(c, http.StatusNotFound, "not_found", "no such action")
		return
	}
	_, err := act(c, r, formInput{c})
	var fe records.FieldErrors
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/clerk/requests/"+r.TrackingNumber+"?done="+url.QueryEscape(name))
	case errors.As(err, &fe):
		s.renderRequest(c, http.StatusUnprocessableEntity, r, []string{fe.Error()}, "")
	case errors.Is(err, records.ErrNotAllowed), errors.Is(err, storage.ErrStale):
		s.renderRequest(c, http.StatusConflict, r, []string{err.Error()}, "")
	default:
		s.internal(c, name, err)
	}
}

// requestFilePage is GET /clerk/requests/:id/files/:what.
func (s *Server) requestFilePage(c *gin.Context) {
	r, ok := s.loadRequest(c)
	if !ok {
		return
	}
	s.sendRequestFile(c, r, c.Param("what"))
}
