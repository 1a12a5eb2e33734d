package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CreateRequest stores a new records request with its first history event,
// numbering it prefix-YEAR-NNNNNN from a per-year counter in the same
// transaction, so numbers are unique and gapless however many arrive at once.
func (c *Catalog) CreateRequest(ctx context.Context, r *Request, prefix string, year int, first RequestEvent) error {
	err := c.Tx(ctx, func(tx *Catalog) error {
		n, err := tx.nextCounter(ctx, fmt.Sprintf("%s-%d", prefix, year))
		if err != nil {
			return err
		}
		r.TrackingNumber = fmt.Sprintf("%s-%d-%06d", prefix, year, n)
		if err := tx.gdb(ctx).Create(r).Error; err != nil {
			return mapErr(err)
		}
		first.RequestID = r.ID
		if first.At.IsZero() {
			first.At = r.ReceivedAt
		}
		return tx.gdb(ctx).Create(&first).Error
	})
	if err != nil {
		return fmt.Errorf("storage: create request: %w", err)
	}
	return nil
}

// nextCounter increments a named counter and returns its new value. On
// SQLite the immediate transaction holds the write lock; on PostgreSQL the
// upsert's row lock serialises concurrent callers.
func (c *Catalog) nextCounter(ctx context.Context, name string) (int64, error) {
	db := c.gdb(ctx)
	err := db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.Assignments(map[string]any{"value": gorm.Expr("counters.value + 1")}),
	}).Create(&Counter{Name: name, Value: 1}).Error
	if err != nil {
		return 0, fmt.Errorf("counter %s: %w", name, err)
	}
	var ctr Counter
	if err := db.Where("name = ?", name).Take(&ctr).Error; err != nil {
		return 0, fmt.Errorf("counter %s: %w", name, err)
	}
	return ctr.Value, nil
}

// RequestByTracking returns the request with that tracking number.
func (c *Catalog) RequestByTracking(ctx context.Context, tracking string) (*Request, error) {
	var r Request
	if err := c.gdb(ctx).Preload("Assignee").Where("tracking_number = ?", tracking).Take(&r).Error; err != nil {
		return nil, fmt.Errorf("storage: request %q: %w", tracking, mapErr(err))
	}
	return &r, nil
}

// RequestByID returns one request with its assignee.
func (c *Catalog) RequestByID(ctx context.Context, id uint64) (*Request, error) {
	var r Request
	if err := c.gdb(ctx).Preload("Assignee").Take(&r, id).Error; err != nil {
		return nil, fmt.Errorf("storage: request %d: %w", id, mapErr(err))
	}
	return &r, nil
}

// RequestFilter narrows ListRequests.
type RequestFilter struct {
	Statuses   []string // empty: all
	AssigneeID uint64   // 0: anyone's
	Limit      int
	Offset     int
	// NewestFirst sorts by receipt, newest first (the public log); otherwise
	// by due date, soonest first (the clerk's queue).
	NewestFirst bool
}

