package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
)

// maxAttachHits caps how many search hits one attach takes.
const maxAttachHits = 1000

// actor names the caller to the records office.
func actor(c *gin.Context) records.Actor {
	id := identity(c)
	name := id.Display
	if name == "" {
		name = id.Name
	}
	return records.Actor{ID: id.Actor(), Name: name, UserID: id.UserID, IsAdmin: id.Role == storage.RoleAdmin}
}

// loadRequest reads :id, a tracking number or a numeric id.
func (s *Server) loadRequest(c *gin.Context) (*storage.Request, bool) {
	p := c.Param("id")
	var (
		r   *storage.Request
		err error
	)
	if n, perr := strconv.ParseUint(p, 10, 63); perr == nil {
		r, err = s.Catalog.RequestByID(c.Request.Context(), n)
	} else {
		r, err = s.Catalog.RequestByTracking(c.Request.Context(), strings.ToUpper(p))
	}
	return r, s.found(c, "request", err)
}

// requestOut is a request as clerks see it (contact details included).
type requestOut struct {
	ID                 uint64                 `json:"id"`
	TrackingNumber     string                 `json:"tracking_number"`
	Status             string                 `json:"status"`
	StatusLabel        string                 `json:"status_label"`
	Due                string                 `json:"due"` // overdue, due_today, due_soon or ""
	Name               string                 `json:"name"`
	Email              string                 `json:"email"`
	Phone              string                 `json:"phone"`
	MailingAddress     string                 `json:"mailing_address"`
	Description        string                 `json:"description"`
	Summary            string                 `json:"summary"`
	DateFrom           string                 `json:"date_from"`
	DateTo             string                 `json:"date_to"`
	Platforms          string                 `json:"platforms"`
	Accounts           string                 `json:"accounts"`
	DeliveryFormat     string                 `json:"delivery_format"`
	Expedited          bool                   `json:"expedited"`
	ExpeditedReason    string                 `json:"expedited_reason"`
	ExpediteDecision   string                 `json:"expedite_decision"`
	ExpediteNoticeDue  string                 `json:"expedite_notice_due"`
	NewsMedia          bool                   `json:"news_media"`
	FeeWaiver          bool                   `json:"fee_waiver"`
	FeeWaiverBasis     string                 `json:"fee_waiver_basis"`
	ReceivedAt         time.Time              `json:"received_at"`
	ReceivedDate       string                 `json:"received_date"`
	DueDate            string                 `json:"due_date"`
	CalendarVersion    string                 `json:"calendar_version"`
	Determination      string                 `json:"determination"`
	AssigneeID         *uint64                `json:"assignee_id"`
	Assignee           string                 `json:"assignee"`
	AvailableDate      string                 `json:"available_date"`
	AppealDeadline     string                 `json:"appeal_deadline"`
	AppealDecisionDue  string                 `json:"appeal_decision_due"`
	FeesCents          int64                  `json:"fees_cents"`
	PaidCents          int64                  `json:"paid_cents"`
	PrepaymentRequired bool                   `json:"prepayment_required"`
	FeeEstimate        *records.FeeEstimate   `json:"fee_estimate"`
	ReleaseSHA256      string                 `json:"release_sha256,omitempty"`
	Events             []storage.RequestEvent `json:"events,omitempty"`
	Messages           []messageOut           `json:"messages,omitempty"`
	Attachments        []storage.RequestItem  `json:"attachments,omitempty"`
	Letters            []letterOut            `json:"letters,omitempty"`
	Holds              []storage.Hold         `json:"holds,omitempty"`
}

type messageOut struct {
	ID     uint64    `json:"id"`
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Public bool      `json:"public"`
	Body   string    `json:"body"`
}

