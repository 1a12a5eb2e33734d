package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// What a disposition removes and what it keeps.
//
// An item disposed of under its schedule keeps its row as a tombstone: id,
// account, platform, native id, kind, parent and root links, URL, platform
// dates, first and last seen, deletion mark, DisposedAt and DispositionID.
// Its text and author are cleared, and its versions and media rows are
// deleted (the blobs they named are then deleted by the caller when no kept
// row names them any more). The tombstone keeps threads linked and says the
// record existed and was disposed of lawfully; the custody log is never
// touched beyond new events (one "disposed" event per item, carrying the
// SHA-256 of every version destroyed).
//
// A request file disposed of keeps its request row as a tombstone: tracking
// number, status, determination, dates (received, due, responded, closed),
// fees and the release's SHA-256. The requester's name and contact data, the
// description, the response text and the requester key are cleared; its
// letters, messages, history events and attached item versions are deleted,
// one "disposed" history event is added (the marker that the file is gone)
// and one "disposed" custody event. Its holds and exports stay: they are
// records of the hold register and of litigation, not of the request file.

// Retention kinds: what a rule applies to.
const (
	RetentionPost        = "post"
	RetentionComment     = "comment"
	RetentionReply       = "reply"
	RetentionRequestFile = "request_file"
)

// RetentionKinds lists every kind a rule can name.
var RetentionKinds = []string{RetentionPost, RetentionComment, RetentionReply, RetentionRequestFile}

// Retention triggers: the date a rule's days count from.
const (
	TriggerCaptured    = "captured"     // an item's first capture
	TriggerFinalAction = "final_action" // a request's closing
)

// Disposition statuses.
const (
	DispositionProposed  = "proposed"
	DispositionApproved  = "approved"
	DispositionCompleted = "completed"
	DispositionCancelled = "cancelled"
	DispositionFailed    = "failed"
)

// requestDisposedKind is the request history event that marks a disposed
// request file.
const requestDisposedKind = "disposed"

// Why an item or request cannot be disposed of now.
const (
	BlockLegalHold   = "legal_hold"      // a standing legal hold
	BlockDenialHold  = "denial_hold"     // withheld by a denial, appeals not over (63G-2-205(3))
	BlockRequest     = "records_request" // attached to a request whose file is kept
	BlockNotEligible = "not_eligible"    // the schedule no longer allows it (rule changed)
	BlockAlreadyGone = "already_disposed"
	BlockMissing     = "missing"
)

// DefaultRetentionRules are the shipped schedule (REFERENCE.md §1, Utah):
// the city's posts are permanent; public comments and replies are kept with
// their posts (the Archives must confirm: VERIFY); request files are kept 2
// years after final action.
func DefaultRetentionRules() []RetentionRule {
	keep := "Utah GRS-1759/1760: public comments kept with their posts (VERIFY the schedule with the State Archives)"
	return []RetentionRule{
		{Kind: RetentionPost, KeepDays: 0, Trigger: TriggerCaptured, Citation: "Utah GRS-1678: social media posts (publications), permanent"},
		{Kind: RetentionComment, KeepDays: 0, Trigger: TriggerCaptured, Citation: keep},
		{Kind: RetentionReply, KeepDays: 0, Trigger: TriggerCaptured, Citation: keep},
		{Kind: RetentionRequestFile, KeepDays: 730, Trigger: TriggerFinalAction, Citation: "Utah GRS-1711: records request files, 2 years after final action"},
	}
}

// RuleSet answers which rule applies to an account's records of one kind:
// the account's own rule wins over the all-accounts rule.
type RuleSet struct {
	own map[ruleScope]RetentionRule
	all map[string]RetentionRule
}

type ruleScope struct {
	account uint64
	kind    string
}

// NewRuleSet indexes rules.
func NewRuleSet(rules []RetentionRule) RuleSet {
	rs := RuleSet{own: map[ruleScope]RetentionRule{}, all: map[string]RetentionRule{}}
	for _, r := range rules {
		if r.AccountID == nil {
			rs.all[r.Kind] = r
		} else {
			rs.own[ruleScope{*r.AccountID, r.Kind}] = r
		}
	}
	return rs
}

// For returns the rule in force for the account's records of kind; false
// when none applies (then nothing of that kind is ever eligible).
func (rs RuleSet) For(accountID uint64, kind string) (RetentionRule, bool) {
	if r, ok := rs.own[ruleScope{accountID, kind}]; ok {
		return r, true
	}
	r, ok := rs.all[kind]
	return r, ok
}

