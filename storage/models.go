package storage

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Roles a user or API token can hold.
const (
	RoleAdmin       = "admin"
	RoleCoordinator = "coordinator"
	RoleClerk       = "clerk"
	RoleLegal       = "legal"
	// RoleDepartment is a department head: limited to the accounts of its
	// own department (User.Department, APIToken.Department).
	RoleDepartment = "department"
)

// Roles lists every role, in order of the contract, then the department
// head.
var Roles = []string{RoleAdmin, RoleCoordinator, RoleClerk, RoleLegal, RoleDepartment}

// CheckDepartment says whether a role and a department go together: a
// department head needs its department, no other role has one.
func CheckDepartment(role, department string) error {
	department = strings.TrimSpace(department)
	switch {
	case role == RoleDepartment && department == "":
		return errors.New("a department head needs a department (--department)")
	case role != RoleDepartment && department != "":
		return fmt.Errorf("only the %s role has a department", RoleDepartment)
	case len(department) > 255:
		return errors.New("department is longer than 255 characters")
	}
	return nil
}

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Account is an official city social media account that gets captured.
type Account struct {
	ID                uint64 `gorm:"primaryKey"`
	Platform          string `gorm:"size:16;not null;uniqueIndex:ux_accounts_identity"`
	Handle            string `gorm:"size:512;not null;uniqueIndex:ux_accounts_identity"`
	NativeID          string `gorm:"size:255;not null;uniqueIndex:ux_accounts_identity"`
	Department        string `gorm:"size:255;not null;default:''"`
	DisplayName       string `gorm:"size:255;not null;default:''"`
	ProfileURL        string `gorm:"size:2048;not null;default:''"`
	APIBase           string `gorm:"size:2048;not null;default:''"`
	CredentialEnc     []byte // AES-GCM sealed; never returned by the API
	Schedule          string `gorm:"size:128;not null;default:''"`
	FullSweepSchedule string `gorm:"size:128;not null;default:''"`
	Status            string `gorm:"size:16;not null;default:'active'"`   // active, paused, deactivated
	Approval          string `gorm:"size:16;not null;default:'approved'"` // approved, pending, rejected
	// Capture health: unhealthy after an auth error or repeated failures.
	Health              string `gorm:"size:16;not null;default:'unknown'"` // unknown, ok, unhealthy
	LastError           string `gorm:"not null;default:''"`                // redacted
	ConsecutiveFailures int    `gorm:"not null;default:0"`
	LastRunAt           *time.Time
	LastSuccessAt       *time.Time
	LastFullSweepAt     *time.Time // last successful full sweep
	// The public directory's official contact (policy 3.5.6).
	ContactName  string `gorm:"size:255;not null;default:''"`
	ContactEmail string `gorm:"size:320;not null;default:''"`
	// Authenticity (policy 3.3.2), checked from the latest profile snapshot:
	// the profile says it is official, shows an e-mail on the city's
	// domain, and links to the city's website.
	AuthCheckedAt *time.Time
	AuthOfficial  bool   `gorm:"not null;default:false"`
	AuthEmail     bool   `gorm:"not null;default:false"`
	AuthWebsite   bool   `gorm:"not null;default:false"`
	AuthNote      string `gorm:"not null;default:''"` // what was found, for the coordinator
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Custodian is a named person responsible for an account (policy 3.5.3).
type Custodian struct {
	ID        uint64 `gorm:"primaryKey"`
	AccountID uint64 `gorm:"not null;index"`
	Account   Account
	Name      string `gorm:"size:255;not null"`
	Title     string `gorm:"size:255;not null;default:''"`
	Email     string `gorm:"size:320;not null;default:''"`
	CreatedAt time.Time
	RemovedAt *time.Time // no longer a custodian; the row is kept
}

// DesignatedUser is an employee allowed to act on an account (policy 3.2.1).
type DesignatedUser struct {
	ID             uint64 `gorm:"primaryKey"`
	AccountID      uint64 `gorm:"not null;index"`
	Account        Account
	Name           string `gorm:"size:255;not null"`
	Email          string `gorm:"size:320;not null;default:''"`
	Capability     string `gorm:"size:16;not null"`            // publish, edit, comment, view
	PolicyVersion  string `gorm:"size:64;not null;default:''"` // the policy version acknowledged
	AcknowledgedAt *time.Time
	CreatedAt      time.Time
	RemovedAt      *time.Time // no longer designated; the row is kept
}

// Item is a post, a comment or a reply, as first and last seen.
type Item struct {
	ID                uint64 `gorm:"primaryKey"`
	AccountID         uint64 `gorm:"not null;uniqueIndex:ux_items_native,priority:1"`
	Account           Account
	Platform          string  `gorm:"size:16;not null;uniqueIndex:ux_items_native,priority:3"`
	NativeID          string  `gorm:"size:512;not null;uniqueIndex:ux_items_native,priority:2"` // (account, native id) lookups use this index
	Kind              string  `gorm:"size:16;not null"`                                         // post, comment, reply
	ParentID          *uint64 `gorm:"index"`
	RootID            *uint64 `gorm:"index"`
	ParentNativeID    string  `gorm:"size:512;not null;default:''"`
	AuthorID          string  `gorm:"size:255;not null;default:''"`
	AuthorName        string  `gorm:"size:512;not null;default:''"`
	URL               string  `gorm:"size:2048;not null;default:''"`
	Text              string  `gorm:"not null;default:''"` // text of the current version
	PlatformCreatedAt *time.Time
	PlatformEditedAt  *time.Time
	FirstSeenAt       time.Time `gorm:"not null"`
	LastSeenAt        time.Time `gorm:"not null"`
	DeletedAt         *time.Time
	Hidden            bool    `gorm:"not null;default:false"`
	VersionCount      int     `gorm:"not null;default:0"`
	ChangeSeq         uint64  `gorm:"not null;default:0;index"` // custody seq of its latest change; the search index follows it
	LastSeenRunID     *uint64 `gorm:"index"`                    // the last capture run that saw it
	// DisposedAt is set when a disposition run removed the item's content
	// under its retention schedule; the row stays as the record that it
	// existed and was disposed of lawfully.
	DisposedAt    *time.Time
	DispositionID *uint64 `gorm:"index"`
}

// Version is one distinct content of an item. Nothing is overwritten.
type Version struct {
	ID            uint64 `gorm:"primaryKey"`
	ItemID        uint64 `gorm:"not null;uniqueIndex:ux_versions_seq,priority:1"`
	Item          Item
	Seq           int        `gorm:"not null;uniqueIndex:ux_versions_seq,priority:2"`
	SHA256        string     `gorm:"column:sha256;size:64;not null;index"`
	NormalizedKey string     `gorm:"size:128;not null"` // blob key of the normalised JSON
	RawKey        string     `gorm:"size:128;not null"` // blob key of the raw response it came from
	Text          string     `gorm:"not null;default:''"`
	EditMarker    string     `gorm:"size:255;not null;default:''"` // the platform's own edit marker, if any
	CaptureRunID  *uint64    `gorm:"index"`
	CaptureRun    CaptureRun `gorm:"constraint:OnDelete:RESTRICT"`
	CapturedAt    time.Time  `gorm:"not null"`
}

// Media is one attachment's bytes.
type Media struct {
	ID          uint64 `gorm:"primaryKey"`
	ItemID      uint64 `gorm:"not null;uniqueIndex:ux_media_item_sha,priority:1"`
	Item        Item
	VersionID   *uint64 `gorm:"index"`
	NativeID    string  `gorm:"size:512;not null;default:'';index"` // the platform's media id, when it has one
	URL         string  `gorm:"size:4096;not null;default:''"`
	SHA256      string  `gorm:"column:sha256;size:64;not null;uniqueIndex:ux_media_item_sha,priority:2"`
	BlobKey     string  `gorm:"size:128;not null"`
	ContentType string  `gorm:"size:255;not null;default:''"`
	Size        int64   `gorm:"not null"`
	CapturedAt  time.Time
}

// CaptureRun records one capture of one account.
type CaptureRun struct {
	ID            uint64 `gorm:"primaryKey"`
	AccountID     uint64 `gorm:"not null;index"`
	Account       Account
	Kind          string `gorm:"size:16;not null"`                    // incremental, full
	Status        string `gorm:"size:16;not null"`                    // running, succeeded, failed, partial
	Trigger       string `gorm:"size:16;not null;default:'schedule'"` // schedule, api, catch_up
	StartedAt     time.Time
	FinishedAt    *time.Time
	Posts         int    `gorm:"not null;default:0"`
	Comments      int    `gorm:"not null;default:0"`
	New           int    `gorm:"column:new_items;not null;default:0"`
	Changed       int    `gorm:"not null;default:0"`
	Deleted       int    `gorm:"not null;default:0"`
	MediaCount    int    `gorm:"column:media;not null;default:0"`
	Errors        string `gorm:"not null;default:'[]'"` // JSON array of strings
	RedactionRule string `gorm:"size:255;not null;default:''"`
}

// ProfileSnapshot is the account's profile as captured in one run.
type ProfileSnapshot struct {
	ID           uint64 `gorm:"primaryKey"`
	AccountID    uint64 `gorm:"not null;index"`
	Account      Account
	CaptureRunID uint64 `gorm:"not null;index"`
	CaptureRun   CaptureRun
	SHA256       string `gorm:"column:sha256;size:64;not null"`
	BlobKey      string `gorm:"size:128;not null"`
	CapturedAt   time.Time
}

// Request is a records request (GRAMA).
type Request struct {
	ID              uint64 `gorm:"primaryKey"`
	TrackingNumber  string `gorm:"size:32;not null;uniqueIndex"`
	Name            string `gorm:"size:255;not null"`
	Email           string `gorm:"size:320;not null;default:''"` // only when the requester agreed to e-mail
	Phone           string `gorm:"size:64;not null"`
	MailingAddress  string `gorm:"not null"`
	Description     string `gorm:"not null"`
	DateFrom        string `gorm:"size:10;not null;default:''"` // YYYY-MM-DD
	DateTo          string `gorm:"size:10;not null;default:''"`
	Platforms       string `gorm:"size:255;not null;default:''"` // comma-separated platforms of interest
	Accounts        string `gorm:"not null;default:''"`          // accounts of interest, as the requester named them
	Expedited       bool   `gorm:"not null;default:false"`
	ExpeditedReason string `gorm:"not null;default:''"`
	NewsMedia       bool   `gorm:"not null;default:false"`
	FeeWaiver       bool   `gorm:"not null;default:false"`
	FeeWaiverBasis  string `gorm:"not null;default:''"`
	DeliveryFormat  string `gorm:"size:32;not null;default:''"`
	// RequesterKey is a hash of the normalised e-mail or phone, so a
	// requester's earlier requests can be found (fees, 63G-2-209 history)
	// without another copy of their contact data.
	RequesterKey string `gorm:"size:64;not null;default:'';index"`
	// Summary is what the public request log shows instead of the
	// description, which may carry personal details.
	Summary         string `gorm:"size:500;not null;default:''"`
	ReceivedAt      time.Time
	ReceivedDate    string `gorm:"size:10;not null;default:''"` // the city's day of receipt: day 0
	DueDate         string `gorm:"size:10;not null;index"`      // YYYY-MM-DD in the city's time zone
	CalendarVersion string `gorm:"size:64;not null"`
	// ExpediteDecision is "" until decided, then granted or refused; a
	// refusal must reach the requester by ExpediteNoticeDue.
	ExpediteDecision  string `gorm:"size:16;not null;default:''"`
	ExpediteNoticeDue string `gorm:"size:10;not null;default:''"`
	Status            string `gorm:"size:32;not null;index"`
	Determination     string `gorm:"size:32;not null;default:''"`
	AssigneeID        *uint64
	Assignee          *User
	Response          string `gorm:"not null;default:''"`
	RespondedAt       *time.Time
	ClosedAt          *time.Time
	AvailableDate     string `gorm:"size:10;not null;default:''"` // extraordinary circumstances: when the records will be ready
	AppealDeadline    string `gorm:"size:10;not null;default:''"` // last day to appeal the latest determination
	AppealDecisionDue string `gorm:"size:10;not null;default:''"`
	// Fees: the itemised estimate (JSON), the waiver decision, prepayment.
	FeesCents          int64  `gorm:"not null;default:0"`
	FeeEstimate        string `gorm:"not null;default:''"`
	FeeWaiverDecision  string `gorm:"size:16;not null;default:''"` // granted, denied
	FeeWaiverReason    string `gorm:"not null;default:''"`
	PrepaymentRequired bool   `gorm:"not null;default:false"`
	PaidCents          int64  `gorm:"not null;default:0"`
	// The release bundle delivered with an approval, in the blob store.
	ReleaseKey    string `gorm:"size:128;not null;default:''"`
	ReleaseSHA256 string `gorm:"column:release_sha256;size:64;not null;default:''"`
	ReleaseSize   int64  `gorm:"not null;default:0"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Hold is a legal hold: its items can never be disposed while it stands.
type Hold struct {
	ID         uint64 `gorm:"primaryKey"`
	Matter     string `gorm:"size:255;not null"`
	ScopeQuery string `gorm:"not null;default:''"`
	ScopeItems string `gorm:"not null;default:'[]'"` // JSON array of item ids
	// RequestID is set on the automatic hold of records withheld by a
	// denial (63G-2-205(3)); it stands until the appeals are over.
	RequestID  *uint64 `gorm:"index"`
	CreatedBy  string  `gorm:"size:255;not null"`
	CreatedAt  time.Time
	ReleasedBy string `gorm:"size:255;not null;default:''"`
	ReleasedAt *time.Time
	// ReleaseReason says why the hold ended.
	ReleaseReason string `gorm:"not null;default:''"`
}

// Export is a litigation bundle, built in the background.
type Export struct {
	ID           uint64 `gorm:"primaryKey"`
	Scope        string `gorm:"not null"` // JSON: query and filters, or item ids
	Matter       string `gorm:"size:255;not null;default:''"`
	Status       string `gorm:"size:16;not null"` // running, ready, failed
	CreatedBy    string `gorm:"size:255;not null"`
	CreatedAt    time.Time
	FinishedAt   *time.Time
	BundleKey    string `gorm:"size:128;not null;default:''"`
	BundleSHA256 string `gorm:"column:bundle_sha256;size:64;not null;default:''"`
	Size         int64  `gorm:"not null;default:0"`
	ItemCount    int    `gorm:"not null;default:0"`
	Error        string `gorm:"not null;default:''"`
	// Kind is what the scope names: search, items, request or hold; Query
	// is the frozen search (query string and filters) when there is one.
	Kind      string  `gorm:"size:16;not null;default:''"`
	Query     string  `gorm:"not null;default:''"`
	HoldID    *uint64 `gorm:"index"`
	RequestID *uint64 `gorm:"index"`
	// Progress while running: items written of the total.
	ItemsTotal int `gorm:"not null;default:0"`
	ItemsDone  int `gorm:"not null;default:0"`
	// Holder is the replica building it; it beats HeartbeatAt while it
	// does, so another replica can tell a build going on from one whose
	// replica died.
	Holder      string `gorm:"size:128;not null;default:''"`
	HeartbeatAt *time.Time
}

// User is a person who logs in to the HTML pages.
type User struct {
	ID           uint64 `gorm:"primaryKey"`
	Username     string `gorm:"size:128;not null;uniqueIndex"`
	DisplayName  string `gorm:"size:255;not null;default:''"`
	Role         string `gorm:"size:16;not null"`
	Department   string `gorm:"size:255;not null;default:''"` // a department head's department
	PasswordHash string `gorm:"size:255;not null"`            // argon2id, PHC string format
	Disabled     bool   `gorm:"not null;default:false"`
	FailedLogins int    `gorm:"not null;default:0"`
	LockedUntil  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// APIToken authorises JSON API calls. Only the SHA-256 of the token is kept.
type APIToken struct {
	ID         uint64 `gorm:"primaryKey"`
	Name       string `gorm:"size:255;not null"`
	Role       string `gorm:"size:16;not null"`
	Department string `gorm:"size:255;not null;default:''"` // a department head's department
	UserID     *uint64
	TokenHash  string `gorm:"size:64;not null;uniqueIndex"`
	Prefix     string `gorm:"size:16;not null"` // first characters, to tell tokens apart in lists
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
}

// Session is a logged-in browser. Only the SHA-256 of the cookie is kept.
type Session struct {
	ID        uint64 `gorm:"primaryKey"`
	UserID    uint64 `gorm:"not null;index"`
	User      User
	TokenHash string `gorm:"size:64;not null;uniqueIndex"`
	CSRFToken string `gorm:"size:64;not null"` // per-session; compared in constant time
	CreatedAt time.Time
	ExpiresAt time.Time `gorm:"not null;index"`
}

// CustodyEvent is one link of the append-only, hash-chained custody log.
type CustodyEvent struct {
	ID          uint64    `gorm:"primaryKey"`
	Seq         uint64    `gorm:"not null;uniqueIndex"`
	At          time.Time `gorm:"not null"`
	Kind        string    `gorm:"size:64;not null;index"`
	Actor       string    `gorm:"size:255;not null"`
	SubjectType string    `gorm:"size:32;not null;default:''"`
	SubjectID   string    `gorm:"size:255;not null;default:'';index"`
	Details     string    `gorm:"not null;default:'{}'"` // JSON
	PrevHash    string    `gorm:"size:64;not null"`
	Hash        string    `gorm:"size:64;not null"`
}

// CustodyHead holds the newest event's seq and hash, so deleting events from
// the end of the log is detectable too.
type CustodyHead struct {
	ID   uint64 `gorm:"primaryKey"`
	Seq  uint64 `gorm:"not null"`
	Hash string `gorm:"size:64;not null"`
}

// RetentionRule says how long records of one kind are kept: for every
// account (AccountID nil) or one account. KeepDays 0 is permanent.
type RetentionRule struct {
	ID        uint64  `gorm:"primaryKey"`
	AccountID *uint64 `gorm:"uniqueIndex:ux_retention_scope"`
	Kind      string  `gorm:"size:16;not null;uniqueIndex:ux_retention_scope"` // post, comment, reply, request_file
	KeepDays  int     `gorm:"not null;default:0"`
	// Trigger is what the days count from: "captured" (first capture) or
	// "final_action" (a request's closing).
	Trigger   string `gorm:"size:16;not null;default:'captured'"`
	Citation  string `gorm:"size:255;not null;default:''"`
	UpdatedBy string `gorm:"size:255;not null;default:''"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Disposition is one disposition run: the list of what was eligible, who
// approved it, and the certificate of what was destroyed.
type Disposition struct {
	ID                uint64 `gorm:"primaryKey"`
	Status            string `gorm:"size:16;not null"` // proposed, approved, completed, cancelled, failed
	ProposedBy        string `gorm:"size:255;not null"`
	ProposedAt        time.Time
	ApprovedBy        string `gorm:"size:255;not null;default:''"`
	ApprovedAt        *time.Time
	CompletedAt       *time.Time
	Items             int    `gorm:"not null;default:0"`
	Requests          int    `gorm:"not null;default:0"`
	SkippedHeld       int    `gorm:"not null;default:0"`
	ListKey           string `gorm:"size:128;not null;default:''"` // blob: the eligible list (JSON)
	CertificateKey    string `gorm:"size:128;not null;default:''"`
	CertificateSHA256 string `gorm:"column:certificate_sha256;size:64;not null;default:''"`
	Error             string `gorm:"not null;default:''"`
}
