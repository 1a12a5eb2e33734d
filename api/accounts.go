package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/robfig/cron/v3"

	"github.com/civicarchive/civicarchive/archiver/platforms"
	"github.com/civicarchive/civicarchive/storage"
)

// accountIn is the body of POST /api/v1/accounts.
type accountIn struct {
	Platform          string `json:"platform"`
	Handle            string `json:"handle"`
	NativeID          string `json:"native_id"`
	Department        string `json:"department"`
	DisplayName       string `json:"display_name"`
	APIBase           string `json:"api_base"`
	Credential        string `json:"credential"`
	Schedule          string `json:"schedule"`
	FullSweepSchedule string `json:"full_sweep_schedule"`
}

// accountOut is an account as the API shows it: never the credential.
type accountOut struct {
	ID                uint64     `json:"id"`
	Platform          string     `json:"platform"`
	Handle            string     `json:"handle"`
	NativeID          string     `json:"native_id"`
	Department        string     `json:"department"`
	DisplayName       string     `json:"display_name"`
	APIBase           string     `json:"api_base"`
	HasCredential     bool       `json:"has_credential"`
	Schedule          string     `json:"schedule"`
	FullSweepSchedule string     `json:"full_sweep_schedule"`
	Status            string     `json:"status"`
	Approval          string     `json:"approval"`
	Health            healthOut  `json:"health"`
	CreatedAt         time.Time  `json:"created_at"`
	LastRunAt         *time.Time `json:"last_run_at"`
	ContactName       string     `json:"contact_name"`
	ContactEmail      string     `json:"contact_email"`
}

