package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// Retention and disposition: the schedule (rules per kind, per account or
// for all), and the disposition runs that destroy what the schedule no
// longer requires — only after a second person approves, never anything on
// hold, and never a blob that a kept record still uses. See storage's
// retention.go for what a disposition removes from the catalog and what it
// keeps as a tombstone.

// ErrSamePerson is returned when the proposer of a disposition tries to
// approve it: destruction takes two people.
var ErrSamePerson = errors.New("records: a disposition must be approved by someone other than its proposer")

// ErrCannotDelete is returned when the blob store cannot delete blobs, so
// a disposition could not destroy what it lists.
var ErrCannotDelete = errors.New("records: the blob store cannot delete blobs")

// dispositionBatch is how many items or requests one transaction disposes
// of (and how many rows any query of a disposition reads at once).
const dispositionBatch = 200

// finalStatuses are the request statuses after final action: only those
// request files are ever eligible.
var finalStatuses = []string{StatusClosed, StatusFinal}

// RuleInput is a retention rule as a person sets it.
type RuleInput struct {
	AccountID *uint64 // nil: every account
	Kind      string  // post, comment, reply, request_file
	KeepDays  int     // 0: permanent
	Trigger   string  // captured or final_action; empty: the kind's own
	Citation  string  // the schedule item that allows it
}

// RetentionRules returns the schedule in force.
func (o *Office) RetentionRules(ctx context.Context) ([]storage.RetentionRule, error) {
	return o.cat.Rules(ctx)
}

// EnsureRetentionDefaults installs the shipped schedule when none exists
// (serve calls it at start); it returns how many rules it added.
func (o *Office) EnsureRetentionDefaults(ctx context.Context) (int, error) {
	return o.cat.EnsureDefaultRules(ctx, "system")
}

