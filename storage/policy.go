package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// FlagsOf returns the distinct screening categories of each item, sorted
// (the search index's "flag" facet).
func (c *Catalog) FlagsOf(ctx context.Context, itemIDs []uint64) (map[uint64][]string, error) {
	out := map[uint64][]string{}
	if len(itemIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		ItemID   uint64
		Category string
	}
	err := c.gdb(ctx).Model(&Flag{}).Distinct("item_id", "category").Where("item_id IN ?", itemIDs).
		Order("item_id, category").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("storage: flags of %d items: %w", len(itemIDs), err)
	}
	for _, r := range rows {
		out[r.ItemID] = append(out[r.ItemID], r.Category)
	}
	return out, nil
}

// ItemFlags returns an item's flags, oldest first.
func (c *Catalog) ItemFlags(ctx context.Context, itemID uint64) ([]Flag, error) {
	var fs []Flag
	if err := c.gdb(ctx).Where("item_id = ?", itemID).Order("id").Find(&fs).Error; err != nil {
		return nil, fmt.Errorf("storage: flags of item %d: %w", itemID, err)
	}
	return fs, nil
}

// FlagFilter selects flags for the review queue.
type FlagFilter struct {
	Status   string   // "" for any
	Category string   // "" for any
	Accounts []uint64 // nil for any
	AfterID  uint64   // page after this flag id
	Limit    int      // default 100
}

