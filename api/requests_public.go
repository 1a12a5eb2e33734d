package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// maxFormBytes caps the public request form's body: the longest allowed
// description and every other field fit well inside it.
const maxFormBytes = 256 << 10

// honeypotField is a form field people never see or fill; bots do.
const honeypotField = "website"

// fieldLabels name the form's fields in error messages, in form order.
var fieldLabels = []struct{ Field, Label string }{
	{"name", "Your name"}, {"mailing_address", "Mailing address"}, {"phone", "Daytime telephone"},
	{"email", "E-mail"}, {"email_consent", "I agree to be contacted by e-mail"}, {"description", "Describe the records"},
	{"date_from", "From date"}, {"date_to", "To date"}, {"platforms", "Platforms"}, {"accounts", "Accounts"},
	{"delivery_format", "How you want the records"}, {"expedited_reason", "Why a faster response benefits the public"},
	{"fee_waiver_basis", "Why fees should be waived"},
}

type fieldError struct{ Field, Label, Msg string }

// requestFormView is what request_new.html gets.
type requestFormView struct {
	pageData
	F              records.Filing
	Errors         map[string]string
	ErrorList      []fieldError
	Platforms      []string
	Formats        []formatOption
	Entity         string
	LawName        string
	StandardDays   int
	ExpeditedDays  int
	MaxDescription int
}

type formatOption struct{ Value, Label string }

var formatLabels = map[string]string{
	"electronic": "Electronic copies (download or e-mail)",
	"paper":      "Paper copies by mail",
	"inspection": "Inspect them in person at City Hall",
}

func (s *Server) requestFormView(c *gin.Context, f records.Filing, errs map[string]string) requestFormView {
	law := s.Records.Law()
	v := requestFormView{pageData: s.base(c, "Request public records"), F: f, Errors: errs, Platforms: records.Platforms,
		Entity: s.Records.Entity().Name, LawName: law.Name, StandardDays: law.Response.StandardBusinessDays,
		ExpeditedDays: law.Response.ExpeditedBusinessDays, MaxDescription: s.maxDescription()}
	for _, fmt := range records.DeliveryFormats {
		v.Formats = append(v.Formats, formatOption{fmt, formatLabels[fmt]})
	}
	for _, fl := range fieldLabels {
		if msg, ok := errs[fl.Field]; ok {
			v.ErrorList = append(v.ErrorList, fieldError{fl.Field, fl.Label, msg})
		}
	}
	return v
}

func (s *Server) maxDescription() int {
	if s.MaxDescription > 0 {
		return s.MaxDescription
	}
	return 10000
}

// newRequestPage is GET /requests/new.
func (s *Server) newRequestPage(c *gin.Context) {
	s.renderView(c, http.StatusOK, "request_new.html", s.requestFormView(c, records.Filing{DeliveryFormat: "electronic"}, nil))
}