// ListRequests returns one page of requests and the total that match.
func (c *Catalog) ListRequests(ctx context.Context, f RequestFilter) ([]Request, int64, error) {
	q := c.gdb(ctx).Model(&Request{})
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	if f.AssigneeID != 0 {
		q = q.Where("assignee_id = ?", f.AssigneeID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("storage: count requests: %w", err)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	order := "due_date, id"
	if f.NewestFirst {
		order = "received_at DESC, id DESC"
	}
	var rs []Request
	if err := q.Preload("Assignee").Order(order).Limit(f.Limit).Offset(f.Offset).Find(&rs).Error; err != nil {
		return nil, 0, fmt.Errorf("storage: list requests: %w", err)
	}
	return rs, total, nil
}

// CountRequestsBy counts a requester's requests received in [since, before),
// other than exclude (the 63G-2-203 "another request in the prior 10 days").
func (c *Catalog) CountRequestsBy(ctx context.Context, requesterKey string, since, before time.Time, exclude uint64) (int64, error) {
	var n int64
	err := c.gdb(ctx).Model(&Request{}).
		Where("requester_key = ? AND received_at >= ? AND received_at < ? AND id <> ?", requesterKey, since, before, exclude).
		Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("storage: count requests by requester: %w", err)
	}
	return n, nil
}

// RequestRecord is everything kept about one request besides its row.
type RequestRecord struct {
	Events   []RequestEvent
	Messages []RequestMessage
	Items    []RequestItem
	Letters  []Letter
	Holds    []Hold
}

// RequestFile reads a request's history, messages, attached items, letters
// and holds, each in the order they happened.
func (c *Catalog) RequestFile(ctx context.Context, id uint64) (*RequestRecord, error) {
	var f RequestRecord
	db := c.gdb(ctx)
	for _, q := range []struct {
		dst   any
		order string
	}{{&f.Events, "id"}, {&f.Messages, "id"}, {&f.Items, "id"}, {&f.Letters, "id"}, {&f.Holds, "id"}} {
		if err := db.Where("request_id = ?", id).Order(q.order).Find(q.dst).Error; err != nil {
			return nil, fmt.Errorf("storage: request %d file: %w", id, err)
		}
	}
	return &f, nil
}

// LetterByID returns one letter.
func (c *Catalog) LetterByID(ctx context.Context, id uint64) (*Letter, error) {
	var l Letter
	if err := c.gdb(ctx).Take(&l, id).Error; err != nil {
		return nil, fmt.Errorf("storage: letter %d: %w", id, mapErr(err))
	}
	return &l, nil
}

// CurrentVersions returns the newest version of each item, by item id.
func (c *Catalog) CurrentVersions(ctx context.Context, itemIDs []uint64) (map[uint64]Version, error) {
	out := make(map[uint64]Version, len(itemIDs))
	if len(itemIDs) == 0 {
		return out, nil
	}
	var vs []Version
	err := c.gdb(ctx).Where("item_id IN ? AND seq = (SELECT MAX(v2.seq) FROM versions v2 WHERE v2.item_id = versions.item_id)", itemIDs).
		Find(&vs).Error
	if err != nil {
		return nil, fmt.Errorf("storage: current versions: %w", err)
	}
	for _, v := range vs {
		out[v.ItemID] = v
	}
	return out, nil
}

// VersionsByIDs returns versions by their ids, with their items.
func (c *Catalog) VersionsByIDs(ctx context.Context, ids []uint64) (map[uint64]Version, error) {
	out := make(map[uint64]Version, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var vs []Version
	if err := c.gdb(ctx).Preload("Item").Preload("Item.Account").Where("id IN ?", ids).Find(&vs).Error; err != nil {
		return nil, fmt.Errorf("storage: versions: %w", err)
	}
	for _, v := range vs {
		out[v.ID] = v
	}
	return out, nil
}

// ErrStale is returned by UpdateRequest when the request changed since the
// caller read it.
var ErrStale = errors.New("storage: the request changed meanwhile; reload and try again")

// RequestTx is one change to a request: the callback of UpdateRequest edits
// R and adds what goes with the change; all of it commits together or not
// at all.
type RequestTx struct {
	R   *Request
	ctx context.Context
	tx  *Catalog
	now time.Time
}

// Now is the transaction's clock, the same for every row it writes.
func (t *RequestTx) Now() time.Time { return t.now }

// Event appends a history event.
func (t *RequestTx) Event(e RequestEvent) error {
	e.RequestID, e.At = t.R.ID, t.now
	return t.tx.gdb(t.ctx).Create(&e).Error
}

// Message adds a public message or an internal note.
func (t *RequestTx) Message(m *RequestMessage) error {
	m.RequestID, m.At = t.R.ID, t.now
	return t.tx.gdb(t.ctx).Create(m).Error
}

// Attach adds item versions; a version already attached is left as it was.
// It returns how many were new.
func (t *RequestTx) Attach(items []RequestItem) (int, error) {
	added := 0
	for _, it := range items {
		it.RequestID, it.AttachedAt = t.R.ID, t.now
		res := t.tx.gdb(t.ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&it)
		if res.Error != nil {
			return added, res.Error
		}
		added += int(res.RowsAffected)
	}
	return added, nil
}

// Detach removes attached versions by their RequestItem ids.
func (t *RequestTx) Detach(ids []uint64) (int64, error) {
	res := t.tx.gdb(t.ctx).Where("request_id = ? AND id IN ?", t.R.ID, ids).Delete(&RequestItem{})
	return res.RowsAffected, res.Error
}

// Withhold marks attached versions as withheld (or released again) with
// the citation that allows it.
func (t *RequestTx) Withhold(ids []uint64, withheld bool, citation string) error {
	if !withheld {
		citation = ""
	}
	return t.tx.gdb(t.ctx).Model(&RequestItem{}).Where("request_id = ? AND id IN ?", t.R.ID, ids).
		Updates(map[string]any{"withheld": withheld, "withhold_citation": citation}).Error
}

// Items returns the request's attached versions.
func (t *RequestTx) Items() ([]RequestItem, error) {
	var out []RequestItem
	err := t.tx.gdb(t.ctx).Where("request_id = ?", t.R.ID).Order("id").Find(&out).Error
	return out, err
}

// Letter stores a letter row (its blobs are written before).
func (t *RequestTx) Letter(l *Letter) error {
	l.RequestID, l.CreatedAt = t.R.ID, t.now
	return t.tx.gdb(t.ctx).Create(l).Error
}

// Custody appends a custody event in the same transaction.
func (t *RequestTx) Custody(n NewEvent) error {
	_, err := t.tx.AppendCustody(t.ctx, n)
	return err
}

// Hold places a legal hold tied to the request, with its custody event.
func (t *RequestTx) Hold(h *Hold, actor string) error {
	h.RequestID, h.CreatedAt = &t.R.ID, t.now
	if err := t.tx.gdb(t.ctx).Create(h).Error; err != nil {
		return err
	}
	_, err := t.tx.AppendCustody(t.ctx, NewEvent{Kind: "hold_placed", Actor: actor, SubjectType: "hold",
		SubjectID: fmt.Sprint(h.ID), Details: map[string]any{"matter": h.Matter, "items": h.ScopeItems, "request": t.R.TrackingNumber}})
	return err
}

// ReleaseHolds ends the request's standing holds, each with a custody event.
func (t *RequestTx) ReleaseHolds(actor, reason string) (int, error) {
	var hs []Hold
	if err := t.tx.gdb(t.ctx).Where("request_id = ? AND released_at IS NULL", t.R.ID).Find(&hs).Error; err != nil {
		return 0, err
	}
	for _, h := range hs {
		err := t.tx.gdb(t.ctx).Model(&Hold{}).Where("id = ?", h.ID).
			Updates(map[string]any{"released_at": t.now, "released_by": actor, "release_reason": reason}).Error
		if err != nil {
			return 0, err
		}
		_, err = t.tx.AppendCustody(t.ctx, NewEvent{Kind: "hold_released", Actor: actor, SubjectType: "hold",
			SubjectID: fmt.Sprint(h.ID), Details: map[string]any{"reason": reason, "request": t.R.TrackingNumber}})
		if err != nil {
			return 0, err
		}
	}
	return len(hs), nil
}

// UpdateRequest runs fn on the request inside one transaction and saves R
// after it. The request row is locked for the duration (PostgreSQL row
// lock; SQLite's immediate transaction), so two clerks cannot interleave.
// If wantUpdated is non-zero and the row changed since, it returns ErrStale.
func (c *Catalog) UpdateRequest(ctx context.Context, id uint64, wantUpdated time.Time, fn func(t *RequestTx) error) (*Request, error) {
	var out *Request
	err := c.Tx(ctx, func(tx *Catalog) error {
		var r Request
		q := tx.gdb(ctx)
		if c.dialect == "postgres" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&r, id).Error; err != nil {
			return mapErr(err)
		}
		if !wantUpdated.IsZero() && !r.UpdatedAt.Equal(wantUpdated) {
			return ErrStale
		}
		t := &RequestTx{R: &r, ctx: ctx, tx: tx, now: time.Now().UTC().Truncate(time.Microsecond)}
		if err := fn(t); err != nil {
			return err
		}
		r.Assignee = nil // save the id, not the preloaded user
		r.UpdatedAt = t.now
		if err := tx.gdb(ctx).Omit(clause.Associations).Save(&r).Error; err != nil {
			return err
		}
		out = &r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: update request %d: %w", id, err)
	}
	return out, nil
}

// RequestsToRedate returns every request in one of the statuses (those
// still waiting for a response), for re-dating after a calendar change.
func (c *Catalog) RequestsToRedate(ctx context.Context, statuses []string) ([]Request, error) {
	var rs []Request
	if err := c.gdb(ctx).Where("status IN ?", statuses).Order("id").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("storage: requests to re-date: %w", err)
	}
	return rs, nil
}

// RequestsWithStandingHolds returns the requests that have a hold not yet
// released (the automatic holds of denied records).
func (c *Catalog) RequestsWithStandingHolds(ctx context.Context) ([]Request, error) {
	var rs []Request
	err := c.gdb(ctx).Where("id IN (SELECT request_id FROM holds WHERE request_id IS NOT NULL AND released_at IS NULL)").
		Order("id").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("storage: requests with holds: %w", err)
	}
	return rs, nil
}

