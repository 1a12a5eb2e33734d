package storage

import "time"

// The city's social media policy in the catalog: screening flags and the
// coordinator's decisions (3.4.3), removal records (3.5.4) and departments'
// work plans (1.3, 3.1). Designated users and custodians are in models.go.

// Flag statuses.
const (
	FlagPending = "pending" // awaiting the coordinator's review
	FlagKept    = "kept"    // reviewed: the content stays
	FlagRemoved = "removed" // reviewed: the content is to be removed
)

// Flag is one screening hit on an item: the category of policy 3.4.3 and
// the rule that fired, on the version whose text was screened. An item has
// at most one flag per rule.
type Flag struct {
	ID           uint64 `gorm:"primaryKey"`
	ItemID       uint64 `gorm:"not null;uniqueIndex:ux_flags_item_rule,priority:1"`
	AccountID    uint64 `gorm:"not null;index"`
	VersionID    uint64 `gorm:"not null"`
	Category     string `gorm:"size:1;not null;index"`                                       // A–L
	Rule         string `gorm:"size:128;not null;uniqueIndex:ux_flags_item_rule,priority:2"` // rule id in the screening rules
	Match        string `gorm:"size:255;not null;default:''"`                                // the text that fired
	RulesVersion string `gorm:"size:64;not null;default:''"`
	Status       string `gorm:"size:16;not null;default:'pending';index"`
	Reason       string `gorm:"not null;default:''"` // the reviewer's reason
	DecidedBy    string `gorm:"size:255;not null;default:''"`
	DecidedAt    *time.Time
	CreatedAt    time.Time `gorm:"index"`
}

// FlagCapture is a screening hit found at capture time, stored with the
// item's new version in RecordItem's transaction.
type FlagCapture struct {
	Category, Rule, Match, RulesVersion string
}

// Removal causes.
const (
	RemovalDecision = "decision" // the coordinator decided to remove it
	RemovalDeleted  = "deleted"  // the archiver found it gone from the platform
)

// Removal is the printable record of removed content (policy 3.5.4): the
// content, its author, times, category and the decision, rendered as HTML
// and PDF into the blob store. One per item; the item's versions are kept.
type Removal struct {
	ID         uint64 `gorm:"primaryKey"`
	ItemID     uint64 `gorm:"not null;uniqueIndex"`
	AccountID  uint64 `gorm:"not null;index"`
	Platform   string `gorm:"size:16;not null"`
	Kind       string `gorm:"size:16;not null"` // post, comment, reply
	AuthorID   string `gorm:"size:255;not null;default:'';index"`
	AuthorName string `gorm:"size:512;not null;default:''"`
	Cause      string `gorm:"size:16;not null"`             // decision, deleted
	Categories string `gorm:"size:32;not null;default:''"`  // letters, e.g. "A,K"
	Rules      string `gorm:"not null;default:''"`          // rule ids, comma-separated
	Decision   string `gorm:"not null;default:''"`          // what was decided, in words
	Reason     string `gorm:"not null;default:''"`          // the reviewer's reason
	DecidedBy  string `gorm:"size:255;not null;default:''"` // "system:archiver" for a detected deletion
	RemovedAt  time.Time
	HTMLKey    string `gorm:"size:128;not null"`
	HTMLSHA256 string `gorm:"column:html_sha256;size:64;not null"`
	PDFKey     string `gorm:"size:128;not null"`
	PDFSHA256  string `gorm:"column:pdf_sha256;size:64;not null"`
	CreatedAt  time.Time
}

// Work plan statuses.
const (
	PlanPending  = "pending"
	PlanApproved = "approved"
	PlanRejected = "rejected"
)

// WorkPlan is a department's social media work plan for an account (policy
// 3.1.1), which the coordinator approves or rejects with a reason.
type WorkPlan struct {
	ID          uint64 `gorm:"primaryKey"`
	AccountID   uint64 `gorm:"not null;index"`
	Department  string `gorm:"size:255;not null;default:''"`
	Mission     string `gorm:"not null;default:''"` // mission and goals
	Audience    string `gorm:"not null;default:''"`
	LegalRisks  string `gorm:"not null;default:''"`
	Technical   string `gorm:"not null;default:''"` // technical capabilities
	Security    string `gorm:"not null;default:''"`
	Emergency   string `gorm:"not null;default:''"` // emergency response procedures
	SubmittedBy string `gorm:"size:255;not null"`
	Status      string `gorm:"size:16;not null;default:'pending';index"`
	Reason      string `gorm:"not null;default:''"`
	DecidedBy   string `gorm:"size:255;not null;default:''"`
	DecidedAt   *time.Time
	CreatedAt   time.Time
}