type letterOut struct {
	ID        uint64    `json:"id"`
	Kind      string    `json:"kind"`
	Title     string    `json:"title"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	PDFSHA256 string    `json:"pdf_sha256"`
}

func (s *Server) toRequestOut(r *storage.Request, file *storage.RequestRecord) requestOut {
	o := requestOut{ID: r.ID, TrackingNumber: r.TrackingNumber, Status: r.Status, StatusLabel: records.Label(r.Status),
		Due: records.DueState(r, s.Records.Today(), nil), Name: r.Name, Email: r.Email, Phone: r.Phone,
		MailingAddress: r.MailingAddress, Description: r.Description, Summary: r.Summary, DateFrom: r.DateFrom, DateTo: r.DateTo,
		Platforms: r.Platforms, Accounts: r.Accounts, DeliveryFormat: r.DeliveryFormat, Expedited: r.Expedited,
		ExpeditedReason: r.ExpeditedReason, ExpediteDecision: r.ExpediteDecision, ExpediteNoticeDue: r.ExpediteNoticeDue,
		NewsMedia: r.NewsMedia, FeeWaiver: r.FeeWaiver, FeeWaiverBasis: r.FeeWaiverBasis, ReceivedAt: r.ReceivedAt,
		ReceivedDate: r.ReceivedDate, DueDate: r.DueDate, CalendarVersion: r.CalendarVersion, Determination: r.Determination,
		AssigneeID: r.AssigneeID, AvailableDate: r.AvailableDate, AppealDeadline: r.AppealDeadline,
		AppealDecisionDue: r.AppealDecisionDue, FeesCents: r.FeesCents, PaidCents: r.PaidCents,
		PrepaymentRequired: r.PrepaymentRequired, FeeEstimate: records.ParseEstimate(r), ReleaseSHA256: r.ReleaseSHA256}
	if r.Assignee != nil {
		o.Assignee = r.Assignee.Username
	}
	if file != nil {
		o.Events, o.Attachments, o.Holds = file.Events, file.Items, file.Holds
		for _, m := range file.Messages {
			o.Messages = append(o.Messages, messageOut{m.ID, m.At, m.Author, m.Public, m.Body})
		}
		for _, l := range file.Letters {
			o.Letters = append(o.Letters, letterOut{l.ID, l.Kind, l.Title, l.CreatedAt, l.CreatedBy, l.PDFSHA256})
		}
	}
	return o
}

// queueFilter reads ?status= (repeatable; "all" for every status) and
// ?assignee=me|ID.
func (s *Server) queueFilter(c *gin.Context) storage.RequestFilter {
	f := storage.RequestFilter{Limit: 100}
	for _, st := range multi(c, "status") {
		if st == "all" {
			f.Statuses = records.Statuses
			break
		}
		f.Statuses = append(f.Statuses, st)
	}
	switch a := c.Query("assignee"); a {
	case "":
	case "me":
		f.AssigneeID = identity(c).UserID
	default:
		f.AssigneeID, _ = strconv.ParseUint(a, 10, 63)
	}
	if n, err := strconv.Atoi(c.Query("offset")); err == nil && n > 0 {
		f.Offset = n
	}
	return f
}

// listRequestsAPI is GET /api/v1/requests: the clerk's queue.
func (s *Server) listRequestsAPI(c *gin.Context) {
	rs, total, err := s.Records.Queue(c.Request.Context(), s.queueFilter(c))
	if err != nil {
		s.internal(c, "queue", err)
		return
	}
	out := make([]requestOut, 0, len(rs))
	for i := range rs {
		out = append(out, s.toRequestOut(&rs[i], nil))
	}
	c.JSON(http.StatusOK, gin.H{"requests": out, "total": total})
}

// getRequestAPI is GET /api/v1/requests/:id: everything about a request.
func (s *Server) getRequestAPI(c *gin.Context) {
	r, ok := s.loadRequest(c)
	if !ok {
		return
	}
	file, err := s.Catalog.RequestFile(c.Request.Context(), r.ID)
	if err != nil {
		s.internal(c, "request file", err)
		return
	}
	c.JSON(http.StatusOK, s.toRequestOut(r, file))
}

// requestAction is one clerk action, shared by the JSON API and the pages:
// it reads its input through get and returns the changed request.
type requestAction func(c *gin.Context, r *storage.Request, in actionInput) (*storage.Request, error)

// actionInput reads an action's fields from a JSON body or a form.
type actionInput interface {
	str(name string) string
	num(name string) int64
	flag(name string) bool
	list(name string) []string
}

type formInput struct{ c *gin.Context }

func (f formInput) str(n string) string { return f.c.PostForm(n) }
func (f formInput) num(n string) int64 {
	v, _ := strconv.ParseInt(strings.TrimSpace(f.c.PostForm(n)), 10, 64)
	return v
}
func (f formInput) flag(n string) bool { v := f.c.PostForm(n); return v != "" && v != "false" }
func (f formInput) list(n string) []string {
	var out []string
	for _, v := range f.c.PostFormArray(n) {
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
	}
	return out
}

type jsonInput map[string]any

func (j jsonInput) str(n string) string { v, _ := j[n].(string); return v }
func (j jsonInput) num(n string) int64 {
	switch v := j[n].(type) {
	case float64:
		return int64(v)
	case string:
		x, _ := strconv.ParseInt(v, 10, 64)
		return x
	}
	return 0
}
func (j jsonInput) flag(n string) bool { v, _ := j[n].(bool); return v }
func (j jsonInput) list(n string) []string {
	var out []string
	switch v := j[n].(type) {
	case []any:
		for _, x := range v {
			switch t := x.(type) {
			case string:
				out = append(out, t)
			case float64:
				out = append(out, strconv.FormatInt(int64(t), 10))
			}
		}
	case string:
		out = append(out, v)
	}
	return out
}

func ids(vals []string) ([]uint64, error) {
	out := make([]uint64, 0, len(vals))
	for _, v := range vals {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 63)
		if err != nil {
			return nil, records.FieldErrors{"ids": "must be numbers"}
		}
		out = append(out, n)
	}
	return out, nil
}

// actions are the clerk's actions on a request, by name.
func (s *Server) actions() map[string]requestAction {
	return map[string]requestAction{
		"assign": func(c *gin.Context, r *storage.Request, in actionInput) (*storage.Request, error) {
			uid := uint64(in.num("user_id"))
			name := ""
			if uid != 0 {
				u, err := s.Catalog.UserByID(c.Request.Context(), uid)
				if err != nil {
					return nil, records.FieldErrors{"user_id": "no such user"}
				}
				name = u.Username
			}
			return s.Records.Assign(c.Request.Context(), r.ID, actor(c), uid, name)
		},
		"note": func(c *gin.Context, r *storage.Request, in actionInput) (*storage.Request, error) {
			return s.Records.Note(c.Request.Context(), r.ID, actor(c), in.str("body"), in.flag("public"))
		},
		"attach": s.attachAction,
		"detach": func(c *gin.Context, r *storage.Request, in actionInput) (*storage.Request, error) {
			n, err := ids(in.list("attachment_ids"))
			if err != nil {
				return nil, err
			}
			return s.Records.Detach(c.Request.Context(), r.ID, actor(c), n)
		},
		"move": func(c *gin.Context, r *storage.Request, in actionInput) (*storage.Request, error) {
			return s.Records.Move(c.Request.Context(), r.ID, actor(c), in.str("to"), in.str("citation"), in.str("note"))
		},
		"expedite": func(c *gin.Context, r *storage.Request, in actionInput) (*storage.Request, error) {
			return s.Records.DecideExpedite(c.Request.Context(), r.ID, actor(c), in.str("decision") == "grant", in.str("reason"))
		},
		"fees": func(c *gin.Context, r *storage.Request, in actionInput) (*storage.Request, error) {
			fi := records.FeeInput{StaffMinutes: int(in.num("staff_minutes")), Pages: int(in.num("pages")),
				Waiver: in.str("waiver"), WaiverReason: in.str("waiver_reason")}
			if d := strings.TrimSpace(in.str("other_description")); d != "" || in.num("other_cents") != 0 {
				fi.Other = append(fi.Other, records.FeeLine{Description: d, Cents: in.num("other_cents")})
			}
			out, _, err := s.Records.SetFees(c.Request.Context(), r.ID, actor(c), fi)
			return out, err
		},
		"payment": func(c *gin.Context, r *storage.Request, in actionInput) (*storage.Request, error) {
			return s.Records.RecordPayment(c.Request.Context(), r.ID, actor(c), in.num("amount_cents"))
		},
		"respond": func(c *gin.Context, r *storage.Request, in actionInput) (*storage.Request, error) {
			withheld, err := ids(in.list("withheld"))
			if err != nil {
				return nil, err
			}
			return s.Records.Respond(c.Request.Context(), r.ID, actor(c), records.Response{Kind: in.str("kind"),
				Explanation: in.str("explanation"), Withheld: withheld, WithheldDescription: in.str("withheld_description"),
				Citations: in.list("citations"), ReferralEntity: in.str("referral_entity"), ReasonKey: in.str("reason"),
				AvailableDate: in.str("available_date")})
		},
	}
}

// attachAction attaches chosen items, or every hit (up to maxAttachHits)
// of a search given as GET /api/v1/search parameters.
func (s *Server) attachAction(c *gin.Context, r *storage.Request, in actionInput) (*storage.Request, error) {
	itemIDs, err := ids(in.list("item_ids"))
	if err != nil {
		return nil, err
	}
	query := strings.TrimSpace(in.str("search"))
	if len(itemIDs) == 0 && query != "" {
		if itemIDs, _, err = s.searchIDs(c.Request.Context(), query, "search", maxAttachHits); err != nil {
			return nil, err
		}
		if len(itemIDs) == 0 {
			return nil, records.FieldErrors{"search": "matches nothing"}
		}
	}
	if _, err := s.Records.Attach(c.Request.Context(), r.ID, actor(c), query, itemIDs); err != nil {
		return nil, err
	}
	return s.Catalog.RequestByID(c.Request.Context(), r.ID)
}

// requestActionAPI is POST /api/v1/requests/:id/:action with a JSON body.
func (s *Server) requestActionAPI(c *gin.Context) {
	act, ok := s.actions()[c.Param("action")]
	if !ok {
		s.fail(c, http.StatusNotFound, "not_found", "no such action; one of assign, note, attach, detach, move, expedite, fees, payment, respond")
		return
	}
	r, ok := s.loadRequest(c)
	if !ok {
		return
	}
	var in jsonInput
	if !s.decodeStrict(c, &in) {
		return
	}
	updated, err := act(c, r, in)
	if !s.recordsOK(c, c.Param("action"), err) {
		return
	}
	file, err := s.Catalog.RequestFile(c.Request.Context(), updated.ID)
	if err != nil {
		s.internal(c, "request file", err)
		return
	}
	c.JSON(http.StatusOK, s.toRequestOut(updated, file))
}

// requestFileAPI is GET /api/v1/requests/:id/files/:what: "release",
// "letter-N" (PDF) or "letter-N.html".
func (s *Server) requestFileAPI(c *gin.Context) {
	r, ok := s.loadRequest(c)
	if !ok {
		return
	}
	s.sendRequestFile(c, r, c.Param("what"))
}