// ListFlags returns flags matching f, oldest first.
func (c *Catalog) ListFlags(ctx context.Context, f FlagFilter) ([]Flag, error) {
	q := c.gdb(ctx).Model(&Flag{}).Where("id > ?", f.AfterID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Category != "" {
		q = q.Where("category = ?", f.Category)
	}
	if f.Accounts != nil {
		q = q.Where("account_id IN ?", append([]uint64{0}, f.Accounts...))
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var fs []Flag
	if err := q.Order("id").Limit(limit).Find(&fs).Error; err != nil {
		return nil, fmt.Errorf("storage: list flags: %w", err)
	}
	return fs, nil
}

// FlagByID returns one flag.
func (c *Catalog) FlagByID(ctx context.Context, id uint64) (*Flag, error) {
	var f Flag
	if err := c.gdb(ctx).Take(&f, id).Error; err != nil {
		return nil, mapErr(err)
	}
	return &f, nil
}

// CountFlags counts flags by status, of the accounts (nil: all).
func (c *Catalog) CountFlags(ctx context.Context, accounts []uint64) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	q := c.gdb(ctx).Model(&Flag{})
	if accounts != nil {
		q = q.Where("account_id IN ?", append([]uint64{0}, accounts...))
	}
	if err := q.Select("status, count(*) AS n").Group("status").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: count flags: %w", err)
	}
	out := map[string]int64{FlagPending: 0, FlagKept: 0, FlagRemoved: 0}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// DecideFlags records the coordinator's decision on an item's flags: every
// pending flag of the item becomes kept or removed, with the reason and a
// custody event. An item with no pending flag is ErrConflict. It returns
// the flags decided.
func (c *Catalog) DecideFlags(ctx context.Context, itemID uint64, status, reason, actor string, at time.Time) ([]Flag, error) {
	if status != FlagKept && status != FlagRemoved {
		return nil, fmt.Errorf("storage: decide flags: status %q is not kept or removed", status)
	}
	var out []Flag
	err := c.Tx(ctx, func(tx *Catalog) error {
		db := tx.gdb(ctx)
		if err := db.Where("item_id = ? AND status = ?", itemID, FlagPending).Order("id").Find(&out).Error; err != nil {
			return err
		}
		if len(out) == 0 {
			return fmt.Errorf("%w: item %d has no flag awaiting review", ErrConflict, itemID)
		}
		ids := make([]uint64, len(out))
		rules := make([]string, len(out))
		for i := range out {
			ids[i], rules[i] = out[i].ID, out[i].Rule
			out[i].Status, out[i].Reason, out[i].DecidedBy, out[i].DecidedAt = status, reason, actor, &at
		}
		if err := db.Model(&Flag{}).Where("id IN ? AND status = ?", ids, FlagPending).Updates(map[string]any{
			"status": status, "reason": reason, "decided_by": actor, "decided_at": at}).Error; err != nil {
			return err
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: "policy_decision", Actor: actor, SubjectType: "item",
			SubjectID: fmt.Sprint(itemID), Details: map[string]any{"decision": status, "reason": reason, "flags": ids, "rules": rules}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: decide flags of item %d: %w", itemID, err)
	}
	return out, nil
}

// CreateRemoval stores a removal record with its custody event. An item
// with a record already is ErrConflict.
func (c *Catalog) CreateRemoval(ctx context.Context, r *Removal, actor string) error {
	r.CreatedAt = time.Now().UTC()
	err := c.Tx(ctx, func(tx *Catalog) error {
		res := tx.gdb(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(r)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("%w: item %d has a removal record already", ErrConflict, r.ItemID)
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: "removal_record", Actor: actor, SubjectType: "item",
			SubjectID: fmt.Sprint(r.ItemID), Details: map[string]any{"removal": r.ID, "cause": r.Cause,
				"categories": r.Categories, "html_sha256": r.HTMLSHA256, "pdf_sha256": r.PDFSHA256,
				"html_key": r.HTMLKey, "pdf_key": r.PDFKey}})
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: removal record of item %d: %w", r.ItemID, err)
	}
	return nil
}

// RemovalByID returns one removal record.
func (c *Catalog) RemovalByID(ctx context.Context, id uint64) (*Removal, error) {
	var r Removal
	if err := c.gdb(ctx).Take(&r, id).Error; err != nil {
		return nil, mapErr(err)
	}
	return &r, nil
}

// RemovalOfItem returns an item's removal record.
func (c *Catalog) RemovalOfItem(ctx context.Context, itemID uint64) (*Removal, error) {
	var r Removal
	if err := c.gdb(ctx).Where("item_id = ?", itemID).Take(&r).Error; err != nil {
		return nil, mapErr(err)
	}
	return &r, nil
}

// ListRemovals returns removal records newest first, at most limit, before
// the id before (0: from the newest); accounts nil means any.
func (c *Catalog) ListRemovals(ctx context.Context, accounts []uint64, before uint64, limit int) ([]Removal, error) {
	q := c.gdb(ctx).Model(&Removal{})
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	if accounts != nil {
		q = q.Where("account_id IN ?", append([]uint64{0}, accounts...))
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var rs []Removal
	if err := q.Order("id DESC").Limit(limit).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("storage: list removals: %w", err)
	}
	return rs, nil
}

// ItemsToRecordRemoval returns up to limit items that were removed and have
// no removal record yet: deleted from the platform (and not disposed of),
// or with a flag decided "removed". Oldest first.
func (c *Catalog) ItemsToRecordRemoval(ctx context.Context, limit int) ([]Item, error) {
	var items []Item
	err := c.gdb(ctx).Where("disposed_at IS NULL AND (deleted_at IS NOT NULL OR id IN (SELECT item_id FROM flags WHERE status = ?)) "+
		"AND id NOT IN (SELECT item_id FROM removals)", FlagRemoved).Order("id").Limit(limit).Find(&items).Error
	if err != nil {
		return nil, fmt.Errorf("storage: items to record removal: %w", err)
	}
	return items, nil
}

// Violator is one author's count of removed content (policy 3.5.5).
type Violator struct {
	Platform   string
	AuthorID   string
	AuthorName string
	Removed    int64
	Accounts   int64
	Last       time.Time
}

// RepeatViolators counts, per author, the comments and replies removed by a
// decision across all accounts, with at least min removals, most first.
func (c *Catalog) RepeatViolators(ctx context.Context, min int) ([]Violator, error) {
	var rows []struct {
		Platform, AuthorID, AuthorName string
		Removed, Accounts              int64
		Last                           string
	}
	err := c.gdb(ctx).Model(&Removal{}).
		Select("platform, author_id, MAX(author_name) AS author_name, COUNT(*) AS removed, COUNT(DISTINCT account_id) AS accounts, "+
			c.castText("MAX(removed_at)")+" AS last").
		Where("cause = ? AND kind <> ? AND author_id <> ''", RemovalDecision, "post").
		Group("platform, author_id").Having("COUNT(*) >= ?", min).
		Order("removed DESC, platform, author_id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("storage: repeat violators: %w", err)
	}
	out := make([]Violator, len(rows))
	for i, r := range rows {
		out[i] = Violator{Platform: r.Platform, AuthorID: r.AuthorID, AuthorName: r.AuthorName, Removed: r.Removed, Accounts: r.Accounts}
		out[i].Last = parseDBTime(r.Last)
	}
	return out, nil
}

// castText makes an SQL time expression come back as text on both
// databases, so aggregates of times scan the same way.
func (c *Catalog) castText(expr string) string {
	if c.dialect == "postgres" {
		return "to_char(" + expr + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
	}
	return "strftime('%Y-%m-%dT%H:%M:%S', " + expr + ")"
}

// parseDBTime reads castText's output.
func parseDBTime(s string) time.Time {
	t, _ := time.Parse("2006-01-02T15:04:05", s)
	return t
}

// DayCount is a count on one day (YYYY-MM-DD, UTC).
type DayCount struct {
	Day string
	N   int64
}

// CapturedPerDay counts items first captured per day since since; flags
// per day likewise (the dashboard's charts). accounts nil means any.
func (c *Catalog) CapturedPerDay(ctx context.Context, since time.Time, accounts []uint64) (items, flags []DayCount, err error) {
	day := func(col string) string {
		if c.dialect == "postgres" {
			return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
		}
		return "strftime('%Y-%m-%d', " + col + ")"
	}
	scope := func(q *gorm.DB) *gorm.DB {
		if accounts != nil {
			return q.Where("account_id IN ?", append([]uint64{0}, accounts...))
		}
		return q
	}
	err = scope(c.gdb(ctx).Model(&Item{}).Select(day("first_seen_at")+" AS day, COUNT(*) AS n").
		Where("first_seen_at >= ?", since)).Group("day").Order("day").Find(&items).Error
	if err == nil {
		err = scope(c.gdb(ctx).Model(&Flag{}).Select(day("created_at")+" AS day, COUNT(*) AS n").
			Where("created_at >= ?", since)).Group("day").Order("day").Find(&flags).Error
	}
	if err != nil {
		return nil, nil, fmt.Errorf("storage: captured per day: %w", err)
	}
	return items, flags, nil
}

// SubmitPlan records a work plan. With plan.AccountID zero, acct is a new
// account created pending approval (it is not captured or listed until the
// plan is approved); otherwise the plan is for that existing account, which
// keeps its approval until the plan is decided. One custody event.
func (c *Catalog) SubmitPlan(ctx context.Context, acct *Account, plan *WorkPlan) error {
	plan.Status, plan.CreatedAt = PlanPending, time.Now().UTC()
	err := c.Tx(ctx, func(tx *Catalog) error {
		db := tx.gdb(ctx)
		if plan.AccountID == 0 {
			acct.Approval = ApprovalPending
			if err := db.Create(acct).Error; err != nil {
				return mapErr(err)
			}
			plan.AccountID = acct.ID
		} else if err := db.Take(acct, plan.AccountID).Error; err != nil {
			return mapErr(err)
		}
		if plan.Department == "" {
			plan.Department = acct.Department
		}
		if err := db.Create(plan).Error; err != nil {
			return err
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: "work_plan_submitted", Actor: plan.SubmittedBy, SubjectType: "account",
			SubjectID: fmt.Sprint(acct.ID), Details: map[string]any{"plan": plan.ID, "department": plan.Department}})
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: submit work plan: %w", err)
	}
	return nil
}

// DecidePlan approves or rejects a pending plan with a reason and a custody
// event. Approval approves its account; rejection rejects an account that
// was pending (an account approved before keeps running on its earlier
// approval). A decided plan is ErrConflict.
func (c *Catalog) DecidePlan(ctx context.Context, id uint64, approve bool, reason, actor string) (*WorkPlan, error) {
	var p WorkPlan
	err := c.Tx(ctx, func(tx *Catalog) error {
		db := tx.gdb(ctx)
		if err := db.Take(&p, id).Error; err != nil {
			return mapErr(err)
		}
		if p.Status != PlanPending {
			return fmt.Errorf("%w: plan %d was %s already", ErrConflict, id, p.Status)
		}
		now := time.Now().UTC()
		p.Status, p.Reason, p.DecidedBy, p.DecidedAt = PlanRejected, reason, actor, &now
		if approve {
			p.Status = PlanApproved
		}
		if err := db.Model(&WorkPlan{}).Where("id = ?", id).Updates(map[string]any{"status": p.Status,
			"reason": reason, "decided_by": actor, "decided_at": now}).Error; err != nil {
			return err
		}
		acctQ := db.Model(&Account{}).Where("id = ?", p.AccountID)
		if approve {
			if err := acctQ.Update("approval", ApprovalApproved).Error; err != nil {
				return err
			}
		} else if err := acctQ.Where("approval = ?", ApprovalPending).Update("approval", ApprovalRejected).Error; err != nil {
			return err
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: "work_plan_" + p.Status, Actor: actor, SubjectType: "account",
			SubjectID: fmt.Sprint(p.AccountID), Details: map[string]any{"plan": p.ID, "reason": reason}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: decide plan %d: %w", id, err)
	}
	return &p, nil
}

// PlanByID returns one work plan.
func (c *Catalog) PlanByID(ctx context.Context, id uint64) (*WorkPlan, error) {
	var p WorkPlan
	if err := c.gdb(ctx).Take(&p, id).Error; err != nil {
		return nil, mapErr(err)
	}
	return &p, nil
}

// ListPlans returns work plans, newest first; status "" is any, account 0
// is any.
func (c *Catalog) ListPlans(ctx context.Context, status string, account uint64) ([]WorkPlan, error) {
	q := c.gdb(ctx).Model(&WorkPlan{})
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if account != 0 {
		q = q.Where("account_id = ?", account)
	}
	var ps []WorkPlan
	if err := q.Order("id DESC").Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("storage: list plans: %w", err)
	}
	return ps, nil
}

// AddDesignatedUser designates a user for an account, with a custody event.
func (c *Catalog) AddDesignatedUser(ctx context.Context, d *DesignatedUser, actor string) error {
	d.CreatedAt = time.Now().UTC()
	return c.policyRow(ctx, d, actor, "designated_user_added", d.AccountID, map[string]any{"name": d.Name, "capability": d.Capability})
}

// AddCustodian names a custodian of an account, with a custody event.
func (c *Catalog) AddCustodian(ctx context.Context, cu *Custodian, actor string) error {
	cu.CreatedAt = time.Now().UTC()
	return c.policyRow(ctx, cu, actor, "custodian_added", cu.AccountID, map[string]any{"name": cu.Name})
}

// policyRow creates row and its custody event about account in one
// transaction.
func (c *Catalog) policyRow(ctx context.Context, row any, actor, kind string, account uint64, details map[string]any) error {
	err := c.Tx(ctx, func(tx *Catalog) error {
		var n int64
		if err := tx.gdb(ctx).Model(&Account{}).Where("id = ?", account).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: account %d", ErrNotFound, account)
		}
		if err := tx.gdb(ctx).Omit(clause.Associations).Create(row).Error; err != nil {
			return err
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: kind, Actor: actor, SubjectType: "account", SubjectID: fmt.Sprint(account), Details: details})
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: %s: %w", strings.ReplaceAll(kind, "_", " "), err)
	}
	return nil
}

// RemoveDesignatedUser ends a designation (the row is kept, marked
// removed), with a custody event.
func (c *Catalog) RemoveDesignatedUser(ctx context.Context, account, id uint64, actor string) error {
	return c.endRow(ctx, &DesignatedUser{}, "designated_users", account, id, actor, "designated_user_removed")
}

// RemoveCustodian ends a custodianship (the row is kept, marked removed),
// with a custody event.
func (c *Catalog) RemoveCustodian(ctx context.Context, account, id uint64, actor string) error {
	return c.endRow(ctx, &Custodian{}, "custodians", account, id, actor, "custodian_removed")
}

func (c *Catalog) endRow(ctx context.Context, model any, table string, account, id uint64, actor, kind string) error {
	err := c.Tx(ctx, func(tx *Catalog) error {
		res := tx.gdb(ctx).Model(model).Where("id = ? AND account_id = ? AND removed_at IS NULL", id, account).
			Update("removed_at", time.Now().UTC())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("%w: %s %d of account %d", ErrNotFound, table, id, account)
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: kind, Actor: actor, SubjectType: "account",
			SubjectID: fmt.Sprint(account), Details: map[string]any{table: id}})
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: %s: %w", strings.ReplaceAll(kind, "_", " "), err)
	}
	return nil
}

// DesignatedUsers returns the current designated users of the accounts
// (nil: every account), by account and name.
func (c *Catalog) DesignatedUsers(ctx context.Context, accounts []uint64) ([]DesignatedUser, error) {
	q := c.gdb(ctx).Where("removed_at IS NULL")
	if accounts != nil {
		q = q.Where("account_id IN ?", append([]uint64{0}, accounts...))
	}
	var ds []DesignatedUser
	if err := q.Order("account_id, name, id").Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("storage: designated users: %w", err)
	}
	return ds, nil
}

// Custodians returns the current custodians of the accounts (nil: every
// account), by account and name.
func (c *Catalog) Custodians(ctx context.Context, accounts []uint64) ([]Custodian, error) {
	q := c.gdb(ctx).Where("removed_at IS NULL")
	if accounts != nil {
		q = q.Where("account_id IN ?", append([]uint64{0}, accounts...))
	}
	var cs []Custodian
	if err := q.Order("account_id, name, id").Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("storage: custodians: %w", err)
	}
	return cs, nil
}