// InstallCalendar records a calendar version as the one in force. A version
// string already installed is ErrConflict: versions are never edited.
func (c *Catalog) InstallCalendar(ctx context.Context, v *CalendarVersion) error {
	v.InstalledAt = time.Now().UTC()
	if err := c.gdb(ctx).Create(v).Error; err != nil {
		return fmt.Errorf("storage: install calendar %s: %w", v.Version, mapErr(err))
	}
	return nil
}

// CurrentCalendar returns the newest installed calendar version.
func (c *Catalog) CurrentCalendar(ctx context.Context) (*CalendarVersion, error) {
	var v CalendarVersion
	if err := c.gdb(ctx).Order("id DESC").Take(&v).Error; err != nil {
		return nil, fmt.Errorf("storage: current calendar: %w", mapErr(err))
	}
	return &v, nil
}

// CalendarVersions lists every installed version, newest first.
func (c *Catalog) CalendarVersions(ctx context.Context) ([]CalendarVersion, error) {
	var vs []CalendarVersion
	if err := c.gdb(ctx).Order("id DESC").Find(&vs).Error; err != nil {
		return nil, fmt.Errorf("storage: calendar versions: %w", err)
	}
	return vs, nil
}

// CalendarVersionByName returns one installed version.
func (c *Catalog) CalendarVersionByName(ctx context.Context, version string) (*CalendarVersion, error) {
	var v CalendarVersion
	if err := c.gdb(ctx).Where("version = ?", version).Take(&v).Error; err != nil {
		return nil, fmt.Errorf("storage: calendar %s: %w", version, mapErr(err))
	}
	return &v, nil
}

// RequestCounts counts requests by status, and those among statuses whose
// due date is before today (YYYY-MM-DD).
func (c *Catalog) RequestCounts(ctx context.Context, statuses []string, today string) (map[string]int64, int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	if err := c.gdb(ctx).Model(&Request{}).Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("storage: count requests: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	var overdue int64
	err := c.gdb(ctx).Model(&Request{}).Where("status IN ? AND due_date < ?", statuses, today).Count(&overdue).Error
	if err != nil {
		return nil, 0, fmt.Errorf("storage: count overdue requests: %w", err)
	}
	return out, overdue, nil
}
