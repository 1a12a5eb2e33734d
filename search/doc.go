package search

import (
	"strconv"
	"time"

	"github.com/civicarchive/civicarchive/storage"
)

// Document is what the index holds of one item: the fields of the mapping
// and nothing else (no credentials, no URLs, no blob keys). Its bleve id is
// the item id in decimal.
type Document struct {
	ItemID     uint64
	Text       string   // current text
	Versions   []string // the text of every version, oldest first
	Platform   string
	AccountID  uint64
	Department string
	Kind       string
	Author     []string // author name and author id
	NativeID   string
	Flags      []string // policy category letters (A–L); empty until screening fills them
	CreatedAt  time.Time
	CapturedAt []time.Time // capture time of every version, oldest first
	DeletedAt  *time.Time
	Edited     bool
	Hidden     bool
}

// NewDocument builds an item's document from the catalog rows: the item,
// its versions oldest first, and its account (for the department).
func NewDocument(it storage.Item, versions []storage.Version, acct storage.Account, flags []string) Document {
	d := Document{
		ItemID: it.ID, Text: it.Text, Platform: it.Platform, AccountID: it.AccountID,
		Department: acct.Department, Kind: it.Kind, NativeID: it.NativeID, Flags: flags,
		DeletedAt: it.DeletedAt, Hidden: it.Hidden,
	}
	for _, a := range []string{it.AuthorName, it.AuthorID} {
		if a != "" {
			d.Author = append(d.Author, a)
		}
	}
	for _, v := range versions {
		d.Versions = append(d.Versions, v.Text)
		d.CapturedAt = append(d.CapturedAt, v.CapturedAt)
	}
	if len(d.Versions) == 0 { // not expected: every item has a version
		d.Versions = []string{it.Text}
	}
	d.Edited = len(versions) > 1 || it.VersionCount > 1
	d.CreatedAt = it.FirstSeenAt
	if it.PlatformCreatedAt != nil && !it.PlatformCreatedAt.IsZero() {
		d.CreatedAt = *it.PlatformCreatedAt
	}
	return d
}

// ID is the document's bleve id.
func (d Document) ID() string { return strconv.FormatUint(d.ItemID, 10) }

// fields is the document as bleve indexes it. Empty keyword values are
// left out, so facets never count an empty term.
func (d Document) fields() map[string]any {
	f := map[string]any{
		FieldText:      d.Text,
		FieldVersions:  d.Versions,
		FieldAccount:   strconv.FormatUint(d.AccountID, 10),
		FieldCreatedAt: d.CreatedAt.UTC(),
		FieldMonth:     d.CreatedAt.UTC().Format("2006-01"),
		FieldDeleted:   d.DeletedAt != nil,
		FieldEdited:    d.Edited,
		FieldHidden:    d.Hidden,
	}
	for k, v := range map[string]string{FieldPlatform: d.Platform, FieldDepartment: d.Department, FieldKind: d.Kind, FieldNativeID: d.NativeID} {
		if v != "" {
			f[k] = v
		}
	}
	if len(d.Author) > 0 {
		f[FieldAuthor] = d.Author
	}
	if len(d.Flags) > 0 {
		f[FieldFlag] = d.Flags
	}
	if len(d.CapturedAt) > 0 {
		ts := make([]time.Time, len(d.CapturedAt))
		for i, t := range d.CapturedAt {
			ts[i] = t.UTC()
		}
		f[FieldCapturedAt] = ts
	}
	if d.DeletedAt != nil {
		f[FieldDeletedAt] = d.DeletedAt.UTC()
	}
	return f
}