// AcknowledgePolicy records that a designated user acknowledged the policy
// version at a time, with a custody event.
func (c *Catalog) AcknowledgePolicy(ctx context.Context, account, id uint64, version string, at time.Time, actor string) error {
	err := c.Tx(ctx, func(tx *Catalog) error {
		res := tx.gdb(ctx).Model(&DesignatedUser{}).Where("id = ? AND account_id = ? AND removed_at IS NULL", id, account).
			Updates(map[string]any{"policy_version": version, "acknowledged_at": at})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("%w: designated user %d of account %d", ErrNotFound, id, account)
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: "policy_acknowledged", Actor: actor, SubjectType: "account",
			SubjectID: fmt.Sprint(account), Details: map[string]any{"designated_user": id, "policy_version": version, "at": at}})
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: acknowledge policy: %w", err)
	}
	return nil
}

// Authenticity is the result of an authenticity check.
type Authenticity struct {
	CheckedAt                time.Time
	Official, Email, Website bool
	Note                     string
	ProfileURL               string // the profile's own link, when it gives one
}

// SetAuthenticity stores an account's authenticity check.
func (c *Catalog) SetAuthenticity(ctx context.Context, account uint64, a Authenticity) error {
	set := map[string]any{"auth_checked_at": a.CheckedAt, "auth_official": a.Official, "auth_email": a.Email,
		"auth_website": a.Website, "auth_note": a.Note}
	if a.ProfileURL != "" {
		set["profile_url"] = a.ProfileURL
	}
	err := c.gdb(ctx).Model(&Account{}).Where("id = ?", account).Updates(set).Error
	if err != nil {
		return fmt.Errorf("storage: authenticity of account %d: %w", account, err)
	}
	return nil
}