// EligibleAt is when a record whose trigger date is from becomes eligible
// under r; false for a permanent rule.
func (r RetentionRule) EligibleAt(from time.Time) (time.Time, bool) {
	if r.KeepDays <= 0 {
		return time.Time{}, false
	}
	return from.UTC().AddDate(0, 0, r.KeepDays), true
}

// cutoff is the latest trigger date eligible as of asOf (exclusive).
func (r RetentionRule) cutoff(asOf time.Time) time.Time {
	return asOf.UTC().AddDate(0, 0, -r.KeepDays)
}

// SetRule creates or replaces the rule for (r.AccountID, r.Kind), with a
// "retention_rule_set" custody event naming the old and new values. The
// caller validates; r.UpdatedBy is the actor.
func (c *Catalog) SetRule(ctx context.Context, r *RetentionRule) error {
	err := c.Tx(ctx, func(tx *Catalog) error {
		// The custody head's lock serialises rule changes, so two callers
		// cannot both insert the all-accounts rule (NULLs are never equal
		// in a unique index).
		if _, err := tx.lockHead(tx.gdb(ctx)); err != nil {
			return err
		}
		var old RetentionRule
		err := tx.ruleScope(ctx, r.AccountID, r.Kind).Take(&old).Error
		var before any
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			r.ID = 0
			if err := tx.gdb(ctx).Create(r).Error; err != nil {
				return mapErr(err)
			}
		case err != nil:
			return err
		default:
			before = map[string]any{"keep_days": old.KeepDays, "trigger": old.Trigger, "citation": old.Citation}
			r.ID, r.CreatedAt = old.ID, old.CreatedAt
			if err := tx.gdb(ctx).Save(r).Error; err != nil {
				return err
			}
		}
		_, err = tx.AppendCustody(ctx, NewEvent{Kind: "retention_rule_set", Actor: r.UpdatedBy, SubjectType: "retention_rule",
			SubjectID: fmt.Sprint(r.ID), Details: map[string]any{"account_id": r.AccountID, "kind": r.Kind,
				"keep_days": r.KeepDays, "trigger": r.Trigger, "citation": r.Citation, "before": before}})
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: set retention rule %s: %w", r.Kind, err)
	}
	return nil
}

// DeleteRule removes an account's own rule for kind (its records then
// follow the all-accounts rule), with a "retention_rule_deleted" custody
// event. The all-accounts rules cannot be deleted, only changed.
func (c *Catalog) DeleteRule(ctx context.Context, accountID uint64, kind, actor string) error {
	err := c.Tx(ctx, func(tx *Catalog) error {
		var old RetentionRule
		if err := tx.ruleScope(ctx, &accountID, kind).Take(&old).Error; err != nil {
			return mapErr(err)
		}
		if err := tx.gdb(ctx).Delete(&RetentionRule{}, old.ID).Error; err != nil {
			return err
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: "retention_rule_deleted", Actor: actor, SubjectType: "retention_rule",
			SubjectID: fmt.Sprint(old.ID), Details: map[string]any{"account_id": accountID, "kind": kind,
				"keep_days": old.KeepDays, "trigger": old.Trigger, "citation": old.Citation}})
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: delete retention rule %s of account %d: %w", kind, accountID, err)
	}
	return nil
}

func (c *Catalog) ruleScope(ctx context.Context, accountID *uint64, kind string) *gorm.DB {
	q := c.gdb(ctx).Where("kind = ?", kind)
	if accountID == nil {
		return q.Where("account_id IS NULL")
	}
	return q.Where("account_id = ?", *accountID)
}

// Rules returns every rule: the all-accounts rules first, then each
// account's, by kind.
func (c *Catalog) Rules(ctx context.Context) ([]RetentionRule, error) {
	var rs []RetentionRule
	// COALESCE puts the all-accounts rules (NULL) first on both databases.
	if err := c.gdb(ctx).Order("COALESCE(account_id, 0), kind").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("storage: retention rules: %w", err)
	}
	return rs, nil
}

