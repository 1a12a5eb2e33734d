package policy

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/storage"
)

// DirectoryEntry is one official account in the public directory (3.5.6).
type DirectoryEntry struct {
	Platform     string `json:"platform"`
	Handle       string `json:"handle"`
	DisplayName  string `json:"display_name"`
	Link         string `json:"link"`
	Department   string `json:"department"`
	ContactName  string `json:"contact_name"`
	ContactEmail string `json:"contact_email"`
}

// Directory lists every official account: approved and not deactivated.
// It holds only what the city publishes; nothing internal.
func (o *Office) Directory(ctx context.Context) ([]DirectoryEntry, error) {
	as, err := o.cat.DirectoryAccounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DirectoryEntry, 0, len(as))
	for _, a := range as {
		out = append(out, DirectoryEntry{Platform: a.Platform, Handle: a.Handle, DisplayName: a.DisplayName,
			Link: ProfileLink(a), Department: a.Department, ContactName: a.ContactName, ContactEmail: a.ContactEmail})
	}
	return out, nil
}

// ProfileLink is the public address of an account's profile: the one its
// profile gave, or the platform's usual address for it. Only http(s).
func ProfileLink(a storage.Account) string {
	if safeLink(a.ProfileURL) {
		return a.ProfileURL
	}
	h := url.PathEscape(strings.TrimPrefix(a.Handle, "@"))
	var link string
	switch a.Platform {
	case "mastodon":
		base := strings.TrimRight(a.APIBase, "/")
		if base == "" {
			if _, inst, ok := strings.Cut(strings.TrimPrefix(a.Handle, "@"), "@"); ok {
				base = "https://" + inst
			}
		}
		user, _, _ := strings.Cut(strings.TrimPrefix(a.Handle, "@"), "@")
		link = base + "/@" + url.PathEscape(user)
	case "bluesky":
		link = "https://bsky.app/profile/" + h
	case "facebook":
		link = "https://www.facebook.com/" + url.PathEscape(a.NativeID)
	case "instagram":
		link = "https://www.instagram.com/" + h + "/"
	case "youtube":
		link = "https://www.youtube.com/channel/" + url.PathEscape(a.NativeID)
	case "x":
		link = "https://x.com/" + h
	case "feed":
		link = a.Handle
	}
	if safeLink(link) {
		return link
	}
	return ""
}