// SetDirectoryContact sets an account's official contact for the public
// directory, with a custody event.
func (c *Catalog) SetDirectoryContact(ctx context.Context, account uint64, name, email, actor string) error {
	err := c.Tx(ctx, func(tx *Catalog) error {
		res := tx.gdb(ctx).Model(&Account{}).Where("id = ?", account).Updates(map[string]any{"contact_name": name, "contact_email": email})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("%w: account %d", ErrNotFound, account)
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: "directory_contact", Actor: actor, SubjectType: "account",
			SubjectID: fmt.Sprint(account), Details: map[string]any{"name": name, "email": email}})
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: directory contact: %w", err)
	}
	return nil
}

// DirectoryAccounts returns the accounts the public directory lists:
// approved and not deactivated, by department, platform and handle.
func (c *Catalog) DirectoryAccounts(ctx context.Context) ([]Account, error) {
	var as []Account
	err := c.gdb(ctx).Where("approval = ? AND status <> ?", ApprovalApproved, AccountDeactivated).
		Order("department, platform, handle, id").Find(&as).Error
	if err != nil {
		return nil, fmt.Errorf("storage: directory: %w", err)
	}
	return as, nil
}

// SortedLetters returns the distinct letters of cats, sorted, comma-joined.
func SortedLetters(cats []string) string {
	slices.Sort(cats)
	return strings.Join(slices.Compact(cats), ",")
}

