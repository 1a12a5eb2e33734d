package storage

import "time"

// RequestEvent is one entry of a records request's history: every status
// change, assignment, note, message, attachment, fee decision and re-dating,
// with who did it and when. Rows are only ever added.
type RequestEvent struct {
	ID         uint64    `gorm:"primaryKey"`
	RequestID  uint64    `gorm:"not null;index"`
	At         time.Time `gorm:"not null"`
	Actor      string    `gorm:"size:255;not null"`
	Kind       string    `gorm:"size:32;not null"` // filed, status, assign, note, message, attach, detach, fee, expedite, redate, letter, hold, release, email
	FromStatus string    `gorm:"size:32;not null;default:''"`
	ToStatus   string    `gorm:"size:32;not null;default:''"`
	Citation   string    `gorm:"size:255;not null;default:''"`
	Detail     string    `gorm:"not null;default:''"`
	LetterID   *uint64
}

// RequestMessage is a message on a request: public ones are shown to (and
// e-mailed to) the requester; internal notes never leave the clerk's pages.
type RequestMessage struct {
	ID        uint64    `gorm:"primaryKey"`
	RequestID uint64    `gorm:"not null;index"`
	At        time.Time `gorm:"not null"`
	Author    string    `gorm:"size:255;not null"`
	Public    bool      `gorm:"not null"`
	Body      string    `gorm:"not null"`
}

// RequestItem is an item version attached to a request as responsive: the
// exact version current when the search ran, and the query that found it.
type RequestItem struct {
	ID               uint64    `gorm:"primaryKey"`
	RequestID        uint64    `gorm:"not null;uniqueIndex:ux_request_items_version"`
	ItemID           uint64    `gorm:"not null;index"`
	VersionID        uint64    `gorm:"not null;uniqueIndex:ux_request_items_version"`
	Query            string    `gorm:"not null;default:''"`
	AttachedBy       string    `gorm:"size:255;not null"`
	AttachedAt       time.Time `gorm:"not null"`
	Withheld         bool      `gorm:"not null;default:false"`
	WithholdCitation string    `gorm:"size:255;not null;default:''"`
}

// Letter is an official letter sent on a request (receipt, approval,
// denial, no records, extraordinary circumstances, expedite refused). Its
// HTML and PDF renderings are in the blob store, write-once.
type Letter struct {
	ID         uint64 `gorm:"primaryKey"`
	RequestID  uint64 `gorm:"not null;index"`
	Kind       string `gorm:"size:32;not null"`
	Title      string `gorm:"size:255;not null"`
	HTMLKey    string `gorm:"column:html_key;size:128;not null"`
	PDFKey     string `gorm:"column:pdf_key;size:128;not null"`
	PDFSHA256  string `gorm:"column:pdf_sha256;size:64;not null"`
	Text       string `gorm:"not null;default:''"` // the e-mail rendering
	CreatedBy  string `gorm:"size:255;not null"`
	CreatedAt  time.Time
	EmailedAt  *time.Time
	EmailError string `gorm:"not null;default:''"`
}

// CalendarVersion is one installed version of the holiday calendar. The
// newest row is the one in force; each due date names the version it used.
type CalendarVersion struct {
	ID          uint64 `gorm:"primaryKey"`
	Version     string `gorm:"size:64;not null;uniqueIndex"`
	Body        string `gorm:"not null"` // the YAML as installed
	Source      string `gorm:"size:255;not null"`
	Reason      string `gorm:"not null;default:''"`
	InstalledBy string `gorm:"size:255;not null"`
	InstalledAt time.Time
}

// Counter is a named sequence (tracking numbers per year).
type Counter struct {
	Name  string `gorm:"primaryKey;size:64"`
	Value int64  `gorm:"not null"`
}