// safeLink reports whether s is an absolute http or https URL.
func safeLink(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// PlanInput is a department's work plan (3.1.1).
type PlanInput struct {
	Department string `json:"department"`
	Mission    string `json:"mission"`
	Audience   string `json:"audience"`
	LegalRisks string `json:"legal_risks"`
	Technical  string `json:"technical"`
	Security   string `json:"security"`
	Emergency  string `json:"emergency"`
}

// CheckPlan validates a plan: every part of 3.1.1 is required.
func CheckPlan(in PlanInput) (storage.WorkPlan, error) {
	errs := FieldErrors{}
	p := storage.WorkPlan{
		Department: text(errs, "department", in.Department, false, 255),
		Mission:    text(errs, "mission", in.Mission, true, 5000),
		Audience:   text(errs, "audience", in.Audience, true, 5000),
		LegalRisks: text(errs, "legal_risks", in.LegalRisks, true, 5000),
		Technical:  text(errs, "technical", in.Technical, true, 5000),
		Security:   text(errs, "security", in.Security, true, 5000),
		Emergency:  text(errs, "emergency", in.Emergency, true, 5000),
	}
	return p, orNil(errs)
}

// SubmitPlan records a work plan: for a new account (acct not yet stored,
// created pending approval) or for an existing one (accountID).
func (o *Office) SubmitPlan(ctx context.Context, acct *storage.Account, accountID uint64, in PlanInput, actor string) (*storage.WorkPlan, error) {
	p, err := CheckPlan(in)
	if err != nil {
		return nil, err
	}
	p.AccountID, p.SubmittedBy = accountID, actor
	if acct == nil {
		acct = &storage.Account{}
	} else if acct.Department == "" {
		acct.Department = p.Department
	}
	if err := o.cat.SubmitPlan(ctx, acct, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// DecidePlan approves or rejects a pending plan. A rejection needs a reason.
func (o *Office) DecidePlan(ctx context.Context, id uint64, approve bool, reason, actor string) (*storage.WorkPlan, error) {
	errs := FieldErrors{}
	reason = text(errs, "reason", reason, !approve, 2000)
	if err := orNil(errs); err != nil {
		return nil, err
	}
	return o.cat.DecidePlan(ctx, id, approve, reason, actor)
}

// Capabilities are the levels of use of policy 3.2.1.
var Capabilities = []string{"publish", "edit", "comment", "view"}

// DesignatedInput names a designated user.
type DesignatedInput struct {
	Name       string `json:"name"`
	Email      string `json:"email"`
	Capability string `json:"capability"`
}

// AddDesignated designates a user for an account.
func (o *Office) AddDesignated(ctx context.Context, account uint64, in DesignatedInput, actor string) (*storage.DesignatedUser, error) {
	errs := FieldErrors{}
	d := &storage.DesignatedUser{AccountID: account, Name: text(errs, "name", in.Name, true, 255),
		Email: email(errs, "email", in.Email), Capability: strings.TrimSpace(in.Capability)}
	if !slices.Contains(Capabilities, d.Capability) {
		errs["capability"] = "must be one of " + strings.Join(Capabilities, ", ")
	}
	if err := orNil(errs); err != nil {
		return nil, err
	}
	if err := o.cat.AddDesignatedUser(ctx, d, actor); err != nil {
		return nil, err
	}
	return d, nil
}

// Acknowledge records that a designated user acknowledged the current
// policy version now.
func (o *Office) Acknowledge(ctx context.Context, account, id uint64, actor string) error {
	return o.cat.AcknowledgePolicy(ctx, account, id, o.cfg.PolicyVersion, o.cfg.Now().UTC(), actor)
}

// AckStatus says whether a designated user has acknowledged the current
// policy: "current", "outdated" (an earlier version) or "missing".
func (o *Office) AckStatus(d storage.DesignatedUser) string {
	switch {
	case d.AcknowledgedAt == nil:
		return "missing"
	case d.PolicyVersion != o.cfg.PolicyVersion:
		return "outdated"
	}
	return "current"
}

// CustodianInput names a custodian. Names only: the policy's passwords are
// never stored here.
type CustodianInput struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	Email string `json:"email"`
}

// MinCustodians is policy 3.5.3's "at least three individuals".
const MinCustodians = 3

// AddCustodian names a custodian of an account.
func (o *Office) AddCustodian(ctx context.Context, account uint64, in CustodianInput, actor string) (*storage.Custodian, error) {
	errs := FieldErrors{}
	c := &storage.Custodian{AccountID: account, Name: text(errs, "name", in.Name, true, 255),
		Title: text(errs, "title", in.Title, false, 255), Email: email(errs, "email", in.Email)}
	if looksLikeSecret(in.Name) || looksLikeSecret(in.Title) {
		errs["name"] = "holds what looks like a password; record names only"
	}
	if err := orNil(errs); err != nil {
		return nil, err
	}
	if err := o.cat.AddCustodian(ctx, c, actor); err != nil {
		return nil, err
	}
	return c, nil
}

var secretish = regexp.MustCompile(`(?i)\b(password|passwd|pwd|passcode|pin)\s*[:=]`)

// looksLikeSecret catches a password typed into a name field.
func looksLikeSecret(s string) bool { return secretish.MatchString(s) }

// DesignatedCSV writes the designated users of the accounts (nil: all) as
// CSV for the coordinator, with each one's acknowledgment.
func (o *Office) DesignatedCSV(ctx context.Context, accounts []uint64, w io.Writer) error {
	as, err := o.cat.ListAccounts(ctx)
	if err != nil {
		return err
	}
	byID := map[uint64]storage.Account{}
	for _, a := range as {
		byID[a.ID] = a
	}
	ds, err := o.cat.DesignatedUsers(ctx, accounts)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"account_id", "platform", "handle", "department", "name", "email", "capability",
		"acknowledgment", "policy_version", "acknowledged_at", "designated_at"})
	for _, d := range ds {
		a := byID[d.AccountID]
		ack := ""
		if d.AcknowledgedAt != nil {
			ack = d.AcknowledgedAt.UTC().Format(time.RFC3339)
		}
		cw.Write([]string{fmt.Sprint(d.AccountID), a.Platform, csvSafe(a.Handle), csvSafe(a.Department), csvSafe(d.Name),
			csvSafe(d.Email), d.Capability, o.AckStatus(d), csvSafe(d.PolicyVersion), ack, d.CreatedAt.UTC().Format(time.RFC3339)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from running a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// profileDoc is what the authenticity check reads of a profile snapshot
// (the archiver's normalised profile JSON).
type profileDoc struct {
	DisplayName string            `json:"display_name"`
	Description string            `json:"description"`
	Website     string            `json:"website"`
	Email       string            `json:"email"`
	URL         string            `json:"url"`
	Extra       map[string]string `json:"extra"`
}

var officialWords = regexp.MustCompile(`(?i)\bofficial\b`)
var emailPattern = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@([a-z0-9\-]+\.)+[a-z]{2,}`)
var linkPattern = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"']+|\b(www\.)?[a-z0-9\-]+(\.[a-z0-9\-]+)*\.(gov|org|com|us|net)(/[^\s<>"']*)?`)

// CheckAuthenticity checks an account's latest profile snapshot against
// policy 3.3.2: it says it is the official account, shows an e-mail
// address on the city's domain, and links to the city's website. The
// result is stored on the account. An account never captured has nothing
// to check: ErrNotFound.
func (o *Office) CheckAuthenticity(ctx context.Context, a storage.Account) (storage.Authenticity, error) {
	snap, err := o.cat.LatestProfile(ctx, a.ID)
	if err != nil {
		return storage.Authenticity{}, err
	}
	rc, err := o.cfg.Blobs.Get(ctx, snap.BlobKey)
	if err != nil {
		return storage.Authenticity{}, fmt.Errorf("policy: profile snapshot of account %d: %w", a.ID, err)
	}
	raw, err := io.ReadAll(io.LimitReader(rc, 4<<20))
	rc.Close()
	if err != nil {
		return storage.Authenticity{}, fmt.Errorf("policy: profile snapshot of account %d: %w", a.ID, err)
	}
	var p profileDoc
	if err := json.Unmarshal(raw, &p); err != nil {
		return storage.Authenticity{}, fmt.Errorf("policy: profile snapshot of account %d: %w", a.ID, err)
	}
	res := o.judge(p)
	res.CheckedAt = o.cfg.Now().UTC()
	if safeLink(p.URL) {
		res.ProfileURL = p.URL
	}
	return res, o.cat.SetAuthenticity(ctx, a.ID, res)
}

// judge applies the three checks of 3.3.2 to a profile.
func (o *Office) judge(p profileDoc) storage.Authenticity {
	all := strings.Join([]string{p.DisplayName, p.Description, p.Website, p.Email}, "\n")
	for _, v := range p.Extra {
		all += "\n" + v
	}
	var res storage.Authenticity
	var notes []string
	res.Official = officialWords.MatchString(p.DisplayName + "\n" + p.Description)
	if !res.Official {
		notes = append(notes, `the profile does not say it is the "official" account`)
	}
	domain := strings.ToLower(strings.TrimPrefix(o.cfg.CityDomain, "@"))
	for _, m := range emailPattern.FindAllString(all, -1) {
		host := strings.ToLower(m[strings.LastIndexByte(m, '@')+1:])
		if domain != "" && (host == domain || strings.HasSuffix(host, "."+domain)) {
			res.Email = true
		}
	}
	if !res.Email {
		notes = append(notes, "no e-mail address on "+orUnset(domain)+" is shown")
	}
	site := siteHost(o.cfg.CityWebsite)
	for _, m := range linkPattern.FindAllString(all, -1) {
		if strings.Contains(m, "@") {
			continue
		}
		if h := siteHost(m); site != "" && (h == site || strings.HasSuffix(h, "."+site)) {
			res.Website = true
		}
	}
	if !res.Website {
		notes = append(notes, "no link to "+orUnset(site))
	}
	if len(notes) == 0 {
		res.Note = "official, city e-mail and city website all shown"
	} else {
		res.Note = strings.Join(notes, "; ")
	}
	return res
}

func orUnset(s string) string {
	if s == "" {
		return "the city's domain (not configured: set policy.city_domain and policy.city_website)"
	}
	return s
}

// siteHost returns the host of a link, without "www.", lower-case.
func siteHost(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

// SetContact sets the official contact the public directory shows.
func (o *Office) SetContact(ctx context.Context, account uint64, name, mail, actor string) error {
	errs := FieldErrors{}
	name = text(errs, "contact_name", name, false, 255)
	mail = email(errs, "contact_email", mail)
	if err := orNil(errs); err != nil {
		return err
	}
	return o.cat.SetDirectoryContact(ctx, account, name, mail, actor)
}