// FlagsOfItems returns the flags of each item, oldest first.
func (c *Catalog) FlagsOfItems(ctx context.Context, itemIDs []uint64) (map[uint64][]Flag, error) {
	out := map[uint64][]Flag{}
	if len(itemIDs) == 0 {
		return out, nil
	}
	var fs []Flag
	if err := c.gdb(ctx).Where("item_id IN ?", itemIDs).Order("item_id, id").Find(&fs).Error; err != nil {
		return nil, fmt.Errorf("storage: flags of %d items: %w", len(itemIDs), err)
	}
	for _, f := range fs {
		out[f.ItemID] = append(out[f.ItemID], f)
	}
	return out, nil
}

// AddFlags adds screening flags to an item's version outside a capture
// (the rules changed and the archive is screened again). Flags of rules
// that already flagged the item are skipped. When any is new, a custody
// event records it and the item's change sequence moves, so the search
// index picks the flags up. It returns how many were new.
func (c *Catalog) AddFlags(ctx context.Context, it Item, versionID uint64, flags []FlagCapture, actor string) (int, error) {
	added := 0
	err := c.Tx(ctx, func(tx *Catalog) error {
		db := tx.gdb(ctx)
		var rules []string
		for _, f := range flags {
			row := Flag{ItemID: it.ID, AccountID: it.AccountID, VersionID: versionID, Category: f.Category, Rule: f.Rule,
				Match: f.Match, RulesVersion: f.RulesVersion, Status: FlagPending, CreatedAt: time.Now().UTC()}
			res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected > 0 {
				added++
				rules = append(rules, f.Rule)
			}
		}
		if added == 0 {
			return nil
		}
		ev, err := tx.AppendCustody(ctx, NewEvent{Kind: "screened", Actor: actor, SubjectType: "item",
			SubjectID: fmt.Sprint(it.ID), Details: map[string]any{"version": versionID, "rules": rules}})
		if err != nil {
			return err
		}
		return db.Model(&Item{}).Where("id = ?", it.ID).Update("change_seq", ev.Seq).Error
	})
	if err != nil {
		return 0, fmt.Errorf("storage: add flags to item %d: %w", it.ID, err)
	}
	return added, nil
}

// PendingFlagsByAccount counts the flags awaiting review per account.
func (c *Catalog) PendingFlagsByAccount(ctx context.Context) (map[uint64]int, error) {
	var rows []struct {
		AccountID uint64
		N         int
	}
	if err := c.gdb(ctx).Model(&Flag{}).Select("account_id, count(*) AS n").Where("status = ?", FlagPending).
		Group("account_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: pending flags by account: %w", err)
	}
	out := make(map[uint64]int, len(rows))
	for _, r := range rows {
		out[r.AccountID] = r.N
	}
	return out, nil
}