// EffectiveRule returns the rule in force for an account's records of kind
// (accountID 0 for request files): the account's own rule, else the
// all-accounts rule, else ErrNotFound.
func (c *Catalog) EffectiveRule(ctx context.Context, accountID uint64, kind string) (*RetentionRule, error) {
	var rs []RetentionRule
	q := c.gdb(ctx).Where("kind = ?", kind)
	if accountID == 0 {
		q = q.Where("account_id IS NULL")
	} else {
		q = q.Where("account_id = ? OR account_id IS NULL", accountID)
	}
	if err := q.Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("storage: retention rule %s: %w", kind, err)
	}
	r, ok := NewRuleSet(rs).For(accountID, kind)
	if !ok {
		return nil, fmt.Errorf("storage: retention rule %s of account %d: %w", kind, accountID, ErrNotFound)
	}
	return &r, nil
}

// EnsureDefaultRules inserts DefaultRetentionRules when there are no rules
// at all, each with its custody event, and returns how many it inserted. An
// operator's later changes are never undone: once any rule exists it does
// nothing.
func (c *Catalog) EnsureDefaultRules(ctx context.Context, actor string) (int, error) {
	n := 0
	err := c.Tx(ctx, func(tx *Catalog) error {
		if _, err := tx.lockHead(tx.gdb(ctx)); err != nil { // two replicas starting together
			return err
		}
		var count int64
		if err := tx.gdb(ctx).Model(&RetentionRule{}).Count(&count).Error; err != nil || count > 0 {
			return err
		}
		for _, r := range DefaultRetentionRules() {
			r.UpdatedBy = actor
			if err := tx.SetRule(ctx, &r); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: default retention rules: %w", err)
	}
	return n, nil
}

// EligibleItem is an item its schedule allows to be disposed of.
type EligibleItem struct {
	ID, AccountID            uint64
	Platform, NativeID, Kind string
	FirstSeenAt              time.Time
	Rule                     RetentionRule
}

// EachEligibleItem calls fn with batches of at most batch items, not yet
// disposed of, whose rule is not permanent and whose first capture plus the
// rule's days is before asOf. Holds are not considered here (see
// ItemBlocks). Memory stays bounded by the batch size.
func (c *Catalog) EachEligibleItem(ctx context.Context, asOf time.Time, batch int, fn func([]EligibleItem) error) error {
	rules, err := c.Rules(ctx)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if r.KeepDays <= 0 || r.Kind == RetentionRequestFile {
			continue
		}
		q := func() *gorm.DB {
			q := c.gdb(ctx).Model(&Item{}).Where("kind = ? AND disposed_at IS NULL AND first_seen_at < ?", r.Kind, r.cutoff(asOf))
			if r.AccountID != nil {
				return q.Where("account_id = ?", *r.AccountID)
			}
			// Accounts with a rule of their own follow that one instead.
			return q.Where("account_id NOT IN (SELECT account_id FROM retention_rules WHERE kind = ? AND account_id IS NOT NULL)", r.Kind)
		}
		if err := c.eachItemBatch(q, r, batch, fn); err != nil {
			return fmt.Errorf("storage: eligible items: %w", err)
		}
	}
	return nil
}

func (c *Catalog) eachItemBatch(q func() *gorm.DB, r RetentionRule, batch int, fn func([]EligibleItem) error) error {
	var after uint64
	for {
		var rows []Item
		err := q().Select("id", "account_id", "platform", "native_id", "kind", "first_seen_at").
			Where("id > ?", after).Order("id").Limit(batch).Find(&rows).Error
		if err != nil || len(rows) == 0 {
			return err
		}
		out := make([]EligibleItem, len(rows))
		for i, it := range rows {
			out[i] = EligibleItem{ID: it.ID, AccountID: it.AccountID, Platform: it.Platform, NativeID: it.NativeID,
				Kind: it.Kind, FirstSeenAt: it.FirstSeenAt, Rule: r}
		}
		if err := fn(out); err != nil {
			return err
		}
		after = rows[len(rows)-1].ID
	}
}

// EligibleRequest is a request file its schedule allows to be disposed of.
type EligibleRequest struct {
	ID             uint64
	TrackingNumber string
	Status         string
	ClosedAt       time.Time
	Rule           RetentionRule
}

// EachEligibleRequest calls fn with batches of request files not yet
// disposed of whose status is one of statuses (the final ones) and whose
// closing plus the request-file rule's days is before asOf. Requests with a
// standing hold are included; see RequestBlocks.
func (c *Catalog) EachEligibleRequest(ctx context.Context, asOf time.Time, statuses []string, batch int, fn func([]EligibleRequest) error) error {
	r, err := c.requestFileRule(ctx)
	if err != nil || r == nil {
		return err
	}
	var after uint64
	for {
		rows, err := c.eligibleRequests(ctx, *r, asOf, statuses, c.gdb(ctx).Where("id > ?", after).Limit(batch))
		if err != nil || len(rows) == 0 {
			return err
		}
		if err := fn(rows); err != nil {
			return err
		}
		after = rows[len(rows)-1].ID
	}
}

// requestFileRule is the rule for request files; nil when there is none or
// it is permanent.
func (c *Catalog) requestFileRule(ctx context.Context) (*RetentionRule, error) {
	r, err := c.EffectiveRule(ctx, 0, RetentionRequestFile)
	if errors.Is(err, ErrNotFound) || (err == nil && r.KeepDays <= 0) {
		return nil, nil
	}
	return r, err
}

// eligibleRequests runs the eligibility query for request files, narrowed
// by scope (a query on requests), in id order.
func (c *Catalog) eligibleRequests(ctx context.Context, r RetentionRule, asOf time.Time, statuses []string, scope *gorm.DB) ([]EligibleRequest, error) {
	var rows []Request
	err := scope.Model(&Request{}).Select("id", "tracking_number", "status", "closed_at").
		Where("status IN ? AND closed_at IS NOT NULL AND closed_at < ?", statuses, r.cutoff(asOf)).
		Where("NOT EXISTS (SELECT 1 FROM request_events e WHERE e.request_id = requests.id AND e.kind = ?)", requestDisposedKind).
		Order("id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("storage: eligible requests: %w", err)
	}
	out := make([]EligibleRequest, len(rows))
	for i, q := range rows {
		out[i] = EligibleRequest{ID: q.ID, TrackingNumber: q.TrackingNumber, Status: q.Status, ClosedAt: *q.ClosedAt, Rule: r}
	}
	return out, nil
}

// ItemBlocks says, for those of ids that may not be disposed of now, why:
// under a standing legal hold, withheld by a denial whose appeals are not
// over, or attached to a request whose file is still kept.
func (c *Catalog) ItemBlocks(ctx context.Context, ids []uint64) (map[uint64]string, error) {
	out := map[uint64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	want := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var attached []uint64
	if err := c.gdb(ctx).Model(&RequestItem{}).Where("item_id IN ?", ids).Distinct().Pluck("item_id", &attached).Error; err != nil {
		return nil, fmt.Errorf("storage: item blocks: %w", err)
	}
	for _, id := range attached {
		out[id] = BlockRequest
	}
	hs, err := c.ListHolds(ctx, true)
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		held, err := h.HoldItems()
		if err != nil {
			return nil, err
		}
		reason := BlockLegalHold
		if h.RequestID != nil {
			reason = BlockDenialHold
		}
		for _, id := range held {
			if want[id] && out[id] != BlockLegalHold { // a legal hold is the reason to name first
				out[id] = reason
			}
		}
	}
	return out, nil
}

// RequestBlocks returns those of ids that have a standing hold (a denial's
// appeals are not over).
func (c *Catalog) RequestBlocks(ctx context.Context, ids []uint64) (map[uint64]string, error) {
	out := map[uint64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var held []uint64
	err := c.gdb(ctx).Model(&Hold{}).Where("request_id IN ? AND released_at IS NULL", ids).Distinct().Pluck("request_id", &held).Error
	if err != nil {
		return nil, fmt.Errorf("storage: request blocks: %w", err)
	}
	for _, id := range held {
		out[id] = BlockDenialHold
	}
	return out, nil
}

// CreateDisposition stores a proposed disposition with its
// "disposition_proposed" custody event.
func (c *Catalog) CreateDisposition(ctx context.Context, d *Disposition, listSHA256 string) error {
	d.Status = DispositionProposed
	err := c.Tx(ctx, func(tx *Catalog) error {
		if err := tx.gdb(ctx).Create(d).Error; err != nil {
			return err
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: "disposition_proposed", Actor: d.ProposedBy, SubjectType: "disposition",
			SubjectID: fmt.Sprint(d.ID), Details: map[string]any{"list_key": d.ListKey, "list_sha256": listSHA256,
				"items": d.Items, "requests": d.Requests, "skipped_held": d.SkippedHeld}})
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: create disposition: %w", err)
	}
	return nil
}

// DispositionByID returns one disposition.
func (c *Catalog) DispositionByID(ctx context.Context, id uint64) (*Disposition, error) {
	var d Disposition
	if err := c.gdb(ctx).Take(&d, id).Error; err != nil {
		return nil, fmt.Errorf("storage: disposition %d: %w", id, mapErr(err))
	}
	return &d, nil
}

// ListDispositions returns dispositions, newest first, at most limit.
func (c *Catalog) ListDispositions(ctx context.Context, limit, offset int) ([]Disposition, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var ds []Disposition
	if err := c.gdb(ctx).Order("id DESC").Limit(limit).Offset(offset).Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("storage: list dispositions: %w", err)
	}
	return ds, nil
}

// changeDisposition moves a disposition from one of from to a new status
// with its custody event; a disposition in another status is ErrConflict.
func (c *Catalog) changeDisposition(ctx context.Context, id uint64, from []string, upd map[string]any, ev NewEvent) (*Disposition, error) {
	var d Disposition
	err := c.Tx(ctx, func(tx *Catalog) error {
		q := tx.gdb(ctx)
		if c.dialect == "postgres" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&d, id).Error; err != nil {
			return mapErr(err)
		}
		if !slices.Contains(from, d.Status) {
			return fmt.Errorf("%w: disposition %d is %s", ErrConflict, id, d.Status)
		}
		if err := tx.gdb(ctx).Model(&Disposition{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return err
		}
		if err := tx.gdb(ctx).Take(&d, id).Error; err != nil {
			return err
		}
		ev.SubjectType, ev.SubjectID = "disposition", fmt.Sprint(id)
		_, err := tx.AppendCustody(ctx, ev)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: disposition %d: %w", id, err)
	}
	return &d, nil
}

// ApproveDisposition approves a proposed disposition. The approver must not
// be the proposer (checked here too, as a last line: the records office
// also compares the people behind the ids).
func (c *Catalog) ApproveDisposition(ctx context.Context, id uint64, approver string, at time.Time) (*Disposition, error) {
	d, err := c.DispositionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.ProposedBy == approver {
		return nil, fmt.Errorf("storage: disposition %d: %w: the proposer cannot approve it", id, ErrConflict)
	}
	return c.changeDisposition(ctx, id, []string{DispositionProposed},
		map[string]any{"status": DispositionApproved, "approved_by": approver, "approved_at": at},
		NewEvent{Kind: "disposition_approved", Actor: approver, Details: map[string]any{"proposed_by": d.ProposedBy}})
}

// CancelDisposition cancels a proposed disposition; nothing was removed.
func (c *Catalog) CancelDisposition(ctx context.Context, id uint64, actor, reason string) (*Disposition, error) {
	return c.changeDisposition(ctx, id, []string{DispositionProposed},
		map[string]any{"status": DispositionCancelled, "error": reason},
		NewEvent{Kind: "disposition_cancelled", Actor: actor, Details: map[string]any{"reason": reason}})
}

// FinishDisposition records how an approved disposition's run ended
// (d.Status completed or failed, with counts, certificate and error), with a
// "disposition_completed" or "disposition_failed" custody event carrying the
// certificate's SHA-256.
func (c *Catalog) FinishDisposition(ctx context.Context, d *Disposition, actor string) error {
	kind := "disposition_completed"
	if d.Status != DispositionCompleted {
		kind = "disposition_failed"
	}
	_, err := c.changeDisposition(ctx, d.ID, []string{DispositionApproved}, map[string]any{
		"status": d.Status, "completed_at": d.CompletedAt, "items": d.Items, "requests": d.Requests,
		"skipped_held": d.SkippedHeld, "certificate_key": d.CertificateKey, "certificate_sha256": d.CertificateSHA256, "error": d.Error,
	}, NewEvent{Kind: kind, Actor: actor, Details: map[string]any{"certificate_key": d.CertificateKey,
		"certificate_sha256": d.CertificateSHA256, "items": d.Items, "requests": d.Requests, "error": d.Error}})
	return err
}

// DisposedItem is an item a disposition removed, with the blob keys its
// deleted rows named (candidates for deletion).
type DisposedItem struct {
	ID, AccountID            uint64
	Platform, NativeID, Kind string
	FirstSeenAt              time.Time
	Versions, Media          int
	Keys                     []string
	Rule                     RetentionRule
}

// DisposeItems disposes of the items ids under disposition dispositionID,
// in one transaction, after checking each again: not disposed of already,
// still eligible under the rules in force as of asOf, and not blocked (see
// ItemBlocks) — a hold placed after the proposal wins. The rest are
// returned in skipped with the reason. The blobs are not touched.
func (c *Catalog) DisposeItems(ctx context.Context, dispositionID uint64, ids []uint64, asOf time.Time, actor string) (done []DisposedItem, skipped map[uint64]string, err error) {
	err = c.Tx(ctx, func(tx *Catalog) error {
		// Holding the custody head's lock from the start orders this batch
		// against any hold being placed: that hold commits either before
		// (and is seen below) or after the items are gone.
		if _, err := tx.lockHead(tx.gdb(ctx)); err != nil {
			return err
		}
		var items []Item
		if err := tx.gdb(ctx).Where("id IN ?", ids).Order("id").Find(&items).Error; err != nil {
			return err
		}
		rules, err := tx.Rules(ctx)
		if err != nil {
			return err
		}
		rs := NewRuleSet(rules)
		if skipped, err = tx.itemSkips(ctx, ids, items, rs, asOf); err != nil {
			return err
		}
		keys, err := tx.itemKeys(ctx, ids)
		if err != nil {
			return err
		}
		for _, it := range items {
			if _, skip := skipped[it.ID]; skip {
				continue
			}
			r, _ := rs.For(it.AccountID, it.Kind)
			d, err := tx.disposeItem(ctx, dispositionID, it, r, keys[it.ID], actor)
			if err != nil {
				return fmt.Errorf("item %d: %w", it.ID, err)
			}
			done = append(done, d)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("storage: dispose of items: %w", err)
	}
	return done, skipped, nil
}

// itemSkips names the items of ids that must not be disposed of now.
func (c *Catalog) itemSkips(ctx context.Context, ids []uint64, items []Item, rs RuleSet, asOf time.Time) (map[uint64]string, error) {
	skipped, err := c.ItemBlocks(ctx, ids)
	if err != nil {
		return nil, err
	}
	found := map[uint64]bool{}
	for _, it := range items {
		found[it.ID] = true
		r, ok := rs.For(it.AccountID, it.Kind)
		switch {
		case it.DisposedAt != nil:
			skipped[it.ID] = BlockAlreadyGone
		case skipped[it.ID] != "":
		case !ok || r.KeepDays <= 0 || r.Kind == RetentionRequestFile || !it.FirstSeenAt.Before(r.cutoff(asOf)):
			skipped[it.ID] = BlockNotEligible
		}
	}
	for _, id := range ids {
		if !found[id] {
			skipped[id] = BlockMissing
		}
	}
	return skipped, nil
}

// itemVersionKeys are the blob keys of an item's versions and media.
type itemVersionKeys struct {
	keys     []string
	versions []string // content SHA-256 of each version, oldest first
	media    int
}

// itemKeys reads the blob keys and version hashes of items.
func (c *Catalog) itemKeys(ctx context.Context, ids []uint64) (map[uint64]*itemVersionKeys, error) {
	out := map[uint64]*itemVersionKeys{}
	get := func(id uint64) *itemVersionKeys {
		if out[id] == nil {
			out[id] = &itemVersionKeys{}
		}
		return out[id]
	}
	var vs []Version
	if err := c.gdb(ctx).Select("item_id", "seq", "sha256", "raw_key", "normalized_key").Where("item_id IN ?", ids).Order("item_id, seq").Find(&vs).Error; err != nil {
		return nil, err
	}
	for _, v := range vs {
		k := get(v.ItemID)
		k.keys = append(k.keys, v.RawKey, v.NormalizedKey)
		k.versions = append(k.versions, v.SHA256)
	}
	var ms []Media
	if err := c.gdb(ctx).Select("item_id", "blob_key").Where("item_id IN ?", ids).Order("id").Find(&ms).Error; err != nil {
		return nil, err
	}
	for _, m := range ms {
		k := get(m.ItemID)
		k.keys = append(k.keys, m.BlobKey)
		k.media++
	}
	return out, nil
}

// ItemBlobKeys returns the distinct blob keys each item's versions and
// media name.
func (c *Catalog) ItemBlobKeys(ctx context.Context, ids []uint64) (map[uint64][]string, error) {
	out := make(map[uint64][]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys, err := c.itemKeys(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("storage: item blob keys: %w", err)
	}
	for id, k := range keys {
		out[id] = dedupe(k.keys)
	}
	return out, nil
}

// disposeItem turns one item into a tombstone, deletes its versions and
// media rows and appends its "disposed" custody event.
func (c *Catalog) disposeItem(ctx context.Context, dispositionID uint64, it Item, r RetentionRule, k *itemVersionKeys, actor string) (DisposedItem, error) {
	if k == nil {
		k = &itemVersionKeys{}
	}
	db := c.gdb(ctx)
	if err := db.Where("item_id = ?", it.ID).Delete(&Media{}).Error; err != nil {
		return DisposedItem{}, err
	}
	if err := db.Where("item_id = ?", it.ID).Delete(&Version{}).Error; err != nil {
		return DisposedItem{}, err
	}
	ev, err := c.AppendCustody(ctx, NewEvent{Kind: "disposed", Actor: actor, SubjectType: "item", SubjectID: fmt.Sprint(it.ID),
		Details: map[string]any{"disposition": dispositionID, "platform": it.Platform, "native_id": it.NativeID, "kind": it.Kind,
			"rule": ruleDetails(r), "version_sha256": k.versions, "media": k.media}})
	if err != nil {
		return DisposedItem{}, err
	}
	now := ev.At
	err = db.Model(&Item{}).Where("id = ?", it.ID).Updates(map[string]any{"text": "", "author_id": "", "author_name": "",
		"version_count": 0, "disposed_at": now, "disposition_id": dispositionID, "change_seq": ev.Seq}).Error
	if err != nil {
		return DisposedItem{}, err
	}
	return DisposedItem{ID: it.ID, AccountID: it.AccountID, Platform: it.Platform, NativeID: it.NativeID, Kind: it.Kind,
		FirstSeenAt: it.FirstSeenAt, Versions: len(k.versions), Media: k.media, Keys: dedupe(k.keys), Rule: r}, nil
}

func ruleDetails(r RetentionRule) map[string]any {
	return map[string]any{"id": r.ID, "account_id": r.AccountID, "kind": r.Kind, "keep_days": r.KeepDays,
		"trigger": r.Trigger, "citation": r.Citation}
}

// DisposedRequest is a request file a disposition removed.
type DisposedRequest struct {
	ID                     uint64
	TrackingNumber, Status string
	ClosedAt               time.Time
	Letters, Messages      int
	Events, Attachments    int
	Keys                   []string
	Rule                   RetentionRule
}

// DisposeRequests disposes of the request files ids under disposition
// dispositionID, in one transaction, after checking each again: status one
// of statuses, closed before the rule's cutoff as of asOf, not disposed of
// already, no standing hold. The rest are returned in skipped.
func (c *Catalog) DisposeRequests(ctx context.Context, dispositionID uint64, ids []uint64, statuses []string, asOf time.Time, actor string) (done []DisposedRequest, skipped map[uint64]string, err error) {
	err = c.Tx(ctx, func(tx *Catalog) error {
		if _, err := tx.lockHead(tx.gdb(ctx)); err != nil {
			return err
		}
		skipped = map[uint64]string{}
		eligible := map[uint64]EligibleRequest{}
		r, err := tx.requestFileRule(ctx)
		if err != nil {
			return err
		}
		if r != nil {
			rows, err := tx.eligibleRequests(ctx, *r, asOf, statuses, tx.gdb(ctx).Where("id IN ?", ids))
			if err != nil {
				return err
			}
			for _, er := range rows {
				eligible[er.ID] = er
			}
		}
		blocks, err := tx.RequestBlocks(ctx, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			er, ok := eligible[id]
			switch {
			case blocks[id] != "":
				skipped[id] = blocks[id]
			case !ok:
				skipped[id], err = tx.whyRequestIneligible(ctx, id)
				if err != nil {
					return err
				}
			default:
				d, err := tx.disposeRequest(ctx, dispositionID, er, actor)
				if err != nil {
					return fmt.Errorf("request %d: %w", id, err)
				}
				done = append(done, d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("storage: dispose of request files: %w", err)
	}
	return done, skipped, nil
}

func (c *Catalog) whyRequestIneligible(ctx context.Context, id uint64) (string, error) {
	var n int64
	if err := c.gdb(ctx).Model(&Request{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return "", err
	}
	if n == 0 {
		return BlockMissing, nil
	}
	err := c.gdb(ctx).Model(&RequestEvent{}).Where("request_id = ? AND kind = ?", id, requestDisposedKind).Count(&n).Error
	switch {
	case err != nil:
		return "", err
	case n > 0:
		return BlockAlreadyGone, nil
	}
	return BlockNotEligible, nil
}

// disposeRequest turns one request into a tombstone: its letters, messages,
// events and attachments are deleted, the requester's data cleared, and a
// "disposed" history event and custody event added.
func (c *Catalog) disposeRequest(ctx context.Context, dispositionID uint64, er EligibleRequest, actor string) (DisposedRequest, error) {
	db := c.gdb(ctx)
	var r Request
	if err := db.Take(&r, er.ID).Error; err != nil {
		return DisposedRequest{}, err
	}
	d := DisposedRequest{ID: r.ID, TrackingNumber: r.TrackingNumber, Status: r.Status, ClosedAt: er.ClosedAt, Rule: er.Rule}
	var letters []Letter
	if err := db.Where("request_id = ?", r.ID).Order("id").Find(&letters).Error; err != nil {
		return d, err
	}
	for _, l := range letters {
		d.Keys = append(d.Keys, l.HTMLKey, l.PDFKey)
	}
	if r.ReleaseKey != "" {
		d.Keys = append(d.Keys, r.ReleaseKey)
	}
	d.Keys, d.Letters = dedupe(d.Keys), len(letters)
	for _, del := range []struct {
		model any
		n     *int
	}{{&Letter{}, nil}, {&RequestMessage{}, &d.Messages}, {&RequestEvent{}, &d.Events}, {&RequestItem{}, &d.Attachments}} {
		res := db.Where("request_id = ?", r.ID).Delete(del.model)
		if res.Error != nil {
			return d, res.Error
		}
		if del.n != nil {
			*del.n = int(res.RowsAffected)
		}
	}
	note := fmt.Sprintf("Request file disposed of under %s (disposition %d).", er.Rule.Citation, dispositionID)
	err := db.Model(&Request{}).Where("id = ?", r.ID).Updates(map[string]any{"name": "", "email": "", "phone": "",
		"mailing_address": "", "description": note, "summary": truncate(note, 500), "expedited_reason": "", "fee_waiver_basis": "",
		"requester_key": "", "response": "", "release_key": "", "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return d, err
	}
	ev := RequestEvent{RequestID: r.ID, At: time.Now().UTC(), Actor: actor, Kind: requestDisposedKind, Citation: er.Rule.Citation, Detail: note}
	if err := db.Create(&ev).Error; err != nil {
		return d, err
	}
	_, err = c.AppendCustody(ctx, NewEvent{Kind: "disposed", Actor: actor, SubjectType: "request", SubjectID: fmt.Sprint(r.ID),
		Details: map[string]any{"disposition": dispositionID, "tracking_number": r.TrackingNumber, "closed_at": er.ClosedAt,
			"rule": ruleDetails(er.Rule), "letters": d.Letters, "messages": d.Messages, "events": d.Events,
			"attachments": d.Attachments, "release_sha256": r.ReleaseSHA256}})
	return d, err
}

// blobKeyColumns are every catalog column that names a blob. A blob is
// deleted only when none of them names it any more.
var blobKeyColumns = []struct{ table, column string }{
	{"versions", "raw_key"}, {"versions", "normalized_key"}, {"media", "blob_key"},
	{"profile_snapshots", "blob_key"}, {"letters", "html_key"}, {"letters", "pdf_key"},
	{"requests", "release_key"}, {"exports", "bundle_key"},
	{"dispositions", "list_key"}, {"dispositions", "certificate_key"},
	{"removals", "html_key"}, {"removals", "pdf_key"},
}

// ReferencedBlobs returns those of keys that some row of the catalog still
// names (a kept item's version or media, a profile snapshot, a letter, a
// release or export bundle, a disposition's list or certificate).
func (c *Catalog) ReferencedBlobs(ctx context.Context, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(keys); start += 500 {
		chunk := keys[start:min(start+500, len(keys))]
		for _, col := range blobKeyColumns {
			var found []string
			err := c.gdb(ctx).Table(col.table).Where(col.column+" IN ?", chunk).Distinct().Pluck(col.column, &found).Error
			if err != nil {
				return nil, fmt.Errorf("storage: referenced blobs: %s.%s: %w", col.table, col.column, err)
			}
			for _, k := range found {
				out[k] = true
			}
		}
	}
	return out, nil
}

func dedupe(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := keys[:0:0]
	for _, k := range keys {
		if k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