// SetRetentionRule validates and stores a rule, replacing the one for the
// same kind and scope, with a custody event.
func (o *Office) SetRetentionRule(ctx context.Context, a Actor, in RuleInput) (*storage.RetentionRule, error) {
	in.Kind, in.Trigger, in.Citation = strings.TrimSpace(in.Kind), strings.TrimSpace(in.Trigger), strings.TrimSpace(in.Citation)
	fe := FieldErrors{}
	want := storage.TriggerCaptured
	switch {
	case !slices.Contains(storage.RetentionKinds, in.Kind):
		fe["kind"] = "must be one of " + strings.Join(storage.RetentionKinds, ", ")
	case in.Kind == storage.RetentionRequestFile:
		want = storage.TriggerFinalAction
		if in.AccountID != nil {
			fe["account_id"] = "must be empty: request files belong to no account"
		}
	}
	if in.Trigger == "" {
		in.Trigger = want
	}
	if fe["kind"] == "" && in.Trigger != want {
		fe["trigger"] = fmt.Sprintf("must be %s for %s", want, in.Kind)
	}
	if in.KeepDays < 0 || in.KeepDays > 100*366 {
		fe["keep_days"] = "must be 0 (permanent) or a number of days up to 36600"
	}
	if in.Citation == "" || len(in.Citation) > 255 {
		fe["citation"] = "is required: the retention schedule item that allows it (at most 255 characters)"
	}
	if in.AccountID != nil && fe["account_id"] == "" {
		if _, err := o.cat.AccountByID(ctx, *in.AccountID); errors.Is(err, storage.ErrNotFound) {
			fe["account_id"] = "no such account"
		} else if err != nil {
			return nil, err
		}
	}
	if len(fe) > 0 {
		return nil, fe
	}
	r := &storage.RetentionRule{AccountID: in.AccountID, Kind: in.Kind, KeepDays: in.KeepDays, Trigger: in.Trigger,
		Citation: in.Citation, UpdatedBy: a.ID}
	if err := o.cat.SetRule(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteRetentionRule removes an account's own rule for kind, so the
// account follows the all-accounts rule again.
func (o *Office) DeleteRetentionRule(ctx context.Context, a Actor, accountID uint64, kind string) error {
	return o.cat.DeleteRule(ctx, accountID, kind, a.ID)
}

// Disposition returns one disposition.
func (o *Office) Disposition(ctx context.Context, id uint64) (*storage.Disposition, error) {
	return o.cat.DispositionByID(ctx, id)
}

// Dispositions lists dispositions, newest first.
func (o *Office) Dispositions(ctx context.Context, limit, offset int) ([]storage.Disposition, error) {
	return o.cat.ListDispositions(ctx, limit, offset)
}

// listFormat names the disposition list's JSON layout.
const listFormat = "civicarchive-disposition-list/1"

// listHeader is the start of a disposition list: who proposed it, when,
// and the schedule in force.
type listHeader struct {
	Format         string    `json:"format"`
	ProposedBy     string    `json:"proposed_by"`
	ProposedByName string    `json:"proposed_by_name"`
	ProposedByUser uint64    `json:"proposed_by_user"`
	ProposedAt     time.Time `json:"proposed_at"`
	AsOf           time.Time `json:"as_of"`
	Rules          []ruleOut `json:"rules"`
}

// ruleOut is a retention rule as lists and certificates show it.
type ruleOut struct {
	ID        uint64    `json:"id"`
	AccountID *uint64   `json:"account_id"`
	Kind      string    `json:"kind"`
	KeepDays  int       `json:"keep_days"`
	Trigger   string    `json:"trigger"`
	Citation  string    `json:"citation"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

func rulesOut(rs []storage.RetentionRule) []ruleOut {
	out := make([]ruleOut, len(rs))
	for i, r := range rs {
		out[i] = ruleOut{ID: r.ID, AccountID: r.AccountID, Kind: r.Kind, KeepDays: r.KeepDays, Trigger: r.Trigger,
			Citation: r.Citation, UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.UTC()}
	}
	return out
}

// listItem is one item the schedule allows to be disposed of; Skip names
// the hold that keeps it for now.
type listItem struct {
	ID            uint64    `json:"id"`
	AccountID     uint64    `json:"account_id"`
	Platform      string    `json:"platform"`
	NativeID      string    `json:"native_id"`
	Kind          string    `json:"kind"`
	FirstSeenAt   time.Time `json:"first_seen_at"`
	EligibleSince time.Time `json:"eligible_since"`
	RuleID        uint64    `json:"rule_id"`
	Skip          string    `json:"skip,omitempty"`
}

// listRequest is one request file the schedule allows to be disposed of.
type listRequest struct {
	ID             uint64    `json:"id"`
	TrackingNumber string    `json:"tracking_number"`
	Status         string    `json:"status"`
	ClosedAt       time.Time `json:"closed_at"`
	EligibleSince  time.Time `json:"eligible_since"`
	RuleID         uint64    `json:"rule_id"`
	Skip           string    `json:"skip,omitempty"`
}

// ProposeDisposition lists everything the schedule allows to be destroyed
// as of asOf (zero: now), marking what a hold keeps (legal holds, the
// automatic holds of denials, items attached to a kept request file) as
// skipped, stores the list as a JSON blob and records the proposal. Nothing
// is removed: that takes ApproveDisposition by another person.
func (o *Office) ProposeDisposition(ctx context.Context, a Actor, asOf time.Time) (*storage.Disposition, error) {
	now := o.cfg.Now().UTC().Truncate(time.Microsecond)
	if asOf.IsZero() {
		asOf = now
	}
	if asOf.After(now) {
		return nil, FieldErrors{"as_of": "cannot be in the future"}
	}
	f, err := os.CreateTemp("", "civicarchive-disposition-list-*")
	if err != nil {
		return nil, fmt.Errorf("records: propose disposition: %w", err)
	}
	defer func() { f.Close(); os.Remove(f.Name()) }()
	d := &storage.Disposition{ProposedBy: a.ID, ProposedAt: now}
	if err := o.writeList(ctx, f, a, asOf.UTC(), d); err != nil {
		return nil, fmt.Errorf("records: propose disposition: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("records: propose disposition: %w", err)
	}
	// The list is in the blob store before the row that names it.
	ref, _, err := o.cfg.Blobs.Put(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("records: propose disposition: store list: %w", err)
	}
	d.ListKey = ref.Key
	if err := o.cat.CreateDisposition(ctx, d, ref.SHA256); err != nil {
		return nil, err
	}
	o.log.Info("disposition proposed", "disposition", d.ID, "items", d.Items, "requests", d.Requests, "skipped_held", d.SkippedHeld)
	return d, nil
}

// writeList writes the disposition list to w and fills d's counts.
func (o *Office) writeList(ctx context.Context, w io.Writer, a Actor, asOf time.Time, d *storage.Disposition) error {
	rules, err := o.cat.Rules(ctx)
	if err != nil {
		return err
	}
	doc := newJSONDoc(w)
	doc.Field("format", listFormat)
	doc.Field("proposed_by", a.ID)
	doc.Field("proposed_by_name", a.Name)
	doc.Field("proposed_by_user", a.UserID)
	doc.Field("proposed_at", d.ProposedAt)
	doc.Field("as_of", asOf)
	doc.Field("rules", rulesOut(rules))
	doc.BeginArray("items")
	err = o.cat.EachEligibleItem(ctx, asOf, dispositionBatch, func(batch []storage.EligibleItem) error {
		return o.listItems(ctx, doc, batch, d)
	})
	if err != nil {
		return err
	}
	doc.EndArray()
	doc.BeginArray("requests")
	err = o.cat.EachEligibleRequest(ctx, asOf, finalStatuses, dispositionBatch, func(batch []storage.EligibleRequest) error {
		return o.listRequests(ctx, doc, batch, d)
	})
	if err != nil {
		return err
	}
	doc.EndArray()
	doc.Field("counts", map[string]int{"items": d.Items, "requests": d.Requests, "skipped_held": d.SkippedHeld})
	return doc.Close()
}

func (o *Office) listItems(ctx context.Context, doc *jsonDoc, batch []storage.EligibleItem, d *storage.Disposition) error {
	ids := make([]uint64, len(batch))
	for i, it := range batch {
		ids[i] = it.ID
	}
	blocks, err := o.cat.ItemBlocks(ctx, ids)
	if err != nil {
		return err
	}
	for _, it := range batch {
		since, _ := it.Rule.EligibleAt(it.FirstSeenAt)
		li := listItem{ID: it.ID, AccountID: it.AccountID, Platform: it.Platform, NativeID: it.NativeID, Kind: it.Kind,
			FirstSeenAt: it.FirstSeenAt.UTC(), EligibleSince: since, RuleID: it.Rule.ID, Skip: blocks[it.ID]}
		if li.Skip != "" {
			d.SkippedHeld++
		} else {
			d.Items++
		}
		doc.Elem(li)
	}
	return doc.err
}

func (o *Office) listRequests(ctx context.Context, doc *jsonDoc, batch []storage.EligibleRequest, d *storage.Disposition) error {
	ids := make([]uint64, len(batch))
	for i, r := range batch {
		ids[i] = r.ID
	}
	blocks, err := o.cat.RequestBlocks(ctx, ids)
	if err != nil {
		return err
	}
	for _, r := range batch {
		since, _ := r.Rule.EligibleAt(r.ClosedAt)
		lr := listRequest{ID: r.ID, TrackingNumber: r.TrackingNumber, Status: r.Status, ClosedAt: r.ClosedAt.UTC(),
			EligibleSince: since, RuleID: r.Rule.ID, Skip: blocks[r.ID]}
		if lr.Skip != "" {
			d.SkippedHeld++
		} else {
			d.Requests++
		}
		doc.Elem(lr)
	}
	return doc.err
}

// CancelDisposition cancels a proposed disposition (with the reason);
// nothing was or will be removed under it.
func (o *Office) CancelDisposition(ctx context.Context, id uint64, a Actor, reason string) (*storage.Disposition, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 2000 {
		return nil, FieldErrors{"reason": "is required: say why the disposition is cancelled (at most 2000 characters)"}
	}
	d, err := o.cat.CancelDisposition(ctx, id, a.ID, reason)
	if errors.Is(err, storage.ErrConflict) {
		return nil, fmt.Errorf("%w: only a proposed disposition can be cancelled (%v)", ErrNotAllowed, err)
	}
	return d, err
}

// ApproveDisposition approves a proposed disposition and runs it at once:
// the approver must be another person than the proposer (an admin cannot
// approve their own either). The run re-checks every listed record (a hold
// placed since the proposal wins, as does a rule made longer), removes the
// catalog rows, deletes the blobs no kept row names, and writes the
// disposition certificate. It returns the finished disposition; a run that
// fails part way is recorded as failed, with a certificate of what it did.
func (o *Office) ApproveDisposition(ctx context.Context, id uint64, a Actor) (*storage.Disposition, error) {
	d, err := o.cat.DispositionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Status != storage.DispositionProposed {
		return nil, fmt.Errorf("%w: disposition %d is %s, not proposed", ErrNotAllowed, id, d.Status)
	}
	if _, ok := o.cfg.Blobs.(blob.Deleter); !ok {
		return nil, ErrCannotDelete
	}
	list, hdr, err := o.fetchList(ctx, d)
	if err != nil {
		return nil, err
	}
	defer func() { list.Close(); os.Remove(list.Name()) }()
	if a.ID == d.ProposedBy || (a.UserID != 0 && a.UserID == hdr.ProposedByUser) {
		return nil, ErrSamePerson
	}
	d, err = o.cat.ApproveDisposition(ctx, id, a.ID, o.cfg.Now().UTC())
	if errors.Is(err, storage.ErrConflict) {
		return nil, fmt.Errorf("%w: %v", ErrNotAllowed, err)
	}
	if err != nil {
		return nil, err
	}
	// Once approved, the run finishes even if the caller goes away: a run
	// cut short is recorded as failed instead of completed.
	return o.run(context.WithoutCancel(ctx), d, list, a)
}

// RunDisposition runs an approved disposition whose run was interrupted
// (the process stopped): the records already disposed of are skipped, the
// rest disposed of, and the certificate written.
func (o *Office) RunDisposition(ctx context.Context, id uint64, a Actor) (*storage.Disposition, error) {
	d, err := o.cat.DispositionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Status != storage.DispositionApproved {
		return nil, fmt.Errorf("%w: disposition %d is %s, not approved", ErrNotAllowed, id, d.Status)
	}
	if _, ok := o.cfg.Blobs.(blob.Deleter); !ok {
		return nil, ErrCannotDelete
	}
	list, _, err := o.fetchList(ctx, d)
	if err != nil {
		return nil, err
	}
	defer func() { list.Close(); os.Remove(list.Name()) }()
	return o.run(context.WithoutCancel(ctx), d, list, a)
}

// fetchList copies the disposition's list from the blob store to a temp
// file, checking its SHA-256 on the way (the blob store's reader fails on a
// mismatch), and reads its header. Nothing is disposed of on a list that
// does not verify.
func (o *Office) fetchList(ctx context.Context, d *storage.Disposition) (*os.File, listHeader, error) {
	var hdr listHeader
	rc, err := o.cfg.Blobs.Get(ctx, d.ListKey)
	if err != nil {
		return nil, hdr, fmt.Errorf("records: disposition %d: list: %w", d.ID, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "civicarchive-disposition-list-*")
	if err != nil {
		return nil, hdr, fmt.Errorf("records: disposition %d: %w", d.ID, err)
	}
	fail := func(err error) (*os.File, listHeader, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, hdr, fmt.Errorf("records: disposition %d: list: %w", d.ID, err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		return fail(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	// The header fields come before the arrays; stop at the first array.
	errHeaderRead := errors.New("header read")
	err = readJSONDoc(f, func(name string, v json.RawMessage) error {
		return decodeHeaderField(&hdr, name, v)
	}, map[string]func(*json.Decoder) error{
		"items":    func(*json.Decoder) error { return errHeaderRead },
		"requests": func(*json.Decoder) error { return errHeaderRead },
	})
	if err != nil && !errors.Is(err, errHeaderRead) {
		return fail(err)
	}
	if hdr.Format != listFormat {
		return fail(fmt.Errorf("%w: format %q", errNotJSONDoc, hdr.Format))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	return f, hdr, nil
}

func decodeHeaderField(h *listHeader, name string, v json.RawMessage) error {
	var dst any
	switch name {
	case "format":
		dst = &h.Format
	case "proposed_by":
		dst = &h.ProposedBy
	case "proposed_by_name":
		dst = &h.ProposedByName
	case "proposed_by_user":
		dst = &h.ProposedByUser
	case "proposed_at":
		dst = &h.ProposedAt
	case "as_of":
		dst = &h.AsOf
	case "rules":
		dst = &h.Rules
	default:
		return nil
	}
	return json.Unmarshal(v, dst)
}
