package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/records/letter"
	"github.com/civicarchive/civicarchive/screening"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// Decisions on flagged content.
const (
	Keep   = "keep"
	Remove = "remove"
)

// Decide records the coordinator's decision on an item's flags awaiting
// review: keep or remove, with a reason. A remove decision produces the
// item's removal record at once (3.5.4: documented, then removed); every
// archived version of the item stays.
func (o *Office) Decide(ctx context.Context, itemID uint64, decision, reason, actor string) ([]storage.Flag, *storage.Removal, error) {
	errs := FieldErrors{}
	reason = text(errs, "reason", reason, true, 2000)
	status := ""
	switch decision {
	case Keep:
		status = storage.FlagKept
	case Remove:
		status = storage.FlagRemoved
	default:
		errs["decision"] = "must be keep or remove"
	}
	if err := orNil(errs); err != nil {
		return nil, nil, err
	}
	flags, err := o.cat.DecideFlags(ctx, itemID, status, reason, actor, o.cfg.Now().UTC())
	if err != nil {
		return nil, nil, err
	}
	if status != storage.FlagRemoved {
		return flags, nil, nil
	}
	it, err := o.cat.ItemByID(ctx, itemID)
	if err != nil {
		return flags, nil, err
	}
	r, err := o.recordRemoval(ctx, *it)
	return flags, r, err
}

// RecordRemovals writes the removal records still missing: for content
// found deleted from the platform, and for remove decisions whose record
// was not finished (a crash between the decision and the record). It
// returns how many it wrote. It is safe to run at any time, on any replica.
func (o *Office) RecordRemovals(ctx context.Context) (int, error) {
	n := 0
	for {
		items, err := o.cat.ItemsToRecordRemoval(ctx, 100)
		if err != nil || len(items) == 0 {
			return n, err
		}
		for _, it := range items {
			if _, err := o.recordRemoval(ctx, it); err != nil {
				if errors.Is(err, storage.ErrConflict) {
					continue // another replica wrote it meanwhile
				}
				return n, err
			}
			n++
		}
		if len(items) < 100 {
			return n, nil
		}
	}
}

// recordRemoval renders the item's removal record as HTML and PDF, stores
// both in the blob store and records them with a custody event.
func (o *Office) recordRemoval(ctx context.Context, it storage.Item) (*storage.Removal, error) {
	if r, err := o.cat.RemovalOfItem(ctx, it.ID); err == nil {
		return r, nil
	}
	acct, err := o.cat.AccountByID(ctx, it.AccountID)
	if err != nil {
		return nil, err
	}
	versions, err := o.cat.Versions(ctx, it.ID)
	if err != nil {
		return nil, err
	}
	flags, err := o.cat.ItemFlags(ctx, it.ID)
	if err != nil {
		return nil, err
	}
	r := &storage.Removal{ItemID: it.ID, AccountID: it.AccountID, Platform: it.Platform, Kind: it.Kind,
		AuthorID: it.AuthorID, AuthorName: it.AuthorName}
	var cats, rules []string
	var decided *storage.Flag
	for i, f := range flags {
		if f.Status == storage.FlagRemoved {
			cats, rules = append(cats, f.Category), append(rules, f.Rule)
			if decided == nil {
				decided = &flags[i]
			}
		}
	}
	switch {
	case decided != nil:
		r.Cause, r.Decision = storage.RemovalDecision, "Removed by the Social Media Coordinator's decision (policy 3.4.3)"
		r.Reason, r.DecidedBy, r.RemovedAt = decided.Reason, decided.DecidedBy, *decided.DecidedAt
	case it.DeletedAt != nil:
		r.Cause, r.Decision = storage.RemovalDeleted, "Found deleted from the platform by the archiver"
		r.DecidedBy, r.RemovedAt = "system:archiver", *it.DeletedAt
		for _, f := range flags {
			cats, rules = append(cats, f.Category), append(rules, f.Rule)
		}
	default:
		return nil, fmt.Errorf("policy: item %d was not removed", it.ID)
	}
	r.Categories, r.Rules = storage.SortedLetters(cats), strings.Join(rules, ",")
	l := o.removalLetter(*acct, it, versions, flags, r)
	html, err := l.HTML()
	if err != nil {
		return nil, fmt.Errorf("policy: removal record of item %d: %w", it.ID, err)
	}
	pdf, err := l.PDF()
	if err != nil {
		return nil, fmt.Errorf("policy: removal record of item %d: %w", it.ID, err)
	}
	href, _, err := blob.PutBytes(ctx, o.cfg.Blobs, html)
	if err != nil {
		return nil, fmt.Errorf("policy: store removal record: %w", err)
	}
	pref, _, err := blob.PutBytes(ctx, o.cfg.Blobs, pdf)
	if err != nil {
		return nil, fmt.Errorf("policy: store removal record: %w", err)
	}
	r.HTMLKey, r.HTMLSHA256, r.PDFKey, r.PDFSHA256 = href.Key, href.SHA256, pref.Key, pref.SHA256
	if err := o.cat.CreateRemoval(ctx, r, r.DecidedBy); err != nil {
		return nil, err
	}
	o.log.Info("removal record written", "item_id", it.ID, "removal_id", r.ID, "cause", r.Cause)
	return r, nil
}