// fileRequestForm is POST /requests: the form's post. It re-renders with
// messages (keeping what was typed) or redirects to the confirmation.
func (s *Server) fileRequestForm(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	if err := c.Request.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(c, http.StatusRequestEntityTooLarge, "too_large",
				"Your request is too large to accept. Please shorten the description (at most "+strconv.Itoa(s.maxDescription())+" characters) and try again.")
			return
		}
		s.fail(c, http.StatusBadRequest, "bad_form", "The form could not be read. Please try again.")
		return
	}
	f := records.Filing{
		Name: c.PostForm("name"), Email: c.PostForm("email"), EmailConsent: c.PostForm("email_consent") != "",
		Phone: c.PostForm("phone"), MailingAddress: c.PostForm("mailing_address"), Description: c.PostForm("description"),
		DateFrom: c.PostForm("date_from"), DateTo: c.PostForm("date_to"), Platforms: c.PostFormArray("platforms"),
		Accounts: c.PostForm("accounts"), DeliveryFormat: c.PostForm("delivery_format"),
		Expedited: c.PostForm("expedited") != "", ExpeditedReason: c.PostForm("expedited_reason"),
		NewsMedia: c.PostForm("news_media") != "", FeeWaiver: c.PostForm("fee_waiver") != "",
		FeeWaiverBasis: c.PostForm("fee_waiver_basis"),
	}
	again := func(status int, errs map[string]string, msg string) {
		v := s.requestFormView(c, f, errs)
		v.Error = msg
		s.renderView(c, status, "request_new.html", v)
	}
	if !s.checkCSRF(c) {
		again(http.StatusForbidden, nil, "Your form expired. Please check your answers and send it again.")
		return
	}
	if c.PostForm(honeypotField) != "" {
		s.Log.Info("request form refused: honeypot filled", "remote", c.ClientIP())
		again(http.StatusBadRequest, nil, "Your request could not be accepted. Please leave the field marked “leave empty” empty.")
		return
	}
	if !s.formLimiter.allow(c.ClientIP()) {
		c.Header("Retry-After", "3600")
		again(http.StatusTooManyRequests, nil, "Too many requests were sent from your network in the last hour. Please try again later, or call the City Recorder.")
		return
	}
	r, err := s.Records.File(c.Request.Context(), f, "public:web form")
	var fe records.FieldErrors
	if errors.As(err, &fe) {
		again(http.StatusUnprocessableEntity, fe, "Please correct the marked fields.")
		return
	}
	if err != nil {
		s.internal(c, "file request", err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/requests/filed/"+r.TrackingNumber)
}

// filedView is what request_filed.html gets.
type filedView struct {
	pageData
	Tracking, Received, Due, Calendar string
	Days                              int
	Expedited                         bool
}

// filedPage is GET /requests/filed/:tracking: the confirmation. It shows
// only what the public log shows (no contact details), so it needs no
// secret.
func (s *Server) filedPage(c *gin.Context) {
	r, err := s.Catalog.RequestByTracking(c.Request.Context(), strings.ToUpper(c.Param("tracking")))
	if !s.found(c, "request", err) {
		return
	}
	days := s.Records.Law().Response.StandardBusinessDays
	if r.Expedited {
		days = s.Records.Law().Response.ExpeditedBusinessDays
	}
	s.renderView(c, http.StatusOK, "request_filed.html", filedView{pageData: s.base(c, "Request received"),
		Tracking: r.TrackingNumber, Received: r.ReceivedDate, Due: r.DueDate, Calendar: r.CalendarVersion, Days: days, Expedited: r.Expedited})
}

// fileRequestAPI is POST /api/v1/requests.
func (s *Server) fileRequestAPI(c *gin.Context) {
	var in struct {
		Name            string   `json:"name"`
		Email           string   `json:"email"`
		Phone           string   `json:"phone"`
		MailingAddress  string   `json:"mailing_address"`
		Description     string   `json:"description"`
		DateFrom        string   `json:"date_from"`
		DateTo          string   `json:"date_to"`
		Platforms       []string `json:"platforms"`
		Accounts        string   `json:"accounts"`
		DeliveryFormat  string   `json:"delivery_format"`
		Expedited       bool     `json:"expedited"`
		ExpeditedReason string   `json:"expedited_reason"`
		NewsMedia       bool     `json:"news_media"`
		FeeWaiver       bool     `json:"fee_waiver"`
		FeeWaiverBasis  string   `json:"fee_waiver_basis"`
	}
	if !s.decodeStrict(c, &in) {
		return
	}
	if !s.formLimiter.allow(c.ClientIP()) {
		c.Header("Retry-After", "3600")
		s.fail(c, http.StatusTooManyRequests, "rate_limited", "too many requests from this address; try again later")
		return
	}
	r, err := s.Records.File(c.Request.Context(), records.Filing{
		Name: in.Name, Email: in.Email, EmailConsent: true, Phone: in.Phone, MailingAddress: in.MailingAddress,
		Description: in.Description, DateFrom: in.DateFrom, DateTo: in.DateTo, Platforms: in.Platforms, Accounts: in.Accounts,
		DeliveryFormat: in.DeliveryFormat, Expedited: in.Expedited, ExpeditedReason: in.ExpeditedReason,
		NewsMedia: in.NewsMedia, FeeWaiver: in.FeeWaiver, FeeWaiverBasis: in.FeeWaiverBasis,
	}, "public:api")
	if !s.recordsOK(c, "file request", err) {
		return
	}
	c.JSON(http.StatusCreated, gin.H{"tracking_number": r.TrackingNumber, "status": r.Status,
		"received_at": r.ReceivedAt.UTC().Format(time.RFC3339), "due_date": r.DueDate,
		"calendar_version": r.CalendarVersion})
}

// recordsOK answers an error from the records office: 422 naming the
// fields, 404, 409 for a status that forbids it, or 500. True when err is
// nil.
func (s *Server) recordsOK(c *gin.Context, what string, err error) bool {
	var fe records.FieldErrors
	switch {
	case err == nil:
		return true
	case errors.As(err, &fe):
		s.invalid(c, fe)
	case errors.Is(err, records.ErrNotFound), errors.Is(err, storage.ErrNotFound):
		s.fail(c, http.StatusNotFound, "not_found", "no such request")
	case errors.Is(err, records.ErrSamePerson):
		s.fail(c, http.StatusForbidden, "forbidden", strings.TrimPrefix(err.Error(), "records: "))
	case errors.Is(err, records.ErrCannotDelete), errors.Is(err, records.ErrNoObjectLock), errors.Is(err, storage.ErrConflict):
		s.fail(c, http.StatusConflict, "not_allowed", strings.TrimPrefix(err.Error(), "records: "))
	case errors.Is(err, records.ErrNotAllowed):
		s.fail(c, http.StatusConflict, "not_allowed", strings.TrimPrefix(err.Error(), "records: "))
	case errors.Is(err, storage.ErrStale):
		s.fail(c, http.StatusConflict, "stale", "the request changed meanwhile; reload and try again")
	default:
		s.internal(c, what, err)
	}
	return false
}

// publicStatus is what a requester may see of their request.
type publicStatus struct {
	TrackingNumber string          `json:"tracking_number"`
	Status         string          `json:"status"`
	StatusLabel    string          `json:"status_label"`
	ReceivedAt     string          `json:"received_at"`
	ReceivedDate   string          `json:"received_date"`
	DueDate        string          `json:"due_date"`
	Overdue        bool            `json:"overdue"`
	Determination  string          `json:"determination"`
	AvailableDate  string          `json:"available_date,omitempty"`
	AppealDeadline string          `json:"appeal_deadline,omitempty"`
	Fees           string          `json:"fees,omitempty"`
	Messages       []publicMessage `json:"messages"`
	Letters        []publicLetter  `json:"letters"`
	Release        *publicRelease  `json:"release,omitempty"`
}

type publicMessage struct {
	At   string `json:"at"`
	Body string `json:"body"`
}

type publicLetter struct {
	ID     uint64 `json:"id"`
	Title  string `json:"title"`
	Date   string `json:"date"`
	Text   string `json:"text"`
	SHA256 string `json:"pdf_sha256"`
}

type publicRelease struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// publicStatusOf builds the requester's view: public messages only, never
// internal notes, assignee or history.
func (s *Server) publicStatusOf(c *gin.Context, r *storage.Request) (*publicStatus, error) {
	file, err := s.Catalog.RequestFile(c.Request.Context(), r.ID)
	if err != nil {
		return nil, err
	}
	today := s.Records.Today()
	p := &publicStatus{TrackingNumber: r.TrackingNumber, Status: r.Status, StatusLabel: records.Label(r.Status),
		ReceivedAt: r.ReceivedAt.UTC().Format(time.RFC3339), ReceivedDate: r.ReceivedDate, DueDate: r.DueDate,
		Overdue:       records.IsPending(r.Status) && r.DueDate < today.Format("2006-01-02"),
		Determination: r.Determination, AvailableDate: r.AvailableDate, AppealDeadline: r.AppealDeadline,
		Messages: []publicMessage{}, Letters: []publicLetter{}}
	if r.FeeEstimate != "" {
		p.Fees = records.Money(r.FeesCents)
	}
	for _, m := range file.Messages {
		if m.Public {
			p.Messages = append(p.Messages, publicMessage{At: m.At.UTC().Format(time.RFC3339), Body: m.Body})
		}
	}
	for _, l := range file.Letters {
		p.Letters = append(p.Letters, publicLetter{ID: l.ID, Title: l.Title, Date: s.cityDay(l.CreatedAt), Text: l.Text, SHA256: l.PDFSHA256})
	}
	if r.ReleaseKey != "" {
		p.Release = &publicRelease{SHA256: r.ReleaseSHA256, Size: r.ReleaseSize}
	}
	return p, nil
}

func (s *Server) cityDay(t time.Time) string { return t.In(s.location()).Format("2006-01-02") }

// requestStatusAPI is GET /api/v1/requests/:id/status?email=…|phone=….
func (s *Server) requestStatusAPI(c *gin.Context) {
	if !s.lookupLimiter.allow(c.ClientIP()) {
		s.fail(c, http.StatusTooManyRequests, "rate_limited", "too many lookups from this address; try again later")
		return
	}
	r, err := s.Records.Lookup(c.Request.Context(), c.Param("id"), c.Query("email"), c.Query("phone"))
	if !s.recordsOK(c, "request status", err) {
		return
	}
	p, err := s.publicStatusOf(c, r)
	if err != nil {
		s.internal(c, "request status", err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// statusView is what request_status.html gets.
type statusView struct {
	pageData
	Tracking, Email, Phone string
	NotFound               bool
	S                      *publicStatus
}

// statusPage is GET /requests/status: the lookup form (a tracking number
// in the link is filled in).
// With tracking_number and email (or phone) in the query it looks the
// request up at once, like the form's post.
func (s *Server) statusPage(c *gin.Context) {
	v := statusView{pageData: s.base(c, "Check a request"), Tracking: strings.TrimSpace(c.Query("tracking_number")),
		Email: strings.TrimSpace(c.Query("email")), Phone: strings.TrimSpace(c.Query("phone"))}
	if v.Tracking == "" || (v.Email == "" && v.Phone == "") {
		s.renderView(c, http.StatusOK, "request_status.html", v)
		return
	}
	s.lookupStatus(c, v)
}

// statusLookup is POST /requests/status: the form's post, which keeps the
// contact details out of the URL.
func (s *Server) statusLookup(c *gin.Context) {
	v := statusView{pageData: s.base(c, "Check a request"), Tracking: strings.TrimSpace(c.PostForm("tracking_number")),
		Email: strings.TrimSpace(c.PostForm("email")), Phone: strings.TrimSpace(c.PostForm("phone"))}
	if !s.checkCSRF(c) {
		v.Error = "Your form expired. Please try again."
		s.renderView(c, http.StatusForbidden, "request_status.html", v)
		return
	}
	s.lookupStatus(c, v)
}

func (s *Server) lookupStatus(c *gin.Context, v statusView) {
	if !s.lookupLimiter.allow(c.ClientIP()) {
		v.Error = "Too many lookups from your network. Please try again later."
		s.renderView(c, http.StatusTooManyRequests, "request_status.html", v)
		return
	}
	r, err := s.Records.Lookup(c.Request.Context(), v.Tracking, v.Email, v.Phone)
	if errors.Is(err, records.ErrNotFound) {
		v.NotFound = true
		s.renderView(c, http.StatusNotFound, "request_status.html", v)
		return
	}
	if err == nil {
		v.S, err = s.publicStatusOf(c, r)
	}
	if err != nil {
		s.internal(c, "status lookup", err)
		return
	}
	s.renderView(c, http.StatusOK, "request_status.html", v)
}

// statusDownload is POST /requests/status/download: a letter (PDF) or the
// release bundle, for the requester who proves who they are again.
func (s *Server) statusDownload(c *gin.Context) {
	if !s.checkCSRF(c) {
		s.fail(c, http.StatusForbidden, "csrf", "Your form expired. Please look up your request again.")
		return
	}
	if !s.lookupLimiter.allow(c.ClientIP()) {
		s.fail(c, http.StatusTooManyRequests, "rate_limited", "Too many lookups from your network. Please try again later.")
		return
	}
	r, err := s.Records.Lookup(c.Request.Context(), c.PostForm("tracking_number"), c.PostForm("email"), c.PostForm("phone"))
	if errors.Is(err, records.ErrNotFound) {
		s.fail(c, http.StatusNotFound, "not_found", "No request matches that tracking number and contact.")
		return
	}
	if err != nil {
		s.internal(c, "download", err)
		return
	}
	s.sendRequestFile(c, r, c.PostForm("what"))
}

// sendRequestFile streams "release" (the bundle), "letter-N" (PDF) or
// "letter-N.html" of a request.
func (s *Server) sendRequestFile(c *gin.Context, r *storage.Request, what string) {
	key, ctype, name := "", "", ""
	switch {
	case what == "release" && r.ReleaseKey != "":
		key, ctype, name = r.ReleaseKey, "application/zip", r.TrackingNumber+"-records.zip"
	case strings.HasPrefix(what, "letter-"):
		id, html := strings.CutSuffix(strings.TrimPrefix(what, "letter-"), ".html")
		lid, err := strconv.ParseUint(id, 10, 63)
		if err != nil {
			break
		}
		l, err := s.Catalog.LetterByID(c.Request.Context(), lid)
		if err != nil || l.RequestID != r.ID {
			break
		}
		key, ctype, name = l.PDFKey, "application/pdf", r.TrackingNumber+"-letter-"+id+".pdf"
		if html {
			key, ctype, name = l.HTMLKey, "text/html; charset=utf-8", ""
		}
	}
	if key == "" {
		s.fail(c, http.StatusNotFound, "not_found", "no such file on this request")
		return
	}
	s.streamBlob(c, key, ctype, name)
}

// streamBlob sends a stored blob; name set means a download.
func (s *Server) streamBlob(c *gin.Context, key, ctype, name string) {
	rc, err := s.Blobs.Get(c.Request.Context(), key)
	if err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			s.fail(c, http.StatusNotFound, "not_found", "the file is missing from storage")
			return
		}
		s.internal(c, "read blob", err)
		return
	}
	defer rc.Close()
	c.Header("Content-Type", ctype)
	if name != "" {
		c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	c.Header("Cache-Control", "private, no-store")
	c.Status(http.StatusOK)
	if _, err := io.Copy(c.Writer, rc); err != nil {
		s.Log.Error("stream blob", "key", key, "err", err)
	}
}

// logView is what request_log.html gets.
type logView struct {
	pageData
	Rows             []logRow
	Total            int64
	PrevURL, NextURL string
}

type logRow struct {
	Tracking, Received, Summary, Status, Determination string
}

// requestLogPage is GET /requests/log: every request, newest first, with
// no requester contact data.
func (s *Server) requestLogPage(c *gin.Context) {
	const per = 50
	page, _ := strconv.Atoi(c.DefaultQuery("page", "1"))
	page = max(page, 1)
	rs, total, err := s.Records.PublicLog(c.Request.Context(), per, (page-1)*per)
	if err != nil {
		s.internal(c, "request log", err)
		return
	}
	v := logView{pageData: s.base(c, "Public records request log"), Total: total}
	for _, r := range rs {
		v.Rows = append(v.Rows, logRow{r.TrackingNumber, r.ReceivedDate, r.Summary, records.Label(r.Status), determinationLabel(r.Determination)})
	}
	if page > 1 {
		v.PrevURL = "/requests/log?page=" + strconv.Itoa(page-1)
	}
	if int64(page*per) < total {
		v.NextURL = "/requests/log?page=" + strconv.Itoa(page+1)
	}
	s.renderView(c, http.StatusOK, "request_log.html", v)
}

// requestLogAPI is GET /api/v1/request-log: the public log as JSON.
func (s *Server) requestLogAPI(c *gin.Context) {
	limit, _ := strconv.Atoi(c.DefaultQuery("limit", "100"))
	offset, _ := strconv.Atoi(c.DefaultQuery("offset", "0"))
	rs, total, err := s.Records.PublicLog(c.Request.Context(), min(max(limit, 1), 500), max(offset, 0))
	if err != nil {
		s.internal(c, "request log", err)
		return
	}
	out := make([]gin.H, 0, len(rs))
	for _, r := range rs {
		out = append(out, gin.H{"tracking_number": r.TrackingNumber, "received_date": r.ReceivedDate, "summary": r.Summary,
			"status": r.Status, "determination": r.Determination})
	}
	c.JSON(http.StatusOK, gin.H{"requests": out, "total": total})
}

var determinations = map[string]string{
	records.RespondApprove: "Approved", records.RespondPartial: "Approved in part", records.RespondDeny: "Denied",
	records.RespondNoRecords: "No records", records.RespondExtraordinary: "Extraordinary circumstances",
}

func determinationLabel(d string) string {
	if l, ok := determinations[d]; ok {
		return l
	}
	return d
}