type healthOut struct {
	Status              string     `json:"status"`
	LastError           string     `json:"last_error"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	LastSuccessAt       *time.Time `json:"last_success_at"`
	LastFullSweepAt     *time.Time `json:"last_full_sweep_at"`
}

func toAccountOut(a storage.Account) accountOut {
	return accountOut{ID: a.ID, Platform: a.Platform, Handle: a.Handle, NativeID: a.NativeID, Department: a.Department,
		DisplayName: a.DisplayName, APIBase: a.APIBase, HasCredential: len(a.CredentialEnc) > 0, Schedule: a.Schedule,
		FullSweepSchedule: a.FullSweepSchedule, Status: a.Status, Approval: a.Approval, CreatedAt: a.CreatedAt, LastRunAt: a.LastRunAt,
		ContactName: a.ContactName, ContactEmail: a.ContactEmail,
		Health: healthOut{Status: a.Health, LastError: a.LastError, ConsecutiveFailures: a.ConsecutiveFailures,
			LastSuccessAt: a.LastSuccessAt, LastFullSweepAt: a.LastFullSweepAt}}
}

// decodeStrict reads a JSON body, refusing unknown fields, trailing data
// and bodies over the limit, with a message a caller can act on.
func (s *Server) decodeStrict(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON object")
	}
	if err == nil {
		return true
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		s.fail(c, http.StatusRequestEntityTooLarge, "too_large", "request body too large")
		return false
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	s.fail(c, http.StatusBadRequest, "bad_json", "the body is not the expected JSON: "+msg)
	return false
}

// required says which fields identify an account of each platform
// (CONTRACT.md, accounts).
var required = map[string][]string{
	platforms.Mastodon:  {"handle", "api_base"},
	platforms.Bluesky:   {"handle"},
	platforms.Facebook:  {"native_id", "credential"},
	platforms.Instagram: {"native_id", "credential"},
	platforms.YouTube:   {"native_id", "credential"},
	platforms.X:         {"handle", "credential"},
	platforms.Feed:      {"handle"},
}

// validate checks an account and fills its api_base default. It returns
// every problem, keyed by field.
func (s *Server) validateAccount(in *accountIn) (problems map[string]string) {
	problems = map[string]string{}
	in.Platform = strings.TrimSpace(in.Platform)
	in.Handle, in.NativeID, in.APIBase = strings.TrimSpace(in.Handle), strings.TrimSpace(in.NativeID), strings.TrimRight(strings.TrimSpace(in.APIBase), "/")
	conn, ok := s.Archiver.Connector(in.Platform)
	if !ok {
		problems["platform"] = "must be one of " + strings.Join(platforms.Names, ", ")
		return problems
	}
	vals := map[string]string{"handle": in.Handle, "native_id": in.NativeID, "api_base": in.APIBase, "credential": in.Credential}
	for _, f := range required[in.Platform] {
		if vals[f] == "" {
			problems[f] = "is required for " + in.Platform
		}
	}
	if in.APIBase == "" {
		in.APIBase = conn.DefaultAPIBase()
	} else if msg := checkBaseURL(in.APIBase); msg != "" {
		problems["api_base"] = msg
	}
	// A feed's handle is its URL, or a path under api_base.
	if in.Platform == platforms.Feed && in.Handle != "" && in.APIBase == "" && checkBaseURL(in.Handle) != "" {
		problems["handle"] = "must be the feed's http(s) URL (or a path, with api_base set)"
	}
	for f, v := range map[string]string{"handle": in.Handle, "native_id": in.NativeID, "department": in.Department, "display_name": in.DisplayName} {
		if len(v) > 255 && !(f == "handle" && in.Platform == platforms.Feed && len(v) <= 2048) {
			problems[f] = "is too long"
		}
	}
	for f, spec := range map[string]string{"schedule": in.Schedule, "full_sweep_schedule": in.FullSweepSchedule} {
		if spec == "" {
			continue
		}
		if err := checkCron(spec); err != nil {
			problems[f] = fmt.Sprintf("is not a cron schedule (%v)", err)
		}
	}
	return problems
}

// checkCron parses a schedule as the scheduler will. A time zone prefix is
// refused (schedules run in the city's time zone), and so is anything the
// cron parser cannot take, even where it would panic ("TZ=UTC" alone).
func checkCron(spec string) (err error) {
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return errors.New("no time zone prefix: schedules run in the city's time zone")
	}
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("malformed")
		}
	}()
	_, err = cron.ParseStandard(spec)
	return err
}

func checkBaseURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "must be an http(s) URL without query, fragment or credentials"
	}
	return ""
}

// createAccount registers an account (POST /api/v1/accounts). Made by an
// admin or coordinator, it is approved and active at once and scheduled.
func (s *Server) createAccount(c *gin.Context) {
	var in accountIn
	if !s.decodeStrict(c, &in) {
		return
	}
	if problems := s.validateAccount(&in); len(problems) > 0 {
		s.invalid(c, problems)
		return
	}
	sealed, err := s.Sealer.Seal(in.Credential)
	if err != nil {
		s.internal(c, "seal credential", err)
		return
	}
	a := &storage.Account{Platform: in.Platform, Handle: in.Handle, NativeID: in.NativeID, Department: in.Department,
		DisplayName: in.DisplayName, APIBase: in.APIBase, CredentialEnc: sealed, Schedule: in.Schedule,
		FullSweepSchedule: in.FullSweepSchedule, Status: storage.AccountActive, Approval: storage.ApprovalApproved, Health: storage.HealthUnknown}
	err = s.Catalog.CreateAccount(c.Request.Context(), a, identity(c).Actor())
	if errors.Is(err, storage.ErrConflict) {
		s.fail(c, http.StatusConflict, "conflict", "this account is already registered")
		return
	}
	if err != nil {
		s.internal(c, "create account", err)
		return
	}
	if s.OnAccountChange != nil {
		if err := s.OnAccountChange(*a); err != nil {
			s.Log.Error("schedule new account", "account_id", a.ID, "err", err)
		}
	}
	c.JSON(http.StatusCreated, toAccountOut(*a))
}

func (s *Server) listAccounts(c *gin.Context) {
	as, err := s.Catalog.ListAccounts(c.Request.Context())
	if err != nil {
		s.internal(c, "list accounts", err)
		return
	}
	out := make([]accountOut, 0, len(as))
	for _, a := range as {
		if ownsAccount(c, a) {
			out = append(out, toAccountOut(a))
		}
	}
	c.JSON(http.StatusOK, gin.H{"accounts": out})
}

func (s *Server) getAccount(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	a, err := s.Catalog.AccountByID(c.Request.Context(), id)
	if err == nil && !ownsAccount(c, *a) {
		err = storage.ErrNotFound // another department's: as if it did not exist
	}
	if s.found(c, "account", err) {
		c.JSON(http.StatusOK, toAccountOut(*a))
	}
}