// RemovalStylesheet is where the api serves the records' stylesheet.
const RemovalStylesheet = "/assets/letter.css"

// removalLetter lays out the printable removal record.
func (o *Office) removalLetter(a storage.Account, it storage.Item, vs []storage.Version, flags []storage.Flag, r *storage.Removal) letter.Letter {
	stamp := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "—"
		}
		return t.In(o.cfg.Location).Format("2006-01-02 15:04:05 MST")
	}
	removed := r.RemovedAt
	details := &letter.Table{Header: []string{"", ""}, Rows: [][]string{
		{"Item", fmt.Sprintf("%d (%s %s %s)", it.ID, it.Platform, it.Kind, it.NativeID)},
		{"Account", fmt.Sprintf("@%s — %s (%s)", a.Handle, a.DisplayName, a.Department)},
		{"Author", strings.TrimSpace(it.AuthorName + " (" + it.AuthorID + ")")},
		{"Link", it.URL},
		{"Posted", stamp(it.PlatformCreatedAt)},
		{"Edited on the platform", stamp(it.PlatformEditedAt)},
		{"First captured", stamp(&it.FirstSeenAt)},
		{"Last seen", stamp(&it.LastSeenAt)},
		{"Deleted from the platform", stamp(it.DeletedAt)},
		{"Removed", stamp(&removed)},
	}}
	decision := letter.Section{Heading: "Decision", Paragraphs: []string{r.Decision}}
	if r.Reason != "" {
		decision.Paragraphs = append(decision.Paragraphs, "Reason: "+r.Reason)
	}
	decision.Paragraphs = append(decision.Paragraphs, "Decided by: "+r.DecidedBy)
	var cats []string
	for _, f := range flags {
		cats = append(cats, fmt.Sprintf("%s — %s: rule %s matched %q (%s)", f.Category, screening.CategoryName(f.Category), f.Rule, f.Match, f.Status))
	}
	if len(cats) == 0 {
		cats = []string{"No screening rule flagged this item."}
	}
	versions := &letter.Table{Header: []string{"Version", "Captured", "SHA-256", "Text"}}
	for _, v := range vs {
		versions.Rows = append(versions.Rows, []string{fmt.Sprint(v.Seq), stamp(&v.CapturedAt), v.SHA256, v.Text})
	}
	current := it.Text
	if len(vs) > 0 {
		current = vs[len(vs)-1].Text
	}
	return letter.Letter{
		Entity:    o.cfg.Entity,
		Title:     "Record of Removed Social Media Content",
		Reference: fmt.Sprintf("Removal record, item %d", it.ID),
		Date:      o.cfg.Now().In(o.cfg.Location),
		Sections: []letter.Section{
			{Paragraphs: []string{"This record documents content removed from an official city social media site, " +
				"as policy 3.5.4 requires. Every archived version of the content is kept in the archive."}},
			{Heading: "Content as last captured", Paragraphs: []string{orDash(current)}},
			{Heading: "Details", Table: details},
			{Heading: "Policy categories (3.4.3)", Items: cats},
			decision,
			{Heading: "Every archived version", Table: versions},
		},
		Stylesheet: RemovalStylesheet,
	}
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(no text)"
	}
	return s
}

// Rescreen screens every kept item's current text with the rules in use,
// adding the flags of rules that did not flag it before (after the rules
// changed). Decisions already made stay. progress, if set, is told how
// many items were screened so far. It returns the items screened and the
// flags added.
func (o *Office) Rescreen(ctx context.Context, actor string, progress func(done int)) (items, added int, err error) {
	var after uint64
	for {
		page, err := o.cat.ListItems(ctx, 0, after, 500)
		if err != nil {
			return items, added, err
		}
		ids := make([]uint64, 0, len(page.Items))
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		versions, err := o.cat.VersionsOf(ctx, ids)
		if err != nil {
			return items, added, err
		}
		for _, it := range page.Items {
			vs := versions[it.ID]
			if it.DisposedAt != nil || len(vs) == 0 {
				continue
			}
			items++
			hits := o.Screen(it.Text)
			if len(hits) == 0 {
				continue
			}
			n, err := o.cat.AddFlags(ctx, it, vs[len(vs)-1].ID, hits, actor)
			if err != nil {
				return items, added, err
			}
			added += n
		}
		if progress != nil {
			progress(items)
		}
		if page.NextID == 0 {
			return items, added, nil
		}
		after = page.NextID
	}
}
